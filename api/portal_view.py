"""What every portal page shares: the templates, the language, the signed-in account, redirects."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from api import i18n, portal_words
from api.auth import csrf_token
from pipeline.accounts import Account

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.globals.update(words=portal_words)
PARIS = ZoneInfo("Europe/Paris")  # the buyer's time: what a French supplier expects to read


def local_time(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).astimezone(PARIS).strftime("%d/%m/%Y %H:%M")
    except ValueError:
        return iso


templates.env.filters["local"] = local_time
LANG_COOKIE_AGE = 365 * 24 * 3600
PREFIX = "/portail"


def sign_in_redirect(request: Request) -> Response:
    """Where an anonymous visitor goes: the sign-in page, back here after (htmx: a full-page redirect)."""
    target = f"{PREFIX}/connexion?suite={request.url.path}"
    if request.headers.get("hx-request") == "true":
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def partial(request: Request) -> bool:
    """An htmx request for a fragment (not a boosted full page)."""
    return request.headers.get("hx-request") == "true" and request.headers.get("hx-boosted") != "true"


def render(
    request: Request,
    template: str,
    *,
    title: str = "",
    account: Account | None = None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A page (or fragment) in the visitor's language; ``?lang=`` is remembered in a cookie."""
    lang = i18n.language(request)
    gettext = i18n.translator(lang)
    response = templates.TemplateResponse(
        request,
        template,
        {
            "lang": lang,
            "other_lang": "en" if lang == "fr" else "fr",
            "_": gettext,
            "title": title,
            "account": account,
            "csrf": csrf_token(request),
            "path": request.url.path,
            **context,
        },
        status_code=status_code,
    )
    asked = request.query_params.get("lang")
    if asked in i18n.LANGS and asked != request.cookies.get(i18n.COOKIE):
        response.set_cookie(
            i18n.COOKIE, asked, max_age=LANG_COOKIE_AGE, samesite="lax", secure=False, httponly=True
        )
    return response


def safe_next(target: str | None) -> str:
    """Only a portal path of ours, never another site (an open redirect) nor ``//host``."""
    if target and target.startswith(PREFIX + "/") and "//" not in target and "\\" not in target:
        return target
    return f"{PREFIX}/documents"


def size_text(n: int, lang: str) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.0f} " + i18n.pick(lang, "Mo", "MB")
    return f"{n // 1024} " + i18n.pick(lang, "ko", "kB")
