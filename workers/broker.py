"""Build the dramatiq broker named by a URL, explicitly (never dramatiq's implicit global default)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from dramatiq import Broker

from dematflow.errors import ConfigError

HEARTBEAT_S = 20.0  # a Redis worker silent this long is dead: its unacked messages go back to the queue
# Maintenance (requeueing a dead worker's messages) runs on the queue being fetched, with this chance
# per fetch, out of dramatiq's scale of a million. dramatiq's default (1 in 1000) left messages with a
# dead worker for 12-14 minutes; at 1 in 10, idle consumers polling about once a second bring them back
# a few seconds after the heartbeat timeout. Without a dead worker it costs two small sorted-set reads.
MAINTENANCE_CHANCE = 100_000


def make_broker(url: str | None, env: Mapping[str, str] | None = None) -> Broker:
    """Redis (``redis://``) or RabbitMQ (``amqp://``); ``env`` (default: the process's) may set
    DEMATFLOW_BROKER_HEARTBEAT_S, the seconds after which a silent Redis worker counts as dead."""
    if not url:
        raise ConfigError("DEMATFLOW_BROKER_URL is not set (e.g. redis://127.0.0.1:6379/0)")
    if url.startswith(("redis://", "rediss://", "unix://")):
        from dramatiq.brokers.redis import RedisBroker

        return RedisBroker(
            url=url,
            heartbeat_timeout=int(heartbeat_s(os.environ if env is None else env) * 1000),
            maintenance_chance=MAINTENANCE_CHANCE,
        )
    if url.startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        return RabbitmqBroker(url=url)  # unacked messages come back as soon as the connection drops
    raise ConfigError(f"unsupported broker URL scheme in {url.split('://')[0]!r}: use redis or amqp")


def heartbeat_s(env: Mapping[str, str]) -> float:
    """Live workers fetch about once a second, so a few seconds is the floor; a minute is dramatiq's
    default. Shorter brings a dead worker's messages back sooner."""
    raw = env.get("DEMATFLOW_BROKER_HEARTBEAT_S") or str(HEARTBEAT_S)
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"DEMATFLOW_BROKER_HEARTBEAT_S must be a number of seconds, not {raw!r}") from None
    if not 5 <= value <= 3600:
        raise ConfigError(f"DEMATFLOW_BROKER_HEARTBEAT_S must be between 5 and 3600 seconds, not {raw}")
    return value
