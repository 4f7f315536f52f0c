"""The agent's review screen: the queue and one document, server-rendered from the review API.

Each page reads the JSON contract of ``api.review`` with an in-process sub-request carrying the
visitor's session (so roles, tenancy and lock rules stay in one place); ``revue.js`` then claims the
document, unlocks the fields and drives the keyboard flow. Without JavaScript both pages read only.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api import i18n, review_words, seal_words
from api.auth import services_of, session_account
from api.portal_view import PREFIX, render, sign_in_redirect
from dematflow.errors import NotFound
from pipeline import access, audit_seals, review, review_render
from pipeline.accounts import Account
from pipeline.context import Services
from signing.seal_status import SealReport

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)
QUEUE = f"{PREFIX}/revue"
PAGE = 50
NEIGHBOURS = 200  # queue entries read to find the previous and next documents
THUMB_WIDTH, PAGE_WIDTH = 120, 900
DOC_TYPE = re.compile(r"[a-z_]+")  # the review API's pattern for a class filter
FILTERS = (("tri", "sort"), ("fournisseur", "supplier"), ("classe", "doc_type"), ("motif", "reason"))


async def _get_json(request: Request, path: str, params: dict[str, str] | None = None) -> tuple[int, Any]:
    """GET one of our own JSON routes in-process, as the visitor (their cookies, their language)."""
    query = urlencode({k: v for k, v in (params or {}).items() if v}).encode()
    keep = (b"cookie", b"accept-language")
    headers = [(k, v) for k, v in request.scope["headers"] if k in keep] + [(b"accept", b"application/json")]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": request.url.scheme,
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": headers,
        "client": request.scope.get("client"),
        "server": request.scope.get("server"),
    }
    status, body = 500, bytearray()

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
        elif message["type"] == "http.response.body":
            body.extend(message.get("body", b""))

    await request.app(scope, receive, send)
    try:
        return status, json.loads(body) if body else None
    except ValueError:
        return status, None


def _allowed(account: Account) -> bool:
    return account.role.value in review_words.READERS


def _filters(request: Request) -> dict[str, str]:
    return {ours: request.query_params.get(ours, "").strip()[:200] for ours, _ in FILTERS}


def _api_params(filters: dict[str, str]) -> dict[str, str]:
    params = {theirs: filters[ours] for ours, theirs in FILTERS}
    params["sort"] = "confidence" if filters["tri"] == "confiance" else "age"
    return params


def _render(request: Request, template: str, account: Account, title: str, **context: Any) -> Response:
    t = review_words.translator(_lang(request))
    return render(request, template, title=title, account=account, t=t, rw=review_words, **context)


def _lang(request: Request) -> str:
    return i18n.language(request)


@router.get(QUEUE)
async def queue_page(request: Request, curseur: str = "") -> Response:
    account = session_account(request)
    if account is None:
        return sign_in_redirect(request)
    if not _allowed(account):
        return render(request, "erreur.html", title="notfound.title", account=account, status_code=404)
    t = review_words.translator(_lang(request))
    filters = _filters(request)
    params = {**_api_params(filters), "limit": str(PAGE), "cursor": curseur}
    status, page = await _get_json(request, "/api/v1/review", params)
    if status == 422 and curseur:  # a stale or hand-made cursor: back to the first page
        status, page = await _get_json(request, "/api/v1/review", {**params, "cursor": ""})
    if status != 200:
        log.warning("review queue: the API answered %s", status)
        page = {"items": [], "next_cursor": None}
    kept = {k: v for k, v in filters.items() if v}
    return _render(
        request,
        "revue_file.html",
        account,
        t("queue.title"),
        page=page,
        filters=filters,
        query=urlencode(kept),
        here=QUEUE + ("?" + urlencode(kept) if kept else ""),
        classes=sorted({str(i.get("doc_type")) for i in page["items"] if i.get("doc_type")}),
        reasons=sorted({str(i.get("reason")) for i in page["items"] if i.get("reason")}),
    )


@router.get(QUEUE + "/{document_id}")
async def review_page(request: Request, document_id: str, page: int = 1, cachet: int = 0) -> Response:
    account = session_account(request)
    if account is None:
        return sign_in_redirect(request)
    if not _allowed(account):
        return render(request, "erreur.html", title="notfound.title", account=account, status_code=404)
    status, doc = await _get_json(request, f"/api/v1/review/{document_id}")
    if status != 200 or not isinstance(doc, dict):
        return render(request, "erreur.html", title="notfound.title", account=account, status_code=404)
    pages = max(int(doc.get("pages") or 1), 1)
    current = min(max(page, 1), pages)
    filters = _filters(request)
    page_words, (previous, following) = await run_in_threadpool(
        _around, services_of(request), account, str(doc["id"]), current, filters
    )
    lock = doc.get("lock") or None
    held_by = lock["by"] if lock and lock.get("by") and lock["by"] != account.name else None
    kept = {k: v for k, v in filters.items() if v}
    lang = _lang(request)
    t = review_words.translator(lang)
    fields: list[dict[str, Any]] = doc.get("fields") or []
    seal = None
    if cachet:  # without JavaScript, the seal is checked on asking (the « check the seal » link)
        seal = seal_words.view(lang, await run_in_threadpool(_seal, request, document_id))
    return _render(
        request,
        "revue_document.html",
        account,
        t("review.title", name=doc.get("filename") or document_id),
        doc=doc,
        fields=fields,
        labels={
            str(f["term"]): review_words.field_label(lang, str(f["term"]), f.get("label")) for f in fields
        },
        totals=doc.get("totals") or {},
        page_words=page_words,
        current=current,
        pages=pages,
        page_width=PAGE_WIDTH,
        thumb_width=THUMB_WIDTH,
        previous=previous,
        following=following,
        held_by=held_by,
        lock=lock,
        mine=bool(lock and lock.get("by") == account.name),
        can_decide=account.role.value in review_words.DECIDERS and held_by is None,
        query=("?" + urlencode(kept)) if kept else "",
        back=QUEUE + ("?" + urlencode(kept) if kept else ""),
        seal=seal,
    )


@router.get(QUEUE + "/{document_id}/cachet")
async def seal_fragment(request: Request, document_id: str) -> Response:
    """The seal status of one document, as the review page loads it after the page (htmx)."""
    account = session_account(request)
    if account is None:
        return sign_in_redirect(request)
    if not _allowed(account):
        return render(request, "erreur.html", title="notfound.title", account=account, status_code=404)
    services = services_of(request)
    try:
        doc = await run_in_threadpool(access.visible, services, account, document_id)
    except NotFound:
        return render(request, "erreur.html", title="notfound.title", account=account, status_code=404)
    kept = await run_in_threadpool(audit_seals.check, services, doc)  # pyHanko: this document's seal only
    seal = seal_words.view(_lang(request), kept.report if kept else None)
    return render(request, "_seal.html", title="notfound.title", account=account, seal=seal)


@router.get(QUEUE + "/{document_id}/preparer")
async def prepare_next(request: Request, document_id: str) -> Response:
    """Get the document the agent opens next ready (revue.js asks once the current one is claimed): 204."""
    account = session_account(request)
    if account is None or not _allowed(account):
        return Response(status_code=404)
    services = services_of(request)
    try:
        doc = await run_in_threadpool(access.visible, services, account, document_id)
    except NotFound:
        return Response(status_code=404)
    await run_in_threadpool(review.prepare, services, doc)
    return Response(status_code=204)


def _seal(request: Request, document_id: str) -> SealReport | None:
    """The seal status of a document the review API has just shown this visitor (so they may see it)."""
    services = services_of(request)
    try:
        kept = audit_seals.check(services, services.catalogue.get(document_id))
    except NotFound:
        return None
    return kept.report if kept else None


def _around(
    services: Services, account: Account, document_id: str, page: int, filters: dict[str, str]
) -> tuple[list[dict[str, object]], tuple[str | None, str | None]]:
    """The words of the page shown, and the documents before and after this one in the queue."""
    doc = access.visible(services, account, document_id)  # the review API has just shown it
    try:
        words = review_render.words(services, doc, page)
    except NotFound:  # an e-invoice read from its XML: no words on a page
        words = []
    return words, _neighbours(services, document_id, filters, account)


def _neighbours(
    services: Services, document_id: str, filters: dict[str, str], account: Account
) -> tuple[str | None, str | None]:
    """The documents before and after this one in the queue, skipping those someone else holds."""
    if filters["classe"] and not DOC_TYPE.fullmatch(filters["classe"]):
        return None, None  # a class the review API refuses (422): no neighbours, as before
    sort = review.Sort.CONFIDENCE if filters["tri"] == "confiance" else review.Sort.AGE
    query = review.QueueQuery(
        sort, filters["fournisseur"] or None, filters["classe"] or None, filters["motif"] or None, NEIGHBOURS
    )
    return review.neighbours(services, query, document_id, account.name)
