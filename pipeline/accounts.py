"""Accounts, roles and tenants: who may deposit, read and decide, and which documents each one sees.

A supplier is bound to one or more SIRENs or VAT ids: that is its tenant, and it sees only the
documents of its tenant. Agents (the buyer's accounts-payable staff), auditors (read-only) and admins
see every document. API tokens are random and stored as their SHA-256; passwords are hashed with
argon2. Every change to an account is a journal event.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine, Row, select, update

from dematflow.errors import InvalidRequest, NotFound
from extractors.identifiers import compact
from pipeline import journal
from pipeline.db import accounts, tokens
from pipeline.records import BUYER_TENANT, Document, Event, utcnow

TOKEN_PREFIX = "dmf_"
DEFAULT_TOKEN_DAYS = 365


class Role(StrEnum):
    SUPPLIER = "supplier"
    AGENT = "agent"
    AUDITOR = "auditor"
    ADMIN = "admin"


@dataclass(frozen=True)
class Account:
    id: str
    name: str
    role: Role
    tenant: str
    identifiers: tuple[str, ...] = ()
    has_password: bool = False
    webhook_url: str | None = None
    created_at: str = ""
    revoked_at: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def sees(self, doc: Document) -> bool:
        """A supplier sees its tenant's documents only; every other role sees them all."""
        return self.role is not Role.SUPPLIER or doc.tenant == self.tenant

    @property
    def can_write(self) -> bool:
        return self.role is not Role.AUDITOR

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role.value,
            "tenant": self.tenant,
            "identifiers": list(self.identifiers),
            "has_password": self.has_password,
            "webhook_url": self.webhook_url,
            "created_at": self.created_at,
            "revoked_at": self.revoked_at,
        }


def tenant_of(role: Role, identifiers: tuple[str, ...]) -> str:
    """A supplier's tenant is its identifiers; the buyer's staff all belong to the buyer's tenant."""
    if role is not Role.SUPPLIER:
        return BUYER_TENANT
    if not identifiers:
        raise InvalidRequest("un compte fournisseur doit être lié à au moins un SIREN ou n° de TVA")
    return "supplier:" + "+".join(sorted(identifiers))


def normalise_identifier(value: str) -> str:
    """A SIREN (9 digits), a SIRET (kept as its SIREN) or a VAT id (2 letters then alphanumerics)."""
    raw = compact(value).upper()
    if raw.isdigit() and len(raw) in (9, 14):
        return raw[:9]
    if len(raw) > 3 and raw[:2].isalpha() and raw[2:].isalnum():
        return raw
    raise InvalidRequest(f"{value!r} n'est ni un SIREN, ni un SIRET, ni un numéro de TVA")


def check_webhook_url(url: str) -> str:
    """A webhook URL must be http(s) with a host."""
    scheme, _, rest = url.partition("://")
    if scheme not in ("http", "https") or not rest.split("/", 1)[0]:
        raise InvalidRequest(f"{url!r} n'est pas une URL http(s) de webhook")
    return url


def add(
    engine: Engine,
    *,
    role: Role,
    name: str,
    identifiers: tuple[str, ...] = (),
    password: str | None = None,
    webhook_url: str | None = None,
    token_days: int = DEFAULT_TOKEN_DAYS,
    by: str | None = None,
) -> tuple[Account, str]:
    """Create an account and its first API token; the token is returned once and never stored."""
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidRequest("le nom du compte doit faire de 1 à 200 caractères")
    ids = tuple(sorted({normalise_identifier(i) for i in identifiers}))
    if webhook_url is not None:
        check_webhook_url(webhook_url)
    account = Account(
        id=uuid.uuid4().hex,
        name=name,
        role=role,
        tenant=tenant_of(role, ids),
        identifiers=ids,
        has_password=password is not None,
        webhook_url=webhook_url,
        created_at=utcnow(),
    )
    with engine.begin() as conn:
        if conn.execute(select(accounts.c.id).where(accounts.c.name == name)).first() is not None:
            raise InvalidRequest(f"un compte nommé {name!r} existe déjà")
        conn.execute(
            accounts.insert().values(
                id=account.id,
                name=name,
                role=role.value,
                tenant=account.tenant,
                identifiers=json.dumps(list(ids)),
                password_hash=_hash_password(password) if password is not None else None,
                webhook_url=webhook_url,
                created_at=account.created_at,
            )
        )
        token, row = _new_token(account.id, token_days)
        conn.execute(tokens.insert().values(**row))
        journal.append(conn, _event("created", account, by, role=role.value, tenant=account.tenant))
    return account, token


def issue_token(
    engine: Engine, account_id: str, *, days: int = DEFAULT_TOKEN_DAYS, by: str | None = None
) -> str:
    account = get(engine, account_id)
    token, row = _new_token(account.id, days)
    with engine.begin() as conn:
        conn.execute(tokens.insert().values(**row))
        journal.append(conn, _event("token-issued", account, by, token_id=row["id"]))
    return token


def set_password(engine: Engine, account_id: str, password: str, *, by: str | None = None) -> None:
    account = get(engine, account_id)
    with engine.begin() as conn:
        conn.execute(
            update(accounts).where(accounts.c.id == account.id).values(password_hash=_hash_password(password))
        )
        journal.append(conn, _event("password-set", account, by))


def revoke(engine: Engine, name_or_id: str, *, by: str | None = None) -> Account:
    """Revoke an account and every token it holds; its documents and history stay."""
    account = find(engine, name_or_id)
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(update(accounts).where(accounts.c.id == account.id).values(revoked_at=now))
        conn.execute(
            update(tokens)
            .where(tokens.c.account_id == account.id, tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        journal.append(conn, _event("revoked", account, by))
    return get(engine, account.id)


def listing(engine: Engine) -> list[Account]:
    with engine.connect() as conn:
        rows = conn.execute(select(accounts).order_by(accounts.c.created_at)).all()
    return [_account(r) for r in rows]


def get(engine: Engine, account_id: str) -> Account:
    with engine.connect() as conn:
        row = conn.execute(select(accounts).where(accounts.c.id == account_id)).first()
    if row is None:
        raise NotFound(f"aucun compte {account_id}")
    return _account(row)


def find(engine: Engine, name_or_id: str) -> Account:
    with engine.connect() as conn:
        row = conn.execute(
            select(accounts).where((accounts.c.id == name_or_id) | (accounts.c.name == name_or_id))
        ).first()
    if row is None:
        raise NotFound(f"aucun compte {name_or_id!r}")
    return _account(row)


def by_token(engine: Engine, token: str) -> Account | None:
    """The active account holding this unexpired, unrevoked token, else None."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    now = utcnow()
    with engine.connect() as conn:
        row = conn.execute(
            select(accounts)
            .join(tokens, tokens.c.account_id == accounts.c.id)
            .where(
                tokens.c.hash == _token_hash(token),
                tokens.c.revoked_at.is_(None),
                tokens.c.expires_at > now,
                accounts.c.revoked_at.is_(None),
            )
        ).first()
    return _account(row) if row is not None else None


def by_password(engine: Engine, name: str, password: str) -> Account | None:
    """The active account of this name if the password matches (argon2), else None."""
    from argon2 import PasswordHasher
    from argon2.exceptions import Argon2Error

    with engine.connect() as conn:
        row = conn.execute(select(accounts).where(accounts.c.name == name.strip())).first()
    if row is None or row.password_hash is None or row.revoked_at is not None:
        PasswordHasher().hash(password)  # the same work whether or not the name exists
        return None
    try:
        PasswordHasher().verify(row.password_hash, password)
    except Argon2Error:
        return None
    return _account(row)


def _new_token(account_id: str, days: int) -> tuple[str, dict[str, str]]:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    row = {
        "id": uuid.uuid4().hex,
        "account_id": account_id,
        "hash": _token_hash(token),
        "created_at": now.isoformat(timespec="microseconds"),
        "expires_at": (now + timedelta(days=days)).isoformat(timespec="microseconds"),
    }
    return token, row


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _hash_password(password: str) -> str:
    from argon2 import PasswordHasher

    if len(password) < 12:
        raise InvalidRequest("le mot de passe doit faire au moins 12 caractères")
    return PasswordHasher().hash(password)


def _account(row: Row[Any]) -> Account:
    return Account(
        id=row.id,
        name=row.name,
        role=Role(row.role),
        tenant=row.tenant,
        identifiers=tuple(json.loads(row.identifiers)),
        has_password=row.password_hash is not None,
        webhook_url=row.webhook_url,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


def _event(action: str, account: Account, by: str | None, **detail: str) -> Event:
    return Event(
        "accounts", action, None, detail={"account": account.id, "name": account.name, "by": by, **detail}
    )
