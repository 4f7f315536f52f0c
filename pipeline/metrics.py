"""Prometheus metrics of the pipeline, defined in one place: stage timings, OCR, retries, and the
collectors that read documents by status and queue depths when scraped.

The counters and the histogram live in ``REGISTRY``, one per process like the logging tree: whichever
door runs a stage (embedded, API threads, a worker) adds to them. The API serves them beside its own,
workers on their own port (``workers.metrics``). Label values are bounded (stage names, outcomes,
error class names, statuses, queue names): never a document id, a filename or an error message.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram, Metric
from prometheus_client.core import GaugeMetricFamily

from pipeline.records import Status
from pipeline.retry import retryable

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    OK = "ok"
    RETRY = "retry"  # failed with an error a retry may help (tried again while the policy allows)
    FAILED = "failed"  # failed with an error no retry helps (a tool missing, a setting wrong)
    QUARANTINED = "quarantined"  # the step put the document in quarantine (bad input)


REGISTRY = CollectorRegistry()
STAGE_SECONDS = Histogram(
    "dematflow_stage_seconds",
    "Time one pipeline stage took on one document, by stage and outcome "
    "(ok, retry: failed and may be tried again, failed: no retry helps, quarantined)",
    ["stage", "outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900),
    registry=REGISTRY,
)
OCR_PAGES = Counter(
    "dematflow_ocr_pages",
    "Pages read by OCR. Pages per second: "
    "rate(dematflow_ocr_pages_total[5m]) / rate(dematflow_ocr_seconds_total[5m])",
    registry=REGISTRY,
)
OCR_SECONDS = Counter(
    "dematflow_ocr_seconds",
    "Seconds spent reading pages by OCR (the divisor of OCR pages per second)",
    registry=REGISTRY,
)
RETRIES = Counter(
    "dematflow_retries",
    "Stage steps that failed and are tried again, by stage and error class",
    ["stage", "error"],
    registry=REGISTRY,
)


@dataclass
class StageTimer:
    outcome: Outcome = Outcome.OK


@contextmanager
def timed(stage: str) -> Iterator[StageTimer]:
    """Time one step of ``stage``: ok unless the block sets another outcome or raises (retry or
    failed, as the error says)."""
    timer, start = StageTimer(), time.perf_counter()
    try:
        yield timer
    except BaseException as err:
        timer.outcome = Outcome.RETRY if retryable(err) else Outcome.FAILED
        raise
    finally:
        STAGE_SECONDS.labels(stage, timer.outcome.value).observe(time.perf_counter() - start)


def retried(stage: str, err: BaseException) -> None:
    RETRIES.labels(stage, type(err).__name__).inc()


def ocr_done(pages: int, seconds: float) -> None:
    if pages:
        OCR_PAGES.inc(pages)
        OCR_SECONDS.inc(seconds)


class DocumentsByStatus:
    """``dematflow_documents{status}`` from the catalogue when scraped (one GROUP BY), every status
    present (0 when none), so that it is always right whichever process changed the documents."""

    def __init__(self, count: Callable[[], Mapping[str, int]]) -> None:
        self.count = count

    def describe(self) -> Iterable[Metric]:
        return [self._family()]

    def collect(self) -> Iterable[Metric]:
        try:
            counts = self.count()
        except Exception as exc:  # a scrape answers without them rather than fail
            log.warning("documents by status not counted: %s", exc)
            return []
        family = self._family()
        for status in Status:
            family.add_metric([status.value], counts.get(status.value, 0))
        return [family]

    @staticmethod
    def _family() -> GaugeMetricFamily:
        return GaugeMetricFamily(
            "dematflow_documents", "Documents in the catalogue by status", labels=["status"]
        )


class Depth(Protocol):
    """One queue's message counts (``workers.depth.QueueDepth``); None where the broker does not tell."""

    @property
    def queue(self) -> str: ...
    @property
    def waiting(self) -> int | None: ...
    @property
    def delayed(self) -> int | None: ...
    @property
    def in_flight(self) -> int | None: ...
    @property
    def dead(self) -> int | None: ...


DEPTH_STATES = ("waiting", "delayed", "in_flight", "dead")


class QueueDepths:
    """``dematflow_queue_depth{queue,state}`` read from the broker when scraped, and
    ``dematflow_broker_up``: 0 (and no depths) when it did not answer; the scrape itself never fails."""

    def __init__(self, read: Callable[[], Sequence[Depth]]) -> None:
        self.read = read

    def describe(self) -> Iterable[Metric]:
        return self._families()

    def collect(self) -> Iterable[Metric]:
        up, depth = self._families()
        try:
            found = self.read()
        except Exception as exc:  # the broker is down or refuses: say so, answer anyway
            log.warning("queue depths not read: %s", exc)
            up.add_metric([], 0)
            return [up]
        up.add_metric([], 1)
        for d in found:
            for state in DEPTH_STATES:
                value = getattr(d, state)
                if value is not None:
                    depth.add_metric([d.queue, state], value)
        return [up, depth]

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
        up = GaugeMetricFamily("dematflow_broker_up", "1 when the broker answered this scrape, else 0")
        depth = GaugeMetricFamily(
            "dematflow_queue_depth",
            "Messages per queue and state (waiting, delayed, in_flight, dead), read from the broker "
            "when scraped; a state the broker does not tell (RabbitMQ: in_flight) is left out",
            labels=["queue", "state"],
        )
        return up, depth
