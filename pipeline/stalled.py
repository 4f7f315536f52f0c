"""Documents that stopped moving: their step's message was lost (a broker restarted without keeping
it, a worker's acknowledgement failed while the connection was down). Nothing is lost in the archive,
but nothing would move them either; the sweep sends their next step again.

Actors are idempotent (``run.advance``), so a message sent for a document that was only slow costs a
redelivery, nothing else. One sweeper at a time, whatever the number of worker processes: a lease in
the catalogue.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from pipeline.context import Services
from pipeline.db import documents, leases
from pipeline.records import Event, Status
from pipeline.run import next_stage

log = logging.getLogger(__name__)

BATCH = 500  # documents sent again by one sweep at most


def stalled(services: Services, older_than: timedelta, *, limit: int = BATCH) -> list[str]:
    """Ids of documents still in the pipeline whose last change is older than ``older_than``."""
    cutoff = (datetime.now(UTC) - older_than).isoformat(timespec="microseconds")
    stmt = (
        select(documents.c.id)
        .where(documents.c.status == Status.RECEIVED.value, documents.c.updated_at < cutoff)
        .order_by(documents.c.updated_at)
        .limit(limit)
    )
    with services.catalogue.engine.connect() as conn:
        return [r.id for r in conn.execute(stmt)]


def resend(services: Services, send: Callable[[str, str], None], older_than: timedelta) -> int:
    """Send the next step of every stalled document again, each resend journalled; how many."""
    count = 0
    for doc_id in stalled(services, older_than):
        doc = services.catalogue.get(doc_id)
        stage = next_stage(doc)
        if stage is None:
            continue
        send(stage, doc_id)
        seconds = int(older_than.total_seconds())
        services.catalogue.record(
            Event(stage, "resent", doc_id, detail={"reason": f"no progress for more than {seconds} s"})
        )
        count += 1
    if count:
        log.warning("sent again the next step of %d stalled document(s)", count)
    return count


def take_lease(services: Services, name: str, holder: str, seconds: float) -> bool:
    """True when ``holder`` now holds ``name`` for ``seconds``: it was free, expired, or already its."""
    now = datetime.now(UTC)
    until = (now + timedelta(seconds=seconds)).isoformat(timespec="microseconds")
    with services.catalogue.engine.begin() as conn:
        taken = conn.execute(
            update(leases)
            .where(leases.c.name == name)
            .where((leases.c.until < now.isoformat(timespec="microseconds")) | (leases.c.holder == holder))
            .values(holder=holder, until=until)
        ).rowcount
        if taken:
            return True
        if conn.execute(select(leases.c.name).where(leases.c.name == name)).first() is not None:
            return False
    try:
        with services.catalogue.engine.begin() as conn:
            conn.execute(insert(leases).values(name=name, holder=holder, until=until))
        return True
    except IntegrityError:  # another process inserted it first
        return False


def sweep_once(services: Services, send: Callable[[str, str], None]) -> int:
    """One try, every ``sweep_s`` in each worker process: the one holding the lease resends what has
    made no progress for ``stalled_s`` (DEMATFLOW_SWEEP_S, DEMATFLOW_STALLED_S)."""
    holder = f"{socket.gethostname()}:{os.getpid()}"
    if not take_lease(services, "sweep-stalled", holder, services.settings.sweep_s * 1.5):
        return 0
    return resend(services, send, timedelta(seconds=services.settings.stalled_s))


def sweep_forever(services: Callable[[], Services], send: Callable[[str, str], None]) -> None:
    """A worker process's sweeper thread: never raises (a catalogue away is tried again later)."""
    while True:
        every = services().settings.sweep_s
        time.sleep(every * random.uniform(0.5, 1.0))
        try:
            sweep_once(services(), send)
        except Exception as err:  # the worker goes on; the next round retries
            log.warning("stalled-document sweep failed: %r", err)
