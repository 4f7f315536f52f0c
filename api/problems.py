"""Errors as RFC 9457 problem details (application/problem+json): never a bare 500 for bad input."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from dematflow.errors import DematflowError

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"
TITLES = {
    400: "Requête invalide",
    401: "Authentification requise",
    403: "Action non permise",
    404: "Introuvable",
    405: "Méthode non permise",
    409: "Conflit",
    413: "Fichier trop volumineux",
    415: "Type non pris en charge",
    422: "Requête non traitable",
    429: "Trop de tentatives",
    500: "Erreur interne",
    503: "Service indisponible",
}
PROBLEM_SCHEMA: dict[str, Any] = {
    "content": {
        MEDIA_TYPE: {
            "schema": {
                "type": "object",
                "properties": {
                    "type": {"type": "string"},
                    "title": {"type": "string"},
                    "status": {"type": "integer"},
                    "detail": {"type": "string"},
                    "instance": {"type": "string"},
                },
                "required": ["type", "title", "status"],
            }
        }
    }
}


def problem(status: int, detail: str, *, instance: str | None = None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": TITLES.get(status, "Erreur"), "status": status}
    body["detail"] = detail
    if instance:
        body["instance"] = instance
    body.update(extra)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(DematflowError)
    async def _dematflow(request: Request, exc: DematflowError) -> JSONResponse:
        if exc.http_status >= 500:
            log.error("%s %s: %s", request.method, request.url.path, exc.message)
        return problem(exc.http_status, exc.message, instance=request.url.path)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        return problem(exc.status_code, str(exc.detail), instance=request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))} for e in exc.errors()
        ]
        return problem(
            422, "la requête ne respecte pas le format attendu", instance=request.url.path, errors=errors
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem(500, "erreur interne inattendue; elle a été consignée", instance=request.url.path)
