"""Audit verification: recompute the journal's chain, check every day seal, replay the catalogue from
the journal and re-hash every archived object it names."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from dematflow.errors import NotFound
from pipeline import daycheck, journal, replay, stamps
from pipeline.context import Services
from pipeline.db import GENESIS
from storage.keys import ANCHORS


@dataclass(frozen=True)
class Problem:
    where: str  # "journal seq 12", "originals/ab…", "journal head"
    what: str


@dataclass
class Verification:
    entries: int = 0
    objects: int = 0
    anchors: int = 0
    stamps: int = 0  # anchor timestamp tokens checked (seal level B-B)
    seals: int = 0  # day seals checked
    documents: int = 0  # catalogue rows replayed from the journal
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(services: Services, *, progress: Callable[[int], None] | None = None) -> Verification:
    """Check the chain row by row and the anchors, then the day seals against the rows, then the
    catalogue against the journal, then the archive object by object."""
    result = Verification()

    def report(where: str, what: str) -> None:
        result.problems.append(Problem(where, what))

    fingerprints: dict[str, str] = {}  # archived key -> sha256 as the journal recorded it
    kept = _anchors(services, result)  # kept in the write-once archive
    anchors = {a.seq: a.hash for a in kept}
    stamped = {a.seq for a in kept if a.token is not None}
    written: dict[int, str] = {}  # anchored seq -> when that row was written
    prev_seq, prev_hash = 0, GENESIS
    for entry in journal.entries(services.catalogue.engine):
        result.entries += 1
        where = f"journal seq {entry.seq}"
        if entry.seq != prev_seq + 1:
            missing = f"{prev_seq + 1}" if entry.seq == prev_seq + 2 else f"{prev_seq + 1}–{entry.seq - 1}"
            result.problems.append(Problem(where, f"row(s) {missing} deleted from the journal"))
        elif entry.prev_hash != prev_hash:
            result.problems.append(Problem(where, "does not chain to the row before it"))
        if entry.expected_hash() != entry.hash:
            result.problems.append(
                Problem(
                    where,
                    f"row edited after it was written ({entry.stage}/{entry.action}, "
                    f"document {entry.document_id})",
                )
            )
        outputs = entry.body.get("outputs", {})
        fingerprints.update(outputs if isinstance(outputs, dict) else {})
        if (entry.stage, entry.action) == ("retention", "deleted"):  # a tombstone (pipeline/disposal.py)
            for key in entry.body.get("detail", {}).get("deleted", {}):
                fingerprints.pop(key, None)  # deleted after its retention, by two admins
        if entry.seq in stamped:
            written[entry.seq] = entry.at
        if anchors.pop(entry.seq, entry.hash) != entry.hash:
            result.problems.append(Problem(where, "differs from the copy anchored in the archive"))
        prev_seq, prev_hash = entry.seq, entry.hash
        if progress is not None:
            progress(result.entries)
    head_seq, head_hash = journal.head(services.catalogue.engine)
    if (head_seq, head_hash) != (prev_seq, prev_hash):
        result.problems.append(
            Problem(
                "journal head",
                f"the head says seq {head_seq} but the "
                f"last row is seq {prev_seq}: rows were removed or added",
            )
        )
    for seq in sorted(anchors):
        result.problems.append(
            Problem(
                f"journal seq {seq}",
                "anchored in the archive but no longer in the journal: rows were cut",
            )
        )
    for found in (a for a in kept if a.token is not None):
        result.stamps += 1
        if (what := stamps.problem(found, written.get(found.seq))) is not None:
            report(found.key, what)
    result.seals = daycheck.check_days(services, report)
    result.documents = replay.check_catalogue(services, report)
    _check_objects(services, fingerprints, result)
    return result


def _check_objects(services: Services, fingerprints: dict[str, str], result: Verification) -> None:
    catalogued = {row.obj.key: row.obj.sha256 for row in services.catalogue.objects()}
    for key in sorted(set(fingerprints) | set(catalogued)):
        result.objects += 1
        expected = fingerprints.get(key)
        if expected is None:
            result.problems.append(Problem(key, "catalogued but never journalled"))
            continue
        if catalogued.get(key, expected) != expected:
            result.problems.append(Problem(key, "the catalogue's fingerprint was changed"))
        try:
            actual = services.store.digest(key)
        except NotFound:
            result.problems.append(Problem(key, "archived object is missing"))
            continue
        if actual != expected:
            result.problems.append(
                Problem(key, f"content changed: sha256 {actual[:16]}… instead of {expected[:16]}…")
            )


def _anchors(services: Services, result: Verification) -> list[stamps.Anchor]:
    anchors = []
    for key in services.store.keys(ANCHORS):
        result.anchors += 1
        try:
            anchors.append(stamps.parse(key, services.store.get(key)))
        except (ValueError, KeyError, TypeError):
            result.problems.append(Problem(key, "anchor is unreadable: it was altered"))
    return anchors
