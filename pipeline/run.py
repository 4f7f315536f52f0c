"""The pipeline, start to end: receive the bytes, then run the stages in order, one step at a time.

Workers call ``advance`` once per message; the embedded mode calls the very same ``advance`` in a loop.
"""

from __future__ import annotations

import functools
import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from dematflow.errors import DematflowError, InputError
from pipeline import batches, lifecycle, metrics
from pipeline.context import Context, Services
from pipeline.intake import Receipt, anchor, receive
from pipeline.records import STAGES, Document, Event, StageResult, Status
from pipeline.retry import EMBEDDED, RetryPolicy, reason_of
from pipeline.stages.archive import archive
from pipeline.stages.classify import classify
from pipeline.stages.extract import extract
from pipeline.stages.ingest import ingest
from pipeline.stages.seal import seal
from pipeline.stages.validate import validate

log = logging.getLogger(__name__)

Stage = Callable[[Context, Document], StageResult]
STAGE_FUNCTIONS: dict[str, Stage] = {
    "ingest": ingest,
    "classify": classify,
    "extract": extract,
    "validate": validate,
    "seal": seal,
    "archive": archive,
}
assert tuple(STAGE_FUNCTIONS) == STAGES


def next_stage(doc: Document) -> str | None:
    """The stage to run next, or None when the document has reached a final status."""
    if doc.status.final:
        return None
    done = STAGES.index(doc.stage) + 1 if doc.stage in STAGES else 0
    return STAGES[done] if done < len(STAGES) else None


def advance(
    services: Services, stage: str, document_id: str, start: Callable[[str], None] | None = None
) -> str | None:
    """Run ``stage`` on the document unless it already ran (idempotent); return the next stage.

    Bad input (an ``InputError``) quarantines the document; retryable errors propagate so that the
    caller (a worker's retry policy, or ``process``) decides. A scanned batch divided by separator
    sheets ends before classify: ``start`` is given each document made of it (default: run now).
    """
    doc = services.catalogue.get(document_id)
    if next_stage(doc) != stage:
        # A redelivered message. If its step is the one just done, the worker may have died before
        # sending the next: send it again. An older message is simply dropped.
        if doc.status.final:
            lifecycle.ensure_initial(services, doc)  # a crash may have come between commit and status
        return next_stage(doc) if doc.stage == stage else None
    with metrics.timed(stage) as timer:  # here, not in each stage: every door reports the same way
        done = _step(services, stage, doc, start)
        if done is not None and done.status is Status.QUARANTINED:
            timer.outcome = metrics.Outcome.QUARANTINED
    return None if done is None else next_stage(done)


def _step(
    services: Services, stage: str, doc: Document, start: Callable[[str], None] | None
) -> Document | None:
    """Run and commit one step: the document as committed, or None when no step follows from here (a
    separated batch, or another worker committed this step first)."""
    if stage == "classify" and (derived := batches.separate(services, doc)) is not None:
        anchor(services)
        for child in derived:
            if start is not None:
                start(child)
            else:
                run_stages(services, Receipt(child))
        return None
    try:
        result = STAGE_FUNCTIONS[stage](services.context, doc)
    except InputError as err:
        result = quarantine(doc, stage, err.message, reason_code=err.irr_reason, facts=err.journal())
    if not services.catalogue.commit(result, after=doc.stage):
        return None  # another worker ran this step at the same time and committed first
    if result.document.status.final:
        lifecycle.ensure_initial(services, result.document)  # 200, 213 or 501; none if not an invoice
        anchor(services)
    return result.document


def quarantine(
    doc: Document,
    stage: str,
    reason: str,
    *,
    reason_code: str | None = None,
    facts: Mapping[str, str] | None = None,
) -> StageResult:
    """``reason_code``: the IRR_* lifecycle reason of bad input; None for a technical failure (retries
    exhausted), which is dematflow's fault, not the supplier's: no 501 Irrecevable is claimed.
    ``facts``: what else the journal entry records (the antivirus's verdict, say)."""
    detail = {**(facts or {}), "reason": reason, "reason_code": reason_code}
    event = Event(stage, "quarantined", doc.id, inputs={"original": doc.sha256}, detail=detail)
    return StageResult(doc.evolve(status=Status.QUARANTINED, reason=reason, reason_code=reason_code), event)


def give_up(services: Services, document_id: str, stage: str, error: str) -> None:
    """Quarantine a document whose step kept failing (retries exhausted)."""
    doc = services.catalogue.get(document_id)
    if not doc.status.final:
        services.catalogue.commit(quarantine(doc, stage, f"{stage} failed: {error}"), after=doc.stage)
        anchor(services)


@dataclass(frozen=True)
class Outcome:
    document: Document
    duplicate: bool = False  # the bytes had been received before: nothing was processed again


@dataclass(frozen=True)
class Unread:
    """A file that could not be read (it vanished between listing and reading): nothing was kept."""

    filename: str
    reason: str


def process(
    services: Services,
    *,
    filename: str,
    data: bytes,
    policy: RetryPolicy = EMBEDDED,
    on_stage: Callable[[str], None] | None = None,
) -> Outcome:
    """Embedded mode: receive and take the document through every stage in this process.

    A document left half-way by an earlier run (say tesseract was missing) resumes where it stopped.
    """
    return run_stages(services, receive(services, filename=filename, data=data), policy, on_stage)


def run_stages(
    services: Services,
    receipt: Receipt,
    policy: RetryPolicy = EMBEDDED,
    on_stage: Callable[[str], None] | None = None,
) -> Outcome:
    """Take a received document through the stages it has not been through yet. A failure the policy
    retries is tried again after its backoff; once retries are exhausted the document is quarantined
    with the last real reason. A non-retryable dematflow error (a tool missing, a setting wrong)
    propagates: the environment must be fixed, and the document resumes at the next run."""
    document_id = receipt.document_id
    stage = next_stage(services.catalogue.get(document_id))
    tries, derived = 0, list[str]()  # the documents a separated batch was made into
    while stage is not None:
        if on_stage is not None:
            on_stage(stage)
        following, failure = _attempt(services, stage, document_id, derived.append)
        if failure is None:
            stage, tries = following, 0
            continue
        if not policy.should_retry(failure, tries):
            give_up(services, document_id, stage, reason_of(failure))
            break
        log.warning("retrying %s of %s: %s", stage, document_id, reason_of(failure))
        metrics.retried(stage, failure)
        time.sleep(policy.backoff_ms(tries) / 1000)
        tries += 1
    for child in derived:  # after their batch, each like any deposit
        run_stages(services, Receipt(child), policy, on_stage)
    doc = services.catalogue.get(document_id)
    return Outcome(doc, duplicate=receipt.duplicate_of is not None)


def process_all(
    services: Services,
    documents: Iterable[tuple[str, Callable[[], bytes]]],
    *,
    in_flight: int = 2,
    on_stage: Callable[[int, str], None] | None = None,
) -> Iterator[Outcome | Unread]:
    """Embedded mode over many documents (a file name and a way to read its bytes each), received
    and given back in the order given; ``on_stage`` hears (the document's position, the stage
    starting). Up to ``in_flight`` documents run at once, on threads of this process: while one is
    sealed and archived (on one core), the next one's pages are already being read by the OCR
    processes, which would otherwise wait. Receipts stay in order, so the journal follows the batch
    and, of two identical files, the first given is the one kept and processed. A file that cannot be
    read (it vanished meanwhile) comes back as ``Unread`` and the batch goes on."""
    received = 0  # documents received so far
    turn = threading.Condition()

    def one(index: int, document: tuple[str, Callable[[], bytes]]) -> Outcome | Unread:
        nonlocal received
        name, read = document
        with turn:
            turn.wait_for(lambda: received == index)
            try:
                try:
                    data = read()
                except OSError as exc:  # listed, then gone (or unreadable) before it was read
                    return Unread(name, exc.strerror or type(exc).__name__)
                receipt = receive(services, filename=name, data=data)
            finally:
                received += 1
                turn.notify_all()
        step = functools.partial(on_stage, index) if on_stage is not None else None
        return run_stages(services, receipt, on_stage=step)

    if in_flight <= 1:
        yield from map(one, itertools.count(), documents)
        return
    with ThreadPoolExecutor(in_flight, thread_name_prefix="dematflow-document") as pool:
        yield from pool.map(one, itertools.count(), documents)


def _attempt(
    services: Services, stage: str, document_id: str, start: Callable[[str], None]
) -> tuple[str | None, Exception | None]:
    """One step: (the next stage, None), or (None, the failure) when a retry may help."""
    try:
        return advance(services, stage, document_id, start), None
    except DematflowError as err:
        if not err.retryable:
            raise  # the environment is wrong (a tool is missing): fix it and run again
        return None, err
    except Exception as err:  # a library's surprise must not lose the document: keep it, say why
        log.error(
            "unexpected error in %s of %s: %r",
            stage,
            document_id,
            err,
            exc_info=log.isEnabledFor(logging.DEBUG),
        )
        return None, err
