"""Filesystem archive: objects are written once, made read-only, and never overwritten; deleted only
after their retention. Retain-until and legal hold are recorded beside them (``.meta/KEY.json``) and
enforced by this code alone: on a filesystem they bind dematflow, not whoever can write the disk."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import stat
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from dematflow.errors import ArchiveConflict, ArchiveRefused, NotFound, StorageUnavailable
from storage.base import CHUNK, StoredObject, check_deletable, iso, later, sha256_hex

_READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
META = ".meta"


class FilesystemStore:
    """Write-once objects under ``root``; keys are relative POSIX paths such as ``originals/ab12…``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageUnavailable(f"cannot create archive directory {root}: {exc}") from exc

    def _path(self, key: str) -> Path:
        parts = key.split("/")
        if not key or key.startswith((".", "/")) or any(p in ("", ".", "..") for p in parts):
            raise ArchiveRefused(f"invalid object key {key!r}")
        return self.root.joinpath(*parts)

    def _meta(self, key: str) -> Path:
        return self.root / META / f"{self._path(key).relative_to(self.root)}.json"

    def put(
        self, key: str, data: bytes, *, retain_until: datetime | None = None, content_type: str | None = None
    ) -> StoredObject:
        path = self._path(key)
        digest = sha256_hex(data)
        if path.exists():
            if sha256_hex(path.read_bytes()) != digest:
                raise ArchiveConflict(f"{key} is archived already with different bytes")
            return self.stat(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, _READ_ONLY)
            # link() fails if the key appeared meanwhile: the first writer wins, nobody overwrites.
            os.link(tmp, path)
        except FileExistsError:
            os.unlink(tmp)
            return self.put(key, data, retain_until=retain_until, content_type=content_type)
        except OSError as exc:
            raise StorageUnavailable(f"cannot write {key}: {exc}") from exc
        os.unlink(tmp)
        until = iso(retain_until) if retain_until else None
        return self._record(StoredObject(key, digest, len(data), None, until, False, content_type))

    def _record(self, obj: StoredObject) -> StoredObject:
        meta = self._meta(obj.key)
        try:
            meta.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=meta.parent, prefix=".incoming-")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(dataclasses.asdict(obj), f, sort_keys=True)
            os.replace(tmp, meta)
        except OSError as exc:
            raise StorageUnavailable(f"cannot record retention of {obj.key}: {exc}") from exc
        return obj

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as exc:
            raise NotFound(f"no archived object {key}") from exc
        except OSError as exc:
            raise StorageUnavailable(f"cannot read {key}: {exc}") from exc

    def digest(self, key: str) -> str:
        digest = hashlib.sha256()
        try:
            with self._path(key).open("rb") as f:
                while chunk := f.read(CHUNK):
                    digest.update(chunk)
        except FileNotFoundError as exc:
            raise NotFound(f"no archived object {key}") from exc
        except OSError as exc:
            raise StorageUnavailable(f"cannot read {key}: {exc}") from exc
        return digest.hexdigest()

    def stat(self, key: str) -> StoredObject:
        try:
            return StoredObject(**json.loads(self._meta(key).read_text(encoding="utf-8")))
        except FileNotFoundError:  # written before retention was recorded: nothing known but the bytes
            data = self.get(key)
            return StoredObject(key, sha256_hex(data), len(data), legal_hold=False)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def keys(self, prefix: str = "") -> Iterator[str]:
        for path in sorted(self.root.rglob("*")):
            if path.is_file() and not path.name.startswith(".incoming-"):
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix) and not key.startswith(f"{META}/"):
                    yield key

    def extend_retention(self, key: str, until: datetime) -> StoredObject:
        obj = self.stat(key)
        if not later(obj.retain_until, until):
            return obj  # never shortened
        return self._record(dataclasses.replace(obj, retain_until=iso(until)))

    def set_legal_hold(self, key: str, on: bool) -> StoredObject:
        return self._record(dataclasses.replace(self.stat(key), legal_hold=on))

    def delete(self, key: str) -> None:
        check_deletable(self.stat(key))
        try:
            self._path(key).unlink()
            self._meta(key).unlink(missing_ok=True)
        except OSError as exc:
            raise StorageUnavailable(f"cannot delete {key}: {exc}") from exc

    def describe(self) -> str:
        return f"filesystem:{self.root}"
