"""The archive Protocol: put once, read many, never overwrite; delete only once retention is over."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from dematflow.errors import ArchiveConflict, ArchiveRefused

CHUNK = 1 << 20  # bytes read at a time when an object is hashed as a stream


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class StoredObject:
    """An archived object. The optional fields are None where a store (or an older record) does not
    know them: records written before they existed load unchanged."""

    key: str
    sha256: str
    size: int
    version_id: str | None = None  # S3 version id; None on stores without versions
    retain_until: str | None = None  # ISO 8601 UTC; None: no date recorded (kept forever)
    legal_hold: bool | None = None  # None: the store does not know
    content_type: str | None = None


class ObjectStore(Protocol):
    """A write-once store. ``put`` of the same bytes under an existing key is a no-op (idempotent
    retries); different bytes raise ``ArchiveConflict``. ``retain_until`` can be extended, never
    shortened; ``delete`` is refused (``ArchiveRefused``) before that date or under a legal hold."""

    def put(
        self, key: str, data: bytes, *, retain_until: datetime | None = None, content_type: str | None = None
    ) -> StoredObject: ...

    def get(self, key: str) -> bytes: ...

    def digest(self, key: str) -> str:
        """The sha256 of the object's bytes, read in chunks (memory bounded by a chunk, not the object)."""
        ...

    def stat(self, key: str) -> StoredObject: ...

    def exists(self, key: str) -> bool: ...

    def keys(self, prefix: str = "") -> Iterator[str]: ...

    def extend_retention(self, key: str, until: datetime) -> StoredObject: ...

    def set_legal_hold(self, key: str, on: bool) -> StoredObject: ...

    def delete(self, key: str) -> None: ...

    def describe(self) -> str: ...


def put_once(
    store: ObjectStore,
    key: str,
    make: Callable[[], bytes],
    *,
    retain_until: datetime | None = None,
    content_type: str | None = None,
) -> StoredObject:
    """Store ``make()`` under ``key`` unless an earlier attempt already did: for outputs that differ
    from run to run (a seal's signing time), a retried job keeps the first one."""
    if not store.exists(key):
        try:
            return store.put(key, make(), retain_until=retain_until, content_type=content_type)
        except ArchiveConflict:
            pass  # a concurrent attempt stored its output first: keep that one
    return store.stat(key)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def later(current: str | None, until: datetime) -> bool:
    """Whether ``until`` extends a recorded date (None means none recorded: anything extends it)."""
    return current is None or datetime.fromisoformat(current) < until


def check_deletable(obj: StoredObject, now: datetime | None = None) -> None:
    """Refuse, in French for the person who asked, to delete what is held or still retained."""
    now = now or datetime.now(UTC)
    if obj.legal_hold:
        raise ArchiveRefused(f"{obj.key} : suppression refusée, une conservation judiciaire est posée")
    if obj.retain_until is None:
        raise ArchiveRefused(f"{obj.key} : suppression refusée, aucune fin de conservation enregistrée")
    if datetime.fromisoformat(obj.retain_until) > now:
        raise ArchiveRefused(
            f"{obj.key} : suppression refusée, l'objet est conservé jusqu'au {obj.retain_until[:10]}"
        )
