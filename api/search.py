"""/api/v1/search: documents by seller, buyer, number, dates, amounts, statuses, class, tenant, text."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool

from api.auth import current_account, services_of
from api.documents import _decode_cursor, _encode_cursor, lifecycle_out
from api.models import DocumentList, Summary, summary_of
from api.problems import PROBLEM_SCHEMA
from pipeline import search
from pipeline.accounts import Account
from pipeline.records import Status

router = APIRouter(prefix="/api/v1", tags=["search"])
PROBLEMS: dict[int | str, dict[str, Any]] = {
    code: {"description": text, **PROBLEM_SCHEMA}
    for code, text in {401: "non authentifié", 403: "rôle insuffisant", 422: "requête invalide"}.items()
}
# Printable text only: a NUL or a control character is refused with 422 before it reaches the database.
TEXT = r"^[^\x00-\x1f\x7f]+$"
DAY = r"^\d{4}-\d{2}-\d{2}$"
Day = Annotated[str | None, Query(max_length=10, pattern=DAY)]
Amount = Annotated[Decimal | None, Query(ge=Decimal("-1e15"), le=Decimal("1e15"), description="BT-112")]


@router.get("/search", response_model=DocumentList, responses=PROBLEMS)
async def search_documents(
    request: Request,
    account: Annotated[Account, Depends(current_account)],
    siren: Annotated[str | None, Query(pattern=r"^\d{9}$", description="SIREN du vendeur")] = None,
    siret: Annotated[str | None, Query(pattern=r"^\d{14}$", description="SIRET du vendeur")] = None,
    vat: Annotated[
        str | None, Query(max_length=40, pattern=r"^[A-Za-z0-9 .-]+$", description="TVA du vendeur (BT-31)")
    ] = None,
    buyer: Annotated[str | None, Query(max_length=200, pattern=TEXT, description="acheteur (BT-44)")] = None,
    number: Annotated[str | None, Query(max_length=200, pattern=TEXT, description="numéro (BT-1)")] = None,
    issued_from: Day = None,
    issued_to: Day = None,
    due_from: Day = None,
    due_to: Day = None,
    min_amount: Amount = None,
    max_amount: Amount = None,
    status: Annotated[Status | None, Query(description="statut du traitement")] = None,
    lifecycle: Annotated[int | None, Query(ge=200, le=501, description="code du cycle de vie")] = None,
    doc_type: Annotated[str | None, Query(max_length=30, pattern=r"^[a-z_]+$")] = None,
    tenant: Annotated[str | None, Query(max_length=200, pattern=TEXT)] = None,
    text: Annotated[str | None, Query(max_length=200, pattern=TEXT, description="texte lu")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200, pattern=r"^[A-Za-z0-9_-]+$")] = None,
) -> DocumentList:
    """Chercher parmi les documents visibles (un fournisseur ne cherche que parmi les siens)."""
    services = services_of(request)
    criteria = search.Criteria(
        siren=siren,
        siret=siret,
        vat=vat,
        buyer=buyer,
        invoice_number=number,
        issued_from=issued_from,
        issued_to=issued_to,
        due_from=due_from,
        due_to=due_to,
        min_amount=min_amount,
        max_amount=max_amount,
        status=status,
        lifecycle=lifecycle,
        doc_type=doc_type,
        tenant=tenant,
        text=text,
        after=_decode_cursor(cursor) if cursor else None,
    )
    docs = await run_in_threadpool(search.find_for, services, account, criteria, limit=limit + 1)
    more, docs = len(docs) > limit, docs[:limit]
    items = [Summary(**summary_of(d, lifecycle_out(request, services, d.id))) for d in docs]
    next_cursor = _encode_cursor(docs[-1].received_at, docs[-1].id) if more and docs else None
    return DocumentList(items=items, next_cursor=next_cursor)
