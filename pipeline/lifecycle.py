"""Lifecycle statuses of invoices (cycle de vie): decide, record with their CDAR message, read back.

Each status is one ``lifecycle`` row, one archived CDAR (``lifecycle/<id>/<seq>-<code>.xml``), one
object row and one journal event, written in one transaction. A CDAR dematflow builds is validated
(XSD + fatal BR-FR-CDV); when it fails or could not be validated it is still kept, and the journal
says ``validated: false`` and why: the status was decided, the message must not be sent as valid.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select

from dematflow.errors import InvalidStatusMessage, InvalidTransition, NotFound, StatusRefused, ToolUnavailable
from extractors.results import DocType
from pipeline import lifecycle_store, webhooks
from pipeline.context import Services
from pipeline.db import documents, lifecycle
from pipeline.intake import anchor
from pipeline.lifecycle_codes import (
    FIRST,
    LABELS,
    MANDATORY_REASON,
    REASONS,
    TERMINAL,
    Code,
    Side,
    allowed_reasons,
    side_of,
)
from pipeline.records import Document, Event, Status, utcnow
from validators.cdar import parse_cdar, validate_cdar
from validators.report import BLOCKING

log = logging.getLogger(__name__)

ACTOR = "dematflow"  # the actor of the statuses the pipeline sets itself
_INVOICES = (DocType.INVOICE, DocType.CREDIT_NOTE)
_CALCULATION = re.compile(r"^BR-CO-\d+$|^BR-(S|Z|E|AE|K|G|O|IC|IG|IP)-0?(8|9)$")
_ROLES = {"BY": Side.BUYER, "SE": Side.SUPPLIER, "WK": Side.PLATFORM, "DFH": Side.PLATFORM}


@dataclass(frozen=True)
class Transition:
    """One lifecycle status of one document, as recorded."""

    document_id: str
    seq: int  # 1, 2, ... within the document
    code: int
    label: str
    reason: str | None  # the reason code (MDT-113), e.g. DOUBLON, IRR_VIDE_F
    message: str | None  # what a person reads
    actor: str
    at: str
    key: str  # the archived CDAR
    sha256: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def initial(doc: Document) -> tuple[int, str | None, str] | None:
    """(code, reason, message) for a document that reached its final status; None: no lifecycle (a
    supporting document, a technical failure, or an e-invoice that could not be validated)."""
    if not doc.status.final:
        return None
    if doc.status is Status.QUARANTINED:
        if doc.reason_code is None or (doc.doc_type is not None and doc.doc_type not in _INVOICES):
            return None  # retries exhausted (our fault, not the supplier's) or not an invoice
        label = REASONS.get(doc.reason_code, doc.reason_code)
        return Code.IRRECEVABLE, doc.reason_code, f"Fichier irrecevable : {label} ({doc.reason})."
    if doc.doc_type not in _INVOICES and not doc.einvoice:
        return None
    blocking = sorted({f.rule for f in doc.findings if f.severity in BLOCKING})
    if doc.status is Status.REJECTED or blocking:
        reason = rejection_reason(blocking)
        rules = ", ".join(blocking) or "non précisées"
        return Code.REJETEE, reason, f"Facture rejetée ({REASONS[reason]}). Règles en défaut : {rules}."
    if doc.einvoice and doc.not_checked:
        return None  # never "Déposée" for what was not validated: a person decides
    if doc.einvoice:
        return Code.DEPOSEE, None, "Facture déposée : elle est conforme aux contrôles de la plateforme."
    return Code.DEPOSEE, None, "Facture reçue et archivée ; elle est traitée par le service comptable."


def rejection_reason(rules: list[str]) -> str:
    """DOUBLON for a duplicate, CALCUL_ERR when only calculation rules fail, else REJ_SEMAN."""
    if {"DOUBLON", "DUPLICATE"} & set(rules):
        return "DOUBLON"
    if rules and all(_CALCULATION.match(r) for r in rules):
        return "CALCUL_ERR"
    return "REJ_SEMAN"


def ensure_initial(services: Services, doc: Document) -> Transition | None:
    """Record ``initial(doc)`` unless the document has a lifecycle already (idempotent)."""
    decided = initial(doc)
    if decided is None or current(services.catalogue.engine, doc.id) is not None:
        return None
    code, reason, message = decided
    try:
        return record(services, doc.id, code, reason=reason, message=message, actor=ACTOR)
    except InvalidTransition:
        return current(services.catalogue.engine, doc.id)  # another process recorded it meanwhile


def record(
    services: Services,
    document_id: str,
    code: int,
    *,
    reason: str | None = None,
    message: str | None = None,
    actor: str,
    amount: Decimal | str | None = None,
    vat_rate: Decimal | str | None = None,
    side: Side | None = None,
    also: Callable[[int, str], Sequence[Event]] | None = None,
) -> Transition:
    """Check, build, validate, archive and journal one status (``side``: refuse a code that side
    does not set). ``also(seq, at)`` gives events journalled in the status's own transaction.
    Raises StatusRefused (422) or InvalidTransition (409) with a French message."""
    return _record(services, document_id, code, reason, message, actor, amount, vat_rate, side, None, also)


def _record(
    services: Services,
    document_id: str,
    code: int,
    reason: str | None,
    message: str | None,
    actor: str,
    amount: Decimal | str | None,
    vat_rate: Decimal | str | None,
    side: Side | None,
    incoming: bytes | None,
    also: Callable[[int, str], Sequence[Event]] | None = None,
) -> Transition:
    doc = services.catalogue.get(document_id)
    status = _check_code(code, reason, side)
    money, rate = _check_amounts(status, amount, vat_rate)
    past = history(services.catalogue.engine, document_id)
    _check_transition(doc, status, past[-1] if past else None)
    seq, at = len(past) + 1, utcnow()
    text = message or (REASONS.get(reason, reason) if reason else None)
    if incoming is None:
        data = lifecycle_store.build(services, doc, seq, status, reason, text, money, rate, at)
    else:
        data = incoming
    report = validate_cdar(data, rules=services.settings.rules_dir)
    extra = also(seq, at) if also is not None else ()
    obj = lifecycle_store.save(
        services, doc, seq, status, reason, text, actor, at, data, report, incoming=incoming is not None,
        also=extra,
    )  # fmt: skip
    anchor(services)  # the journal head joins the write-once archive, as after each document
    log.info("lifecycle %s of %s: %s %s", seq, document_id, int(status), reason or "")
    transition = Transition(
        document_id, seq, int(status), status.label, reason, text, actor, at, obj.key, obj.sha256
    )
    webhooks.notify(services, document_id, transition.to_json())
    return transition


def _check_code(code: int, reason: str | None, side: Side | None) -> Code:
    try:
        status = Code(code)
    except ValueError:
        raise StatusRefused(f"statut {code} inconnu (codes admis : 200 à 213 et 501)") from None
    if reason is None and status in MANDATORY_REASON:
        raise StatusRefused(f"le statut {int(status)} {status.label} exige un code motif")
    if reason is not None and reason not in allowed_reasons(status):
        allowed = ", ".join(sorted(allowed_reasons(status)))
        raise StatusRefused(
            f"le motif {reason} n'est pas admis pour le statut {int(status)} {status.label} "
            f"(BR-FR-CDV-CL-09 ; admis : {allowed})"
        )
    if side is not None and side_of(status) is not side:
        raise StatusRefused(f"le statut {int(status)} {status.label} ne peut pas être posé par {side.value}")
    return status


def _check_amounts(
    status: Code, amount: Decimal | str | None, vat_rate: Decimal | str | None
) -> tuple[Decimal | None, Decimal | None]:
    money, rate = _decimal(amount, "montant"), _decimal(vat_rate, "taux de TVA")
    if status is Code.ENCAISSEE and (money is None or rate is None):
        raise StatusRefused("le statut 212 Encaissée exige le montant encaissé et son taux de TVA")
    if money is not None and (money < 0 or money != money.quantize(Decimal("0.01"))):
        raise StatusRefused(f"montant {money} invalide : positif, au centime près")
    if rate is not None and not (0 <= rate <= 100 and rate == rate.quantize(Decimal("0.01"))):
        raise StatusRefused(f"taux de TVA {rate} invalide : entre 0 et 100, deux décimales au plus")
    if money is not None and status not in (Code.PAIEMENT_TRANSMIS, Code.ENCAISSEE):
        raise StatusRefused("un montant ne s'indique qu'avec 211 Paiement transmis ou 212 Encaissée")
    return money, rate


def _decimal(value: Decimal | str | None, what: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value).replace(",", "."))
    except ArithmeticError:
        raise StatusRefused(f"{what} {value!r} n'est pas un nombre") from None
    if not number.is_finite():
        raise StatusRefused(f"{what} {value!r} n'est pas un nombre")
    return number


def _check_transition(doc: Document, status: Code, last: Transition | None) -> None:
    if not doc.status.final:
        raise InvalidTransition(f"le document {doc.id} est encore en cours de traitement")
    if last is None:
        if status not in FIRST:
            raise InvalidTransition(
                f"le document {doc.id} n'a pas encore de statut : il doit d'abord être déposé (200), "
                "rejeté (213) ou déclaré irrecevable (501)"
            )
        return
    before = Code(last.code)
    if before in TERMINAL and not (before is Code.ENCAISSEE and status is Code.ENCAISSEE):
        raise InvalidTransition(f"le document est {before.label} ({int(before)}) : son cycle de vie est clos")
    if status is Code.DEPOSEE or status is Code.IRRECEVABLE:
        raise InvalidTransition(f"le statut {int(status)} {status.label} ne peut être que le premier")
    if status is Code.REJETEE and before not in (Code.DEPOSEE, Code.EMISE, Code.RECUE):
        raise InvalidTransition("une facture ne peut plus être rejetée (213) après sa mise à disposition")
    if status is Code.COMPLETEE and before is not Code.SUSPENDUE:
        raise InvalidTransition("209 Complétée répond à une facture suspendue (208)")


def history(engine: Engine, document_id: str) -> list[Transition]:
    """Every status of the document, oldest first."""
    query = select(lifecycle).where(lifecycle.c.document_id == document_id).order_by(lifecycle.c.seq)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [
        Transition(
            r.document_id,
            int(r.seq),
            int(r.code),
            LABELS[Code(int(r.code))],
            r.reason,
            r.message,
            r.actor,
            r.at,
            r.key,
            r.sha256,
        )
        for r in rows
    ]


def current(engine: Engine, document_id: str) -> Transition | None:
    past = history(engine, document_id)
    return past[-1] if past else None


def cdar(services: Services, transition: Transition) -> bytes:
    """The archived CDAR bytes of a status (as built, or as received)."""
    return services.store.get(transition.key)


def apply_incoming(services: Services, xml: bytes, *, actor: str) -> Transition:
    """Apply a CDAR another platform sent about one of our invoices; the bytes are kept as received.

    InvalidStatusMessage (an InputError) when it is unreadable or fails XSD/BR-FR-CDV, with the
    findings; ToolUnavailable when it cannot be validated here; NotFound for an unknown invoice."""
    report = validate_cdar(xml, rules=services.settings.rules_dir)
    blocking = [f for f in report.findings if f.severity in BLOCKING]
    if blocking:
        details = tuple(f"{f.rule}: {f.message}" for f in blocking)
        raise InvalidStatusMessage("message de cycle de vie refusé : " + " ; ".join(details), details)
    if not report.valid:
        raise ToolUnavailable(f"message de cycle de vie non validé : {', '.join(report.not_checked)}")
    status = parse_cdar(xml)
    side = _ROLES.get(status.issuer_role or "")
    document_id = _find_invoice(services.catalogue.engine, status.invoice_id, status.seller_siren, status)
    return _record(
        services,
        document_id,
        status.code,
        status.reason_code,
        status.reason,
        actor,
        status.amount,
        status.vat_rate,
        side,
        xml,
    )


def _find_invoice(engine: Engine, invoice_id: str, seller_siren: str | None, status: Any) -> str:
    query = select(documents.c.id).where(
        documents.c.invoice_number == invoice_id, documents.c.status != Status.QUARANTINED.value
    )
    if seller_siren:
        query = query.where(documents.c.seller_key == f"siren:{seller_siren}")
    if status.invoice_date is not None:
        query = query.where(documents.c.issue_date == status.invoice_date.isoformat())
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(documents.c.received_at)).all()
    for row in rows:
        if current(engine, row.id) is not None:
            return str(row.id)
    if rows:
        return str(rows[0].id)
    raise NotFound(f"aucune facture {invoice_id} du vendeur SIREN {seller_siren or '?'} n'est connue")
