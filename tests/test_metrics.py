"""Prometheus metrics: stage timings, OCR pages, retries and documents by status in embedded mode and
through a worker; queue depths and the broker's state through a real `dematflow serve`; a worker's own
metrics port."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from dramatiq import Worker
from dramatiq.brokers.stub import StubBroker
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from cli.samples import Sample
from dematflow.errors import ConfigError, StorageUnavailable
from pipeline import metrics
from pipeline.context import Services
from pipeline.records import STAGES, Status
from pipeline.retry import RetryPolicy
from pipeline.run import STAGE_FUNCTIONS, process
from tests.api_server import Server, free_port, start_server
from tests.conftest import port_open, require, sample
from workers import metrics as worker_metrics
from workers.actors import Actors

REDIS_URL = "redis://127.0.0.1:6379/15"  # read only here; a db no other test uses


def value(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


def stage_count(stage: str, outcome: str) -> float:
    return value("dematflow_stage_seconds_count", stage=stage, outcome=outcome)


def samples_of(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """(sample name, sorted labels) -> value, from the Prometheus text format."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def flaky(stage: str, error: Exception) -> Callable[..., object]:
    """The real ``stage``, failing once with ``error`` first."""
    real, calls = STAGE_FUNCTIONS[stage], []

    def once(ctx: object, doc: object) -> object:
        calls.append(1)
        if len(calls) == 1:
            raise error
        return real(ctx, doc)  # type: ignore[arg-type]

    return once


# --- embedded mode -----------------------------------------------------------------------------------


def test_embedded_mode_times_stages_counts_ocr_pages_and_documents_by_status(
    services: Services, demo_set: list[Sample]
) -> None:
    ingested = stage_count("ingest", "ok")
    pages, ocr_s = value("dematflow_ocr_pages_total"), value("dematflow_ocr_seconds_total")
    # Given a Factur-X invoice and a scanned one, When both are processed in this process,
    for prefix in ("facture-facturx", "scan-"):
        s = sample(demo_set, prefix)
        doc = process(services, filename=s.path.name, data=s.path.read_bytes()).document
        assert doc.status.final and doc.status is not Status.QUARANTINED, doc.reason
    # Then every stage was timed once per document, here in the one orchestration function,
    assert stage_count("ingest", "ok") - ingested >= 2
    assert all(stage_count(stage, "ok") >= 2 for stage in STAGES)
    # the scan's page was read by OCR, and that took time,
    assert value("dematflow_ocr_pages_total") - pages >= 1
    assert value("dematflow_ocr_seconds_total") > ocr_s
    # and the documents by status, counted when scraped, are the catalogue's.
    registry = CollectorRegistry()
    registry.register(metrics.DocumentsByStatus(services.catalogue.count))
    counts = services.catalogue.count()
    assert sum(counts.values()) == 2
    for status in Status:
        got = registry.get_sample_value("dematflow_documents", {"status": status.value})
        assert got == counts.get(status.value, 0), status


def test_bad_input_is_timed_as_quarantined(services: Services) -> None:
    before = sum(stage_count(stage, "quarantined") for stage in STAGES)
    doc = process(services, filename="broken.pdf", data=b"%PDF-1.7 not really").document
    assert doc.status is Status.QUARANTINED
    assert sum(stage_count(stage, "quarantined") for stage in STAGES) == before + 1


def test_an_embedded_retry_is_counted_by_stage_and_error_class(
    services: Services, demo_set: list[Sample], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the archive is unreachable once during ingest,
    monkeypatch.setitem(STAGE_FUNCTIONS, "ingest", flaky("ingest", StorageUnavailable("S3 down: id 42")))
    retries = value("dematflow_retries_total", stage="ingest", error="StorageUnavailable")
    failed_once = stage_count("ingest", "retry")
    s = sample(demo_set, "rib-")
    # When the document is processed with a retry allowed,
    policy = RetryPolicy(max_retries=1, min_backoff_ms=1, max_backoff_ms=1)
    doc = process(services, filename=s.path.name, data=s.path.read_bytes(), policy=policy).document
    # Then it went through, one retry was counted under the error's class (never its message),
    assert doc.status is Status.ARCHIVED, doc.reason
    assert value("dematflow_retries_total", stage="ingest", error="StorageUnavailable") == retries + 1
    assert stage_count("ingest", "retry") == failed_once + 1
    labels = {s.labels.get("error") for f in metrics.REGISTRY.collect() for s in f.samples}
    assert not any("S3 down" in str(label) for label in labels)


def test_a_worker_retry_is_counted(
    services: Services, demo_set: list[Sample], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a worker on dramatiq's stub broker, and ingest failing once on an unreachable archive,
    monkeypatch.setitem(STAGE_FUNCTIONS, "ingest", flaky("ingest", StorageUnavailable("down")))
    retries = value("dematflow_retries_total", stage="ingest", error="StorageUnavailable")
    broker = StubBroker()
    broker.emit_after("process_boot")
    actors = Actors(broker, lambda: services, max_retries=3, min_backoff_ms=10)
    s = sample(demo_set, "rib-")
    document_id = actors.submit(filename=s.path.name, data=s.path.read_bytes()).document_id
    worker = Worker(broker, worker_threads=1, worker_timeout=50)
    worker.start()
    try:
        deadline = time.monotonic() + 120
        while not services.catalogue.get(document_id).status.final:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        worker.stop()
        broker.close()
    # Then dramatiq's retry (asked through retry_when) was counted once.
    assert services.catalogue.get(document_id).status is Status.ARCHIVED
    assert value("dematflow_retries_total", stage="ingest", error="StorageUnavailable") == retries + 1


# --- collectors at scrape time ---------------------------------------------------------------------


def test_a_broker_that_does_not_answer_never_fails_the_scrape() -> None:
    def down() -> list[metrics.Depth]:
        raise StorageUnavailable("Redis injoignable")

    registry = CollectorRegistry()
    registry.register(metrics.QueueDepths(down))
    assert registry.get_sample_value("dematflow_broker_up") == 0
    assert not any(s.name == "dematflow_queue_depth" for f in registry.collect() for s in f.samples)


# --- through a real `dematflow serve` -----------------------------------------------------------------


@pytest.fixture
def redis_server(tmp_path: Path, dev_keys: Path) -> Iterator[Server]:
    require(port_open("127.0.0.1", 6379), "Redis on 127.0.0.1:6379")
    yield from start_server(tmp_path, dev_keys, DEMATFLOW_BROKER_URL=REDIS_URL)


@pytest.fixture
def unreachable_server(tmp_path: Path, dev_keys: Path) -> Iterator[Server]:
    yield from start_server(tmp_path, dev_keys, DEMATFLOW_BROKER_URL=f"redis://127.0.0.1:{free_port()}/0")


def test_the_api_serves_documents_by_status_and_queue_depths(redis_server: Server) -> None:
    response = httpx.get(f"{redis_server.url}/metrics", timeout=30)
    assert response.status_code == 200
    found = samples_of(response.text)
    assert found[("dematflow_documents", (("status", "received"),))] == 0
    assert found[("dematflow_broker_up", ())] == 1
    for queue in ("dematflow.capture", "dematflow.check", "dematflow.seal", "dematflow"):
        for state in ("waiting", "delayed", "in_flight", "dead"):
            assert ("dematflow_queue_depth", (("queue", queue), ("state", state))) in found
    assert "# HELP dematflow_stage_seconds" in response.text  # the pipeline's own, served here too
    assert "# HELP dematflow_ocr_pages_total" in response.text


def test_the_scrape_answers_when_the_broker_is_unreachable(unreachable_server: Server) -> None:
    response = httpx.get(f"{unreachable_server.url}/metrics", timeout=30)
    assert response.status_code == 200
    found = samples_of(response.text)
    assert found[("dematflow_broker_up", ())] == 0
    assert ("dematflow_documents", (("status", "archived"),)) in found
    assert not any(name == "dematflow_queue_depth" for name, _ in found)


# --- a worker process's own port -------------------------------------------------------------------


def test_worker_metrics_are_off_by_default_and_the_port_is_checked() -> None:
    assert worker_metrics.port_from_env({}) is None
    assert worker_metrics.port_from_env({"DEMATFLOW_METRICS_PORT": "9300"}) == 9300
    with pytest.raises(ConfigError):
        worker_metrics.port_from_env({"DEMATFLOW_METRICS_PORT": "metrics"})


def test_each_worker_process_takes_the_next_free_port() -> None:
    base = free_port()
    first = worker_metrics.serve(base, host="127.0.0.1", tries=8)
    second = worker_metrics.serve(base, host="127.0.0.1", tries=8)  # as a sibling process would
    assert first == base and second > first
    for port in (first, second):
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        assert "# HELP dematflow_stage_seconds" in text and "dematflow_retries_total" in text
