"""A worker process's Prometheus metrics on a port of its own, when DEMATFLOW_METRICS_PORT is set.

dramatiq runs ``--processes N`` processes, each with its own counters: each serves them on the first
free port from DEMATFLOW_METRICS_PORT up (N processes: PORT to PORT+N-1, one scrape target each;
Prometheus sums over them). No shared multiprocess directory to clean, no exposition process; the
catalogue's counts and the queue depths are the API's to serve, once, not every worker's.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from prometheus_client import CollectorRegistry, ProcessCollector, start_http_server

from dematflow.errors import ConfigError
from pipeline import metrics

log = logging.getLogger(__name__)

MAX_PROCESSES = 64  # ports tried from the base one: more worker processes than this on one host is odd


def port_from_env(env: Mapping[str, str]) -> int | None:
    """The base port, or None (the default): no metrics server."""
    raw = env.get("DEMATFLOW_METRICS_PORT", "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= 65535 - MAX_PROCESSES:
        raise ConfigError(f"DEMATFLOW_METRICS_PORT must be a TCP port number, not {raw!r}")
    return int(raw)


def serve(base: int, *, host: str = "0.0.0.0", tries: int = MAX_PROCESSES) -> int:
    """Serve this process's metrics on the first free port from ``base``; return it."""
    registry = CollectorRegistry()
    registry.register(metrics.REGISTRY)
    ProcessCollector(registry=registry)  # this process's memory and CPU (Linux)
    for port in range(base, base + tries):
        try:
            start_http_server(port, addr=host, registry=registry)
        except OSError:  # taken, most likely by a sibling process
            continue
        log.info("metrics on port %d", port)
        return port
    raise ConfigError(f"no free port for metrics from {base} to {base + tries - 1}")
