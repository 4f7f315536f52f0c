"""The auditor's pages: search the whole archive, one document's pages, fields, objects and complete
journal, a « Vérifier » button and the evidence bundle. Read-only; every search, view, verification and
download is journalled with the account (stage ``access``), as ``pipeline.access.read_object`` does.
Agents and admins may use them too; a supplier is told they do not exist (404)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api import audit_words, i18n, seal_words
from api.auth import check_csrf, services_of, session_account
from api.documents import _decode_cursor, _encode_cursor, lifecycle_out
from api.models import summary_of
from api.portal_view import PREFIX, partial, render, sign_in_redirect
from api.portal_words import LIFECYCLE_EN
from dematflow.errors import InvalidRequest, NotFound
from extractors.results import DocType
from pipeline import access, accounts, audit_seals, journal, review_render, search, verify_document
from pipeline.accounts import Account
from pipeline.context import Services
from pipeline.journal import Entry
from pipeline.records import Document, Event, Status

router = APIRouter(include_in_schema=False)
AUDIT = f"{PREFIX}/audit"
PAGE = 20
PAGE_WIDTH, MAX_PAGES = 700, 20  # page images shown on the document page
_PRINTABLE = re.compile(r"^[^\x00-\x1f\x7f]{1,200}$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_VAT = re.compile(r"^[A-Za-z0-9 .-]{1,40}$")


@dataclass(frozen=True)
class Row:
    """One journal row as the timeline shows it."""

    entry: Entry
    who: str
    what: str
    stage: str
    details: tuple[str, ...]
    inputs: dict[str, str]
    outputs: dict[str, str]


@dataclass(frozen=True)
class Results:
    """One page of search results, as ``_tableau.html`` reads a listing."""

    items: list[dict[str, Any]]
    next_cursor: str | None


def _reader(request: Request) -> Account | Response:
    """The signed-in auditor, agent or admin; a sign-in redirect or a 404 page otherwise."""
    account = session_account(request)
    if account is None:
        return sign_in_redirect(request)
    if account.role.value not in audit_words.READERS:
        return render(request, "erreur.html", title="notfound.title", account=account, status_code=404)
    return account


def _render(request: Request, template: str, account: Account, title: str, **context: Any) -> Response:
    """``title`` is a key of these pages' words (base.html translates it, with ``title_name``)."""
    t = audit_words.translator(i18n.language(request))
    # ``_`` too: the shared list (_tableau.html) then finds these pages' words, the portal's after them
    return render(request, template, title=title, account=account, t=t, _=t, aw=audit_words, **context)


def _journal(
    services: Services, account: Account, action: str, document_id: str | None, **detail: Any
) -> None:
    who = {"account": account.id, "role": account.role.value, "screen": "audit"}
    services.catalogue.record(Event("access", action, document_id, detail={**who, **detail}))


def _pattern(regex: re.Pattern[str], squeeze: bool = False) -> Callable[[str], str | None]:
    def parse(raw: str) -> str | None:
        value = raw.replace(" ", "") if squeeze else raw
        return value if regex.fullmatch(value) else None

    return parse


def _choice(allowed: dict[str, Any]) -> Callable[[str], Any]:
    return allowed.get


# Each form field (French, as the form names it): the search.Criteria field, and its parser (None: invalid).
PARSERS: tuple[tuple[str, str, Callable[[str], Any]], ...] = (
    ("siren", "siren", _pattern(re.compile(r"\d{9}"), squeeze=True)),
    ("siret", "siret", _pattern(re.compile(r"\d{14}"), squeeze=True)),
    ("tva", "vat", _pattern(_VAT)),
    ("acheteur", "buyer", _pattern(_PRINTABLE)),
    ("numero", "invoice_number", _pattern(_PRINTABLE)),
    ("du", "issued_from", _pattern(_DAY)),
    ("au", "issued_to", _pattern(_DAY)),
    ("min", "min_amount", search.amount),
    ("max", "max_amount", search.amount),
    ("statut", "status", _choice({s.value: s for s in Status})),
    ("cycle", "lifecycle", _choice({str(code): code for code in LIFECYCLE_EN})),
    ("classe", "doc_type", _choice({d.value: d.value for d in DocType})),
    ("tenant", "tenant", _pattern(_PRINTABLE)),
    ("texte", "text", _pattern(_PRINTABLE)),
)
FORM = tuple(name for name, _, _ in PARSERS)


def criteria_of(params: dict[str, str]) -> tuple[search.Criteria, list[str]]:
    """The search criteria from the form's fields, and the names of those ignored as invalid."""
    given: dict[str, Any] = {}
    bad: list[str] = []
    for name, field, parse in PARSERS:
        raw = params.get(name, "").strip()
        if raw:
            value = parse(raw)
            if value is None:
                bad.append(name)
            else:
                given[field] = value
    return search.Criteria(**given), bad


@router.get(AUDIT)
async def search_page(request: Request, curseur: str = "") -> Response:
    account = _reader(request)
    if isinstance(account, Response):
        return account
    services = services_of(request)
    params = {name: request.query_params.get(name, "")[:200] for name in FORM}
    criteria, bad = criteria_of(params)
    try:
        after = _decode_cursor(curseur) if curseur else None
    except InvalidRequest:  # a stale or hand-made cursor: from the first page
        after = None
    paged = dataclasses.replace(criteria, after=after)
    found = await run_in_threadpool(search.find_for, services, account, paged, limit=PAGE + 1)
    more, docs = len(found) > PAGE, found[:PAGE]
    asked = {k: str(v) for k, v in dataclasses.asdict(criteria).items() if v is not None}
    _journal(services, account, "searched", None, criteria=asked, shown=[d.id for d in docs])
    kept = {k: v for k, v in params.items() if v.strip()}
    context: dict[str, Any] = {
        "page": Results(
            [_item(request, services, d) for d in docs],
            _encode_cursor(docs[-1].received_at, docs[-1].id) if more and docs else None,
        ),
        "table_base": AUDIT,
        "table_query": urlencode(kept),
        "row_href": f"{AUDIT}/documents/",
        "table_caption": "search.caption",
        "table_empty": "search.empty",
        "table_extra": [("search.seller.col", "seller"), ("search.tenant.col", "tenant")],
    }
    if partial(request):
        return _render(request, "_tableau.html", account, "", **context)
    return _render(
        request,
        "audit_recherche.html",
        account,
        "search.title",
        params=params,
        invalid=bad,
        statuses=list(Status),
        codes=sorted(LIFECYCLE_EN),
        classes=[d.value for d in DocType],
        **context,
    )


def _item(request: Request, services: Services, doc: Document) -> dict[str, Any]:
    seller = doc.fields.get("BT-27") or doc.fields.get("BT-31") or doc.fields.get("BT-30")
    return {
        **summary_of(doc, lifecycle_out(request, services, doc.id)),
        "seller": seller,
        "tenant": doc.tenant,
    }


@router.get(AUDIT + "/documents/{document_id}")
async def document_page(request: Request, document_id: str) -> Response:
    account = _reader(request)
    if isinstance(account, Response):
        return account
    services = services_of(request)
    try:
        doc = _visible(services, account, document_id)
    except NotFound:
        return render(request, "erreur.html", title="notfound.title", account=account, status_code=404)
    _journal(services, account, "viewed", doc.id)
    return await _document(request, account, doc, None)


@router.post(AUDIT + "/documents/{document_id}/verifier")
async def verify(request: Request, document_id: str) -> Response:
    """Verify the document (a read: the auditor may); htmx gets the result alone, a plain form the page."""
    account = _reader(request)
    if isinstance(account, Response):
        return account
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    services = services_of(request)
    try:
        doc = _visible(services, account, document_id)
    except NotFound:
        return render(request, "erreur.html", title="notfound.title", account=account, status_code=404)
    result = await run_in_threadpool(verify_document.verify, services, doc.id)
    verify_document.record(services, account, result)
    if partial(request):
        return _render(request, "audit_verification.html", account, "", doc=doc, result=result)
    return await _document(request, account, doc, result)


def _visible(services: Services, account: Account, document_id: str) -> Document:
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", document_id):
        raise NotFound("identifiant invalide")
    return access.visible(services, account, document_id)


async def _document(
    request: Request, account: Account, doc: Document, result: verify_document.DocumentVerification | None
) -> Response:
    services = services_of(request)
    lang = i18n.language(request)
    pages = (
        await run_in_threadpool(review_render.page_count, services, doc) if "original" in doc.objects else 0
    )
    rows = await run_in_threadpool(_timeline, services, doc.id, lang)
    kept = await run_in_threadpool(audit_seals.check, services, doc)  # pyHanko: this document's seal only
    return _render(
        request,
        "audit_document.html",
        account,
        "doc.title",
        title_name=doc.filename,
        doc=doc,
        summary=summary_of(doc, lifecycle_out(request, services, doc.id)),
        pages=range(1, min(pages, MAX_PAGES) + 1),
        page_width=PAGE_WIDTH,
        fields=[(term, doc.fields[term]) for term in _ordered(doc.fields)],
        rows=rows,
        result=result,
        seal=seal_words.view(lang, kept.report if kept else None),
    )


def _ordered(fields: dict[str, str]) -> list[str]:
    def key(term: str) -> tuple[int, str]:
        number = term.removeprefix("BT-")
        return (int(number), term) if number.isdigit() else (10_000, term)

    return sorted(fields, key=key)


def _timeline(services: Services, document_id: str, lang: str) -> list[Row]:
    t = audit_words.translator(lang)
    names: dict[str, str] = {}
    rows = []
    for entry in journal.entries(services.catalogue.engine, document_id=document_id):
        detail = entry.body.get("detail")
        detail = detail if isinstance(detail, dict) else {}
        rows.append(
            Row(
                entry=entry,
                who=_who(services, detail, names, t),
                what=audit_words.event(lang, entry.stage, entry.action),
                stage=audit_words.stage(lang, entry.stage),
                details=audit_words.details(lang, detail),
                inputs=_hashes(entry.body.get("inputs")),
                outputs=_hashes(entry.body.get("outputs")),
            )
        )
    return rows


def _who(services: Services, detail: dict[str, Any], names: dict[str, str], t: Any) -> str:
    account_id = detail.get("account") or detail.get("by")
    if account_id:
        key = str(account_id)
        if key not in names:
            try:
                found = accounts.get(services.catalogue.engine, key)
                names[key] = f"{found.name} ({found.role.value})"
            except NotFound:
                names[key] = t("who.unknown", id=key[:12])
        return names[key]
    actor = detail.get("actor")
    return str(actor) if actor and actor != "dematflow" else t("who.system")


def _hashes(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}
