"""GET /api/v1/documents/{id}/evidence: a document's evidence bundle (ZIP), its download journalled."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api.auth import current_account, services_of
from api.documents import PROBLEMS, DocumentId
from pipeline import access
from pipeline.accounts import Account
from pipeline.records import Event

router = APIRouter(prefix="/api/v1", tags=["documents"])


@router.get(
    "/documents/{document_id}/evidence",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}, "description": "le dossier de preuve"}, **PROBLEMS},
)
async def get_evidence(
    request: Request, document_id: DocumentId, account: Annotated[Account, Depends(current_account)]
) -> Response:
    """The evidence bundle: objects, journal rows with their day seals, certificates and LISEZMOI.txt.
    Agents, admins and auditors see every document of their tenant, a supplier its own."""
    services = services_of(request)
    doc = access.visible(services, account, document_id)  # an unseen document is a 404
    services.catalogue.record(Event("evidence", "exported", doc.id, detail={"account": account.id}))
    from pipeline import evidence  # signing (pyHanko) is loaded when a bundle is asked for, not at start

    data = await run_in_threadpool(evidence.build, services, doc.id)
    headers = {"Content-Disposition": f'attachment; filename="preuve-{doc.id}.zip"'}
    return Response(data, media_type="application/zip", headers=headers)
