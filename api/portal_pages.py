"""The portal's pages once signed in: drop files, my documents, one document. They read through the
same functions as the JSON API (``api.documents``, hence ``pipeline.access``): a supplier sees its own."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from api import documents, i18n
from api.auth import check_csrf, services_of, session_account
from api.documents import safe_filename
from api.models import DocumentOut
from api.portal_view import PREFIX, partial, render, sign_in_redirect, size_text
from dematflow.errors import DematflowError, Forbidden, InvalidRequest, NotFound
from pipeline import access, answers, lifecycle
from pipeline.accounts import Account, Role
from pipeline.records import Status

router = APIRouter(include_in_schema=False)
PAGE = 20
META_FIELDS = (
    ("order_number", "BT-13"),
    ("supplier_reference", "supplier_reference"),
    ("comment", "comment"),
)
DOWNLOADS = ("sealed", "report", "original")


@dataclass(frozen=True)
class Outcome:
    """One file of a no-JavaScript deposit: its document, or why it was refused."""

    filename: str
    document_id: str | None = None
    duplicate: bool = False
    error: str | None = None


@router.get(f"{PREFIX}/depot")
def deposit_page(request: Request) -> Response:
    account = session_account(request)
    if account is None:
        return sign_in_redirect(request)
    return _deposit(request, account, [])


@router.post(f"{PREFIX}/depot")
async def deposit_form(request: Request) -> Response:
    """The plain multipart form (without JavaScript): the same deposit as ``POST /api/v1/documents``."""
    account = session_account(request)
    if account is None:
        return sign_in_redirect(request)
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    if not account.can_write:
        raise Forbidden("le rôle « auditor » est en lecture seule")
    files = [f for f in form.getlist("file") if isinstance(f, UploadFile) and f.filename]
    if not files:
        return _deposit(request, account, [], status_code=422, error="deposit.none")
    meta = {key: str(form.get(name, "")).strip() for name, key in META_FIELDS}
    meta = {k: v[:2000] for k, v in meta.items() if v}
    outcomes = [await _deposit_one(request, account, f, meta) for f in files]
    return _deposit(request, account, outcomes)


async def _deposit_one(
    request: Request, account: Account, upload: UploadFile, meta: dict[str, str]
) -> Outcome:
    services = services_of(request)
    name = safe_filename(upload.filename)
    limit = services.settings.limits.max_bytes
    data = await upload.read(limit + 1)
    if len(data) > limit:
        return Outcome(name, error=f"IRR_TAILLE_F ({size_text(limit, i18n.language(request))})")
    try:
        done = await run_in_threadpool(
            access.deposit, services, filename=name, data=data, account=account, meta=meta
        )
    except DematflowError as exc:
        return Outcome(name, error=exc.message)
    request.app.state.runner.start(done.receipt)
    receipt = done.receipt
    return Outcome(name, receipt.document_id, duplicate=receipt.duplicate_of is not None)


def _deposit(
    request: Request, account: Account, outcomes: list[Outcome], *, status_code: int = 200, error: str = ""
) -> Response:
    limit = services_of(request).settings.limits.max_bytes
    return render(
        request,
        "depot.html",
        title="deposit.title",
        account=account,
        outcomes=outcomes,
        max_size=size_text(limit, i18n.language(request)),
        error=error,
        status_code=status_code,
    )


@router.get(f"{PREFIX}/documents")
def documents_page(request: Request, statut: str = "", curseur: str = "") -> Response:
    account = session_account(request)
    if account is None:
        return sign_in_redirect(request)
    status = Status(statut) if statut in Status._value2member_map_ else None
    try:
        page = documents.list_documents(request, account, status=status, limit=PAGE, cursor=curseur or None)
    except InvalidRequest:  # a stale or hand-made cursor: start again from the first page
        page = documents.list_documents(request, account, status=status, limit=PAGE)
    busy = any(item.status == Status.RECEIVED.value for item in page.items)
    context: dict[str, Any] = {
        "page": page,
        "statut": status.value if status else "",
        "busy": busy,
        "statuses": list(Status),
    }
    if partial(request):
        return render(request, "_tableau.html", account=account, **context)
    return render(request, "documents.html", title="docs.title", account=account, **context)


@router.get(f"{PREFIX}/documents/{{document_id}}")
def document_page(request: Request, document_id: str, reponse: int = 0) -> Response:
    """While the document is processed an htmx poll gets 204 (nothing to swap), then the final page."""
    account = session_account(request)
    if account is None:
        return sign_in_redirect(request)
    return document_response(request, account, document_id, answered=bool(reponse))


def document_response(
    request: Request, account: Account, document_id: str, *, status_code: int = 200, **extra: Any
) -> Response:
    """One document's page (or its htmx fragment); ``extra``: the answer form's outcome."""
    services = services_of(request)
    try:
        out = documents.get_document(request, document_id, account)
        doc = access.visible(services, account, document_id)
        history = documents.get_lifecycle(request, document_id, account).items
    except NotFound:
        return render(request, "erreur.html", title="notfound.title", account=account, status_code=404)
    awaited = out.lifecycle is None and lifecycle.initial(doc) is not None  # final, its status comes next
    pending = out.status == Status.RECEIVED.value or awaited
    engine = services.catalogue.engine
    context: dict[str, Any] = {
        "doc": out,
        "history": history,
        "downloads": _downloads(out),
        "asked": answers.request_of(engine, doc.id),
        "answers": answers.answers_of(engine, doc.id),
        "can_answer": account.role is Role.SUPPLIER and account.can_write,
        "max_size": size_text(services.settings.limits.max_bytes, i18n.language(request)),
        **extra,
    }
    if partial(request):
        if pending:
            return Response(status_code=204)
        return render(request, "_document.html", account=account, pending=False, announce=True, **context)
    return render(
        request,
        "document.html",
        title="doc.title",
        title_name=out.filename,
        account=account,
        pending=pending,
        announce=False,
        status_code=status_code,
        **context,
    )


def _downloads(doc: DocumentOut) -> list[tuple[str, str]]:
    return [(role, f"/api/v1/documents/{doc.id}/files/{role}") for role in DOWNLOADS if role in doc.links]
