"""Shared fixtures: embedded-mode services in a temp dir, the demo set, and service availability."""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from cli.samples import Sample, make_demo_set
from pipeline.context import Services, open_services
from pipeline.settings import Settings
from signing.credentials import ensure_dev_credentials

IN_CI = os.environ.get("CI") == "true"
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def require(available: bool, what: str) -> None:
    """Skip on a laptop without the service; in CI a missing service is a failure, never a skip."""
    if not available:
        if IN_CI:
            pytest.fail(f"{what} is required in CI but is not available")
        pytest.skip(f"{what} not available")


def port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((host, port)) == 0


@contextmanager
def fresh_database(prefix: str = "dematflow_test") -> Iterator[str]:
    """The URL of a new PostgreSQL database, dropped after (whatever is still connected to it)."""
    from sqlalchemy import create_engine, text

    require(port_open("127.0.0.1", 5432), "PostgreSQL on 127.0.0.1:5432")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def pg_url() -> Iterator[str]:
    with fresh_database() as url:
        yield url


@pytest.fixture(scope="session")
def dev_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    keys = tmp_path_factory.mktemp("keys")
    ensure_dev_credentials(keys)
    return keys


def make_settings(root: Path, dev_keys: Path, **overrides: object) -> Settings:
    """Embedded defaults under ``root``, reusing one generated development seal for speed."""
    data = root / "data"
    if not (data / "keys").exists():
        shutil.copytree(dev_keys, data / "keys")
    env = {"DEMATFLOW_DATA_DIR": str(data)}
    settings = Settings.from_env(env)
    return settings if not overrides else Settings(**{**settings.__dict__, **overrides})


@pytest.fixture
def settings(tmp_path: Path, dev_keys: Path) -> Settings:
    return make_settings(tmp_path, dev_keys)


@pytest.fixture
def services(settings: Settings) -> Services:
    return open_services(settings)


@pytest.fixture(scope="session")
def demo_set(tmp_path_factory: pytest.TempPathFactory) -> list[Sample]:
    return make_demo_set(tmp_path_factory.mktemp("demo"))


def sample(demo_set: list[Sample], prefix: str) -> Sample:
    return next(s for s in demo_set if s.path.name.startswith(prefix))
