"""Renewal of B-LTA seals: before the TSA certificate of a seal's last document timestamp expires, add
a new archive timestamp as a new version of the sealed object (the write-once archive keeps the old).

The document's ``sealed`` object becomes the new version; the one it replaces stays one of the
document's objects, under ``superseded_role(n)`` (n: its renewal number, 0 the seal itself), so that
holds, deletion and evidence bundles still cover every version. Each renewal is journalled
``seal``/``renewed``: inputs {previous key: sha256}, outputs {new key: sha256}.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from dematflow.errors import ConfigError, DematflowError
from pipeline import retention
from pipeline.context import Services, versions
from pipeline.records import Document, Event, StageResult
from storage import keys
from storage.base import StoredObject, iso, put_once

if TYPE_CHECKING:  # pyHanko is imported by a process that renews, when it renews
    from signing.renew import LatestTimestamp, Renewer

log = logging.getLogger(__name__)

MARGIN_DAYS = 365  # renew a year ahead: time to notice a TSA that refuses, or a PKI that is down
SEALED = "sealed"


class Outcome(StrEnum):
    RENEWED = "renewed"
    NOT_DUE = "not_due"  # its last timestamp outlives the date asked
    NOT_RENEWABLE = "not_renewable"  # not a B-LTA seal (no document timestamp): nothing to extend
    FAILED = "failed"  # the TSA or the PKI did not answer, or the PDF could not be read


@dataclass(frozen=True)
class Checked:
    """What the run found of one document's sealed PDF."""

    document_id: str
    outcome: Outcome
    key: str  # the sealed object looked at
    expires: str | None = None  # its last timestamp's TSA certificate ends (ISO 8601 UTC)
    new_key: str | None = None
    new_expires: str | None = None
    reason: str | None = None


@dataclass
class RenewalReport:
    before: str
    checked: list[Checked] = field(default_factory=list)

    def of(self, outcome: Outcome) -> list[Checked]:
        return [c for c in self.checked if c.outcome is outcome]

    @property
    def ok(self) -> bool:
        return not self.of(Outcome.FAILED)


def default_before(margin_days: int = MARGIN_DAYS, now: datetime | None = None) -> datetime:
    """Today (UTC) plus the margin, at midnight."""
    today = (now or datetime.now(UTC)).date() + timedelta(days=margin_days)
    return datetime.combine(today, time(), tzinfo=UTC)


def superseded_role(renewal: int) -> str:
    """The document's role for a sealed version a renewal replaced (0: the seal itself)."""
    return f"{SEALED}.r{renewal}"


def renew_seals(
    services: Services, before: datetime, *, progress: Callable[[int, int], None] | None = None
) -> RenewalReport:
    """Renew every archived document's sealed PDF whose last timestamp's TSA certificate ends before
    ``before``; ``progress`` hears (documents looked at, total)."""
    renewer = _renewer(services)
    report = RenewalReport(iso(before))
    sealed = [r for r in services.catalogue.objects() if r.role == SEALED]
    for n, row in enumerate(sealed, 1):
        doc = services.catalogue.get(row.document_id)
        if doc.status.final and SEALED in doc.objects:  # one still in the pipeline is left to it
            report.checked.append(_check(services, renewer, doc, before))
        if progress is not None:
            progress(n, len(sealed))
    log.info(
        "seal renewal before %s: %d renewed, %d not renewable, %d failed",
        report.before,
        *(len(report.of(o)) for o in (Outcome.RENEWED, Outcome.NOT_RENEWABLE, Outcome.FAILED)),
    )
    return report


def _renewer(services: Services) -> Renewer:
    """One TSA client and validation context for the run; ConfigError without a TSA or with trust
    roots that cannot be read."""
    from pipeline.audit_seals import trust_roots
    from signing.renew import Renewer

    trust = trust_roots(services)  # DEMATFLOW_SEAL_TRUST_ROOTS, else our chain's self-signed roots
    return Renewer(tsa_url=services.settings.tsa_url, trust_roots=list(trust.roots), other_certs=trust.others)


def _check(services: Services, renewer: Renewer, doc: Document, before: datetime) -> Checked:
    from signing.renew import latest_timestamp

    current = doc.objects[SEALED]
    if not current.key.endswith(".pdf"):  # an XML's detached CAdES: the sealed journal day is its proof
        return Checked(doc.id, Outcome.NOT_RENEWABLE, current.key, reason="detached CAdES (B-T), not B-LTA")
    try:
        pdf = services.store.get(current.key)
        latest = latest_timestamp(pdf)
        if latest is None:
            why = "no document timestamp (not B-LTA)"
            return Checked(doc.id, Outcome.NOT_RENEWABLE, current.key, reason=why)
        if latest.not_after >= before:
            return Checked(doc.id, Outcome.NOT_DUE, current.key, expires=iso(latest.not_after))
        return _renew(services, renewer, doc, pdf, latest)
    except DematflowError as exc:
        log.warning("renewal of the seal of %s failed: %s", doc.id, exc.message)
        return Checked(doc.id, Outcome.FAILED, current.key, reason=exc.message)


def _renew(
    services: Services, renewer: Renewer, doc: Document, pdf: bytes, latest: LatestTimestamp | None = None
) -> Checked:
    from signing.renew import latest_timestamp

    previous = doc.objects[SEALED]
    renewal = _renewals(doc) + 1
    key = keys.sealed_renewal(doc.id, renewal)
    if services.store.exists(key):  # an earlier run stored it, then stopped before its journal row
        data = services.store.get(key)
        before, after = latest or latest_timestamp(pdf), latest_timestamp(data)
    else:
        renewed = renewer.renew(pdf, previous=latest)
        data, before, after = renewed.data, renewed.previous, renewed.current
    if before is None or after is None or after.count != before.count + 1:
        raise ConfigError(f"{key} is not a renewal of {previous.key}")
    retain = _retain_until(services, doc, previous, key)
    stored = put_once(
        services.store, key, lambda: data, retain_until=retain, content_type=keys.content_type(key)
    )
    updated = doc.evolve(objects={**doc.objects, superseded_role(renewal - 1): previous, SEALED: stored})
    detail = {
        "tsa": renewer.tsa_url,
        "tsa_certificate": after.tsa,
        "renewal": renewal,
        "expires_before": iso(before.not_after),
        "expires_after": iso(after.not_after),
    }
    event = Event(
        "seal",
        "renewed",
        doc.id,
        inputs={previous.key: previous.sha256},
        outputs={stored.key: stored.sha256},
        tools=versions("pyHanko"),
        detail=detail,
    )
    services.catalogue.amend(StageResult(updated, event))
    return Checked(
        doc.id, Outcome.RENEWED, previous.key, iso(before.not_after), stored.key, iso(after.not_after)
    )


def _renewals(doc: Document) -> int:
    """How many renewals the document's seal had so far."""
    return sum(1 for role in doc.objects if role.startswith(f"{SEALED}.r"))


def _retain_until(services: Services, doc: Document, previous: StoredObject, key: str) -> datetime:
    """The sealed object's retain-until date, never less than its class's rule would give now."""
    rule = retention.until(services.settings.retention, doc, key)
    kept = datetime.fromisoformat(previous.retain_until) if previous.retain_until else rule
    return max(rule, kept)
