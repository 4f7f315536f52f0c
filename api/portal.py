"""The supplier portal (server-rendered, French by default): sign in and out, then the pages of
``api.portal_pages``; its web assets are served by the app itself, never from a CDN."""

from __future__ import annotations

import functools
import hashlib
import logging
import secrets
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import Scope

from api import portal_answer, portal_pages
from api.auth import (
    SESSION_ACCOUNT,
    SESSION_CSRF,
    LoginLimiter,
    check_csrf,
    services_of,
    session_account,
    sign_in,
)
from api.portal_view import HERE, PREFIX, render, safe_next, templates
from dematflow.errors import Forbidden
from pipeline.accounts import TOKEN_PREFIX

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)
router.include_router(portal_pages.router)
router.include_router(portal_answer.router)
STATIC = HERE / "static"
# Files installed from the npm registry by `npm ci` (scripts/setup.sh), served by name only.
VENDOR = {"htmx.min.js": STATIC / "node_modules" / "htmx.org" / "dist" / "htmx.min.js"}
# A URL naming its file's digest (?v=) is kept a year; without it the browser asks again (ETag, 304).
FOREVER, REVALIDATE = "public, max-age=31536000, immutable", "no-cache"


@functools.cache
def asset(name: str) -> str:
    """``/static/<name>?v=<digest>``: a page's CSS or JS at a URL that changes with its content, read
    once per process (so each page does not fetch it again)."""
    path = VENDOR.get(name.removeprefix("vendor/")) if name.startswith("vendor/") else STATIC / "site" / name
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12] if path else ""
    except OSError:
        digest = ""
    return f"/static/{name}?v={digest}" if digest else f"/static/{name}"


templates.env.globals.update(asset=asset)


def _cache_control(scope: Scope) -> str:
    return FOREVER if b"v=" in scope.get("query_string", b"") else REVALIDATE


class Assets(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["cache-control"] = _cache_control(scope)
        return response


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse(f"{PREFIX}/", status_code=303)


@router.get(f"{PREFIX}/")
@router.get(PREFIX)
def portal_home(request: Request) -> RedirectResponse:
    signed_in = session_account(request) is not None
    return RedirectResponse(f"{PREFIX}/documents" if signed_in else f"{PREFIX}/connexion", status_code=303)


@router.get(f"{PREFIX}/connexion")
def sign_in_page(request: Request, suite: str | None = None, sortie: int = 0) -> Response:
    if session_account(request) is not None:
        return RedirectResponse(safe_next(suite), status_code=303)
    return render(request, "connexion.html", title="login.title", suite=safe_next(suite), signed_out=sortie)


@router.post(f"{PREFIX}/connexion")
async def sign_in_form(request: Request) -> Response:
    """Name and password, or a token alone; failures counted per name and per address (429 past the limit)."""
    form = await request.form()
    name, secret = str(form.get("name", "")).strip(), str(form.get("secret", ""))
    suite = safe_next(str(form.get("suite", "")))

    def again(status: int, error: str | None = None, **fields: str) -> Response:
        return render(
            request,
            "connexion.html",
            title="login.title",
            status_code=status,
            suite=suite,
            name=name,
            error=error,
            field_errors=fields,
        )

    try:
        check_csrf(request, str(form.get("csrf", "")))
    except Forbidden:
        return again(403, "login.csrf")
    limiter: LoginLimiter = request.app.state.limiter
    keys = _limiter_keys(request, name)
    if limiter.blocked(*keys):
        log.warning("portal sign-in refused: too many failures (%s)", keys[-1])
        return again(429, "login.blocked")
    token = secret.startswith(TOKEN_PREFIX)
    missing = {}
    if not secret:
        missing["secret"] = "login.secret.missing"
    if not name and not token:
        missing["name"] = "login.name.missing"
    if missing:
        return again(422, None, **missing)
    account = await run_in_threadpool(sign_in, services_of(request), name, secret)
    if account is None:
        limiter.failed(*keys)
        return again(401, "login.failed")
    limiter.succeeded(*keys[:-1])  # the name's count only: an address keeps its failures
    request.session.clear()  # a new session for the signed-in account (no fixation)
    request.session[SESSION_ACCOUNT] = account.id
    request.session[SESSION_CSRF] = secrets.token_urlsafe(32)
    return RedirectResponse(suite, status_code=303)


@router.post(f"{PREFIX}/deconnexion")
async def sign_out(request: Request) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    request.session.clear()
    return RedirectResponse(f"{PREFIX}/connexion?sortie=1", status_code=303)


@router.get("/static/vendor/{name}")
def vendor(request: Request, name: str) -> Response:
    path = VENDOR.get(name)
    if path is None or not path.is_file():
        return Response(status_code=404)
    headers = {"Cache-Control": _cache_control(request.scope)}
    return FileResponse(path, media_type="text/javascript", headers=headers)


def _limiter_keys(request: Request, name: str) -> tuple[str, ...]:
    address = f"addr:{request.client.host if request.client else 'unknown'}"
    return (f"name:{name.casefold()}", address) if name else (address,)


def mount_static(app: FastAPI) -> None:
    """Serve the portal's own CSS and JS under /static/ (npm-installed files: the ``vendor`` route)."""
    missing = [n for n, p in VENDOR.items() if not p.is_file()]
    if missing:
        log.warning("portal: %s missing (run scripts/setup.sh): pages work without JavaScript", missing)
    app.mount("/static", Assets(directory=Path(STATIC / "site")), name="static")
