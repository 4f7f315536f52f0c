"""/api/v1/review: the agent's desk (queue, claims, the review of one document, decisions), and the
page images, words and region OCR the review screen draws on (/api/v1/documents/ID/pages, /words).

Contract notes (for the review screen):
- ``version`` is the seq of the document's last journal entry *that changes it*: reads (``access``,
  such as an auditor's opening) and webhook deliveries do not count, so they never make an edit stale.
- A decision without a claim in force answers 423 too (``held_by`` is then null).
- ``rules`` of a field also lists ``LOW-CONFIDENCE`` when the reader was unsure of it.
- confirm: a blocking rule still failing leaves the document ``rejected`` (no approval then).
"""

from __future__ import annotations

import os
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from api.auth import current_account, services_of
from api.documents import PROBLEMS, DocumentId, answer_out, lifecycle_out
from api.models import NO_NUL
from api.portal_words import FIELDS
from api.problems import PROBLEM_SCHEMA, problem
from api.review_models import (
    CandidateOut,
    ClaimOut,
    DecisionIn,
    FacturxOut,
    FieldOut,
    LockOut,
    MemoryNoteOut,
    QueueItemOut,
    QueueOut,
    RegionIn,
    RegionOut,
    ReviewOut,
    TotalsOut,
    WordOut,
    WordsOut,
)
from dematflow.errors import ConfigError, Forbidden, NotFound
from pipeline import access, memory, review, review_decide, review_locks, review_render
from pipeline.accounts import Account, Role
from pipeline.review_decide import Action, Decision, Stale
from pipeline.review_locks import Lock, LockHeld, NotClaimed

router = APIRouter(prefix="/api/v1", tags=["review"])
ERRORS: dict[int | str, dict[str, Any]] = {
    **PROBLEMS,
    409: {"description": "pris par un autre agent (`held_by`) ou version périmée (`current_version`)",
          **PROBLEM_SCHEMA},
    423: {"description": "le document n'est pas pris par vous", **PROBLEM_SCHEMA},
}  # fmt: skip
LABELS = {term: french for term, (french, _) in FIELDS.items()} | {
    "BT-3": "Type de facture (380 facture, 381 avoir)",
    "BT-84": "IBAN du vendeur",
}
PageNumber = Annotated[int, Path(ge=1, le=10_000, description="numéro de page, à partir de 1")]


def reviewer(account: Annotated[Account, Depends(current_account)]) -> Account:
    """Agents, admins and auditors; a supplier is told the desk does not exist."""
    if account.role is Role.SUPPLIER:
        raise NotFound("introuvable")
    return account


def decider(account: Annotated[Account, Depends(reviewer)]) -> Account:
    if account.role not in (Role.AGENT, Role.ADMIN):
        raise Forbidden(f"le rôle « {account.role.value} » ne permet pas de prendre ni de décider")
    return account


def _lock(lock: Lock | None) -> LockOut | None:
    return LockOut(by=lock.by, until=lock.until) if lock is not None else None


def refused(request: Request, exc: LockHeld | NotClaimed | Stale) -> JSONResponse:
    if isinstance(exc, Stale):
        return problem(409, exc.message, instance=request.url.path, current_version=exc.current)
    held = exc.lock.to_json() if isinstance(exc, LockHeld) else None
    return problem(exc.http_status, exc.message, instance=request.url.path, held_by=held)


@router.get("/review", response_model=QueueOut, responses=ERRORS)
def list_queue(
    request: Request,
    account: Annotated[Account, Depends(reviewer)],
    sort: review.Sort = review.Sort.AGE,
    supplier: Annotated[str | None, Query(max_length=200, pattern=NO_NUL)] = None,
    doc_type: Annotated[str | None, Query(max_length=30, pattern=r"^[a-z_]+$")] = None,
    reason: Annotated[str | None, Query(max_length=100, pattern=NO_NUL)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> QueueOut:
    """Les documents qui attendent un agent, du plus ancien (`age`) ou du moins sûr (`confidence`)."""
    query = review.QueueQuery(sort, supplier or None, doc_type, reason or None, limit, cursor)
    items, next_cursor = review.queue(services_of(request), query)
    return QueueOut(
        items=[
            QueueItemOut(
                id=i.document.id,
                filename=i.document.filename,
                received_at=i.document.received_at,
                doc_type=i.document.doc_type.value if i.document.doc_type else None,
                reason=i.document.reason,
                review=list(i.document.review),
                min_confidence=i.min_confidence,
                supplier=i.document.fields.get("BT-27"),
                lock=_lock(i.lock),
                version=i.version,
            )
            for i in items
        ],
        next_cursor=next_cursor,
    )


@router.post("/review/{document_id}/claim", response_model=ClaimOut, responses=ERRORS)
def claim(request: Request, document_id: DocumentId, account: Annotated[Account, Depends(decider)]) -> Any:
    """Prendre le document (le prendre de nouveau prolonge la prise) ; 409 s'il est pris par un autre."""
    services = services_of(request)
    doc = access.visible(services, account, document_id)
    try:
        lock = review_locks.claim(services.catalogue.engine, doc.id, account, seconds=_lock_seconds(request))
    except LockHeld as exc:
        return refused(request, exc)
    return ClaimOut(
        lock=LockOut(by=lock.by, until=lock.until), version=review.version(services.catalogue.engine, doc.id)
    )


@router.delete("/review/{document_id}/claim", status_code=204, response_class=Response, responses=ERRORS)
def release(
    request: Request, document_id: DocumentId, account: Annotated[Account, Depends(decider)]
) -> Response:
    """Rendre le document."""
    services = services_of(request)
    doc = access.visible(services, account, document_id)
    review_locks.release(services.catalogue.engine, doc.id, account)
    return Response(status_code=204)


@router.get("/review/{document_id}", response_model=ReviewOut, responses=ERRORS)
def get_review(
    request: Request, document_id: DocumentId, account: Annotated[Account, Depends(reviewer)]
) -> ReviewOut:
    """Le document tel que l'écran de vérification le montre ; l'ouverture par un auditeur est journalisée."""
    services = services_of(request)
    doc = access.visible(services, account, document_id)
    return _review_out(request, review.view(services, account, doc))


@router.post("/review/{document_id}/decision", response_model=ReviewOut, responses=ERRORS)
def decide(
    request: Request, document_id: DocumentId, body: DecisionIn, account: Annotated[Account, Depends(decider)]
) -> Any:
    """Confirmer les champs, refuser (210), mettre en litige (207) ou suspendre (208, JUSTIF_ABS)."""
    services = services_of(request)
    doc = access.visible(services, account, document_id)
    decision = Decision(
        Action(body.action), body.version, body.fields, body.reason, body.message, body.approve, body.facturx
    )
    try:
        doc = review_decide.decide(services, account, doc.id, decision)
    except (LockHeld, NotClaimed, Stale) as exc:
        return refused(request, exc)
    return _review_out(request, review.view(services, account, doc))


@router.get(
    "/documents/{document_id}/pages/{n}.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}, **ERRORS},
)
def page_image(
    request: Request,
    document_id: DocumentId,
    n: PageNumber,
    account: Annotated[Account, Depends(current_account)],
    width: Annotated[int, Query(ge=review_render.MIN_WIDTH, le=review_render.MAX_WIDTH)] = 1000,
) -> Response:
    """La page n de la copie conservée (l'original), en PNG de la largeur demandée (en cache)."""
    services = services_of(request)
    doc = access.visible(services, account, document_id)
    path = review_render.page_png(services, doc, n, width)
    return Response(
        path.read_bytes(), media_type="image/png", headers={"Cache-Control": "private, max-age=3600"}
    )


@router.get("/documents/{document_id}/words", response_model=WordsOut, responses=ERRORS)
def page_words(
    request: Request,
    document_id: DocumentId,
    account: Annotated[Account, Depends(current_account)],
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> WordsOut:
    """Les mots lus sur une page, avec leur cadre en fractions de la page et leur confiance."""
    services = services_of(request)
    doc = access.visible(services, account, document_id)
    return WordsOut(page=page, words=[WordOut(**w) for w in review_render.words(services, doc, page)])  # type: ignore[arg-type]


@router.post("/documents/{document_id}/pages/{n}/ocr", response_model=RegionOut, responses=ERRORS)
def region_ocr(
    request: Request,
    document_id: DocumentId,
    n: PageNumber,
    body: RegionIn,
    account: Annotated[Account, Depends(current_account)],
) -> RegionOut:
    """Le texte d'une zone de la page : les mots de la couche texte, ou l'OCR de la zone."""
    services = services_of(request)
    doc = access.visible(services, account, document_id)
    if account.role not in (Role.AGENT, Role.ADMIN):
        raise Forbidden(f"le rôle « {account.role.value} » ne permet pas la lecture d'une zone")
    x0, y0, x1, y1 = body.box
    return RegionOut(text=review_render.region_text(services, doc, n, (x0, y0, x1, y1)))


def _review_out(request: Request, v: review.ReviewView) -> ReviewOut:
    doc = v.document
    return ReviewOut(
        id=doc.id,
        filename=doc.filename,
        version=v.version,
        lock=_lock(v.lock),
        pages=v.pages,
        status=doc.status.value,
        reason=doc.reason,
        source=doc.source.value if doc.source else None,
        lifecycle=lifecycle_out(request, services_of(request), doc.id),
        supplier_memory=memory.about(services_of(request).catalogue.engine, doc.tenant, doc.fields),
        fields=[
            FieldOut(
                term=f.term,
                label=LABELS.get(f.term, f.term),
                value=f.value,
                confidence=f.confidence,
                page=f.page,
                box=list(f.box) if f.box else None,
                rules=list(f.rules),
                candidates=[
                    CandidateOut(
                        value=c.value,
                        confidence=c.confidence,
                        page=c.page,
                        box=list(c.box) if c.box else None,
                    )
                    for c in f.candidates
                ],
            )
            for f in v.fields
        ],
        totals=TotalsOut.model_validate(v.totals),
        answers=[answer_out(request, a) for a in v.answers],
        memory_taught=_note(v.memory_taught, doc.fields),
        memory_used=_note(v.memory_used, doc.fields),
        facturx=_facturx(v),
    )


def _note(note: review.MemoryNote | None, fields: dict[str, str]) -> MemoryNoteOut | None:
    if note is None:
        return None
    return MemoryNoteOut(
        supplier_key=note.supplier_key,
        supplier=fields.get("BT-27"),
        fields=list(note.fields),
        by=note.by,
        at=note.at,
    )


def _facturx(v: review.ReviewView) -> FacturxOut | None:
    note = v.facturx
    if note is None:
        return None
    url = f"/api/v1/documents/{v.document.id}/files/facturx" if note.built else None
    return FacturxOut(built=note.built, profile=note.profile, url=url, error=note.error)


def _lock_seconds(request: Request) -> float:
    """DEMATFLOW_REVIEW_LOCK_S (default 900), read once per application."""
    state = request.app.state
    if not hasattr(state, "review_lock_s"):
        raw = os.environ.get("DEMATFLOW_REVIEW_LOCK_S") or str(review_locks.DEFAULT_LOCK_S)
        try:
            seconds = float(raw)
        except ValueError:
            raise ConfigError(f"DEMATFLOW_REVIEW_LOCK_S={raw!r} is not a number") from None
        if not 0 < seconds < 86_400 * 7:
            raise ConfigError(f"DEMATFLOW_REVIEW_LOCK_S must be between 0 and a week, got {raw}")
        state.review_lock_s = seconds
    return float(state.review_lock_s)
