"""One thin, idempotent actor per stage: load by id, run one step, send the next. No bytes travel.

Retries follow ``pipeline.retry``: what a retry cannot help is dramatiq's ``throws=`` (quarantined at
once, never retried), the rest is retried while the policy says so (``retry_when``). The reason of the
last failure travels in the message's options, so that exhausted retries quarantine with it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import dramatiq
from dramatiq import Actor, Broker
from dramatiq.middleware import CurrentMessage

from dematflow.errors import DematflowError, NotFound
from pipeline import metrics
from pipeline.context import Services
from pipeline.records import STAGES
from pipeline.retry import RetryPolicy, not_retryable_errors, reason_of, retryable
from pipeline.run import Receipt, advance, give_up, receive
from workers.queues import CAPTURE, CHECK, LEGACY_QUEUES, MAINTENANCE, QUEUE_OF, QUEUES, SEAL  # noqa: F401

log = logging.getLogger(__name__)

HOUR_MS = 3_600_000
REASON = "dematflow_reason"  # the message option carrying the last failure's reason


class Actors:
    """The pipeline's actors, declared on an explicit broker."""

    def __init__(
        self,
        broker: Broker,
        services: Callable[[], Services],
        *,
        max_retries: int = 5,
        min_backoff_ms: int = 1_000,
        max_backoff_ms: int = 60_000,
    ) -> None:
        self.services = services
        self.policy = RetryPolicy(max_retries, min_backoff_ms, max_backoff_ms)
        if not any(isinstance(m, CurrentMessage) for m in broker.middleware):
            broker.add_middleware(CurrentMessage())
        self.exhausted = dramatiq.actor(
            broker=broker, actor_name="dematflow.exhausted", queue_name=MAINTENANCE, max_retries=0
        )(self._exhausted)
        self.steps: dict[str, Actor[[str], None]] = {
            stage: dramatiq.actor(
                broker=broker,
                actor_name=f"dematflow.{stage}",
                queue_name=QUEUE_OF[stage],
                max_retries=self.policy.max_retries,
                min_backoff=self.policy.min_backoff_ms,
                max_backoff=self.policy.max_backoff_ms,
                throws=not_retryable_errors(),
                retry_when=self._retry_when(stage),
                time_limit=HOUR_MS,
                on_retry_exhausted="dematflow.exhausted",
            )(self._step_for(stage))
            for stage in STAGES
        }

        # The day seal (NF Z42-013): cron or a systemd timer sends it after midnight (UTC), e.g. with
        # `dematflow journal seal`, or `actors.seal_days.send()` from a scheduler; sealing is idempotent.
        self.seal_days = dramatiq.actor(
            broker=broker,
            actor_name="dematflow.seal_days",
            queue_name=MAINTENANCE,
            max_retries=self.policy.max_retries,
            min_backoff=self.policy.min_backoff_ms,
            max_backoff=self.policy.max_backoff_ms,
            throws=not_retryable_errors(),
        )(self._seal_days)
        # Seal renewal (B-LTA): a monthly timer sends it; seals whose last timestamp expires within
        # the margin get a new archive timestamp, the others are left as they are (idempotent).
        self.renew_seals = dramatiq.actor(
            broker=broker,
            actor_name="dematflow.renew_seals",
            queue_name=MAINTENANCE,
            max_retries=self.policy.max_retries,
            min_backoff=self.policy.min_backoff_ms,
            max_backoff=self.policy.max_backoff_ms,
            throws=not_retryable_errors(),
            time_limit=HOUR_MS * 12,
        )(self._renew_seals)
        for legacy in LEGACY_QUEUES:
            broker.declare_queue(legacy)

    def send(self, stage: str, document_id: str) -> None:
        self.steps[stage].send(document_id)

    def _seal_days(self) -> None:
        """Seal every day not sealed yet, up to yesterday."""
        from pipeline import daybook

        sealed = daybook.seal_through(self.services())
        log.info("sealed %d journal day(s)", len(sealed))

    def _renew_seals(self, margin_days: int | None = None) -> None:
        """Renew the B-LTA seals expiring within ``margin_days`` (default: pipeline.renew's margin);
        a failed renewal raises, so that the whole run is retried (renewed seals are then not due)."""
        from dematflow.errors import ToolFailed
        from pipeline import renew

        margin = renew.MARGIN_DAYS if margin_days is None else margin_days
        report = renew.renew_seals(self.services(), renew.default_before(margin))
        renewed, failed = report.of(renew.Outcome.RENEWED), report.of(renew.Outcome.FAILED)
        log.info("renewed %d seal(s), %d failed", len(renewed), len(failed))
        if failed:
            raise ToolFailed(f"{len(failed)} seal renewal(s) failed, first: {failed[0].reason}")

    def submit(self, *, filename: str, data: bytes) -> Receipt:
        """Keep the bytes and open the record here; the workers do the rest from the id."""
        receipt = receive(self.services(), filename=filename, data=data)
        if receipt.duplicate_of is None:
            self.send(STAGES[0], receipt.document_id)
        return receipt

    def _start(self, document_id: str) -> None:
        """A document made by a step (one of a separated batch's), sent on like a submitted one."""
        self.send(STAGES[0], document_id)

    def _retry_when(self, stage: str) -> Callable[[int, BaseException], bool]:
        """What dramatiq asks before it retries a step: the policy's answer, a retry counted."""

        def retry_when(retries: int, err: BaseException) -> bool:
            again = self.policy.should_retry(err, retries)
            if again:
                metrics.retried(stage, err)
            return again

        return retry_when

    def _step_for(self, stage: str) -> Callable[[str], None]:
        def step(document_id: str) -> None:
            try:
                following = advance(self.services(), stage, document_id, self._start)
            except NotFound:
                log.error("dropping %s of unknown document %s", stage, document_id)
                return
            except BaseException as err:  # an Interrupt too (time limit): _exhausted then has its reason
                reason = reason_of(err)
                if isinstance(err, DematflowError) and not retryable(err):  # quarantine now; ``throws``
                    log.error("giving up %s of %s: %s", stage, document_id, reason)
                    give_up(self.services(), document_id, stage, reason)
                else:  # the policy decides (retry_when); if this was the last try, _exhausted reads it
                    log.warning("%s of %s failed: %s", stage, document_id, reason)
                    _note_reason(reason)
                raise
            if following is not None:
                self.send(following, document_id)

        step.__name__ = stage
        return step

    def _exhausted(self, message: dict[str, Any], retries: dict[str, Any]) -> None:
        """Every retry failed: quarantine with the last failure's reason, as the step noted it."""
        stage = str(message["actor_name"]).removeprefix("dematflow.")
        document_id = str(message["args"][0])
        reason = str(message.get("options", {}).get(REASON) or "no reason recorded")
        log.error(
            "giving up %s of %s after %s retries: %s", stage, document_id, retries.get("retries"), reason
        )
        give_up(self.services(), document_id, stage, reason)


def _note_reason(reason: str) -> None:
    """Keep the reason in the message's options: dramatiq re-enqueues them with each retry and hands
    them to ``on_retry_exhausted``."""
    message = CurrentMessage.get_current_message()
    if message is not None:
        message.options[REASON] = reason
