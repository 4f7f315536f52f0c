"""The FastAPI application: settings in, services opened once, routers and middleware wired.

``dematflow serve`` runs it with uvicorn. Nothing here imports OCR or signing libraries: documents are
taken in through ``pipeline.access`` and processed by the runner (in-process threads or the queue).
"""

from __future__ import annotations

import functools
import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest
from sqlalchemy import text
from starlette.middleware.sessions import SessionMiddleware

from api import audit_pages, documents, evidence, portal, problems, review, review_pages, review_split, search
from api.auth import LoginLimiter, current_account
from api.middleware import BodyLimit, Metrics, SecurityHeaders
from api.models import AccountOut
from api.runner import Runner
from api.settings import ApiSettings, session_secret
from dematflow.errors import DematflowError
from pipeline import metrics
from pipeline.accounts import Account
from pipeline.context import Services, open_services
from pipeline.settings import Settings

MULTIPART_SLACK = 1024 * 1024  # form fields and boundaries around the file itself
BROKER_TIMEOUT_S = 2.0  # a scrape reading queue depths gives up this soon (Prometheus waits 10 s)


def create_app(settings: Settings | None = None, api: ApiSettings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    api = api or ApiSettings.from_env()
    services = open_services(settings)
    runner = Runner(services, broker_url=settings.broker_url, workers=api.workers)
    registry = CollectorRegistry()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        runner.shutdown()

    app = FastAPI(
        title="dematflow",
        version=_version(),
        summary="Dépôt et suivi des factures : statuts du cycle de vie, copies scellées, rapports.",
        docs_url=None,  # Swagger UI would load from a CDN; /openapi.json is the reference
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.services, app.state.runner, app.state.api = services, runner, api
    app.state.limiter = LoginLimiter(api.login_attempts, api.login_window_s)
    problems.install(app)
    app.include_router(documents.router)
    app.include_router(evidence.router)
    app.include_router(search.router)
    app.include_router(review.router)
    app.include_router(review_split.router)
    app.include_router(_ops_router(registry))
    app.include_router(portal.router)
    app.include_router(review_pages.router)
    app.include_router(audit_pages.router)
    portal.mount_static(app)

    Gauge(
        "dematflow_documents_in_progress", "Documents processed in this process now", registry=registry
    ).set_function(runner.busy)
    _pipeline_metrics(registry, services, settings.broker_url)
    app.add_middleware(SessionMiddleware, **_session_options(settings, api))
    if api.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(api.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
        )
    app.add_middleware(BodyLimit, limit=settings.limits.max_bytes + MULTIPART_SLACK)
    app.add_middleware(Metrics, registry=registry)
    app.add_middleware(SecurityHeaders)
    return app


def _pipeline_metrics(registry: CollectorRegistry, services: Services, broker_url: str | None) -> None:
    """The pipeline's own metrics (its stages run here in in-process mode), the catalogue's documents
    by status and, with a broker, the depth of its queues: both read when scraped."""
    registry.register(metrics.REGISTRY)
    registry.register(metrics.DocumentsByStatus(services.catalogue.count))
    if broker_url:
        registry.register(metrics.QueueDepths(functools.partial(_queue_depths, broker_url)))


def _queue_depths(broker_url: str) -> Sequence[metrics.Depth]:
    from workers.depth import depths  # redis or pika, imported at the first scrape
    from workers.queues import LEGACY_QUEUES, QUEUES

    return depths(broker_url, QUEUES + LEGACY_QUEUES, timeout=BROKER_TIMEOUT_S)


def _session_options(settings: Settings, api: ApiSettings) -> dict[str, Any]:
    return {
        "secret_key": session_secret(settings.keys_dir),
        "session_cookie": "dematflow_session",
        "max_age": 8 * 3600,
        "same_site": "strict",
        "https_only": api.secure_cookies,
    }


def _ops_router(registry: CollectorRegistry) -> Any:
    from fastapi import APIRouter, Depends

    router = APIRouter(tags=["operations"])

    @router.get("/healthz")
    def healthz() -> dict[str, str]:
        """Le processus répond."""
        return {"status": "ok"}

    @router.get("/readyz", responses={503: {"description": "un service nécessaire ne répond pas"}})
    def readyz(request: Request) -> JSONResponse:
        """Ce dont le service a besoin répond : catalogue, archive, file d'attente."""
        services: Services = request.app.state.services
        checks: dict[str, str] = {}
        ok = True
        for name, probe in (
            ("catalogue", lambda: _ping_db(services)),
            ("archive", services.store.describe),
            ("processing", request.app.state.runner.ping),
        ):
            try:
                checks[name] = str(probe())
            except (DematflowError, OSError, Exception) as exc:  # a probe must answer, not raise
                ok = False
                checks[name] = f"indisponible : {getattr(exc, 'message', exc)}"
        return JSONResponse(
            {"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503
        )

    @router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
    def metrics() -> Response:
        """Métriques Prometheus."""
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    @router.get(
        "/api/v1/me", response_model=AccountOut, tags=["accounts"], responses={401: documents.PROBLEMS[401]}
    )
    def me(account: Account = Depends(current_account)) -> AccountOut:
        """Le compte qui appelle."""
        return AccountOut(
            id=account.id, name=account.name, role=account.role.value, identifiers=list(account.identifiers)
        )

    return router


def _ping_db(services: Services) -> str:
    with services.catalogue.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return services.catalogue.engine.dialect.name


def _version() -> str:
    from pipeline.context import version_of

    return version_of("dematflow")


def app_from_env() -> FastAPI:
    """For ``uvicorn api.app:app_from_env --factory``."""
    return create_app(Settings.from_env(os.environ), ApiSettings.from_env(os.environ))
