"""The archive Protocol: put once, read many, never overwrite, never delete."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from dematflow.errors import ArchiveConflict


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class StoredObject:
    key: str
    sha256: str
    size: int


class ObjectStore(Protocol):
    """A write-once store. ``put`` of the same bytes under an existing key is a no-op (idempotent
    retries); different bytes raise ``ArchiveConflict``. There is no delete."""

    def put(self, key: str, data: bytes) -> StoredObject: ...

    def get(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...

    def keys(self, prefix: str = "") -> Iterator[str]: ...

    def describe(self) -> str: ...


def put_once(store: ObjectStore, key: str, make: Callable[[], bytes]) -> StoredObject:
    """Store ``make()`` under ``key`` unless an earlier attempt already did: for outputs that differ
    from run to run (a seal's signing time), a retried job keeps the first one."""
    if not store.exists(key):
        try:
            return store.put(key, make())
        except ArchiveConflict:
            pass  # a concurrent attempt stored its output first: keep that one
    data = store.get(key)
    return StoredObject(key, sha256_hex(data), len(data))
