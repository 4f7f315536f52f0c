"""The queue-driven mode: a real dramatiq worker on the machine's Redis takes documents through."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from dramatiq import Worker
from dramatiq.brokers.redis import RedisBroker

from cli.samples import Sample
from dematflow.errors import ToolFailed
from pipeline.context import Services
from pipeline.records import Status
from pipeline.run import STAGE_FUNCTIONS
from signing import pdfsig
from tests.conftest import port_open, require, sample
from workers.actors import QUEUES, Actors


@pytest.fixture
def broker() -> Iterator[RedisBroker]:
    require(port_open("127.0.0.1", 6379), "Redis on 127.0.0.1:6379")
    broker = RedisBroker(url="redis://127.0.0.1:6379/0", namespace=f"dematflow-test-{uuid.uuid4().hex}")
    yield broker
    broker.flush_all()
    broker.close()


def wait_final(services: Services, ids: list[str], timeout: float = 240) -> list:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        docs = [services.catalogue.get(i) for i in ids]
        if all(d.status.final for d in docs):
            return docs
        time.sleep(0.2)
    raise AssertionError(f"not final after {timeout}s: {[(d.id, d.stage) for d in docs]}")


def through_worker(broker: RedisBroker, services: Services, ids: list[str], timeout: float = 240) -> list:  # type: ignore[type-arg]
    """Run a real dramatiq worker until every document is final."""
    worker = Worker(broker, worker_threads=1, worker_timeout=100)
    worker.start()
    try:
        return wait_final(services, ids, timeout)
    finally:
        worker.stop()


def test_documents_go_through_a_real_worker(
    broker: RedisBroker, services: Services, demo_set: list[Sample]
) -> None:
    actors = Actors(broker, lambda: services)
    # Given the files are received by a door (bytes kept, ids queued)...
    ids = {
        s.path.name: actors.submit(filename=s.path.name, data=s.path.read_bytes()).document_id
        for s in demo_set
    }
    # ...when a worker consumes the queues...
    worker = Worker(broker, worker_threads=1, worker_timeout=100)
    worker.start()
    try:
        docs = wait_final(services, list(ids.values()))
    finally:
        worker.stop()
    # ...then every document reached the status the demo expects, sealed where it was sealed.
    by_name = dict(zip(ids, docs, strict=True))
    for s in demo_set:
        doc = by_name[s.path.name]
        if s.expected_status == "quarantined":
            assert doc.status is Status.QUARANTINED
        else:
            assert doc.status is not Status.QUARANTINED, doc.reason
            assert pdfsig.check(services.store.get(doc.objects["sealed"].key)).all_valid


def test_redelivered_messages_do_not_repeat_a_step(
    broker: RedisBroker, services: Services, demo_set: list[Sample]
) -> None:
    actors = Actors(broker, lambda: services)
    s = sample(demo_set, "rib-")
    receipt = actors.submit(filename=s.path.name, data=s.path.read_bytes())
    for stage in STAGE_FUNCTIONS:  # a second delivery of every step, as after a worker crash
        actors.send(stage, receipt.document_id)
    worker = Worker(broker, worker_threads=1, worker_timeout=100)
    worker.start()
    try:
        [doc] = wait_final(services, [receipt.document_id])
        for queue in QUEUES:  # every extra delivery consumed too
            broker.join(queue, timeout=60_000)
    finally:
        worker.stop()
    assert doc.status is Status.ARCHIVED
    from pipeline import journal

    actions = [e.action for e in journal.entries(services.catalogue.engine, document_id=doc.id)]
    assert actions.count("sealed") == 1 and actions.count("archived") == 1


def test_exhausted_retries_quarantine_the_document(
    broker: RedisBroker, services: Services, demo_set: list[Sample], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Fault injection: the seal's time-stamping authority is down for good.
    def tsa_down(*_: object) -> object:
        raise ToolFailed("time-stamping authority unreachable")

    monkeypatch.setitem(STAGE_FUNCTIONS, "seal", tsa_down)
    actors = Actors(broker, lambda: services, max_retries=2, min_backoff_ms=10)
    s = sample(demo_set, "rib-")
    receipt = actors.submit(filename=s.path.name, data=s.path.read_bytes())
    [doc] = through_worker(broker, services, [receipt.document_id], timeout=120)
    assert doc.status is Status.QUARANTINED
    assert doc.reason == "seal failed: time-stamping authority unreachable"
    assert services.store.get(doc.objects["original"].key) == s.path.read_bytes()


def test_dematflow_worker_command_processes_submitted_files(
    tmp_path: Path, dev_keys: Path, demo_set: list[Sample]
) -> None:
    """The production doors: `dematflow submit` queues, `dematflow worker` (dramatiq CLI) processes."""
    require(port_open("127.0.0.1", 6379), "Redis on 127.0.0.1:6379")
    shutil.copytree(dev_keys, tmp_path / "data" / "keys")
    env = {
        **os.environ,
        "DEMATFLOW_DATA_DIR": str(tmp_path / "data"),
        "DEMATFLOW_BROKER_URL": "redis://127.0.0.1:6379/9",
    }
    redis_flush = RedisBroker(url=env["DEMATFLOW_BROKER_URL"])
    redis_flush.flush_all()
    cli = [sys.executable, "-m", "cli.main"]
    files = [str(sample(demo_set, p).path) for p in ("facture-FA", "rib-")]
    submitted = subprocess.run(
        [*cli, "submit", *files], env=env, capture_output=True, text=True, timeout=120, check=True
    )
    ids = [json.loads(line)["document_id"] for line in submitted.stdout.splitlines()]
    worker = subprocess.Popen(
        [*cli, "worker", "--processes", "1"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline, statuses = time.monotonic() + 180, {}
        while time.monotonic() < deadline and len(statuses) < len(ids):
            time.sleep(0.5)
            listed = subprocess.run(
                [*cli, "archive", "list", "--json"], env=env, capture_output=True, text=True, timeout=60
            )
            statuses = {
                d["document_id"]: d["status"]
                for d in map(json.loads, listed.stdout.splitlines())
                if d["status"] != "received"
            }
    finally:
        worker.terminate()
        _, stderr = worker.communicate(timeout=60)
    assert statuses == {i: "archived" for i in ids}, stderr[-2000:]
    redis_flush.flush_all()
    redis_flush.close()


def test_a_transient_failure_is_retried_not_quarantined(
    broker: RedisBroker, services: Services, demo_set: list[Sample], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Fault injection: the first seal attempt meets a broken connection, the retry succeeds.
    real_seal, calls = STAGE_FUNCTIONS["seal"], []

    def flaky(ctx: object, doc: object) -> object:
        calls.append(1)
        if len(calls) == 1:
            raise ToolFailed("connection reset by the time-stamping authority")
        return real_seal(ctx, doc)  # type: ignore[arg-type]

    monkeypatch.setitem(STAGE_FUNCTIONS, "seal", flaky)
    actors = Actors(broker, lambda: services, max_retries=3, min_backoff_ms=10)
    s = sample(demo_set, "rib-")
    receipt = actors.submit(filename=s.path.name, data=s.path.read_bytes())
    [doc] = through_worker(broker, services, [receipt.document_id], timeout=120)
    assert len(calls) == 2 and doc.status is Status.ARCHIVED, doc.reason
