"""Fixity: re-hash a random sample of archived objects and journal what was found.

``audit verify`` re-hashes everything; this is the cheap check run often (a rate of 1 % a night
covers the archive about every three months). The sample is drawn from the catalogue's object rows,
seeded when asked so that a check can be repeated exactly.
"""

from __future__ import annotations

import dataclasses
import math
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dematflow.errors import InvalidRequest, NotFound
from pipeline.records import Event

if TYPE_CHECKING:
    from pipeline.context import Services


@dataclass(frozen=True)
class Mismatch:
    key: str
    document_id: str
    what: str  # "missing" or "sha256 <actual> instead of <expected>"


@dataclass
class FixityReport:
    rate: float
    seed: int | None
    archived: int = 0  # objects in the catalogue
    checked: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches


def sample(services: Services, *, rate: float = 0.01, seed: int | None = None) -> FixityReport:
    """Re-hash ``ceil(rate × objects)`` objects picked at random, one at a time; journal the counts
    and every mismatch as an ``audit``/``fixity`` event."""
    if not 0 < rate <= 1:
        raise InvalidRequest(f"the sampling rate must be in (0, 1], not {rate}")
    report = FixityReport(rate, seed)
    rows = list(services.catalogue.objects())
    report.archived = len(rows)
    picked = random.Random(seed).sample(rows, math.ceil(rate * len(rows))) if rows else []
    for row in picked:
        report.checked += 1
        try:
            actual = services.store.digest(row.obj.key)
        except NotFound:
            report.mismatches.append(Mismatch(row.obj.key, row.document_id, "missing"))
            continue
        if actual != row.obj.sha256:
            what = f"sha256 {actual} instead of {row.obj.sha256}"
            report.mismatches.append(Mismatch(row.obj.key, row.document_id, what))
    services.catalogue.record(
        Event(
            "audit",
            "fixity",
            detail={
                "rate": rate,
                "seed": seed,
                "archived": report.archived,
                "checked": report.checked,
                "mismatches": [dataclasses.asdict(m) for m in report.mismatches],
            },
        )
    )
    return report
