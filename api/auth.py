"""Who is calling: a Bearer API token, or the portal's signed session cookie; roles checked here.

Tokens are read from the Authorization header only (never from a URL, so never from an access log).
Failed sign-ins are counted per name and per address; past the limit the door answers 429.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable

from fastapi import Depends, Request

from dematflow.errors import Forbidden, Unauthorised
from pipeline import accounts
from pipeline.accounts import Account, Role
from pipeline.context import Services

SESSION_ACCOUNT = "account"
SESSION_CSRF = "csrf"


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def current_account(request: Request) -> Account:
    """The caller's account, from ``Authorization: Bearer …`` or the portal session."""
    engine = services_of(request).catalogue.engine
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        account = accounts.by_token(engine, token.strip()) if scheme.lower() == "bearer" else None
        if account is None:
            raise Unauthorised("jeton absent, expiré ou révoqué")
        return account
    account = session_account(request)
    if account is not None:
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            check_csrf(request, request.headers.get("x-csrf-token"))
        return account
    raise Unauthorised("authentification requise: jeton d'API (Authorization: Bearer) ou session du portail")


def session_account(request: Request) -> Account | None:
    """The active account the portal session names, if any (the CSRF check is the caller's)."""
    account_id = request.session.get(SESSION_ACCOUNT) if "session" in request.scope else None
    if not account_id:
        return None
    try:
        account = accounts.get(services_of(request).catalogue.engine, str(account_id))
    except Exception:  # a session naming an account that no longer exists
        return None
    return account if account.active else None


def require(*roles: Role) -> Callable[[Account], Account]:
    """A dependency that lets through only the given roles."""

    def check(account: Account = Depends(current_account)) -> Account:
        if account.role not in roles:
            raise Forbidden(f"le rôle « {account.role.value} » ne permet pas cette action")
        return account

    return check


def writer(account: Account = Depends(current_account)) -> Account:
    """Any role but the auditor's, who reads everything and writes nothing."""
    if not account.can_write:
        raise Forbidden("le rôle « auditor » est en lecture seule")
    return account


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use; forms send it back in a hidden field."""
    token = request.session.get(SESSION_CSRF)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[SESSION_CSRF] = token
    return str(token)


def check_csrf(request: Request, sent: str | None) -> None:
    expected = request.session.get(SESSION_CSRF)
    if not expected or not sent or not secrets.compare_digest(str(expected), sent):
        raise Forbidden("jeton anti-CSRF absent ou invalide: rechargez la page")


class LoginLimiter:
    """Failed sign-ins per key (a name, an address) in a sliding window, in this process's memory."""

    def __init__(self, attempts: int, window_s: float) -> None:
        self.attempts, self.window_s = attempts, window_s
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def blocked(self, *keys: str) -> bool:
        now = time.monotonic()
        with self._lock:
            return any(len(self._recent(k, now)) >= self.attempts for k in keys)

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for k in keys:
                self._recent(k, now).append(now)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for k in keys:
                self._failures.pop(k, None)

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures[key]
        while failures and failures[0] < now - self.window_s:
            failures.popleft()
        return failures


def sign_in(services: Services, name: str, secret: str) -> Account | None:
    """A password (argon2) for the named account, or an API token (the name may then be left empty)."""
    engine = services.catalogue.engine
    if secret.startswith(accounts.TOKEN_PREFIX):
        account = accounts.by_token(engine, secret)
        if account is not None and name.strip() and name.strip() != account.name:
            return None
        return account
    return accounts.by_password(engine, name, secret) if name.strip() else None
