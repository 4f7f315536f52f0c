"""S3 archive with Object Lock (MinIO in production, SeaweedFS in the tests), through the minio SDK.

Every object gets COMPLIANCE retention: until its date nobody, not even the bucket's owner, can delete
or overwrite that version; the server refuses. minio is imported only when this store is opened.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from dematflow.errors import (
    ArchiveConflict,
    ArchiveRefused,
    ConfigError,
    NotFound,
    StorageUnavailable,
    ToolUnavailable,
)
from storage.base import CHUNK, StoredObject, check_deletable, iso, later, sha256_hex
from storage.recent import RecentObjects

if TYPE_CHECKING:
    from minio import Minio

log = logging.getLogger(__name__)
SHA256 = "sha256"  # user metadata (x-amz-meta-sha256): the fingerprint, so a re-put need not read back
MISSING = ("NoSuchKey", "NoSuchVersion", "NoSuchObject")


def _minio() -> Any:
    try:
        import minio
        import minio.commonconfig
        import minio.error
        import minio.helpers
        import minio.retention
    except ImportError as exc:  # pragma: no cover - minio is a dependency; a trimmed image may lack it
        raise ToolUnavailable("the S3 archive needs the minio package: pip install minio") from exc
    return minio


class S3Store:
    """Write-once objects in one versioned bucket with Object Lock; ``key`` is the object name."""

    def __init__(
        self,
        *,
        endpoint: str,
        bucket: str,
        access_key: str,
        secret_key: str,
        region: str | None = None,
        secure: bool = True,
        create: bool = True,
    ) -> None:
        self.bucket, self.endpoint = bucket, endpoint
        self.client: Minio = _minio().Minio(
            endpoint, access_key=access_key, secret_key=secret_key, secure=secure, region=region
        )
        self._first: dict[str, str] = {}  # key -> its first version: Object Lock never lets it change
        self._recent = RecentObjects()  # what this process wrote or read last: a document's stages reread it
        self._ensure_bucket(create)

    def _ensure_bucket(self, create: bool) -> None:
        """Create the bucket with Object Lock (which turns versioning on) if missing; refuse a bucket
        without it: its objects could be deleted, and Object Lock cannot be added to it later."""
        error = _minio().error.S3Error
        try:
            if not self.client.bucket_exists(self.bucket):
                if not create:
                    raise ConfigError(f"S3 bucket {self.bucket} does not exist at {self.endpoint}")
                self.client.make_bucket(self.bucket, object_lock=True)
                log.info("created S3 bucket %s with Object Lock", self.bucket)
            self.client.get_object_lock_config(self.bucket)
            versioning = self.client.get_bucket_versioning(self.bucket).status
        except error as exc:
            if exc.code == "ObjectLockConfigurationNotFoundError":
                raise ConfigError(
                    f"S3 bucket {self.bucket} has no Object Lock: archived objects could be deleted. "
                    "Object Lock can only be chosen when a bucket is created: use a new bucket "
                    "(dematflow creates it with Object Lock when it is missing)"
                ) from exc
            raise StorageUnavailable(f"S3 bucket {self.bucket}: {exc.code}: {exc.message}") from exc
        except _network_errors() as exc:
            raise StorageUnavailable(f"S3 at {self.endpoint} unreachable: {exc}") from exc
        if versioning != "Enabled":
            raise ConfigError(f"S3 bucket {self.bucket} has versioning {versioning!r}: Object Lock needs it")

    def put(
        self, key: str, data: bytes, *, retain_until: datetime | None = None, content_type: str | None = None
    ) -> StoredObject:
        digest = sha256_hex(data)
        minio = _minio()
        retention = None
        if retain_until is not None:
            retention = minio.retention.Retention(minio.commonconfig.COMPLIANCE, retain_until.astimezone(UTC))
        headers = minio.helpers.genheaders({SHA256: digest}, None, None, retention, False)
        headers["Content-Type"] = content_type or "application/octet-stream"
        # Conditional put: the server refuses (412) if the key exists, so a retry with the same bytes is
        # a no-op and two writers racing with different bytes cannot both land (one request, no stat
        # first: archiving a document to S3 is a handful of these). The SDK's public put_object would turn
        # If-None-Match into user metadata, hence its single-part call. Both MinIO and SeaweedFS honour
        # it; a server that ignored it would add a second version, the first staying locked and intact.
        headers["If-None-Match"] = "*"
        try:
            result = self.client._put_object(self.bucket, key, data, headers)
        except minio.error.S3Error as exc:
            if exc.code in ("PreconditionFailed", "ConditionalRequestConflict"):
                return self._same_or_conflict(self.stat(key), digest)
            raise StorageUnavailable(f"cannot archive {key} in S3: {exc.code}: {exc.message}") from exc
        except _network_errors() as exc:
            raise StorageUnavailable(f"cannot archive {key}: S3 unreachable: {exc}") from exc
        until = iso(retain_until) if retain_until else None
        if result.version_id:
            self._remember(key, result.version_id)
        self._recent.add(key, data)
        return StoredObject(key, digest, len(data), result.version_id, until, False, headers["Content-Type"])

    def _remember(self, key: str, version: str) -> None:
        if len(self._first) > 100_000:  # a long-lived process: forget, the server still knows
            self._first.clear()
        self._first[key] = version

    def _same_or_conflict(self, existing: StoredObject, digest: str) -> StoredObject:
        if existing.sha256 != digest:
            raise ArchiveConflict(f"{existing.key} is archived already with different bytes")
        return existing

    def _first_version(self, key: str) -> str | None:
        """The version written first: the one dematflow put (If-None-Match) and Object Lock keeps. A
        version stacked later by a PUT that bypassed dematflow, or a delete marker, is never read."""
        if (known := self._first.get(key)) is not None:
            return known
        first = None
        try:
            for version in self.client.list_objects(self.bucket, prefix=key, include_version=True):
                if version.object_name == key and not version.is_delete_marker:
                    first = version.version_id  # versions are listed newest first
        except _minio().error.S3Error as exc:
            raise StorageUnavailable(f"cannot list {key} in S3: {exc.code}: {exc.message}") from exc
        except _network_errors() as exc:
            raise StorageUnavailable(f"cannot list {key}: S3 unreachable: {exc}") from exc
        if first is not None:
            self._remember(key, first)
        return first

    def get(self, key: str) -> bytes:
        """The object's bytes: from this process's recent objects when it wrote or read it lately
        (objects never change), else from the server. Checks of the archive use ``digest``, which
        always reads the server."""
        if (kept := self._recent.get(key)) is not None:
            return kept
        data = self._read(key)
        self._recent.add(key, data)
        return data

    def _read(self, key: str) -> bytes:
        with self._opened(key) as response:
            return bytes(response.read())

    def digest(self, key: str) -> str:
        digest = hashlib.sha256()
        with self._opened(key) as response:
            for chunk in response.stream(CHUNK):
                digest.update(chunk)
        return digest.hexdigest()

    @contextmanager
    def _opened(self, key: str) -> Iterator[Any]:
        """The first version's body, read inside the block; S3 and network errors as ours."""
        version = self._first_version(key)
        if version is None:
            raise NotFound(f"no archived object {key}")
        response = None
        try:
            response = self.client.get_object(self.bucket, key, version_id=version)
            yield response
        except _minio().error.S3Error as exc:
            if exc.code in MISSING:
                raise NotFound(f"no archived object {key}") from exc
            raise StorageUnavailable(f"cannot read {key} from S3: {exc.code}: {exc.message}") from exc
        except _network_errors() as exc:
            raise StorageUnavailable(f"cannot read {key}: S3 unreachable: {exc}") from exc
        finally:
            if response is not None:
                response.close()
                response.release_conn()

    def stat(self, key: str) -> StoredObject:
        found = self._stat_or_none(key)
        if found is None:
            raise NotFound(f"no archived object {key}")
        return found

    def _stat_or_none(self, key: str) -> StoredObject | None:
        version = self._first_version(key)
        if version is None:
            return None
        try:
            st = self.client.stat_object(self.bucket, key, version_id=version)
        except _minio().error.S3Error as exc:
            if exc.code in MISSING:
                return None
            raise StorageUnavailable(f"cannot read {key} from S3: {exc.code}: {exc.message}") from exc
        except _network_errors() as exc:
            raise StorageUnavailable(f"cannot read {key}: S3 unreachable: {exc}") from exc
        headers = {k.lower(): v for k, v in (st.metadata or {}).items()}
        digest = headers.get(f"x-amz-meta-{SHA256}") or sha256_hex(self.get(key))  # put by another tool
        until = headers.get("x-amz-object-lock-retain-until-date")
        return StoredObject(
            key,
            digest,
            int(st.size or 0),
            st.version_id,
            iso(datetime.fromisoformat(until.replace("Z", "+00:00"))) if until else None,
            headers.get("x-amz-object-lock-legal-hold") == "ON",
            st.content_type,
        )

    def exists(self, key: str) -> bool:
        """Its first version is known, or listed: objects are write-once, so a version this process
        saw stays (a delete after retention forgets it), and no HEAD is needed (the anchor check asks
        this twice a document)."""
        return key in self._first or self._first_version(key) is not None

    def keys(self, prefix: str = "") -> Iterator[str]:
        last = None  # every version is listed, so that a key hidden by a delete marker still shows
        try:
            for obj in self.client.list_objects(
                self.bucket, prefix=prefix, recursive=True, include_version=True
            ):
                if obj.object_name not in (None, last) and not obj.is_delete_marker:
                    last = obj.object_name
                    yield obj.object_name
        except _network_errors() as exc:
            raise StorageUnavailable(f"cannot list S3 bucket {self.bucket}: {exc}") from exc

    def extend_retention(self, key: str, until: datetime) -> StoredObject:
        obj = self.stat(key)
        if not later(obj.retain_until, until):
            return obj  # COMPLIANCE retention is never shortened (the server would refuse anyway)
        minio = _minio()
        retention = minio.retention.Retention(minio.commonconfig.COMPLIANCE, until.astimezone(UTC))
        self._call(self.client.set_object_retention, key, retention, version_id=obj.version_id)
        return self.stat(key)

    def set_legal_hold(self, key: str, on: bool) -> StoredObject:
        obj = self.stat(key)
        call = self.client.enable_object_legal_hold if on else self.client.disable_object_legal_hold
        self._call(call, key, version_id=obj.version_id)
        return self.stat(key)

    def delete(self, key: str) -> None:
        """Delete every version of ``key`` once retention is over and no hold is set; our check comes
        first (with a message a person understands), the server's refusal stands behind it."""
        check_deletable(self.stat(key))
        self._first.pop(key, None)
        self._recent.drop(key)
        for version in self.client.list_objects(self.bucket, prefix=key, include_version=True):
            if version.object_name == key:
                self._call(self.client.remove_object, key, version_id=version.version_id)

    def _call(self, method: Any, key: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self.bucket, key, *args, **kwargs)
        except _minio().error.S3Error as exc:
            if exc.code == "AccessDenied":
                raise ArchiveRefused(f"{key} : le serveur S3 refuse ({exc.message})") from exc
            raise StorageUnavailable(f"S3 {key}: {exc.code}: {exc.message}") from exc
        except _network_errors() as exc:
            raise StorageUnavailable(f"S3 {key}: unreachable: {exc}") from exc

    def describe(self) -> str:
        return f"s3:{self.endpoint}/{self.bucket}"


def _network_errors() -> tuple[type[BaseException], ...]:
    import urllib3

    return (urllib3.exceptions.HTTPError, OSError)
