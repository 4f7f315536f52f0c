"""Settings of the HTTP door, built once at start-up from DEMATFLOW_API_* variables."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dematflow.errors import ConfigError


@dataclass(frozen=True)
class ApiSettings:
    secure_cookies: bool = True  # browsers treat http://localhost as secure, so this holds in tests too
    cors_origins: tuple[str, ...] = ()  # empty: CORS off
    login_attempts: int = 5  # failed sign-ins allowed per name and address...
    login_window_s: float = 900.0  # ...within this many seconds
    workers: int = 1  # documents processed at once in-process (no broker)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ApiSettings:
        env = os.environ if env is None else env
        secure = env.get("DEMATFLOW_API_SECURE_COOKIES", "true").lower()
        if secure not in ("true", "false", "1", "0"):
            raise ConfigError("DEMATFLOW_API_SECURE_COOKIES must be true or false")
        origins = tuple(o.strip() for o in env.get("DEMATFLOW_API_CORS_ORIGINS", "").split(",") if o.strip())
        try:
            attempts = int(env.get("DEMATFLOW_API_LOGIN_ATTEMPTS", "5"))
            workers = int(env.get("DEMATFLOW_API_WORKERS", "1"))
        except ValueError as exc:
            raise ConfigError(f"DEMATFLOW_API_* must be whole numbers: {exc}") from exc
        return cls(
            secure_cookies=secure in ("true", "1"),
            cors_origins=origins,
            login_attempts=max(1, attempts),
            workers=max(1, workers),
        )


def session_secret(keys_dir: Path) -> str:
    """The key that signs portal sessions, made once and kept beside the seal's keys (mode 0600)."""
    path = keys_dir / "session.key"
    if not path.exists():
        keys_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
    return path.read_text().strip()
