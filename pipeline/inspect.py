"""Dry runs: the real stages on a throwaway in-memory store, for `extract` and `validate` answers."""

from __future__ import annotations

from dematflow.errors import InputError
from pipeline.context import Context, LayoutMemory
from pipeline.memory import memory_of
from pipeline.records import BUYER_TENANT, STAGES, Document, utcnow
from pipeline.run import STAGE_FUNCTIONS, quarantine
from pipeline.settings import Settings
from storage import keys
from storage.base import sha256_hex
from storage.memory import MemoryStore


def read_document(
    settings: Settings,
    *,
    filename: str,
    data: bytes,
    until: str = "validate",
    tenant: str = BUYER_TENANT,
    memory: LayoutMemory | None = None,
) -> Document:
    """Ingest, classify, extract and validate ``data`` without archiving or journalling anything,
    reading with the supplier memory ``tenant`` has in the data directory's catalogue."""
    ctx = Context(settings, MemoryStore(), memory=memory or memory_of(settings))
    original = ctx.store.put(keys.original("dry-run"), data)
    doc = Document(
        id="dry-run",
        sha256=sha256_hex(data),
        filename=filename,
        size=len(data),
        received_at=utcnow(),
        tenant=tenant,
        stage="received",
        objects={"original": original},
    )
    for stage in STAGES[: STAGES.index(until) + 1]:
        try:
            doc = STAGE_FUNCTIONS[stage](ctx, doc).document
        except InputError as err:
            return quarantine(doc, stage, err.message).document
    return doc
