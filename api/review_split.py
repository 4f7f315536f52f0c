"""POST /api/v1/review/{id}/split and /merge: a scan that held two documents, or one document in two.

The sources stay as received; the new documents are derived from their pages and processed like any
deposit (``pipeline/review_split.py``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from api.auth import services_of
from api.documents import DOCUMENT_ID, DocumentId
from api.review import ERRORS, decider, refused
from pipeline import access, review_locks, review_split
from pipeline.accounts import Account
from pipeline.review_decide import Stale
from pipeline.review_locks import LockHeld, NotClaimed

router = APIRouter(prefix="/api/v1", tags=["review"])


class SplitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=0, description="la version du document vue par l'agent (contrôle d'édition)")
    parts: list[list[Annotated[int, Field(ge=1, le=10_000)]]] = Field(
        min_length=1,
        max_length=review_split.MAX_PARTS,
        description="les pages de chaque nouveau document, à partir de 1 ; une page absente est écartée",
        examples=[[[1, 2], [3]]],
    )


class MergeWith(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: Annotated[str, Field(max_length=64, pattern=DOCUMENT_ID)]
    version: int = Field(ge=0)


class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=0, description="la version du premier document vue par l'agent")
    others: list[MergeWith] = Field(
        min_length=1,
        max_length=review_split.MAX_SOURCES - 1,
        description="les documents dont les pages suivent, dans l'ordre",
    )


class DerivedOut(BaseModel):
    documents: list[str] = Field(description="les nouveaux documents, en cours de traitement")
    sources: list[str] = Field(description="les documents d'origine, archivés tels que reçus")


@router.post("/review/{document_id}/split", status_code=201, response_model=DerivedOut, responses=ERRORS)
def split(
    request: Request, document_id: DocumentId, body: SplitIn, account: Annotated[Account, Depends(decider)]
) -> Any:
    """Découper un document en plusieurs (une numérisation qui en contenait deux)."""
    services = services_of(request)
    doc = access.visible(services, account, document_id)
    try:
        made = review_split.split(services, account, doc.id, body.parts, body.version)
    except (LockHeld, NotClaimed, Stale) as exc:
        return refused(request, exc)
    return _started(request, made)


@router.post("/review/{document_id}/merge", status_code=201, response_model=DerivedOut, responses=ERRORS)
def merge(
    request: Request, document_id: DocumentId, body: MergeIn, account: Annotated[Account, Depends(decider)]
) -> Any:
    """Fusionner ce document et les suivants en un seul (un document arrivé en deux numérisations).
    Les autres documents sont pris pour l'agent le temps de la fusion."""
    services = services_of(request)
    ids = [access.visible(services, account, document_id).id]
    ids += [access.visible(services, account, other.id).id for other in body.others]
    try:
        for other in ids[1:]:
            review_locks.claim(services.catalogue.engine, other, account)
        made = review_split.merge(services, account, ids, [body.version, *(o.version for o in body.others)])
    except (LockHeld, NotClaimed, Stale) as exc:
        return refused(request, exc)
    return _started(request, made)


def _started(request: Request, made: review_split.Derived) -> DerivedOut:
    for receipt in made.receipts:
        request.app.state.runner.start(receipt)
    return DerivedOut(documents=[r.document_id for r in made.receipts], sources=list(made.sources))
