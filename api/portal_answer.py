"""The supplier's answer to a suspended invoice (208) from its document page: files and a comment,
without JavaScript (a plain multipart form); the same ``pipeline.answers.answer`` as the JSON API."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from api.auth import check_csrf, services_of, session_account
from api.documents import read_answer_files
from api.portal_pages import document_response
from api.portal_view import PREFIX, render, sign_in_redirect
from dematflow.errors import DematflowError, NotFound
from pipeline import answers

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)


@router.post(f"{PREFIX}/documents/{{document_id}}/reponse")
async def answer_form(request: Request, document_id: str) -> Response:
    account = session_account(request)
    if account is None:
        return sign_in_redirect(request)
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    services = services_of(request)
    comment = str(form.get("comment", "")).strip()
    uploads = [f for f in form.getlist("file") if isinstance(f, UploadFile) and f.filename]
    try:
        files = await read_answer_files(services, uploads)
        done = await run_in_threadpool(answers.answer, services, account, document_id, files, comment)
    except NotFound:
        return render(request, "erreur.html", title="notfound.title", account=account, status_code=404)
    except DematflowError as exc:
        status, error = exc.http_status, exc.message
        return document_response(
            request, account, document_id, status_code=status, answer_error=error, comment=comment
        )
    for receipt in done.receipts:
        request.app.state.runner.start(receipt)
    return RedirectResponse(f"{PREFIX}/documents/{document_id}?reponse=1", status_code=303)
