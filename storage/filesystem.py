"""Filesystem archive: objects are written once, made read-only, and never overwritten or deleted."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from dematflow.errors import ArchiveConflict, ArchiveRefused, NotFound, StorageUnavailable
from storage.base import StoredObject, sha256_hex

_READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH


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
        if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
            raise ArchiveRefused(f"invalid object key {key!r}")
        return self.root.joinpath(*parts)

    def put(self, key: str, data: bytes) -> StoredObject:
        path = self._path(key)
        digest = sha256_hex(data)
        if path.exists():
            if sha256_hex(path.read_bytes()) != digest:
                raise ArchiveConflict(f"{key} is archived already with different bytes")
            return StoredObject(key, digest, len(data))
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
            return self.put(key, data)
        except OSError as exc:
            raise StorageUnavailable(f"cannot write {key}: {exc}") from exc
        os.unlink(tmp)
        return StoredObject(key, digest, len(data))

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as exc:
            raise NotFound(f"no archived object {key}") from exc
        except OSError as exc:
            raise StorageUnavailable(f"cannot read {key}: {exc}") from exc

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def keys(self, prefix: str = "") -> Iterator[str]:
        for path in sorted(self.root.rglob("*")):
            if path.is_file() and not path.name.startswith(".incoming-"):
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    yield key

    def delete(self, key: str) -> None:
        raise ArchiveRefused(f"{key}: archived objects cannot be deleted")

    def describe(self) -> str:
        return f"filesystem:{self.root}"
