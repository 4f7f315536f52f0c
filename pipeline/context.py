"""The per-job context handed to stages, and the services a door (CLI, worker) opens once at boot."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Protocol

from dematflow.errors import ConfigError
from extractors.capture import OcrOptions
from extractors.memory import Layout
from extractors.results import PageText
from extractors.sandbox import Budget
from pipeline.catalogue import Catalogue, Duplicate
from pipeline.records import Document
from pipeline.settings import Settings
from pipeline.stamps import StampClock
from signing import credentials as dev_keys
from signing.policy import SignerKind
from signing.signer import (
    Certificates,
    SealSigner,
    SignerSource,
    development_signer,
    file_certificates,
    file_signer,
    pkcs12_signer,
)
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
    signer: SignerSource | None = None  # None: a dry run that does not seal
    index: DuplicateIndex | None = None  # read-only look-up of earlier invoices; None: not checked
    memory: LayoutMemory | None = None  # the suppliers' layouts learnt so far; None: the generic reader only

    def seal_signer(self) -> SealSigner:
        """The signer, built on first use; ConfigError where this process does not seal."""
        if self.signer is None:
            raise ConfigError("no seal signer in this context (a dry run cannot seal)")
        return self.signer.get()

    def seal_certificates(self) -> Certificates | None:
        """Our seal certificate and chain for trust checks, without opening the key when possible."""
        return None if self.signer is None else self.signer.certificates()

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
    clock: StampClock = field(default_factory=StampClock, compare=False)  # anchor tokens (B-B)

    @property
    def settings(self) -> Settings:
        return self.context.settings

    @property
    def store(self) -> ObjectStore:
        return self.context.store


def open_services(settings: Settings, *, store: ObjectStore | None = None) -> Services:
    """Open the catalogue, the archive and the seal named by ``settings`` (embedded defaults)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    from pipeline.memory import CatalogueMemory  # it reads captures through the stages, which import us

    catalogue = Catalogue.open(settings.database_url)
    memory = CatalogueMemory(catalogue.engine)
    context = Context(settings, store or open_store(settings), signer_source(settings), catalogue, memory)
    return Services(context, catalogue)


def signer_source(settings: Settings) -> SignerSource:
    """What seals in this process, built on first use: a process that never seals (the API in queue
    mode, a capture-only worker) never opens a key, and with PKCS#11 no development key is made."""
    seal, cert, chain = settings.seal, settings.seal_cert, settings.seal_chain
    files = _certificate_files(cert, chain) if cert else None
    if seal.signer is SignerKind.PKCS11 and seal.pkcs11 is not None:
        p11 = seal.pkcs11

        def token() -> SealSigner:
            from signing.pkcs11 import pkcs11_signer  # python-pkcs11, only where a token seals

            return pkcs11_signer(
                module=p11.module,
                token=p11.token,
                key_label=p11.key_label,
                pin_file=p11.pin_file,
                cert=cert,
                chain=chain,
            )

        return SignerSource(SignerKind.PKCS11, token, files)
    if seal.signer is SignerKind.FILE and seal.pkcs12 is not None:
        bundle, password = seal.pkcs12, seal.pkcs12_password_file
        return SignerSource(SignerKind.FILE, lambda: pkcs12_signer(bundle, password, chain), files)
    if seal.signer is SignerKind.FILE and settings.seal_key and cert:
        key = settings.seal_key
        return SignerSource(SignerKind.FILE, lambda: file_signer(key, cert, chain), files)
    if seal.signer is SignerKind.DEVELOPMENT:
        keys_dir = settings.keys_dir
        return SignerSource(SignerKind.DEVELOPMENT, lambda: development_signer(keys_dir))
    return SignerSource(SignerKind.NONE, None, files or _existing_development(settings))


def _certificate_files(cert: Path, chain: tuple[Path, ...]) -> Callable[[], Certificates | None]:
    return lambda: file_certificates(cert, chain)


def _existing_development(settings: Settings) -> Callable[[], Certificates | None]:
    """A process that does not seal still recognises the development seal of its data directory."""

    def read() -> Certificates | None:
        if not (settings.keys_dir / dev_keys.README).is_file():
            return None
        keys_dir = settings.keys_dir
        root, tsa = (keys_dir / dev_keys.ROOT_CERT,), keys_dir / dev_keys.TSA_CERT
        return file_certificates(keys_dir / dev_keys.SEAL_CERT, root, tsa)

    return read


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
