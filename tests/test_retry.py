"""One retry policy for both doors: the policy itself, the actors on dramatiq's stub broker, the
embedded mode, and re-opening a quarantined document."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from dramatiq import Worker
from dramatiq.brokers.stub import StubBroker

from cli.samples import Sample
from dematflow.errors import (
    ArchiveConflict,
    ConfigError,
    CorruptInput,
    InvalidRequest,
    StorageUnavailable,
    ToolFailed,
    ToolUnavailable,
)
from pipeline import journal, lifecycle
from pipeline.context import Services
from pipeline.intake import receive
from pipeline.records import Document, Status
from pipeline.retry import RetryPolicy, not_retryable_errors, reason_of, reopen
from pipeline.run import STAGE_FUNCTIONS, Receipt, process, run_stages
from tests.conftest import sample
from workers.actors import Actors

# --- the policy --------------------------------------------------------------------------------------


def test_the_policy_retries_what_can_succeed_and_only_so_many_times() -> None:
    policy = RetryPolicy(max_retries=2, min_backoff_ms=100, max_backoff_ms=250)
    assert policy.should_retry(ToolFailed("timeout"), 0) and policy.should_retry(
        StorageUnavailable("down"), 1
    )
    assert not policy.should_retry(ToolFailed("timeout"), 2)  # retries exhausted
    assert policy.should_retry(KeyError("surprise"), 0)  # a library's surprise may pass next time
    for never in (
        ToolUnavailable("no tesseract"),
        ConfigError("bad"),
        CorruptInput("x"),
        ArchiveConflict("x"),
    ):
        assert not policy.should_retry(never, 0)
    assert [policy.backoff_ms(t) for t in range(4)] == [100, 200, 250, 250]
    with pytest.raises(ValueError):
        RetryPolicy(max_retries=-1)


def test_the_real_reason_and_the_classes_dramatiq_must_not_retry() -> None:
    assert reason_of(ToolFailed("TSA unreachable")) == "TSA unreachable"
    assert reason_of(KeyError("BT-1")) == "unexpected KeyError: 'BT-1'"
    throws = not_retryable_errors()
    assert ToolUnavailable in throws and ConfigError in throws and CorruptInput in throws
    assert ToolFailed not in throws and StorageUnavailable not in throws
    assert not any(issubclass(ToolFailed, t) or issubclass(StorageUnavailable, t) for t in throws)


# --- the actors, on dramatiq's stub broker -----------------------------------------------------------


@pytest.fixture
def stub() -> Iterator[StubBroker]:
    broker = StubBroker()
    broker.emit_after("process_boot")
    yield broker
    broker.flush_all()
    broker.close()


def run_worker(broker: StubBroker, services: Services, document_id: str, timeout: float = 120) -> Document:
    worker = Worker(broker, worker_threads=1, worker_timeout=50)
    worker.start()
    try:
        deadline = time.monotonic() + timeout
        while not (doc := services.catalogue.get(document_id)).status.final:
            assert time.monotonic() < deadline, f"still at {doc.stage}"
            time.sleep(0.05)
        broker.join("dematflow", timeout=30_000, fail_fast=False)  # the exhausted callback ran too
        return services.catalogue.get(document_id)
    finally:
        worker.stop()


def failing(errors: list[BaseException], then: Callable[..., object] | None = None) -> Callable[..., object]:
    """A stage that raises ``errors`` one per call, then behaves as ``then`` (or keeps raising the last)."""
    calls: list[int] = []

    def stage(ctx: object, doc: object) -> object:
        calls.append(1)
        if len(calls) <= len(errors) or then is None:
            raise errors[min(len(calls), len(errors)) - 1]
        return then(ctx, doc)

    stage.calls = calls  # type: ignore[attr-defined]
    return stage


def test_a_retryable_failure_is_retried_then_succeeds(
    stub: StubBroker, services: Services, demo_set: list[Sample], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given ingest meets a broken connection once, When a worker runs, Then the retry archives it.
    flaky = failing([StorageUnavailable("archive unreachable")], then=STAGE_FUNCTIONS["ingest"])
    monkeypatch.setitem(STAGE_FUNCTIONS, "ingest", flaky)
    actors = Actors(stub, lambda: services, max_retries=3, min_backoff_ms=10)
    s = sample(demo_set, "rib-")
    doc = run_worker(
        stub, services, actors.submit(filename=s.path.name, data=s.path.read_bytes()).document_id
    )
    assert doc.status is Status.ARCHIVED, doc.reason
    assert len(flaky.calls) == 2  # type: ignore[attr-defined]


def test_a_non_retryable_failure_is_quarantined_at_once_with_its_reason(
    stub: StubBroker, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = failing([ToolUnavailable("tesseract is not installed")])
    monkeypatch.setitem(STAGE_FUNCTIONS, "ingest", broken)
    actors = Actors(stub, lambda: services, max_retries=3, min_backoff_ms=10)
    doc = run_worker(stub, services, actors.submit(filename="a.pdf", data=b"%PDF-1.7 a").document_id)
    assert doc.status is Status.QUARANTINED and doc.reason == "ingest failed: tesseract is not installed"
    assert len(broken.calls) == 1  # type: ignore[attr-defined]
    assert len(stub.dead_letters) == 1  # dramatiq failed it (throws=), it did not retry it


def test_exhausted_retries_quarantine_with_the_last_real_reason(
    stub: StubBroker, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    errors: list[BaseException] = [ToolFailed("TSA timeout"), ToolFailed("TSA timeout"), KeyError("BT-1")]
    down = failing(errors)
    monkeypatch.setitem(STAGE_FUNCTIONS, "ingest", down)
    actors = Actors(stub, lambda: services, max_retries=2, min_backoff_ms=10)
    doc = run_worker(stub, services, actors.submit(filename="b.pdf", data=b"%PDF-1.7 b").document_id)
    assert len(down.calls) == 3  # type: ignore[attr-defined]  # the first try and two retries
    assert doc.status is Status.QUARANTINED and doc.reason == "ingest failed: unexpected KeyError: 'BT-1'"
    assert doc.reason_code is None  # our failure, not the supplier's: no 501 Irrecevable
    assert lifecycle.current(services.catalogue.engine, doc.id) is None


# --- the embedded mode --------------------------------------------------------------------------------


def test_embedded_mode_follows_the_same_policy(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    errors: list[BaseException] = [ToolFailed("first"), ToolFailed("second")]
    monkeypatch.setitem(STAGE_FUNCTIONS, "ingest", failing(errors))
    policy = RetryPolicy(max_retries=1, min_backoff_ms=1, max_backoff_ms=1)
    doc = process(services, filename="c.pdf", data=b"%PDF-1.7 c", policy=policy).document
    assert doc.status is Status.QUARANTINED and doc.reason == "ingest failed: second"


def test_embedded_mode_stops_when_a_tool_is_missing(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(STAGE_FUNCTIONS, "ingest", failing([ToolUnavailable("tesseract is not installed")]))
    receipt = receive(services, filename="d.pdf", data=b"%PDF-1.7 d")
    with pytest.raises(ToolUnavailable):  # the operator installs it, and the next run resumes
        run_stages(services, receipt)
    assert services.catalogue.get(receipt.document_id).status is Status.RECEIVED


def test_the_same_file_again_resumes_its_half_way_document_without_a_duplicate(
    services: Services, demo_set: list[Sample]
) -> None:
    s = sample(demo_set, "rib-")
    left = receive(services, filename=s.path.name, data=s.path.read_bytes())  # a run crashed after this
    again = process(services, filename=s.path.name, data=s.path.read_bytes())
    assert again.document.id == left.document_id and not again.duplicate
    assert again.document.status is Status.ARCHIVED
    actions = [e.action for e in journal.entries(services.catalogue.engine, document_id=left.document_id)]
    assert actions.count("received") == 1 and "duplicate" not in actions


# --- re-opening a quarantined document ----------------------------------------------------------------


def test_a_document_quarantined_by_a_failure_is_retried_where_it_failed(
    services: Services, demo_set: list[Sample], monkeypatch: pytest.MonkeyPatch
) -> None:
    s = sample(demo_set, "rib-")
    real_seal = STAGE_FUNCTIONS["seal"]
    monkeypatch.setitem(STAGE_FUNCTIONS, "seal", failing([ToolFailed("TSA down")]))
    first = process(services, filename=s.path.name, data=s.path.read_bytes()).document
    assert first.status is Status.QUARANTINED and first.stage == "validate"
    # Given the TSA is back, When the document is retried, Then it is sealed and archived, once.
    monkeypatch.setitem(STAGE_FUNCTIONS, "seal", real_seal)
    reopened = reopen(services, first.id, who="ops", why="TSA back")
    assert reopened.status is Status.RECEIVED and reopened.reason is None
    doc = run_stages(services, Receipt(first.id)).document
    assert doc.status is Status.ARCHIVED and doc.id == first.id
    entries = list(journal.entries(services.catalogue.engine, document_id=doc.id))
    [event] = [e for e in entries if e.action == "retry"]
    assert event.stage == "seal" and event.body["detail"]["account"] == "ops"
    assert event.body["detail"]["previous_reason"] == "seal failed: TSA down"
    assert [e.action for e in entries].count("classified") <= 1  # earlier stages were not run again
    with pytest.raises(InvalidRequest):
        reopen(services, doc.id, who="ops", why="again")  # archived: nothing to retry


def test_bad_bytes_are_retried_only_with_force_and_their_501_stays(services: Services) -> None:
    doc = process(services, filename="empty.pdf", data=b"").document
    assert doc.status is Status.QUARANTINED and doc.reason_code == "IRR_VIDE_F"
    with pytest.raises(InvalidRequest, match="--force"):
        reopen(services, doc.id, who="ops", why="try")
    reopen(services, doc.id, who="ops", why="try anyway", force=True)
    again = run_stages(services, Receipt(doc.id)).document
    assert again.status is Status.QUARANTINED  # it failed the same way
    history = lifecycle.history(services.catalogue.engine, doc.id)
    assert [t.code for t in history] == [501]
    [event] = [
        e for e in journal.entries(services.catalogue.engine, document_id=doc.id) if e.action == "retry"
    ]
    assert event.body["detail"]["forced"] is True and event.body["detail"]["lifecycle"].startswith("501")
