"""The per-job context handed to stages, and the services a door (CLI, worker) opens once at boot."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import Protocol

from extractors.capture import OcrOptions
from extractors.memory import Layout
from extractors.results import PageText
from extractors.sandbox import Budget
from pipeline.catalogue import Catalogue, Duplicate
from pipeline.records import Document
from pipeline.settings import Settings
from signing.credentials import SealCredentials, ensure_dev_credentials, load_credentials
from storage.base import ObjectStore
from storage.filesystem import FilesystemStore


class DuplicateIndex(Protocol):
    """What the validate stage may ask of the catalogue (reads only)."""

    def earlier_duplicates(self, doc: Document) -> tuple[Duplicate, ...]: ...


class LayoutMemory(Protocol):
    """What the extract stage may ask of the supplier memory (reads only; pipeline.memory)."""

    def layout_for(self, tenant: str, pages: Sequence[PageText]) -> Layout | None: ...


@dataclass(frozen=True)
class Context:
    """What a stage may use: settings, the archive and the seal. Stages never touch the database."""

    settings: Settings
    store: ObjectStore
    credentials: SealCredentials | None = None  # None: a dry run that does not seal
    index: DuplicateIndex | None = None  # read-only look-up of earlier invoices; None: not checked
    memory: LayoutMemory | None = None  # the suppliers' layouts learnt so far; None: the generic reader only

    @property
    def ocr(self) -> OcrOptions:
        s = self.settings
        return OcrOptions(
            jobs=s.ocr_jobs,
            languages=s.ocr_languages,
            timeout=s.ocr_timeout,
            max_pages=s.limits.max_pages,
            max_pixels=s.limits.max_pixels,
            budget=Budget(s.limits.stage_timeout, s.limits.stage_memory),
            scratch=s.data_dir / "scratch" / "ocr",
        )


@dataclass(frozen=True)
class Services:
    """A stage context plus the catalogue the drivers persist into."""

    context: Context
    catalogue: Catalogue

    @property
    def settings(self) -> Settings:
        return self.context.settings

    @property
    def store(self) -> ObjectStore:
        return self.context.store


def open_services(settings: Settings, *, store: ObjectStore | None = None) -> Services:
    """Open the catalogue, the archive and the seal named by ``settings`` (embedded defaults)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if settings.seal_key and settings.seal_cert:
        credentials = load_credentials(settings.seal_key, settings.seal_cert, settings.seal_chain)
    else:
        credentials = ensure_dev_credentials(settings.keys_dir)
    from pipeline.memory import CatalogueMemory  # it reads captures through the stages, which import us

    catalogue = Catalogue.open(settings.database_url)
    memory = CatalogueMemory(catalogue.engine)
    context = Context(settings, store or open_store(settings), credentials, catalogue, memory)
    return Services(context, catalogue)


def open_store(settings: Settings) -> ObjectStore:
    """The S3 archive when DEMATFLOW_S3_* name one, else the filesystem archive under the data dir."""
    if settings.s3 is None:
        return FilesystemStore(settings.archive_dir)
    from storage.s3 import S3Store  # only a process that archives to S3 imports minio

    s3 = settings.s3
    return S3Store(
        endpoint=s3.endpoint,
        bucket=s3.bucket,
        access_key=s3.access_key,
        secret_key=s3.secret_key,
        region=s3.region,
        secure=s3.secure,
    )


@functools.cache
def version_of(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "unknown"


def versions(*distributions: str) -> dict[str, str]:
    """Versions of the Python distributions a stage used, for its journal event."""
    return {d: version_of(d) for d in distributions}
