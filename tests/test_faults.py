"""Faults survived (issue 12): worker processes killed with -9 mid-batch, and a broker restart, with the
real Redis, RabbitMQ and PostgreSQL. Nothing is lost or duplicated; the figures are printed (-s)."""

from __future__ import annotations

import json
import os
import random
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pika
import pytest
import redis

from pipeline.context import Services, open_services
from pipeline.settings import Settings
from tests import rabbitmq_server
from tests.conftest import fresh_database, make_settings, port_open, require
from tests.fault_batch import Workers, check_batch, drive, submit, write_batch

pytestmark = pytest.mark.services

DOCUMENTS = int(os.environ.get("DEMATFLOW_FAULT_DOCUMENTS", "200"))
REDIS_URL = "redis://127.0.0.1:6379/14"  # this module's own database (test_watch has 12): only it is flushed
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
# dramatiq's RabbitMQ broker has no namespace: the actors' queues, purged only inside these tests.
QUEUES = ("dematflow.capture", "dematflow.check", "dematflow.seal", "dematflow", "dematflow.ocr")
AMQP_QUEUES = [f"{q}{s}" for q in QUEUES for s in ("", ".DQ", ".XQ")]


@pytest.fixture
def pg_url() -> Iterator[str]:
    with fresh_database("dematflow_faults") as url:
        yield url


def purge_rabbitmq() -> None:
    with pika.BlockingConnection(pika.URLParameters(AMQP_URL)) as conn:
        for queue in AMQP_QUEUES:
            channel = conn.channel()
            try:
                channel.queue_purge(queue)
                channel.close()
            except pika.exceptions.ChannelClosedByBroker:  # never declared: nothing to purge
                pass


@pytest.fixture
def stack(tmp_path: Path, dev_keys: Path, pg_url: str) -> Iterator[tuple[Settings, Services]]:
    settings = replace(make_settings(tmp_path, dev_keys), database_url=pg_url)
    services = open_services(settings)
    yield settings, services
    services.catalogue.engine.dispose()


def worker_env(settings: Settings, broker_url: str) -> dict[str, str]:
    return {**os.environ, "DEMATFLOW_DATA_DIR": str(settings.data_dir),
            "DEMATFLOW_DATABASE_URL": settings.database_url, "DEMATFLOW_BROKER_URL": broker_url}  # fmt: skip


class RedisProbe:
    """Reads dramatiq's Redis keys: a worker's unacknowledged messages sit in its ``__acks__`` sets
    until maintenance finds its heartbeat stale and puts them back in their queues."""

    def __init__(self, url: str) -> None:
        self.url = url

    def _dead(self, r: redis.Redis, kill_time: float) -> dict[str, list[str]]:
        stale = [str(w) for w in r.zrangebyscore("dramatiq:__heartbeats__", 0, kill_time * 1000)]
        return {w: [str(k) for k in r.keys(f"dramatiq:__acks__.{w}.*")] for w in stale}

    def held(self, kill_time: float) -> set[str]:
        time.sleep(3)  # live workers fetch about once a second: the silent one is the killed one
        with redis.Redis.from_url(self.url, decode_responses=True) as r:
            docs = set()
            for worker, keys in self._dead(r, kill_time).items():
                for key in keys:
                    queue = key.removeprefix(f"dramatiq:__acks__.{worker}.")
                    for message_id in r.smembers(key):
                        data = r.hget(f"dramatiq:{queue}.msgs", str(message_id))
                        if data is not None:
                            docs |= {str(a) for a in json.loads(str(data))["args"][:1]}
            return docs

    def requeued(self, kill_time: float) -> bool:
        with redis.Redis.from_url(self.url, decode_responses=True) as r:
            return not any(self._dead(r, kill_time).values())


@pytest.mark.timeout(240)
@pytest.mark.parametrize("broker", ["redis", "rabbitmq"])
def test_killed_workers_lose_and_duplicate_nothing(
    broker: str, stack: tuple[Settings, Services], tmp_path: Path
) -> None:
    settings, services = stack
    if broker == "redis":
        require(port_open("127.0.0.1", 6379), "Redis on 127.0.0.1:6379")
        url, probe = REDIS_URL, RedisProbe(REDIS_URL)
        redis.Redis.from_url(url).flushdb()
    else:
        require(port_open("127.0.0.1", 5672), "RabbitMQ on 127.0.0.1:5672")
        url, probe = AMQP_URL, None  # RabbitMQ redelivers as soon as the connection drops
        purge_rabbitmq()
    env = worker_env(settings, url)
    files = write_batch(tmp_path / "batch", DOCUMENTS)
    workers = Workers(env, tmp_path)
    try:
        # Given a batch submitted to the queue and two worker groups...
        ids = submit(env, files)
        workers.start(0)
        workers.start(1)
        # ...when worker groups are killed with -9 at random points and restarted...
        figures = drive(services, workers, ids, rng=random.Random(12), kills=4, timeout=200,
                        probe=probe)  # fmt: skip
    finally:
        workers.stop()
        if broker == "redis":
            redis.Redis.from_url(url).flushdb()
        else:
            purge_rabbitmq()
    # ...then every file is exactly one document, at a final status, archived once; the journal holds.
    figures.statuses, figures.retries = check_batch(services, files, ids, env), workers.retries()
    print("\n" + figures.line(f"kill -9 with {broker}"))
    assert figures.kills >= 2
    assert figures.statuses == {"archived": DOCUMENTS}
    assert figures.max_back_s < 60  # a dead worker's messages come back within a minute


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.timeout(240)
def test_a_broker_restart_mid_batch_is_retried_then_recovered(
    stack: tuple[Settings, Services], tmp_path: Path
) -> None:
    server = shutil.which("redis-server")
    require(server is not None, "redis-server (for a private, restartable broker)")
    settings, services = stack
    port, data = free_port(), tmp_path / "redis"
    data.mkdir()
    argv = [str(server), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes",
            "--appendfsync", "always", "--dir", str(data)]  # fmt: skip

    def start_redis() -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while not port_open("127.0.0.1", port):
            assert time.monotonic() < deadline and proc.poll() is None, "private redis-server did not start"
            time.sleep(0.1)
        return proc

    redis_proc = start_redis()
    # A message lost in the restart (an acknowledgement that failed while the connection was down
    # leaves it with a live worker, which maintenance never takes back) is sent again by the sweep.
    env = worker_env(settings, f"redis://127.0.0.1:{port}/0") | {
        "DEMATFLOW_STALLED_S": "45",
        "DEMATFLOW_SWEEP_S": "5",
    }
    files = write_batch(tmp_path / "batch", max(DOCUMENTS // 4, 20))
    workers = Workers(env, tmp_path)

    def restart_broker() -> None:
        nonlocal redis_proc
        redis_proc.kill()  # kill -9: whatever it acknowledged is in the append-only file
        redis_proc.wait(timeout=30)
        time.sleep(5)  # workers meet a closed connection for a few seconds
        redis_proc = start_redis()

    try:
        # Given a batch in flight on a private Redis...
        ids = submit(env, files)
        workers.start(0)
        workers.start(1)
        # ...when the broker is killed and restarted mid-batch...
        figures = drive(services, workers, ids, rng=random.Random(5), kills=0, timeout=200,
                        fault=restart_broker)  # fmt: skip
    finally:
        workers.stop()
        redis_proc.terminate()
        redis_proc.wait(timeout=30)
    # ...then the workers retried, and recovered: nothing lost, nothing duplicated, the journal holds.
    figures.statuses, figures.retries = check_batch(services, files, ids, env), workers.retries()
    print("\n" + figures.line("redis-server kill -9 and restart"))
    assert figures.kills == 1 and figures.retries > 0 and figures.statuses == {"archived": len(files)}


@pytest.mark.timeout(360)
def test_a_rabbitmq_restart_mid_batch_is_retried_then_recovered(
    stack: tuple[Settings, Services], tmp_path: Path
) -> None:
    require(rabbitmq_server.available(), "rabbitmq-server and epmd (for a private, restartable broker)")
    settings, services = stack
    rabbit = rabbitmq_server.PrivateRabbitmq(tmp_path / "rabbitmq")
    boots: list[float] = []
    env = worker_env(settings, rabbit.url) | {"DEMATFLOW_STALLED_S": "45", "DEMATFLOW_SWEEP_S": "5"}
    files = write_batch(tmp_path / "batch", max(DOCUMENTS // 4, 20))
    workers = Workers(env, tmp_path)

    def restart_broker() -> None:
        rabbit.kill()  # kill -9: persistent messages in durable queues survive; unacked ones come back
        time.sleep(5)  # workers meet a closed connection for a few seconds
        boots.append(rabbit.start())

    try:
        boots.append(rabbit.start())
        # Given a batch in flight on a private RabbitMQ...
        ids = submit(env, files)
        workers.start(0)
        workers.start(1)
        # ...when the broker is killed and restarted mid-batch...
        figures = drive(services, workers, ids, rng=random.Random(5), kills=0, timeout=240,
                        fault=restart_broker)  # fmt: skip
    finally:
        workers.stop()
        rabbit.stop()
    # ...then the workers retried, and recovered: nothing lost, nothing duplicated, the journal holds.
    figures.statuses, figures.retries = check_batch(services, files, ids, env), workers.retries()
    print(
        "\n" + figures.line("rabbitmq-server kill -9 and restart"),
        f"(boot {boots[0]:.1f} s, restart {boots[-1]:.1f} s)",
    )
    assert figures.kills == 1 and figures.retries > 0 and figures.statuses == {"archived": len(files)}
