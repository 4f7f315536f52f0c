"""In-memory write-once store, shipped in the package like dramatiq's stub broker (tests, dry runs)."""

from __future__ import annotations

from collections.abc import Iterator

from dematflow.errors import ArchiveConflict, ArchiveRefused, NotFound
from storage.base import StoredObject, sha256_hex


class MemoryStore:
    """Same contract as the filesystem store, kept in a dict."""

    def __init__(self) -> None:
        self._objects: dict[str, bytes] = {}

    def put(self, key: str, data: bytes) -> StoredObject:
        old = self._objects.get(key)
        if old is not None and old != data:
            raise ArchiveConflict(f"{key} is archived already with different bytes")
        self._objects[key] = bytes(data)
        return StoredObject(key, sha256_hex(data), len(data))

    def get(self, key: str) -> bytes:
        try:
            return self._objects[key]
        except KeyError as exc:
            raise NotFound(f"no archived object {key}") from exc

    def exists(self, key: str) -> bool:
        return key in self._objects

    def keys(self, prefix: str = "") -> Iterator[str]:
        yield from sorted(k for k in self._objects if k.startswith(prefix))

    def delete(self, key: str) -> None:
        raise ArchiveRefused(f"{key}: archived objects cannot be deleted")

    def describe(self) -> str:
        return "memory"
