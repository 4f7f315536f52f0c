"""Receive: keep the original bytes first, whatever they are, then open the document's record.

Kept apart from the stages so that a door that only takes documents in (the HTTP API) does not load
OCR or signing libraries.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from dematflow.errors import ArchiveConflict
from pipeline import journal, retention, stamps
from pipeline.context import Services
from pipeline.records import BUYER_TENANT, Document, Event, StageResult, utcnow
from storage import keys
from storage.base import sha256_hex

ANCHOR_EVERY = 100  # journal rows (about a dozen documents) between two anchors


@dataclass(frozen=True)
class Receipt:
    document_id: str
    duplicate_of: str | None = None  # set when the same bytes were received before


def receive(
    services: Services,
    *,
    filename: str,
    data: bytes,
    tenant: str = BUYER_TENANT,
    owner: str | None = None,
    meta: Mapping[str, str] | None = None,
) -> Receipt:
    """Keep the original bytes first, whatever they are, then open the document's record. The same
    bytes twice from one tenant are one document; from two tenants, two (neither learns of the other)."""
    digest = sha256_hex(data)
    first = services.catalogue.find_by_sha256(digest, tenant=tenant)
    if first is not None and first.filename == filename and not first.status.final:
        return Receipt(first.id)  # the same file again, its document left half-way (a crashed run): resume
    if first is None:
        # The class is not known before classify: the original gets the longest retention, unless
        # ingest is certain to refuse the bytes themselves (the quarantine area's shorter period).
        obj = retention.keep_original(services, keys.original(digest), data)
        doc = Document(
            id=uuid.uuid4().hex,
            sha256=digest,
            filename=filename,
            size=len(data),
            received_at=utcnow(),
            stage="received",
            tenant=tenant,
            owner=owner,
            meta=dict(meta or {}),
            objects={"original": obj},
        )
        event = Event(
            "ingest",
            "received",
            doc.id,
            outputs={obj.key: digest},
            detail={"filename": filename, "size": len(data), "tenant": tenant, "account": owner},
        )
        created = services.catalogue.create(StageResult(doc, event))
        if created.id == doc.id:
            return Receipt(doc.id)
        first = created  # another process received the same bytes a moment earlier
    services.catalogue.record(
        Event(
            "ingest",
            "duplicate",
            first.id,
            inputs={filename: digest},
            detail={"filename": filename, "first_filename": first.filename, "account": owner},
        )
    )
    anchor(services)
    return Receipt(first.id, duplicate_of=first.id)


def anchor(services: Services, *, every: int = ANCHOR_EVERY) -> None:
    """Copy the journal's head into the write-once archive once per block of ``every`` rows, so that
    rows cut from the end of the not yet sealed day are noticed by ``audit verify`` even though the
    chain itself stays consistent. Sealed days need no anchors: their segments hold every row.

    At seal level B-B the anchor also carries an RFC 3161 token over the head (pipeline/stamps.py),
    and the head is anchored again, off the block, once ``DEMATFLOW_STAMP_EVERY_S`` have passed."""
    seq, digest = journal.head(services.catalogue.engine)
    key = keys.anchor(seq - seq % every)  # the first document to finish in a block anchors it
    if services.store.exists(key):
        if not stamps.batched(services) or not stamps.due(services, key):
            return
        key = keys.anchor(seq)  # a timed anchor, between two blocks
        if services.store.exists(key):
            return
    token = None
    if stamps.batched(services) and (stamper := stamps.timestamper(services)) is not None:
        services.clock.asked_at = time.time()  # even on failure: the next block's anchor asks again
        token = stamps.token(stamper, seq, digest)
    with contextlib.suppress(ArchiveConflict):  # another process anchored this block just now
        retention.keep(services, None, key, stamps.body(seq, digest, token))
