"""One queue per kind of work, and `dematflow queue status` read from the real Redis and RabbitMQ."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import dramatiq
import pika
import pika.exceptions
import pytest
import redis
from dramatiq import Message, Worker
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker

from cli.queue import queue_names
from dematflow.errors import InvalidRequest
from pipeline.context import Services, open_services
from pipeline.intake import receive
from pipeline.queues import pipeline_view
from tests.conftest import make_settings, port_open, require
from workers.actors import CAPTURE, CHECK, LEGACY_QUEUES, MAINTENANCE, QUEUES, SEAL, Actors
from workers.broker import make_broker
from workers.depth import depths

REDIS_URL = "redis://127.0.0.1:6379/11"  # this file's own database, flushed before and after
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def redis_broker() -> Iterator[RedisBroker]:
    require(port_open("127.0.0.1", 6379), "Redis on 127.0.0.1:6379")
    redis.Redis.from_url(REDIS_URL).flushdb()
    broker = make_broker(REDIS_URL)
    assert isinstance(broker, RedisBroker)
    yield broker
    broker.close()
    redis.Redis.from_url(REDIS_URL).flushdb()


def by_queue(url: str, queues: tuple[str, ...] = QUEUES + LEGACY_QUEUES) -> dict[str, tuple[object, ...]]:
    return {d.queue: (d.waiting, d.delayed, d.in_flight, d.dead) for d in depths(url, queues)}


def test_each_kind_of_work_has_its_queue(redis_broker: RedisBroker, services: Services) -> None:
    actors = Actors(redis_broker, lambda: services)
    queues = {stage: actor.queue_name for stage, actor in actors.steps.items()}
    assert queues == {
        "ingest": CAPTURE,
        "classify": CAPTURE,
        "extract": CAPTURE,
        "validate": CHECK,
        "seal": SEAL,
        "archive": SEAL,
    }
    assert actors.seal_days.queue_name == actors.exhausted.queue_name == MAINTENANCE
    # the queue of the previous release is still declared, so a default worker drains it
    assert set(QUEUES + LEGACY_QUEUES) <= redis_broker.get_declared_queues()


def test_worker_queues_are_checked() -> None:
    assert queue_names("dematflow.capture, dematflow.check") == ["dematflow.capture", "dematflow.check"]
    with pytest.raises(InvalidRequest, match="inconnue"):
        queue_names("dematflow.capture,dematflow.typo")


def test_a_message_left_in_the_old_ocr_queue_is_still_consumed(
    redis_broker: RedisBroker, services: Services
) -> None:
    # Given a classify message sent by the previous release to its queue, dematflow.ocr...
    Actors(redis_broker, lambda: services)
    old: Message[None] = Message(
        queue_name="dematflow.ocr", actor_name="dematflow.classify", args=("0" * 32,), kwargs={}, options={}
    )
    redis_broker.enqueue(old)
    assert by_queue(REDIS_URL)["dematflow.ocr"][0] == 1
    # ...a worker of this release started with its defaults (every queue) takes it (the document is
    # unknown here: the actor drops it, which is enough to see it consumed and acknowledged).
    worker = Worker(redis_broker, worker_threads=1, worker_timeout=100)
    worker.start()
    try:
        deadline = time.monotonic() + 20
        while by_queue(REDIS_URL)["dematflow.ocr"][:3] != (0, 0, 0) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        worker.stop()
    assert by_queue(REDIS_URL)["dematflow.ocr"] == (0, 0, 0, 0)


def test_redis_depths_count_waiting_delayed_in_flight_and_dead(
    redis_broker: RedisBroker, services: Services
) -> None:
    actors = Actors(redis_broker, lambda: services)
    actors.send("ingest", "a" * 32)  # waiting in capture
    actors.steps["validate"].send_with_options(args=("b" * 32,), delay=600_000)  # delayed in check
    consumer = redis_broker.consume(SEAL, prefetch=2, timeout=1000)
    try:
        actors.send("seal", "c" * 32)
        held = next(m for m in consumer if m is not None)  # fetched, never acknowledged: in flight
        actors.send("archive", "d" * 32)
        dead = next(m for m in consumer if m is not None and m.message_id != held.message_id)
        consumer.nack(dead)  # dead-lettered
        found = by_queue(REDIS_URL)
    finally:
        consumer.close()
    assert found[CAPTURE] == (1, 0, 0, 0)
    assert found[CHECK] == (0, 1, 0, 0)
    assert found[SEAL] == (0, 0, 1, 1)
    assert found[MAINTENANCE] == (0, 0, 0, 0)


def test_queue_status_json_shows_queues_and_the_catalogue(
    redis_broker: RedisBroker, tmp_path: Path, dev_keys: Path
) -> None:
    # Given two documents received (one of them without progress for longer than DEMATFLOW_STALLED_S)
    settings = replace(make_settings(tmp_path, dev_keys), stalled_s=1.0)
    services = open_services(settings)
    actors = Actors(redis_broker, lambda: services)
    first = actors.submit(filename="a.xml", data=b"<a/>").document_id
    time.sleep(1.2)
    receive(services, filename="b.xml", data=b"<b/>")
    view = pipeline_view(services)
    assert [(w.stage, w.documents) for w in view.waiting] == [("ingest", 2)]
    assert view.waiting[0].oldest_s >= 1.0
    assert view.stalled == (first,)
    # When `dematflow queue status --json` runs, Then it tells the same, and the queues beside.
    env = {
        **os.environ,
        "DEMATFLOW_DATA_DIR": str(settings.data_dir),
        "DEMATFLOW_BROKER_URL": REDIS_URL,
        "DEMATFLOW_STALLED_S": "1",
        "COLUMNS": "200",
    }
    cmd = [sys.executable, "-m", "cli.main", "queue", "status", "--json"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout)
    queues = {q["queue"]: q for q in answer["queues"]}
    assert set(queues) == set(QUEUES + LEGACY_QUEUES)
    assert queues[CAPTURE]["waiting"] == 1
    assert answer["pipeline"][0]["stage"] == "ingest" and answer["pipeline"][0]["documents"] == 2
    assert first in answer["stalled"]["ids"]  # the second may have stalled too by now
    table = subprocess.run(cmd[:-1], capture_output=True, text=True, timeout=60, env=env)
    assert table.returncode == 0 and "dematflow.capture" in table.stdout, table.stderr


@pytest.fixture
def rabbitmq_queue() -> Iterator[tuple[RabbitmqBroker, str]]:
    """A queue of this test's own (unique name), purged and deleted afterwards with its DQ and XQ."""
    require(port_open("127.0.0.1", 5672), "RabbitMQ on 127.0.0.1:5672")
    broker = RabbitmqBroker(url=AMQP_URL)
    queue = f"dematflow-test-{uuid.uuid4().hex[:12]}"
    yield broker, queue
    broker.close()
    with pika.BlockingConnection(pika.URLParameters(AMQP_URL)) as conn:
        for name in (queue, f"{queue}.DQ", f"{queue}.XQ"):
            channel = conn.channel()
            try:
                channel.queue_purge(name)
                channel.queue_delete(name)
                channel.close()
            except pika.exceptions.ChannelClosedByBroker:  # never declared: nothing to purge
                pass


def test_rabbitmq_depths_through_a_passive_declare(rabbitmq_queue: tuple[RabbitmqBroker, str]) -> None:
    broker, queue = rabbitmq_queue
    actor = dramatiq.actor(broker=broker, actor_name=f"{queue}.noop", queue_name=queue)(lambda _x: None)
    actor.send("dead")
    consumer = broker.consume(queue, prefetch=1, timeout=1000)
    try:
        message = next(m for m in consumer if m is not None)
        consumer.nack(message)  # dead-lettered to QUEUE.XQ
    finally:
        consumer.close()
    actor.send("waiting")
    actor.send_with_options(args=("later",), delay=600_000)
    deadline = time.monotonic() + 10
    while (found := by_queue(AMQP_URL, (queue,))[queue]) != (1, 1, None, 1) and time.monotonic() < deadline:
        time.sleep(0.1)  # the dead-lettering is asynchronous in RabbitMQ
    assert found == (1, 1, None, 1)  # in flight: not told over AMQP
    # a queue nobody declared is reported absent, and still not created by looking
    absent = f"{queue}-absent"
    assert [d.declared for d in depths(AMQP_URL, (absent,))] == [False]
    assert [d.declared for d in depths(AMQP_URL, (absent,))] == [False]
