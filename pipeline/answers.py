"""A supplier answers a suspended invoice (208 Suspendue): its files become new documents of its
tenant linked to the suspended one, 209 Complétée is recorded, and the document goes back to the agents.

The link is kept both ways: each new document carries ``answer_to`` in its metadata and an ``answer
attached`` journal event; the suspended one an ``answer received`` event naming every file and
document. The suspended document itself (its original, its seal) is never changed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from dematflow.errors import Forbidden, InvalidRequest, InvalidTransition
from pipeline import access, journal, lifecycle
from pipeline.accounts import Account, Role
from pipeline.context import Services
from pipeline.intake import Receipt
from pipeline.lifecycle_codes import Code, Side
from pipeline.records import Event
from storage.base import sha256_hex

log = logging.getLogger(__name__)

MAX_FILES = 10
MAX_COMMENT = 2000
STAGE = "answer"


@dataclass(frozen=True)
class AnswerFile:
    filename: str
    data: bytes


@dataclass(frozen=True)
class Attached:
    """One file of an answer: the document it became (an earlier one for the same bytes)."""

    filename: str
    document_id: str
    duplicate: bool = False


@dataclass(frozen=True)
class Answered:
    """One answer to a suspension, as the journal keeps it."""

    document_id: str  # the suspended document
    by: str  # the supplier account's name
    at: str
    comment: str | None
    files: tuple[Attached, ...]
    lifecycle_seq: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "by": self.by,
            "at": self.at,
            "comment": self.comment,
            "lifecycle_seq": self.lifecycle_seq,
            "files": [{"filename": f.filename, "document_id": f.document_id, "duplicate": f.duplicate}
                      for f in self.files],
        }  # fmt: skip


@dataclass(frozen=True)
class Outcome:
    answered: Answered
    transition: lifecycle.Transition
    receipts: tuple[Receipt, ...]  # to start processing, as for any deposit


def request_of(engine: Engine, document_id: str) -> lifecycle.Transition | None:
    """The 208 Suspendue the document is waiting under, or None if it is not suspended now."""
    current = lifecycle.current(engine, document_id)
    return current if current is not None and current.code == Code.SUSPENDUE else None


def answer(
    services: Services, account: Account, document_id: str, files: list[AnswerFile], comment: str | None
) -> Outcome:
    """Keep the files as documents of the supplier's tenant, record 209 and journal the link on both.

    NotFound for a document the account may not see; Forbidden for a non-supplier;
    InvalidTransition (409) when the document is not suspended; InvalidRequest (422) without files."""
    doc = access.visible(services, account, document_id)
    if account.role is not Role.SUPPLIER:
        raise Forbidden("seul le fournisseur de la facture répond à une demande de justificatifs")
    engine = services.catalogue.engine
    if request_of(engine, doc.id) is None:
        raise InvalidTransition(
            "ce document n'est pas suspendu (208) : aucune pièce ne vous est demandée pour lui"
        )
    text = (comment or "").strip()[:MAX_COMMENT] or None
    if not files:
        raise InvalidRequest("joignez au moins un fichier à votre réponse")
    if len(files) > MAX_FILES:
        raise InvalidRequest(f"{MAX_FILES} fichiers au plus par réponse")
    if any(not f.data for f in files):
        raise InvalidRequest("un des fichiers est vide (IRR_VID_PJ)")
    meta = {"answer_to": doc.id, **({"comment": text} if text else {})}
    receipts = tuple(
        access.deposit(services, filename=f.filename, data=f.data, account=account, meta=meta).receipt
        for f in files
    )
    attached = tuple(
        Attached(f.filename, r.document_id, r.duplicate_of is not None)
        for f, r in zip(files, receipts, strict=True)
    )
    actor = f"{account.role.value}:{account.name}"
    message = text or f"Pièces jointes : {len(files)} fichier(s)."
    who = {"account": account.id, "name": account.name, "role": account.role.value}

    def linked(seq: int, at: str) -> list[Event]:
        """The answer's events, journalled with the 209 in its transaction: both, or neither."""
        answered = Answered(doc.id, account.name, at, text, attached, seq)
        received = Event(STAGE, "received", doc.id, inputs={f.filename: sha256_hex(f.data) for f in files},
                         detail={**who, **answered.to_json()})  # fmt: skip
        return [received] + [
            Event(STAGE, "attached", a.document_id, inputs={f.filename: sha256_hex(f.data)},
                  detail={**who, "answer_to": doc.id, "lifecycle_seq": seq})
            for a, f in zip(attached, files, strict=True)
        ]  # fmt: skip

    transition = lifecycle.record(services, doc.id, Code.COMPLETEE, message=message, actor=actor,
                                  side=Side.SUPPLIER, also=linked)  # fmt: skip
    answered = Answered(doc.id, account.name, transition.at, text, attached, transition.seq)
    log.info("answer: %s answered %s with %d file(s)", account.name, doc.id, len(files))
    return Outcome(answered, transition, receipts)


def answers_of(engine: Engine, document_id: str) -> list[Answered]:
    """Every answer to the document's suspensions, oldest first."""
    out = []
    for entry in journal.entries(engine, document_id=document_id):
        if entry.stage != STAGE or entry.action != "received":
            continue
        d = entry.body.get("detail", {})
        files = tuple(
            Attached(str(f.get("filename")), str(f.get("document_id")), bool(f.get("duplicate")))
            for f in d.get("files", [])
        )
        out.append(Answered(document_id, str(d.get("name")), str(d.get("at")), d.get("comment"), files,
                            d.get("lifecycle_seq")))  # fmt: skip
    return out


def answer_to(engine: Engine, document_id: str) -> str | None:
    """The suspended document this one answers (from its ``answer attached`` event), if any."""
    for entry in journal.entries(engine, document_id=document_id):
        if entry.stage == STAGE and entry.action == "attached":
            return str(entry.body.get("detail", {}).get("answer_to"))
    return None
