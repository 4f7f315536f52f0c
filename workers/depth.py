"""How deep each dramatiq queue is, read from the broker without changing anything in it.

Redis: dramatiq's own keys (``NS:QUEUE`` the waiting ids, ``NS:QUEUE.DQ`` the delayed ones,
``NS:__acks__.WORKER.QUEUE`` what each worker fetched and has not acknowledged, ``NS:QUEUE.XQ`` the
dead-lettered). RabbitMQ: a passive declare of QUEUE, QUEUE.DQ and QUEUE.XQ, which counts the ready
messages only: what consumers hold unacknowledged (in flight, and delayed messages a worker holds
until they are due) is not told over AMQP (``rabbitmqctl list_queues name messages_unacknowledged``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dematflow.errors import ConfigError, StorageUnavailable

NAMESPACE = "dramatiq"  # RedisBroker's default key prefix, the one make_broker keeps


@dataclass(frozen=True)
class QueueDepth:
    """Message counts of one queue; None where the broker does not tell (or the queue is absent)."""

    queue: str
    declared: bool  # False: RabbitMQ has no such queue (nothing declared it yet); always True on Redis
    waiting: int | None
    delayed: int | None  # retries waiting for their backoff, and messages sent with a delay
    in_flight: int | None  # fetched by a worker, not acknowledged yet
    dead: int | None  # dead-lettered (dramatiq keeps them a week)
    consumers: int | None = None  # RabbitMQ only


def depths(
    url: str, queues: Sequence[str], *, namespace: str = NAMESPACE, timeout: float | None = None
) -> list[QueueDepth]:
    """``timeout``: seconds to connect and for each answer (None: the client library's defaults), so
    that a scrape meeting a broker that does not answer gives up in time."""
    if url.startswith(("redis://", "rediss://", "unix://")):
        return _redis_depths(url, queues, namespace, timeout)
    if url.startswith(("amqp://", "amqps://")):
        return _rabbitmq_depths(url, queues, timeout)
    raise ConfigError(f"unsupported broker URL scheme in {url.split('://')[0]!r}: use redis or amqp")


def _redis_depths(url: str, queues: Sequence[str], namespace: str, timeout: float | None) -> list[QueueDepth]:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        unacked = _redis_unacked(client, namespace)
        found = []
        for queue in queues:
            key = f"{namespace}:{queue}"
            waiting, dead = int(client.llen(key)), int(client.zcard(f"{key}.XQ"))
            delayed = int(client.llen(f"{key}.DQ")) + unacked.get(f"{queue}.DQ", 0)  # held until due
            # An empty Redis queue and one never used are the same (no key): both count as declared.
            found.append(QueueDepth(queue, True, waiting, delayed, unacked.get(queue, 0), dead))
        return found
    except redis.RedisError as exc:
        raise StorageUnavailable(f"Redis injoignable ({exc})") from exc
    finally:
        client.close()


def _redis_unacked(client: Any, namespace: str) -> dict[str, int]:
    """Unacknowledged messages per queue, summed over the workers (``__acks__.WORKER.QUEUE`` sets)."""
    prefix = f"{namespace}:__acks__."
    counts: dict[str, int] = {}
    for raw in client.scan_iter(match=f"{prefix}*", count=500):
        rest = raw.decode().removeprefix(prefix)
        _worker, _, queue = rest.partition(".")  # worker ids are UUIDs: no dot in them
        counts[queue] = counts.get(queue, 0) + int(client.scard(raw))
    return counts


def _rabbitmq_depths(url: str, queues: Sequence[str], timeout: float | None) -> list[QueueDepth]:
    import pika
    import pika.exceptions

    parameters = pika.URLParameters(url)
    if timeout is not None:
        parameters.socket_timeout = parameters.stack_timeout = timeout
    try:
        connection = pika.BlockingConnection(parameters)
    except pika.exceptions.AMQPError as exc:
        raise StorageUnavailable(f"RabbitMQ injoignable ({exc!r})") from exc
    try:
        found = []
        for queue in queues:
            main = _passive(connection, queue)
            delayed, dead = _passive(connection, f"{queue}.DQ"), _passive(connection, f"{queue}.XQ")
            found.append(
                QueueDepth(
                    queue,
                    main is not None,
                    main[0] if main else None,
                    delayed[0] if delayed else None,
                    None,
                    dead[0] if dead else None,
                    main[1] if main else None,
                )
            )
        return found
    finally:
        connection.close()


def _passive(connection: Any, queue: str) -> tuple[int, int] | None:
    """(ready messages, consumers) of ``queue``, or None if it does not exist; nothing is created."""
    import pika.exceptions

    channel = connection.channel()  # a refused passive declare closes its channel: one per queue
    try:
        ok = channel.queue_declare(queue=queue, passive=True)
    except pika.exceptions.ChannelClosedByBroker as exc:
        if exc.reply_code == 404:
            return None
        raise StorageUnavailable(f"RabbitMQ refuse de décrire {queue} ({exc.reply_text})") from exc
    channel.close()
    return int(ok.method.message_count), int(ok.method.consumer_count)
