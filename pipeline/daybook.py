"""Day seals: each UTC day's journal rows closed into a segment, CAdES-sealed, timestamped, kept once.

A segment (``journal/days/YYYY-MM-DD.jsonl``) is one header line, then one line per row of the day,
in sequence order: its ``seq``, ``prev_hash`` and ``hash``. The hash binds the row's content, so the
seal covers every row while an evidence bundle can carry the segment without revealing the other
documents' rows. The rows themselves, in full, are ``journal/days/YYYY-MM-DD.rows.jsonl``; segments
sealed before format 2 carried the full rows in the segment and still verify. The header names the
SHA-256 of the previous day's seal, so the seals form a chain of their own; the segment's detached
CAdES-B-T seal is ``journal/days/YYYY-MM-DD.p7s``. All three are archived write-once with the longest
retention. Run ``dematflow journal seal`` from cron or a systemd timer
shortly after midnight UTC (or send the ``dematflow.journal_seal`` actor): days are sealed in order,
an empty day gets a segment too, and sealing a day twice does nothing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select

from dematflow.errors import ConfigError, InvalidRequest
from pipeline import retention
from pipeline.context import Services
from pipeline.db import GENESIS, journal
from pipeline.journal import Entry, _body, canonical
from signing.cms import choose_timestamper, seal_detached
from storage import keys
from storage.base import StoredObject, sha256_hex

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Header:
    """The first line of a segment."""

    day: str
    previous_seal_sha256: str  # "" for the first day ever sealed
    prev_hash: str  # the chain hash the day's first row continues from
    last_hash: str  # the chain hash of the day's last row (prev_hash when the day is empty)
    rows: int
    format: int = 1  # 1: full rows in the segment; 2: seq, prev_hash and hash (SEGMENT_FORMAT)

    def line(self) -> str:  # format 1 headers had no "format"
        return canonical({"segment": {k: v for k, v in self.__dict__.items() if (k, v) != ("format", 1)}})


@dataclass(frozen=True)
class DaySeal:
    day: str
    rows: int
    segment: StoredObject
    seal: StoredObject


SEGMENT_FORMAT = 2


def row_line(entry: Entry) -> str:
    """A journal row in full, as the day's rows object and the evidence bundle carry it."""
    return canonical(entry.__dict__)


def hash_line(entry: Entry) -> str:
    """A journal row as a segment seals it: where it sits in the chain, and the hash of its content."""
    return canonical({"seq": entry.seq, "prev_hash": entry.prev_hash, "hash": entry.hash})


def build_segment(day: str, entries: list[Entry], *, previous_seal_sha256: str, prev_hash: str) -> bytes:
    last = entries[-1].hash if entries else prev_hash
    header = Header(day, previous_seal_sha256, prev_hash, last, len(entries), SEGMENT_FORMAT)
    return "".join(f"{line}\n" for line in [header.line(), *map(hash_line, entries)]).encode()


def build_rows(entries: list[Entry]) -> bytes:
    return "".join(f"{row_line(e)}\n" for e in entries).encode()


def parse_rows(data: bytes) -> dict[int, dict[str, Any]]:
    """A day's rows object by sequence number; ValueError when it is not one."""
    return {int(r["seq"]): r for r in map(json.loads, data.decode().splitlines())}


def sealed_as(sealed: dict[str, Any], entry: Entry) -> bool:
    """``entry`` is the row the segment sealed: the same content (format 1) or the same place in the
    chain and the same hash, which its content recomputes to (format 2)."""
    if "body" in sealed:
        return canonical(sealed) == row_line(entry)
    return (sealed.get("prev_hash"), sealed.get("hash")) == (entry.prev_hash, entry.hash) and (
        entry.expected_hash() == entry.hash
    )


def parse_segment(data: bytes) -> tuple[Header, dict[int, dict[str, Any]]]:
    """The header and the rows by sequence number; ValueError when it is not a segment."""
    lines = data.decode().splitlines()
    if not lines:
        raise ValueError("empty segment")
    header = Header(**json.loads(lines[0])["segment"])
    rows = {int(r["seq"]): r for r in map(json.loads, lines[1:])}
    return header, rows


def day_entries(engine: Engine, day: str) -> list[Entry]:
    """The journal rows written on ``day`` (UTC), in sequence order."""
    start, end = day, (date.fromisoformat(day) + timedelta(days=1)).isoformat()
    query = select(journal).where(journal.c.at >= start, journal.c.at < end).order_by(journal.c.seq)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [
        Entry(int(r.seq), r.at, r.document_id, r.stage, r.action, _body(r.body), r.prev_hash, r.hash)
        for r in rows
    ]


def sealed_days(services: Services) -> list[str]:
    """Days whose seal is archived, oldest first."""
    found = (k[len(keys.DAYS) :] for k in services.store.keys(keys.DAYS))
    return sorted(k.removesuffix(".p7s") for k in found if k.endswith(".p7s"))


def seal_through(services: Services, day: date | None = None, *, today: date | None = None) -> list[DaySeal]:
    """Seal every unsealed day up to ``day`` (default: yesterday, UTC), oldest first; a day that is
    not over yet is refused. Returns the seals made (none when all were sealed already)."""
    today = today or datetime.now(UTC).date()
    last = day or today - timedelta(days=1)
    if last >= today:
        raise InvalidRequest(f"la journée {last} n'est pas terminée (UTC) : elle se scelle le lendemain")
    done = sealed_days(services)
    previous = done[-1] if done else None
    made = []
    for current in _days(services, previous, last):
        made.append(_seal_day(services, current, previous))
        previous = current
    return made


def _days(services: Services, previous: str | None, last: date) -> Iterator[str]:
    if previous is not None:
        start = date.fromisoformat(previous) + timedelta(days=1)
    else:
        with services.catalogue.engine.connect() as conn:
            first = conn.execute(select(func.min(journal.c.at))).scalar()
        start = min(date.fromisoformat(first[:10]), last) if first else last
    while start <= last:
        yield start.isoformat()
        start += timedelta(days=1)


def _seal_day(services: Services, day: str, previous: str | None) -> DaySeal:
    signer, tsa = services.context.seal_signer(), services.settings.tsa_url
    if choose_timestamper(signer, tsa_url=tsa) is None:
        raise ConfigError("a day seal needs a timestamp authority (DEMATFLOW_TSA_URL)")
    if previous is None:
        prev_seal, prev_hash = "", _hash_before(services.catalogue.engine, day)
    else:
        prev_seal = sha256_hex(services.store.get(keys.day_seal(previous)))
        prev_hash = parse_segment(services.store.get(keys.day_segment(previous)))[0].last_hash
    entries = day_entries(services.catalogue.engine, day)
    segment = build_segment(day, entries, previous_seal_sha256=prev_seal, prev_hash=prev_hash)
    # Identical bytes again (a crash between the puts) are a no-op; the seal is made once.
    retention.keep(services, None, keys.day_rows(day), build_rows(entries))
    seg = retention.keep(services, None, keys.day_segment(day), segment)
    sealed = seal_detached(segment, signer=signer, tsa_url=tsa).data
    seal = retention.keep(services, None, keys.day_seal(day), sealed)
    log.info("journal day %s sealed: %d row(s), segment sha256 %s", day, len(entries), seg.sha256[:16])
    return DaySeal(day, len(entries), seg, seal)


def _hash_before(engine: Engine, day: str) -> str:
    query = select(journal.c.hash).where(journal.c.at < day).order_by(journal.c.seq.desc()).limit(1)
    with engine.connect() as conn:
        found = conn.execute(query).scalar()
    return str(found) if found else GENESIS
