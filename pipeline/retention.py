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

The financial year closes on DEMATFLOW_RETENTION_YEAR_END (default 12-31); an object is kept until the
end of the anniversary of that closing day. The original is stored at receipt, before its class is
known: it gets the longest period. COMPLIANCE retention on S3 can be extended, never shortened, so a
guess may over-protect but never under-protect (an identity document's original is therefore kept as
long as an invoice: its capture, data and report get the short period).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol

from extractors.results import DocType
from pipeline.records import Document
from pipeline.settings import RetentionSettings, Settings
from storage import keys
from storage.base import ObjectStore, StoredObject, put_once


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
    return max(for_document(policy, doc), datetime.now(UTC) + MINIMUM)


def keep(ctx: Archiving, doc: Document | None, key: str, data: bytes) -> StoredObject:
    """Archive ``data`` under ``key`` with the retention its role and document's class call for."""
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
