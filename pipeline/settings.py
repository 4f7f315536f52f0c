"""Frozen, typed settings built once at the edge (CLI, worker boot) from DEMATFLOW_* variables."""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from dematflow.errors import ConfigError
from extractors.clamav import ClamdAddress
from signing.policy import SealLevel, SignerKind


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 50 * 1024 * 1024
    max_pages: int = 200
    max_pixels: int = 60_000_000  # per page: an A4 page at 600 dpi is ~35 Mpx
    stage_timeout: float = 60.0  # seconds the reading of one document's untrusted content may take
    stage_memory: int = 1024  # MB of address space that reading may use (a child process's rlimit)


S3_VARIABLES = ("ENDPOINT", "BUCKET", "ACCESS_KEY", "SECRET_KEY")  # required together (DEMATFLOW_S3_*)


@dataclass(frozen=True)
class S3Settings:
    """The S3 archive (Object Lock, COMPLIANCE retention); unset, the filesystem archive is used."""

    endpoint: str  # host:port
    bucket: str
    access_key: str
    secret_key: str = dataclasses.field(repr=False)
    region: str | None = None
    secure: bool = True

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> S3Settings | None:
        given = {name: env.get(f"DEMATFLOW_S3_{name}") or "" for name in S3_VARIABLES}
        if not any(given.values()):
            return None
        missing = [f"DEMATFLOW_S3_{name}" for name, value in given.items() if not value]
        if missing:
            names = ", ".join(missing)
            raise ConfigError(f"the S3 archive needs {names} too (or unset every DEMATFLOW_S3_*)")
        secure = env.get("DEMATFLOW_S3_SECURE", "true").strip().lower()
        if secure not in ("true", "false", "1", "0", "yes", "no"):
            raise ConfigError(f"DEMATFLOW_S3_SECURE={secure!r} is not true or false")
        endpoint = given["ENDPOINT"].removeprefix("https://").removeprefix("http://").rstrip("/")
        return cls(
            endpoint=endpoint,
            bucket=given["BUCKET"],
            access_key=given["ACCESS_KEY"],
            secret_key=given["SECRET_KEY"],
            region=env.get("DEMATFLOW_S3_REGION") or None,
            secure=secure in ("true", "1", "yes"),
        )


@dataclass(frozen=True)
class RetentionSettings:
    """What ``pipeline/retention.py`` leaves configurable."""

    personal_days: int = 180  # identity documents and proofs of address (GDPR: as short as needed)
    year_end: tuple[int, int] = (12, 31)  # (month, day) the financial year closes on
    # quarantine area (issue 12): originals refused for their bytes alone (empty, over the size
    # limit, of no accepted kind) are kept this long, not 10 years; extended if they turn out fine
    quarantine_days: int = 365


PKCS11_VARIABLES = ("MODULE", "TOKEN", "KEY_LABEL", "PIN_FILE")  # DEMATFLOW_SEAL_PKCS11_*, required together


@dataclass(frozen=True)
class Pkcs11Settings:
    """The token holding the seal key (an HSM; SoftHSM in tests). Only sealing workers get these."""

    module: Path  # the vendor's PKCS#11 library (.so)
    token: str  # the token's label
    key_label: str  # the private key's label (the certificate object with that label is the seal's)
    pin_file: Path  # a file holding the user PIN (a secret file, never the PIN itself in the environment)


@dataclass(frozen=True)
class SealSettings:
    """Which key seals in this process, and to which level (signing/policy.py)."""

    signer: SignerKind = SignerKind.DEVELOPMENT  # inferred from the variables set, or DEMATFLOW_SEAL_SIGNER
    level: SealLevel | None = None  # None: B-T with a TSA (the development one in development), else B-B
    pkcs12: Path | None = None
    pkcs12_password_file: Path | None = None
    pkcs11: Pkcs11Settings | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SealSettings:
        key, cert, pkcs12 = (_path(env, f"DEMATFLOW_SEAL_{n}") for n in ("KEY", "CERT", "PKCS12"))
        given = {name: env.get(f"DEMATFLOW_SEAL_PKCS11_{name}") or "" for name in PKCS11_VARIABLES}
        pkcs11 = None
        if any(given.values()):
            missing = [f"DEMATFLOW_SEAL_PKCS11_{name}" for name, value in given.items() if not value]
            if missing:
                raise ConfigError(f"the PKCS#11 seal needs {', '.join(missing)} too")
            pkcs11 = Pkcs11Settings(
                Path(given["MODULE"]), given["TOKEN"], given["KEY_LABEL"], Path(given["PIN_FILE"])
            )
        raw = env.get("DEMATFLOW_SEAL_SIGNER")
        if raw:
            signer = SignerKind.parse(raw, "DEMATFLOW_SEAL_SIGNER")
        elif pkcs11 is not None:
            signer = SignerKind.PKCS11
        else:
            signer = SignerKind.FILE if key or cert or pkcs12 else SignerKind.DEVELOPMENT
        if key and pkcs12:
            raise ConfigError("set DEMATFLOW_SEAL_KEY or DEMATFLOW_SEAL_PKCS12, not both")
        if signer is SignerKind.FILE and not pkcs12 and (key is None or cert is None):
            raise ConfigError(
                "set both DEMATFLOW_SEAL_KEY and DEMATFLOW_SEAL_CERT (or DEMATFLOW_SEAL_PKCS12)"
            )
        if signer is SignerKind.PKCS11 and pkcs11 is None:
            raise ConfigError("DEMATFLOW_SEAL_SIGNER=pkcs11 needs the DEMATFLOW_SEAL_PKCS11_* variables")
        if signer is SignerKind.DEVELOPMENT and (key or cert or pkcs12 or pkcs11):
            raise ConfigError(
                "DEMATFLOW_SEAL_SIGNER=development, yet a seal key is configured: choose file or pkcs11"
            )
        level = env.get("DEMATFLOW_SEAL_LEVEL")
        return cls(
            signer=signer,
            level=SealLevel.parse(level, "DEMATFLOW_SEAL_LEVEL") if level else None,
            pkcs12=pkcs12,
            pkcs12_password_file=_path(env, "DEMATFLOW_SEAL_PKCS12_PASSWORD_FILE"),
            pkcs11=pkcs11,
        )


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    broker_url: str | None = None  # None: everything runs in-process
    seal_key: Path | None = None  # None: a development seal is generated under data_dir/keys
    seal_cert: Path | None = None
    seal_chain: tuple[Path, ...] = ()
    seal_trust_roots: tuple[Path, ...] = ()  # what kept seals are validated against; (): the chain's roots
    tsa_url: str | None = None
    stamp_every_s: float = 300.0  # B-B: the journal head is timestamped at least this often
    seal: SealSettings = SealSettings()  # which key seals here (a PKCS#11 token, a file, none) and the level
    ocr_languages: str = "fra+eng"
    ocr_timeout: float = 180.0
    review_threshold: float = 0.8
    ocr_jobs: int = max(1, os.cpu_count() or 1)  # processes for the pages of one document
    in_flight: int = 2  # documents the embedded mode runs at once (one seals while the next is read)
    stalled_s: float = 900.0  # queue mode: a document this long without progress gets its step sent again
    sweep_s: float = 60.0  # queue mode: how often the workers look for stalled documents
    worker_processes: int = max(1, os.cpu_count() or 1)
    limits: Limits = Limits()
    rules_dir: Path | None = None  # third-party rule files (XRechnung, CDAR); None: looked up beside the repo
    org_name: str = "Organisation acheteuse"  # the buyer organisation dematflow receives invoices for
    org_siren: str | None = None  # its SIREN, named in lifecycle (CDAR) messages
    s3: S3Settings | None = None  # None: the filesystem archive under data_dir/archive
    retention: RetentionSettings = RetentionSettings()
    signature_trust_roots: tuple[Path, ...] = ()  # PEM files the signatures of deposited PDFs may chain to
    clamd: ClamdAddress | None = None  # the antivirus ingest asks (DEMATFLOW_CLAMD); None: no scan
    clamd_timeout: float = 60.0  # seconds one scan may take before it counts as failed (retried)

    @property
    def archive_dir(self) -> Path:
        return self.data_dir / "archive"

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read DEMATFLOW_* variables; unknown values are rejected with the variable's name."""
        env = os.environ if env is None else env
        data_dir = Path(env.get("DEMATFLOW_DATA_DIR", "./dematflow-data")).resolve()
        default_db = f"sqlite:///{data_dir / 'catalogue.sqlite3'}"
        seal_key, seal_cert = _path(env, "DEMATFLOW_SEAL_KEY"), _path(env, "DEMATFLOW_SEAL_CERT")
        seal = SealSettings.from_env(env)  # checks the DEMATFLOW_SEAL_* variables together
        chain = tuple(Path(p) for p in env.get("DEMATFLOW_SEAL_CHAIN", "").split(os.pathsep) if p)
        trust = tuple(Path(p) for p in env.get("DEMATFLOW_SIGNATURE_TRUST_ROOTS", "").split(os.pathsep) if p)
        roots = tuple(Path(p) for p in env.get("DEMATFLOW_SEAL_TRUST_ROOTS", "").split(os.pathsep) if p)
        defaults = Limits()
        return cls(
            data_dir=data_dir,
            database_url=env.get("DEMATFLOW_DATABASE_URL") or default_db,
            broker_url=env.get("DEMATFLOW_BROKER_URL") or None,
            seal_key=seal_key,
            seal_cert=seal_cert,
            seal_chain=chain,
            seal_trust_roots=roots,
            tsa_url=env.get("DEMATFLOW_TSA_URL") or None,
            stamp_every_s=_number(env, "DEMATFLOW_STAMP_EVERY_S", 300.0),
            seal=seal,
            ocr_languages=env.get("DEMATFLOW_OCR_LANGUAGES", "fra+eng"),
            ocr_timeout=_number(env, "DEMATFLOW_OCR_TIMEOUT", 180.0),
            review_threshold=_number(env, "DEMATFLOW_REVIEW_THRESHOLD", 0.8),
            worker_processes=int(_number(env, "DEMATFLOW_WORKER_PROCESSES", os.cpu_count() or 1)),
            ocr_jobs=int(_number(env, "DEMATFLOW_OCR_JOBS", os.cpu_count() or 1)),
            in_flight=int(_number(env, "DEMATFLOW_IN_FLIGHT", 2)),
            stalled_s=_number(env, "DEMATFLOW_STALLED_S", 900.0),
            sweep_s=_number(env, "DEMATFLOW_SWEEP_S", 60.0),
            rules_dir=_path(env, "DEMATFLOW_RULES_DIR"),
            org_name=env.get("DEMATFLOW_ORG_NAME") or "Organisation acheteuse",
            org_siren=env.get("DEMATFLOW_ORG_SIREN") or None,
            s3=S3Settings.from_env(env),
            signature_trust_roots=trust,
            clamd=ClamdAddress.parse(clamd) if (clamd := env.get("DEMATFLOW_CLAMD")) else None,
            clamd_timeout=_number(env, "DEMATFLOW_CLAMD_TIMEOUT", 60.0),
            retention=RetentionSettings(
                personal_days=int(_number(env, "DEMATFLOW_RETENTION_PERSONAL_DAYS", 180)),
                year_end=_month_day(env, "DEMATFLOW_RETENTION_YEAR_END"),
                quarantine_days=int(_number(env, "DEMATFLOW_RETENTION_QUARANTINE_DAYS", 365)),
            ),
            limits=Limits(
                max_bytes=int(_number(env, "DEMATFLOW_MAX_BYTES", defaults.max_bytes)),
                max_pages=int(_number(env, "DEMATFLOW_MAX_PAGES", defaults.max_pages)),
                max_pixels=int(_number(env, "DEMATFLOW_MAX_PIXELS", defaults.max_pixels)),
                stage_timeout=_number(env, "DEMATFLOW_STAGE_TIMEOUT", defaults.stage_timeout),
                stage_memory=int(_number(env, "DEMATFLOW_STAGE_MEMORY", defaults.stage_memory)),
            ),
        )


def _month_day(env: Mapping[str, str], name: str) -> tuple[int, int]:
    raw = env.get(name) or "12-31"
    try:
        moment = datetime.strptime(f"2001-{raw}", "%Y-%m-%d")  # a year without 29 February
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r} is not a month and day such as 12-31") from exc
    return moment.month, moment.day


def _path(env: Mapping[str, str], name: str) -> Path | None:
    value = env.get(name)
    return Path(value) if value else None


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r} is not a number") from exc
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{name} must be positive, got {raw}")
    return value
