"""Build the dramatiq broker named by a URL, explicitly (never dramatiq's implicit global default)."""

from __future__ import annotations

from dramatiq import Broker

from dematflow.errors import ConfigError


def make_broker(url: str | None) -> Broker:
    """Redis (``redis://``) or RabbitMQ (``amqp://``)."""
    if not url:
        raise ConfigError("DEMATFLOW_BROKER_URL is not set (e.g. redis://127.0.0.1:6379/0)")
    if url.startswith(("redis://", "rediss://", "unix://")):
        from dramatiq.brokers.redis import RedisBroker

        return RedisBroker(url=url)
    if url.startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        return RabbitmqBroker(url=url)
    raise ConfigError(f"unsupported broker URL scheme in {url.split('://')[0]!r}: use redis or amqp")
