"""In-memory write-once store, shipped in the package like dramatiq's stub broker (tests, dry runs)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime

from dematflow.errors import ArchiveConflict, NotFound
from storage.base import StoredObject, check_deletable, iso, later, sha256_hex


class MemoryStore:
    """Same contract as the filesystem store, kept in dicts; retain-until and legal hold are recorded
    and enforced by ``delete`` like the filesystem store does."""

    def __init__(self) -> None:
        self._objects: dict[str, bytes] = {}
        self._info: dict[str, StoredObject] = {}

    def put(
        self, key: str, data: bytes, *, retain_until: datetime | None = None, content_type: str | None = None
    ) -> StoredObject:
        old = self._objects.get(key)
        if old is not None:
            if old != data:
                raise ArchiveConflict(f"{key} is archived already with different bytes")
            return self._info[key]
        self._objects[key] = bytes(data)
        until = iso(retain_until) if retain_until else None
        info = StoredObject(key, sha256_hex(data), len(data), None, until, False, content_type)
        self._info[key] = info
        return info

    def get(self, key: str) -> bytes:
        try:
            return self._objects[key]
        except KeyError as exc:
            raise NotFound(f"no archived object {key}") from exc

    def digest(self, key: str) -> str:
        return sha256_hex(self.get(key))

    def stat(self, key: str) -> StoredObject:
        try:
            return self._info[key]
        except KeyError as exc:
            raise NotFound(f"no archived object {key}") from exc

    def exists(self, key: str) -> bool:
        return key in self._objects

    def keys(self, prefix: str = "") -> Iterator[str]:
        yield from sorted(k for k in self._objects if k.startswith(prefix))

    def extend_retention(self, key: str, until: datetime) -> StoredObject:
        info = self.stat(key)
        if later(info.retain_until, until):
            info = self._info[key] = dataclasses.replace(info, retain_until=iso(until))
        return info

    def set_legal_hold(self, key: str, on: bool) -> StoredObject:
        info = self._info[key] = dataclasses.replace(self.stat(key), legal_hold=on)
        return info

    def delete(self, key: str) -> None:
        check_deletable(self.stat(key))
        del self._objects[key], self._info[key]

    def describe(self) -> str:
        return "memory"
