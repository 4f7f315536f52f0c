"""Retrying: one policy for every door (embedded mode and actors), and re-opening a quarantined document.

Whether a retry can help is data on the error class (``DematflowError.retryable``); a library's surprise
(any other exception) is retried, since nothing says it cannot succeed next time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from dematflow.errors import DematflowError, InvalidRequest
from pipeline import lifecycle
from pipeline.context import Services
from pipeline.records import STAGES, Document, Event, StageResult, Status

log = logging.getLogger(__name__)


def retryable(err: BaseException) -> bool:
    """True when a later try may succeed: a retryable dematflow error, or a library's surprise."""
    return err.retryable if isinstance(err, DematflowError) else isinstance(err, Exception)


def reason_of(err: BaseException) -> str:
    """The reason a person reads: the error's own message, or what a library raised unexpectedly."""
    if isinstance(err, DematflowError):
        return err.message
    return f"unexpected {type(err).__name__}: {err}"


def not_retryable_errors() -> tuple[type[DematflowError], ...]:
    """Every error class a retry cannot help (for dramatiq's ``throws=``), from the one error tree.

    A class is listed only if none of its subclasses is retryable, as ``throws`` matches subclasses."""

    def tree(cls: type[DematflowError]) -> list[type[DematflowError]]:
        return [cls, *(sub for child in cls.__subclasses__() for sub in tree(child))]

    return tuple(c for c in tree(DematflowError) if not any(s.retryable for s in tree(c)))


@dataclass(frozen=True)
class RetryPolicy:
    """How many times a failed step is tried again, and how long to wait before each try."""

    max_retries: int = 5
    min_backoff_ms: int = 1_000
    max_backoff_ms: int = 60_000

    def __post_init__(self) -> None:
        if self.max_retries < 0 or not 0 < self.min_backoff_ms <= self.max_backoff_ms:
            raise ValueError(f"invalid retry policy {self}")

    def should_retry(self, err: BaseException, tries: int) -> bool:
        """``tries``: retries already made for this step (0 after the first failure)."""
        return retryable(err) and tries < self.max_retries

    def backoff_ms(self, tries: int) -> int:
        """Exponential backoff, as dramatiq computes it (before its jitter): min × 2^tries, capped."""
        return int(min(self.max_backoff_ms, self.min_backoff_ms * 2 ** min(tries, 32)))


EMBEDDED = RetryPolicy(max_retries=1, min_backoff_ms=200, max_backoff_ms=2_000)  # a person is waiting
WORKERS = RetryPolicy()


def reopen(services: Services, document_id: str, *, who: str, why: str, force: bool = False) -> Document:
    """Put a quarantined document back into the pipeline at the stage it failed at, journalled as a
    ``retry`` event; return it (``received``). A document still ``received`` (its run stopped) is
    journalled and returned as it is, to be taken on from where it stopped.

    Refused (``InvalidRequest``) unless ``force``: bad bytes (an ``InputError``: it would fail the same
    way), and a document whose lifecycle is closed by 501 Irrecevable (no status may follow it: with
    ``force`` the new outcome is journalled, the 501 stays)."""
    doc = services.catalogue.get(document_id)
    if doc.status is Status.QUARANTINED:
        _check_retry(services, doc, force)
    elif doc.status.final:
        raise InvalidRequest(
            f"document {doc.id} is {doc.status.value}: only quarantined documents are retried"
        )
    stage = _failed_stage(doc)
    status = lifecycle.current(services.catalogue.engine, doc.id)
    detail = {
        "account": who,
        "why": why,
        "forced": force,
        "from_stage": stage,
        "previous_status": doc.status.value,
        "previous_reason": doc.reason,
        "previous_reason_code": doc.reason_code,
        "lifecycle": f"{status.code} stays: no status may follow it" if status else None,
    }
    event = Event(stage, "retry", doc.id, inputs={"original": doc.sha256}, detail=detail)
    if doc.status is Status.RECEIVED:
        services.catalogue.record(event)
        return doc
    reopened = doc.evolve(status=Status.RECEIVED, reason=None, reason_code=None)
    if services.catalogue.reopen(StageResult(reopened, event)) is None:
        raise InvalidRequest(f"document {doc.id} changed meanwhile (retried by someone else?)")
    log.info("document %s re-opened at %s by %s: %s", doc.id, stage, who, why)
    return reopened


def _check_retry(services: Services, doc: Document, force: bool) -> None:
    if force:
        return
    if doc.reason_code is not None:  # only an InputError's quarantine carries an IRR_* reason
        raise InvalidRequest(
            f"document {doc.id} was quarantined for its bytes ({doc.reason}): it would fail the same "
            "way; use --force to try anyway"
        )
    status = lifecycle.current(services.catalogue.engine, doc.id)
    if status is not None:
        raise InvalidRequest(
            f"document {doc.id} has lifecycle status {status.code} {status.label}, which nothing may "
            "follow; use --force to process it again (the new outcome is journalled, the status stays)"
        )


def _failed_stage(doc: Document) -> str:
    """The stage after the last one completed: the one that failed (or was never run)."""
    done = STAGES.index(doc.stage) + 1 if doc.stage in STAGES else 0
    return STAGES[min(done, len(STAGES) - 1)]
