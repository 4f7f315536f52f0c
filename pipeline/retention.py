"""How long each class of document is kept, decided in this one place when an object is archived.

    class                                  kept for                   counted from
    -------------------------------------  -------------------------  ------------------------------------
    invoice, credit note                   10 years (C. com. L123-22; the close of the financial year of
                                           covers LPF L102 B, 6 years) BT-2, else of receipt
    till receipt (ticket de caisse)        10 years (an accounting    the close of the financial year of
                                           supporting document)       BT-2, else of receipt
    bank details                           10 years (an accounting    the close of the financial year of
                                           supporting document)       receipt
    other, and not yet classified          10 years (unknown: never   the close of the financial year of
                                           under-protect)             receipt
    identity document, proof of address,   DEMATFLOW_RETENTION_       receipt
    tax notice (a person's income)         PERSONAL_DAYS (GDPR; 180)
    journal anchors (and later the day     the longest of all         the close of the current financial
    seals)                                 classes                    year (so they outlive every record
                                                                      they cover)
    quarantine: an original refused for    DEMATFLOW_RETENTION_       receipt
    its bytes alone (empty, over           QUARANTINE_DAYS (365)
    DEMATFLOW_MAX_BYTES, no accepted kind)

The financial year closes on DEMATFLOW_RETENTION_YEAR_END (default 12-31); an object is kept until the
end of the anniversary of that closing day. The original is stored at receipt, before its class is
known: it gets the longest period. COMPLIANCE retention on S3 can be extended, never shortened, so a
guess may over-protect but never under-protect (an identity document's original is therefore kept as
long as an invoice: its capture, data and report get the short period).

The quarantine area is the one exception, decided at receipt on the bytes alone: what ingest is
certain to refuse for the bytes themselves (the very checks ingest makes first, on the same bytes) is
evidence of what was sent, not an accounting document, and gets the quarantine period. Should such a
document ever be read after all (a later release accepting its format, ``retry --force``), keeping
its first derived object (the capture) extends the original to its class's period first. A file that
only turns out corrupt later (a PDF that does not parse) keeps the longest period: never under-protect.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol

from extractors.results import DocType
from extractors.sniff import FileKind, sniff
from pipeline.records import Document, Status
from pipeline.settings import Limits, RetentionSettings, Settings
from storage import keys
from storage.base import ObjectStore, StoredObject, later, put_once


@dataclass(frozen=True)
class Rule:
    years: int = 0  # counted from the close of the financial year
    personal: bool = False  # counted in days from receipt (RetentionSettings.personal_days)
    from_issue_date: bool = False  # the financial year of BT-2 rather than of receipt
    basis: str = ""


MINIMUM = timedelta(days=1)
ACCOUNTING = Rule(years=10, basis="C. com. L123-22 (10 ans), couvre LPF L102 B (6 ans)")
TABLE: dict[DocType, Rule] = {
    DocType.INVOICE: Rule(10, from_issue_date=True, basis=ACCOUNTING.basis),
    DocType.CREDIT_NOTE: Rule(10, from_issue_date=True, basis=ACCOUNTING.basis),
    DocType.BANK_DETAILS: Rule(10, basis="pièce justificative comptable, C. com. L123-22"),
    DocType.RECEIPT: Rule(10, from_issue_date=True, basis="pièce justificative (frais), C. com. L123-22"),
    DocType.OTHER: Rule(10, basis="nature inconnue : la plus longue durée"),
    DocType.IDENTITY_DOCUMENT: Rule(personal=True, basis="RGPD art. 5-1-e : durée limitée"),
    DocType.PROOF_OF_ADDRESS: Rule(personal=True, basis="RGPD art. 5-1-e : durée limitée"),
    DocType.TAX_NOTICE: Rule(personal=True, basis="RGPD art. 5-1-e : donnée personnelle (revenus)"),
}


class Archiving(Protocol):
    """What keeping an object needs: a stage's Context and a door's Services both have it."""

    @property
    def store(self) -> ObjectStore: ...

    @property
    def settings(self) -> Settings: ...


def financial_year_close(day: date, policy: RetentionSettings) -> date:
    """The closing day of the financial year ``day`` falls in."""
    month, dom = policy.year_end
    close = date(day.year, month, dom)
    return close if close >= day else date(day.year + 1, month, dom)


def _end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)


def _years_after(close: date, years: int) -> date:
    try:
        return close.replace(year=close.year + years)
    except ValueError:  # a 29 February closing day
        return close.replace(year=close.year + years, day=28)


def apply(rule: Rule, policy: RetentionSettings, received: date, issued: date | None) -> datetime:
    if rule.personal:
        return _end_of(received + timedelta(days=policy.personal_days))
    start = issued if rule.from_issue_date and issued is not None and issued <= received else received
    return _end_of(_years_after(financial_year_close(start, policy), rule.years))


def longest(policy: RetentionSettings, now: datetime | None = None) -> datetime:
    """The longest retention of any class for something received ``now`` (anchors, unknown class)."""
    today = (now or datetime.now(UTC)).date()
    return max(apply(rule, policy, today, None) for rule in TABLE.values())


def for_document(policy: RetentionSettings, doc: Document) -> datetime:
    """The retain-until date of a classified document's objects (the longest while unclassified)."""
    received = datetime.fromisoformat(doc.received_at).date()
    if doc.doc_type is None:
        return longest(policy, datetime.combine(received, time(), tzinfo=UTC))
    return apply(TABLE[doc.doc_type], policy, received, _issue_date(doc))


def until(policy: RetentionSettings, doc: Document | None, key: str) -> datetime:
    """The retain-until date of ``key``; its role decides whether the document's class applies. Never
    less than a day ahead: an object archived after its class's period (a late lifecycle message, a
    migration) still gets a lock, and S3 refuses a retain-until date in the past."""
    if doc is None or keys.role_of(key) is keys.Role.ANCHOR:
        return longest(policy)
    rule = for_document(policy, doc)
    original = doc.objects.get("original")
    if doc.status is Status.QUARANTINED and doc.doc_type is None and original and original.retain_until:
        # in the quarantine area (its original was kept short): its 501 Irrecevable goes with it
        rule = min(rule, datetime.fromisoformat(original.retain_until))
    return max(rule, datetime.now(UTC) + MINIMUM)


REFUSED_KINDS = (FileKind.UNKNOWN, FileKind.XML_OTHER)  # ingest quarantines them, whatever comes next
QUARANTINE_BASIS = "quarantaine : contenu refusé (vide, trop gros, format non accepté), preuve de réception"


def refused_for_bytes(data: bytes, limits: Limits) -> bool:
    """Whether ingest will quarantine these bytes for themselves: empty, over DEMATFLOW_MAX_BYTES,
    or of no accepted kind (ingest's first checks, on the same bytes)."""
    return not data or len(data) > limits.max_bytes or sniff(data[:4096]) in REFUSED_KINDS


def quarantine_until(policy: RetentionSettings, now: datetime | None = None) -> datetime:
    return _end_of((now or datetime.now(UTC)).date() + timedelta(days=policy.quarantine_days))


def keep_original(ctx: Archiving, key: str, data: bytes) -> StoredObject:
    """Archive the bytes received, before their class is known: the quarantine period when ingest is
    certain to refuse them, the longest of all classes otherwise."""
    policy = ctx.settings.retention
    short = refused_for_bytes(data, ctx.settings.limits)
    retain = quarantine_until(policy) if short else longest(policy)
    return ctx.store.put(key, data, retain_until=retain, content_type=keys.content_type(key))


def extend_original(ctx: Archiving, doc: Document) -> None:
    """A classified document whose original was kept for the quarantine period only: extend it to
    the class's period (S3 COMPLIANCE allows extending). Its record keeps the first date; the
    store's is the one that decides a deletion."""
    original = doc.objects.get("original")
    if doc.doc_type is None or original is None or original.retain_until is None:
        return
    target = until(ctx.settings.retention, doc, original.key)
    if later(original.retain_until, target):
        ctx.store.extend_retention(original.key, target)


def keep(ctx: Archiving, doc: Document | None, key: str, data: bytes) -> StoredObject:
    """Archive ``data`` under ``key`` with the retention its role and document's class call for; the
    first object derived from a classified document first extends an original kept short."""
    if doc is not None and keys.role_of(key) is keys.Role.CAPTURE:
        extend_original(ctx, doc)
    return ctx.store.put(
        key, data, retain_until=until(ctx.settings.retention, doc, key), content_type=keys.content_type(key)
    )


def keep_once(ctx: Archiving, doc: Document, key: str, make: Callable[[], bytes]) -> StoredObject:
    """``put_once`` with the retention of ``keep``: a retried job keeps the first output."""
    policy = ctx.settings.retention
    return put_once(
        ctx.store, key, make, retain_until=until(policy, doc, key), content_type=keys.content_type(key)
    )


def _issue_date(doc: Document) -> date | None:
    try:
        return date.fromisoformat(doc.fields.get("BT-2") or "")
    except ValueError:
        return None
