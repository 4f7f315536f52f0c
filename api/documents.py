"""/api/v1/documents: deposit (202 at once), status, listing with cursor, downloads, lifecycle."""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Header, Path, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import UploadFile as StarletteUpload

from api.auth import current_account, services_of, writer
from api.models import (
    Accepted,
    DocumentList,
    DocumentOut,
    LifecycleList,
    LifecycleOut,
    StatusChange,
    Summary,
    document_of,
    summary_of,
)
from api.problems import PROBLEM_SCHEMA
from api.review_models import AnswerOut, AttachedOut
from dematflow.errors import Forbidden, InvalidRequest, NotFound, TooLarge
from pipeline import access, answers, lifecycle
from pipeline.accounts import Account, Role
from pipeline.catalogue import Query as CatalogueQuery
from pipeline.context import Services
from pipeline.lifecycle_codes import Side
from pipeline.records import Status

router = APIRouter(prefix="/api/v1", tags=["documents"])
PROBLEMS: dict[int | str, dict[str, Any]] = {
    code: {"description": text, **PROBLEM_SCHEMA}
    for code, text in {
        400: "corps de requête illisible",
        401: "non authentifié",
        403: "rôle insuffisant",
        404: "document inconnu (ou d'un autre fournisseur)",
        409: "conflit",
        413: "trop volumineux",
        422: "requête invalide",
    }.items()
}
MEDIA = {
    "sealed": "application/pdf",
    "report": "application/json",
    "data": "application/json",
    "capture": "application/json",
    "einvoice": "application/xml",
}
DOWNLOAD_MEDIA = ("application/octet-stream", *sorted(set(MEDIA.values())), "application/pkcs7-signature")
SUPPLIER_ROLES = ("original", "sealed", "report")  # what a supplier may download of its documents
# What ids and dates look like: anything else (a NUL byte, odd unicode) is refused with 422 before it
# reaches the catalogue, where PostgreSQL would fail on a NUL in a text parameter.
DOCUMENT_ID = r"^[A-Za-z0-9_-]{1,64}$"
DATE_PARAM = r"^\d{4}-\d{2}-\d{2}([T ][0-9:.]+)?(Z|[+-]\d{2}:\d{2})?$"
DocumentId = Annotated[str, Path(max_length=64, pattern=DOCUMENT_ID, description="identifiant du document")]
BUYER_CODES = frozenset({204, 205, 206, 207, 208, 210, 211})
SUPPLIER_CODES = frozenset({209, 212})


@router.post("/documents", status_code=202, response_model=Accepted, responses=PROBLEMS)
async def deposit_document(
    request: Request,
    file: Annotated[UploadFile, File(description="facture ou pièce : PDF, Factur-X, XML CII/UBL, image")],
    account: Annotated[Account, Depends(writer)],
    order_number: Annotated[
        str | None, Form(max_length=200, description="numéro de commande (BT-13)")
    ] = None,
    supplier_reference: Annotated[str | None, Form(max_length=200)] = None,
    comment: Annotated[str | None, Form(max_length=2000)] = None,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", max_length=200, pattern=r"^[\x21-\x7e]+$")
    ] = None,
) -> JSONResponse:
    """Déposer un document. Répond 202 tout de suite, avant tout traitement, avec l'URL de statut."""
    services = services_of(request)
    limit = services.settings.limits.max_bytes
    if file.size is not None and file.size > limit:
        raise TooLarge(f"le fichier dépasse la taille maximale de {limit:,} octets (IRR_TAILLE_F)")
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"le fichier dépasse la taille maximale de {limit:,} octets (IRR_TAILLE_F)")
    meta = {
        k: v.strip()
        for k, v in {
            "BT-13": order_number,
            "supplier_reference": supplier_reference,
            "comment": comment,
        }.items()
        if v and v.strip()
    }
    done = await run_in_threadpool(
        access.deposit,
        services,
        filename=safe_filename(file.filename),
        data=data,
        account=account,
        meta=meta,
        idempotency_key=idempotency_key,
    )
    if not done.replayed:
        request.app.state.runner.start(done.receipt)
    doc_id = done.receipt.document_id
    url = str(request.url_for("get_document", document_id=doc_id))
    body = Accepted(
        id=doc_id,
        status="received",
        status_url=url,
        duplicate=done.receipt.duplicate_of is not None,
        replayed=done.replayed,
    )
    return JSONResponse(body.model_dump(), status_code=202, headers={"Location": url})


@router.get("/documents", response_model=DocumentList, responses=PROBLEMS)
def list_documents(
    request: Request,
    account: Annotated[Account, Depends(current_account)],
    status: Annotated[Status | None, Query(description="statut du traitement")] = None,
    doc_type: Annotated[str | None, Query(max_length=30, pattern=r"^[a-z_]+$")] = None,
    received_from: Annotated[str | None, Query(max_length=40, pattern=DATE_PARAM)] = None,
    received_to: Annotated[str | None, Query(max_length=40, pattern=DATE_PARAM)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> DocumentList:
    """Lister les documents visibles (un fournisseur ne voit que les siens), du plus ancien au plus récent."""
    services = services_of(request)
    query = CatalogueQuery(
        status=status,
        doc_type=doc_type,
        received_from=received_from,
        received_to=received_to,
        after=_decode_cursor(cursor) if cursor else None,
    )
    docs = access.listing(services, account, query, limit=limit + 1)
    more, docs = len(docs) > limit, docs[:limit]
    items = [Summary(**summary_of(d, lifecycle_out(request, services, d.id))) for d in docs]
    next_cursor = _encode_cursor(docs[-1].received_at, docs[-1].id) if more and docs else None
    return DocumentList(items=items, next_cursor=next_cursor)


@router.get("/documents/{document_id}", response_model=DocumentOut, responses=PROBLEMS)
def get_document(
    request: Request, document_id: DocumentId, account: Annotated[Account, Depends(current_account)]
) -> DocumentOut:
    """Statut, statut du cycle de vie, champs lus et constats (chacun avec l'identifiant de sa règle)."""
    services = services_of(request)
    doc = access.visible(services, account, document_id)
    base = str(request.base_url).rstrip("/")
    out = document_of(doc, lifecycle_out(request, services, doc.id), base)
    if account.role is Role.SUPPLIER:
        out.links = {k: v for k, v in out.links.items() if k in ("self", "lifecycle", *SUPPLIER_ROLES)}
    return out


@router.get(
    "/documents/{document_id}/files/{role}",
    responses={200: {"content": {media: {} for media in DOWNLOAD_MEDIA}}, **PROBLEMS},
    response_class=Response,
)
def download(
    request: Request,
    document_id: DocumentId,
    role: Annotated[str, Path(max_length=40, pattern=r"^[a-z0-9-]+$")],
    account: Annotated[Account, Depends(current_account)],
) -> Response:
    """Télécharger un objet archivé : `original`, `sealed` (copie scellée), `report` (rapport de contrôle)…"""
    services = services_of(request)
    if account.role is Role.SUPPLIER and role not in SUPPLIER_ROLES:
        access.visible(services, account, document_id)  # an unknown document stays a 404
        raise Forbidden(f"un fournisseur peut télécharger : {', '.join(SUPPLIER_ROLES)}")
    doc, data = access.read_object(services, account, document_id, role)
    media = MEDIA.get(role, "application/octet-stream")
    if role == "sealed" and doc.objects["sealed"].key.endswith(".p7s"):
        media = "application/pkcs7-signature"
    if role.startswith("lifecycle-"):
        media = "application/xml"
    suffix = doc.objects[role].key.rsplit("/", 1)[-1]
    return Response(
        data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{suffix}"'}
    )


@router.get("/documents/{document_id}/lifecycle", response_model=LifecycleList, responses=PROBLEMS)
def get_lifecycle(
    request: Request, document_id: DocumentId, account: Annotated[Account, Depends(current_account)]
) -> LifecycleList:
    """Les statuts du cycle de vie, du premier au dernier ; chacun a son message CDAR archivé."""
    services = services_of(request)
    doc = access.visible(services, account, document_id)
    items = [_lifecycle(request, t) for t in lifecycle.history(services.catalogue.engine, doc.id)]
    return LifecycleList(document_id=doc.id, items=items)


@router.get(
    "/documents/{document_id}/lifecycle/{seq}.xml",
    responses={200: {"content": {"application/xml": {}}}, **PROBLEMS},
    response_class=Response,
)
def get_cdar(
    request: Request, document_id: DocumentId, seq: int, account: Annotated[Account, Depends(current_account)]
) -> Response:
    """Le message CDAR (D22B) d'un statut."""
    services = services_of(request)
    doc = access.visible(services, account, document_id)
    for t in lifecycle.history(services.catalogue.engine, doc.id):
        if t.seq == seq:
            _, data = access.read_object(services, account, doc.id, lifecycle_role(t.seq))
            return Response(data, media_type="application/xml")
    raise NotFound(f"aucun statut n° {seq} pour le document {document_id}")


@router.post(
    "/documents/{document_id}/lifecycle", response_model=LifecycleOut, status_code=201, responses=PROBLEMS
)
def post_lifecycle(
    request: Request,
    document_id: DocumentId,
    change: StatusChange,
    account: Annotated[Account, Depends(writer)],
) -> LifecycleOut:
    """Poser un statut : l'acheteur (agent) 204 à 211, le fournisseur 209 et 212."""
    services = services_of(request)
    doc = access.visible(services, account, document_id)
    side = Side.SUPPLIER if account.role is Role.SUPPLIER else Side.BUYER
    allowed = SUPPLIER_CODES if side is Side.SUPPLIER else BUYER_CODES
    if change.code not in allowed:
        raise Forbidden(f"le rôle « {account.role.value} » ne peut pas poser le statut {change.code}")
    transition = lifecycle.record(
        services,
        doc.id,
        change.code,
        reason=change.reason,
        message=change.message,
        actor=f"{account.role.value}:{account.name}",
        amount=change.amount,
        vat_rate=change.vat_rate,
        side=side,
    )
    return _lifecycle(request, transition)


@router.post("/documents/{document_id}/answer", response_model=AnswerOut, status_code=201, responses=PROBLEMS)
async def answer_suspension(
    request: Request,
    document_id: DocumentId,
    account: Annotated[Account, Depends(writer)],
    file: Annotated[list[UploadFile], File(description="les pièces demandées (une ou plusieurs)")],
    comment: Annotated[str | None, Form(max_length=answers.MAX_COMMENT)] = None,
) -> AnswerOut:
    """Répondre à une facture suspendue (208) avec des fichiers : ils deviennent des documents liés
    à elle, le statut 209 Complétée est posé et la facture revient aux agents."""
    services = services_of(request)
    files = await read_answer_files(services, file)
    done = await run_in_threadpool(answers.answer, services, account, document_id, files, comment)
    for receipt in done.receipts:
        request.app.state.runner.start(receipt)
    return answer_out(request, done.answered, done.transition)


async def read_answer_files(
    services: Services, uploads: Sequence[StarletteUpload]
) -> list[answers.AnswerFile]:
    """The uploaded files, each within the deposit size limit (413 otherwise)."""
    limit = services.settings.limits.max_bytes
    out = []
    for upload in uploads[: answers.MAX_FILES + 1]:
        data = await upload.read(limit + 1)
        if len(data) > limit:
            raise TooLarge(f"le fichier dépasse la taille maximale de {limit:,} octets (IRR_TAILLE_F)")
        out.append(answers.AnswerFile(safe_filename(upload.filename), data))
    return out


def answer_out(
    request: Request, answered: answers.Answered, transition: lifecycle.Transition | None = None
) -> AnswerOut:
    return AnswerOut(
        document_id=answered.document_id,
        by=answered.by,
        at=answered.at,
        comment=answered.comment,
        files=[AttachedOut(filename=f.filename, document_id=f.document_id, duplicate=f.duplicate)
               for f in answered.files],
        lifecycle=_lifecycle(request, transition) if transition is not None else None,
    )  # fmt: skip


@router.post(
    "/lifecycle",
    response_model=LifecycleOut,
    status_code=201,
    responses=PROBLEMS,
    openapi_extra={
        "requestBody": {"content": {"application/xml": {"schema": {"type": "string"}}}, "required": True}
    },
)
async def post_cdar(request: Request, account: Annotated[Account, Depends(writer)]) -> LifecycleOut:
    """Recevoir un message CDAR d'une autre plateforme au sujet d'une de nos factures."""
    if account.role not in (Role.AGENT, Role.ADMIN):
        raise Forbidden("seuls les agents et administrateurs transmettent des messages CDAR")
    body = await request.body()
    if not body:
        raise InvalidRequest("corps vide : un message CDAR XML est attendu")
    services = services_of(request)
    transition = await run_in_threadpool(
        lifecycle.apply_incoming, services, body, actor=f"{account.role.value}:{account.name}"
    )
    return _lifecycle(request, transition)


def lifecycle_role(seq: int) -> str:
    return f"lifecycle-{seq:03d}"


def lifecycle_out(request: Request, services: Services, document_id: str) -> LifecycleOut | None:
    current = lifecycle.current(services.catalogue.engine, document_id)
    return _lifecycle(request, current) if current is not None else None


def _lifecycle(request: Request, t: lifecycle.Transition) -> LifecycleOut:
    url = str(request.base_url).rstrip("/") + f"/api/v1/documents/{t.document_id}/lifecycle/{t.seq}.xml"
    return LifecycleOut(
        seq=t.seq,
        code=t.code,
        label=t.label,
        reason_code=t.reason,
        message=t.message,
        actor=t.actor,
        at=t.at,
        cdar_url=url,
    )


_UNSAFE = re.compile(r"[^\w.\- ()+,@]")


def safe_filename(name: str | None) -> str:
    """A file name to show, never a path: no folders, no control characters, at most 200 characters."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in unicodedata.normalize("NFC", base) if unicodedata.category(ch)[0] != "C")
    base = _UNSAFE.sub("_", base).strip(" .")
    return base[:200] or "document"


def _encode_cursor(received_at: str, doc_id: str) -> str:
    return base64.urlsafe_b64encode(f"{received_at}|{doc_id}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[str, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        received_at, doc_id = raw.split("|", 1)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidRequest("curseur de pagination invalide") from None
    if not (re.fullmatch(DATE_PARAM, received_at) and re.fullmatch(DOCUMENT_ID, doc_id)):
        raise InvalidRequest("curseur de pagination invalide")
    return received_at, doc_id
