"""Review claims: one agent at a time works on a document; a claim lapses after its time is up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, delete, select

from dematflow.errors import DematflowError
from pipeline.accounts import Account
from pipeline.db import review_locks

DEFAULT_LOCK_S = 900.0


@dataclass(frozen=True)
class Lock:
    account_id: str
    by: str  # the account's name, as other agents see it
    until: str  # ISO 8601, UTC

    def to_json(self) -> dict[str, str]:
        return {"by": self.by, "until": self.until}


class LockHeld(DematflowError):
    """Another agent holds the document (409 on a claim, 423 on a decision)."""

    http_status = 409

    def __init__(self, lock: Lock, *, status: int = 409) -> None:
        super().__init__(f"le document est pris par {lock.by} jusqu'à {lock.until}")
        self.lock, self.http_status = lock, status


def _now() -> datetime:
    return datetime.now(UTC)


def current(conn: Connection, document_id: str) -> Lock | None:
    """The claim in force on the document, if any (a lapsed one is no claim)."""
    row = conn.execute(select(review_locks).where(review_locks.c.document_id == document_id)).first()
    if row is None or datetime.fromisoformat(row.until) <= _now():
        return None
    return Lock(row.account_id, row.account_name, row.until)


def holder(engine: Engine, document_id: str) -> Lock | None:
    with engine.connect() as conn:
        return current(conn, document_id)


def in_force(engine: Engine, document_ids: list[str]) -> dict[str, Lock]:
    """The claims in force on these documents, by document id."""
    if not document_ids:
        return {}
    now = _now()
    with engine.connect() as conn:
        rows = conn.execute(select(review_locks).where(review_locks.c.document_id.in_(document_ids))).all()
    return {
        r.document_id: Lock(r.account_id, r.account_name, r.until)
        for r in rows
        if datetime.fromisoformat(r.until) > now
    }


def claim(engine: Engine, document_id: str, account: Account, *, seconds: float = DEFAULT_LOCK_S) -> Lock:
    """Claim the document for ``seconds`` (claiming again renews); LockHeld if someone else has it."""
    until = (_now() + timedelta(seconds=seconds)).isoformat(timespec="seconds")
    lock = Lock(account.id, account.name, until)
    with engine.begin() as conn:  # BEGIN IMMEDIATE on SQLite; the row lock on PostgreSQL
        held = current(conn, document_id)
        if held is not None and held.account_id != account.id:
            raise LockHeld(held)
        conn.execute(delete(review_locks).where(review_locks.c.document_id == document_id))
        conn.execute(
            review_locks.insert().values(
                document_id=document_id, account_id=account.id, account_name=account.name, until=until
            )
        )
    return lock


def release(engine: Engine, document_id: str, account: Account) -> None:
    """Give the document back; releasing what one does not hold changes nothing."""
    with engine.begin() as conn:
        conn.execute(
            delete(review_locks).where(
                review_locks.c.document_id == document_id, review_locks.c.account_id == account.id
            )
        )


def require(conn: Connection, document_id: str, account: Account) -> None:
    """Inside a decision's transaction: the caller must hold the claim (423 otherwise)."""
    held = current(conn, document_id)
    if held is None:
        raise NotClaimed()
    if held.account_id != account.id:
        raise LockHeld(held, status=423)


class NotClaimed(DematflowError):
    """A decision on a document the caller has not claimed (or whose claim lapsed)."""

    http_status = 423

    def __init__(self) -> None:
        super().__init__("prenez d'abord le document (POST …/claim) : votre prise a expiré ou n'existe pas")
