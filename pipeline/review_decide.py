"""An agent's decision on a document in review: confirm the fields, refuse, dispute or suspend.

Each decision is one ``review`` journal event naming who, the values before and after and the reason;
the lifecycle statuses it sets (205, 207, 208, 210) are recorded by ``pipeline.lifecycle`` with their
CDAR. A decision names the version it was made on: a document changed since is refused (Stale), never
silently overwritten. Confirmed fields are kept as a new version of the data (``data/ID.vN.json``);
the first reading and every earlier version stay. A confirm whose fields still fail a blocking rule
leaves the document ``rejected`` (kept as evidence, no lifecycle status is set for it: the agent
then refuses it, 210, with the reason that applies).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection

from dematflow.errors import DematflowError, InvalidRequest, InvalidTransition
from extractors.identifiers import compact
from extractors.parsing import parse_date
from pipeline import journal, lifecycle, memory, retention, review_facturx, review_locks
from pipeline.accounts import Account
from pipeline.catalogue import Catalogue
from pipeline.context import Services
from pipeline.db import documents
from pipeline.lifecycle_codes import Code, Side
from pipeline.records import Document, Event, Status, utcnow
from pipeline.review import DECIDED, version
from pipeline.stages.extract import INVOICES
from pipeline.stages.validate import with_duplicates
from storage import keys
from validators.chain import validate_fields
from validators.report import BLOCKING

log = logging.getLogger(__name__)

AMOUNT_TERMS = frozenset({"BT-106", "BT-109", "BT-110", "BT-112", "BT-115"})
DATE_TERMS = frozenset({"BT-2", "BT-9"})
ID_TERMS = frozenset({"BT-30", "BT-31", "BT-84"})
TERM = re.compile(r"^BT-\d{1,3}$")
MAX_VALUE = 500


class Action(StrEnum):
    CONFIRM = "confirm"
    REFUSE = "refuse"  # 210 Refusée
    DISPUTE = "dispute"  # 207 En litige
    SUSPEND = "suspend"  # 208 Suspendue: documents asked of the supplier


CODES = {Action.REFUSE: Code.REFUSEE, Action.DISPUTE: Code.EN_LITIGE, Action.SUSPEND: Code.SUSPENDUE}
DEFAULT_REASONS = {Action.SUSPEND: "JUSTIF_ABS"}
DONE = {Action.REFUSE: "refused", Action.DISPUTE: "disputed", Action.SUSPEND: "suspended"}


@dataclass(frozen=True)
class Decision:
    action: Action
    version: int  # the document's version the agent saw
    fields: dict[str, str | None] = field(default_factory=dict)  # corrections; None or "" removes
    reason: str | None = None
    message: str | None = None
    approve: bool = False  # confirm, then 205 Approuvée
    facturx: bool = False  # confirm, then a Factur-X from the confirmed fields (pipeline.review_facturx)


class Stale(DematflowError):
    """The document changed since the agent opened it (409); ``current`` is its version now."""

    http_status = 409

    def __init__(self, current: int) -> None:
        super().__init__(f"le document a changé depuis son ouverture (version {current}) : rechargez-le")
        self.current = current


def decide(services: Services, account: Account, document_id: str, decision: Decision) -> Document:
    """Carry out the decision; the caller must hold the document's claim (review_locks.claim)."""
    engine = services.catalogue.engine
    doc = services.catalogue.get(document_id)
    code = lifecycle.current(engine, doc.id)
    if doc.status is not Status.NEEDS_REVIEW or (code is not None and code.code in DECIDED):
        raise InvalidTransition("ce document n'attend plus de décision")
    with engine.connect() as conn:
        check(conn, doc.id, account, decision.version)
    actor = f"{account.role.value}:{account.name}"
    if decision.action is Action.CONFIRM:
        doc = _confirm(services, account, doc, decision)
        if decision.approve and doc.status is Status.ARCHIVED:
            lifecycle.record(services, doc.id, Code.APPROUVEE, message=decision.message, actor=actor,
                             side=Side.BUYER)  # fmt: skip
        if decision.facturx:
            review_facturx.build(services, doc.id, actor=actor)
            doc = services.catalogue.get(doc.id)
    else:
        doc = _status(services, account, doc, decision, actor)
    review_locks.release(engine, doc.id, account)
    return doc


def check(conn: Connection, document_id: str, account: Account, expected: int) -> None:
    review_locks.require(conn, document_id, account)
    now = version(conn, document_id)
    if now != expected:
        raise Stale(now)


def clean(fields: dict[str, str | None]) -> dict[str, str | None]:
    """The corrections in the `extract --json` forms: amounts ``1234.56``, dates ``YYYY-MM-DD``,
    identifiers without spaces; InvalidRequest (422) for what cannot be read."""
    out: dict[str, str | None] = {}
    for term, raw in fields.items():
        if not TERM.match(term):
            raise InvalidRequest(f"{term!r} n'est pas un terme EN 16931 (BT-…)")
        value = (raw or "").strip()
        if len(value) > MAX_VALUE or "\x00" in value:
            raise InvalidRequest(f"{term} : valeur trop longue ou invalide")
        if not value:
            out[term] = None
        elif term in AMOUNT_TERMS:
            out[term] = _amount(term, value)
        elif term in DATE_TERMS:
            date = value if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) else parse_date(value)
            if not date:
                raise InvalidRequest(f"{term} : {value!r} n'est pas une date")
            out[term] = date
        else:
            out[term] = compact(value).upper() if term in ID_TERMS else value
    return out


def _amount(term: str, value: str) -> str:
    text = value.replace("\u00a0", "").replace(" ", "").replace("€", "")
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise InvalidRequest(f"{term} : {value!r} n'est pas un montant") from None
    if not number.is_finite():
        raise InvalidRequest(f"{term} : {value!r} n'est pas un montant")
    return f"{number.quantize(Decimal('0.01'))}"


def _confirm(services: Services, account: Account, doc: Document, decision: Decision) -> Document:
    by = {"account": account.id, "name": account.name, "role": account.role.value}
    updated = correct(services, doc, decision.fields, by=by, who=_who(account, decision), account=account,
                      expected=decision.version)  # fmt: skip
    log.info("review: %s confirmed by %s", doc.id, account.name)
    return updated


def correct(
    services: Services,
    doc: Document,
    corrections: dict[str, str | None],
    *,
    by: dict[str, Any],
    who: dict[str, Any],
    account: Account | None,
    expected: int | None,
) -> Document:
    """Confirm the document's fields with ``corrections``: a new data version (``data/ID.vN.json``;
    the archived original, its seal and every earlier version are left as they are), a ``review``
    journal event with the values before and after, and, when no blocking rule fails, a lesson for
    the supplier memory, all in one transaction. ``account``: the claim to hold (None: the CLI)."""
    changes = clean(corrections)
    if doc.einvoice and any(doc.fields.get(t) != v for t, v in changes.items()):
        raise InvalidRequest(
            "les champs d'une facture électronique sont ceux de son XML : ils ne se corrigent pas"
        )
    fields = {t: v for t, v in {**doc.fields, **changes}.items() if v is not None}
    changed = sorted(t for t in {*doc.fields, *fields} if doc.fields.get(t) != fields.get(t))
    confidence = {t: (1.0 if t in changed else c) for t, c in doc.confidence.items() if t in fields}
    confidence |= {t: 1.0 for t in changed if t in fields}
    updated = doc.evolve(fields=fields, confidence=confidence, review=())
    if not doc.einvoice and doc.doc_type in INVOICES:
        report, _ = with_duplicates(services.context, updated, validate_fields(fields), einvoice=False)
        updated = updated.evolve(
            findings=report.findings, checked=report.checked, not_checked=report.not_checked
        )
    blocking = sorted({f.rule for f in updated.findings if f.severity in BLOCKING})
    status = Status.REJECTED if blocking else Status.ARCHIVED
    reason = f"confirmed by an agent, but these rules fail: {', '.join(blocking)}" if blocking else None
    n = 1 + sum(1 for role in doc.objects if role == "data" or role.startswith("data-v"))
    key = keys.data_version(doc.id, n)
    data = {
        "document_id": doc.id,
        "version": n,
        "previous": _previous(doc, n),
        "decided_by": by,
        "decided_at": utcnow(),
        "fields": fields,
        "confidence": confidence,
        "findings": [f.to_json() for f in updated.findings],
    }
    obj = retention.keep(
        services, updated, key, json.dumps(data, sort_keys=True, ensure_ascii=False, indent=1).encode()
    )
    updated = updated.with_object(f"data-v{n}", obj).evolve(status=status, reason=reason)
    event = Event(
        "review",
        "confirmed",
        doc.id,
        inputs={_previous(doc, n): doc.objects[_role(n - 1)].sha256} if _role(n - 1) in doc.objects else {},
        outputs={key: obj.sha256},
        detail={
            **who,
            "before": {t: doc.fields.get(t) for t in changed},
            "after": {t: fields.get(t) for t in changed},
            "status": {"before": doc.status.value, "after": status.value},
            "rules": blocking,
            "data_version": n,
        },
    )
    layout = None if blocking else memory.lesson_of(services, updated, fields)
    actor = f"{by.get('role')}:{by.get('name')}"
    lesson = (lambda conn: memory.save(conn, updated, layout, actor)) if layout is not None else None
    commit(services, account, updated, event, expected, also=lesson)
    return updated


def _role(n: int) -> str:
    return "data" if n == 1 else f"data-v{n}"


def _previous(doc: Document, n: int) -> str:
    obj = doc.objects.get(_role(n - 1))
    return obj.key if obj is not None else keys.data(doc.id)


def _who(account: Account, decision: Decision) -> dict[str, Any]:
    return {
        "account": account.id,
        "name": account.name,
        "role": account.role.value,
        "action": decision.action.value,
        "reason": decision.reason,
        "message": decision.message,
        "version": decision.version,
    }


def _status(services: Services, account: Account, doc: Document, decision: Decision, actor: str) -> Document:
    code = CODES[decision.action]
    reason = decision.reason or DEFAULT_REASONS.get(decision.action)
    before = lifecycle.current(services.catalogue.engine, doc.id)
    transition = lifecycle.record(
        services, doc.id, code, reason=reason, message=decision.message, actor=actor, side=Side.BUYER
    )
    updated = services.catalogue.get(doc.id)  # with the CDAR the lifecycle just archived
    if decision.action is Action.REFUSE:  # refused by the buyer: no longer an accepted invoice
        updated = updated.evolve(
            status=Status.REJECTED, reason=f"refused by the buyer ({reason})", reason_code=reason
        )
    event = Event(
        "review",
        DONE[decision.action],
        doc.id,
        outputs={transition.key: transition.sha256},
        detail={
            **_who(account, decision),
            "reason": reason,
            "before": {"status": doc.status.value, "lifecycle": before.code if before else None},
            "after": {"status": updated.status.value, "lifecycle": transition.code},
        },
    )
    commit(services, account, updated, event, None)
    return updated


def commit(
    services: Services,
    account: Account | None,
    doc: Document,
    event: Event,
    expected: int | None,
    *,
    also: Callable[[Connection], object] | None = None,
) -> None:
    """Save the document and the decision's event in one transaction, the claim and (for a confirm)
    the version checked again inside it; ``also`` writes more in it (the memory's lesson)."""
    with services.catalogue.engine.begin() as conn:
        if account is not None:
            review_locks.require(conn, doc.id, account)
        if expected is not None and (now := version(conn, doc.id)) != expected:
            raise Stale(now)
        row = Catalogue._row(doc)  # the catalogue's own row shape, written in this transaction
        conn.execute(documents.update().where(documents.c.id == doc.id).values(row))
        Catalogue._save_objects(conn, doc)
        journal.append(conn, event)
        if also is not None:
            also(conn)
