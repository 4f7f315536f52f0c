"""The audit journal: append-only events, each hash-chained to the one before it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, select, update

from pipeline.db import journal, journal_head
from pipeline.records import Event, utcnow


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class Entry:
    """A journal row as stored."""

    seq: int
    at: str
    document_id: str | None
    stage: str
    action: str
    body: dict[str, Any]
    prev_hash: str
    hash: str

    def expected_hash(self) -> str:
        return chain_hash(
            self.prev_hash, self.seq, self.at, self.document_id, self.stage, self.action, self.body
        )


def chain_hash(
    prev_hash: str,
    seq: int,
    at: str,
    document_id: str | None,
    stage: str,
    action: str,
    body: dict[str, Any],
) -> str:
    """SHA-256 over the previous hash and this entry's canonical JSON."""
    payload = canonical(
        {
            "seq": seq,
            "at": at,
            "document_id": document_id,
            "stage": stage,
            "action": action,
            "body": body,
        }
    )
    return hashlib.sha256(f"{prev_hash}\n{payload}".encode()).hexdigest()


def append(conn: Connection, ev: Event) -> Entry:
    """Add one event inside the caller's transaction (so it commits or rolls back with the change)."""
    # Bumping the head row first takes the write lock: concurrent appenders queue up here.
    row = conn.execute(
        update(journal_head)
        .where(journal_head.c.id == 1)
        .values(seq=journal_head.c.seq + 1)
        .returning(journal_head.c.seq, journal_head.c.hash)
    ).one()
    seq, prev = int(row.seq), str(row.hash)
    at, body = utcnow(), json.loads(canonical(ev.body()))
    digest = chain_hash(prev, seq, at, ev.document_id, ev.stage, ev.action, body)
    conn.execute(
        journal.insert().values(
            seq=seq,
            at=at,
            document_id=ev.document_id,
            stage=ev.stage,
            action=ev.action,
            body=canonical(body),
            prev_hash=prev,
            hash=digest,
        )
    )
    conn.execute(update(journal_head).where(journal_head.c.id == 1).values(hash=digest))
    return Entry(seq, at, ev.document_id, ev.stage, ev.action, body, prev, digest)


def entries(engine: Engine, *, document_id: str | None = None, batch: int = 1000) -> Iterator[Entry]:
    """Every entry in sequence order (optionally those of one document), read in batches."""
    last = 0
    while True:
        query = select(journal).where(journal.c.seq > last).order_by(journal.c.seq).limit(batch)
        if document_id is not None:
            query = query.where(journal.c.document_id == document_id)
        with engine.connect() as conn:
            rows = conn.execute(query).all()
        if not rows:
            return
        for r in rows:
            yield Entry(
                int(r.seq),
                r.at,
                r.document_id,
                r.stage,
                r.action,
                _body(r.body),
                r.prev_hash,
                r.hash,
            )
        last = int(rows[-1].seq)


def _body(raw: str) -> dict[str, Any]:
    """The row's body; a body edited into something unreadable is kept as text so that verify
    reports the row as edited (its hash no longer matches) instead of failing."""
    try:
        body = json.loads(raw)
    except ValueError:
        return {"unreadable": raw}
    return body if isinstance(body, dict) else {"unreadable": raw}


def head(engine: Engine) -> tuple[int, str]:
    with engine.connect() as conn:
        row = conn.execute(select(journal_head.c.seq, journal_head.c.hash)).one()
    return int(row.seq), str(row.hash)
