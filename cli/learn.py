"""`dematflow learn`: teach the supplier memory from a document, and carry the memory between sites."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import typer

from cli.app import app, door, emit, out, services_of
from dematflow.errors import InvalidRequest
from pipeline import memory, review_decide, review_locks
from pipeline.context import Services
from pipeline.records import BUYER_TENANT, Document, Status

CORRECTABLE = (Status.NEEDS_REVIEW, Status.ARCHIVED, Status.REJECTED)


@app.command()
@door
def learn(
    ctx: typer.Context,
    args: list[str] = typer.Argument(
        None, metavar="[ID] [BT-n=VALUE]...", help="A document and corrections."
    ),
    confirm: bool = typer.Option(
        False, "--confirm", help="The document's current reading is right: learn it."
    ),
    export: Path = typer.Option(None, "--export", help="Write the tenant's memory to this JSON file."),
    import_: Path = typer.Option(
        None, "--import", exists=True, dir_okay=False, help="Add this exported memory."
    ),
    tenant: str = typer.Option(BUYER_TENANT, "--tenant", help="Whose memory, for --export / --import."),
    by: str = typer.Option(None, "--by", help="Who teaches (default: the login name): journalled."),
    as_json: bool = typer.Option(False, "--json", help="Answer as one JSON object."),
) -> None:
    """Teach the memory a supplier's layout from a document: with corrections (BT-1=… BT-112=…), the
    corrected fields are kept as a new version of the data, as a confirm at the review desk does (the
    archived original and its seal are never touched); with --confirm, the reading as it stands. The
    next documents of that supplier are read with what was learnt. --export / --import carry a
    tenant's memory to another site (journalled)."""
    services, actor = services_of(ctx), by or getpass.getuser()
    if export is not None or import_ is not None:
        if args or confirm or (export is not None and import_ is not None):
            raise InvalidRequest("--export et --import s'emploient seuls")
        answer = (
            _export(services, tenant, export)
            if export is not None
            else _import(services, tenant, import_, actor)
        )
    else:
        answer = _teach(services, args or [], confirm=confirm, actor=actor)
    if as_json:
        emit(answer)
    else:
        out.print(answer["message"])


def corrections(pairs: list[str]) -> dict[str, str | None]:
    """``BT-1=FA-12`` → {"BT-1": "FA-12"}; ``BT-9=`` removes the field."""
    out: dict[str, str | None] = {}
    for pair in pairs:
        term, sep, value = pair.partition("=")
        if not sep:
            raise InvalidRequest(f"{pair!r} : une correction s'écrit BT-n=valeur")
        out[term.strip().upper()] = value
    return out


def _teach(services: Services, args: list[str], *, confirm: bool, actor: str) -> dict[str, object]:
    if not args:
        raise InvalidRequest("nommez le document : dematflow learn ID BT-n=valeur… ou --confirm ID")
    document_id, changes = args[0], corrections(args[1:])
    if confirm == bool(changes):
        raise InvalidRequest("donnez des corrections (BT-n=valeur) ou --confirm, l'un ou l'autre")
    doc = services.catalogue.get(document_id)
    _check(services, doc)
    if changes or doc.status is Status.NEEDS_REVIEW:  # a correction, or a reading confirmed out of review
        doc = _correct(services, doc, changes, actor)
    else:
        memory.teach(services, doc.id, doc.fields, f"cli:{actor}")
    taught = memory.about(services.catalogue.engine, doc.tenant, doc.fields, document_id=doc.id)
    if taught is None or taught["document_id"] != doc.id:
        message = (
            f"{doc.id} : statut {doc.status.value} ; rien appris (champs rejetés ou introuvables sur la page)"
        )
        return {
            "id": doc.id,
            "status": doc.status.value,
            "fields": doc.fields,
            "memory": None,
            "message": message,
        }
    message = (
        f"{doc.id} : mémoire du fournisseur {taught['supplier_key']} à jour (version {taught['version']}, "
        f"{len(taught['fields'])} champ(s)) ; statut {doc.status.value}"
    )
    return {
        "id": doc.id,
        "status": doc.status.value,
        "fields": doc.fields,
        "memory": taught,
        "message": message,
    }


def _check(services: Services, doc: Document) -> None:
    if doc.einvoice:
        raise InvalidRequest(f"{doc.id} est une facture électronique : ses champs sont ceux de son XML")
    if doc.status not in CORRECTABLE or "capture" not in doc.objects:
        raise InvalidRequest(
            f"{doc.id} n'a pas été lu jusqu'au bout (statut {doc.status.value}) : rien à apprendre"
        )
    if (lock := review_locks.holder(services.catalogue.engine, doc.id)) is not None:
        raise InvalidRequest(f"{doc.id} est pris par {lock.by} à la vérification : attendez sa décision")


def _correct(services: Services, doc: Document, changes: dict[str, str | None], actor: str) -> Document:
    by = {"account": None, "name": actor, "role": "cli"}
    who = {**by, "action": "learn", "reason": None, "message": None, "version": None}
    return review_decide.correct(services, doc, changes, by=by, who=who, account=None, expected=None)


def _export(services: Services, tenant: str, path: Path) -> dict[str, object]:
    data = memory.export_memory(services.catalogue.engine, tenant)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    n = len(data["suppliers"])
    return {"tenant": tenant, "suppliers": n, "file": str(path),
            "message": f"mémoire de {tenant} : {n} fournisseur(s) écrit(s) dans {path}"}  # fmt: skip


def _import(services: Services, tenant: str, path: Path, actor: str) -> dict[str, object]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidRequest(f"{path} : illisible ({exc})") from None
    n = memory.import_memory(services.catalogue.engine, data, tenant=tenant, actor=f"cli:{actor}")
    return {"tenant": tenant, "suppliers": n, "file": str(path),
            "message": f"mémoire de {tenant} : {n} fournisseur(s) importé(s) de {path}"}  # fmt: skip
