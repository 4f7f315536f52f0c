"""One thin, idempotent actor per stage: load by id, run one step, send the next. No bytes travel."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import dramatiq
from dramatiq import Actor, Broker

from dematflow.errors import ArchiveConflict, ConfigError, NotFound, ToolUnavailable
from pipeline.context import Services
from pipeline.records import STAGES
from pipeline.run import Receipt, advance, give_up, receive

log = logging.getLogger(__name__)

# Errors a retry cannot fix: the document goes to quarantine at once, with the error as the reason.
NOT_RETRYABLE = (ConfigError, ToolUnavailable, ArchiveConflict)
HOUR_MS = 3_600_000


class Actors:
    """The pipeline's actors, declared on an explicit broker."""

    def __init__(
        self,
        broker: Broker,
        services: Callable[[], Services],
        *,
        max_retries: int = 5,
        min_backoff_ms: int = 1_000,
    ) -> None:
        self.services = services
        self.exhausted = dramatiq.actor(
            broker=broker, actor_name="dematflow.exhausted", queue_name="dematflow", max_retries=0
        )(self._exhausted)
        self.steps: dict[str, Actor[[str], None]] = {
            stage: dramatiq.actor(
                broker=broker,
                actor_name=f"dematflow.{stage}",
                queue_name="dematflow.ocr" if stage == "classify" else "dematflow",
                max_retries=max_retries,
                min_backoff=min_backoff_ms,
                max_backoff=60_000,
                time_limit=HOUR_MS,
                on_retry_exhausted="dematflow.exhausted",
            )(self._step_for(stage))
            for stage in STAGES
        }

    def send(self, stage: str, document_id: str) -> None:
        self.steps[stage].send(document_id)

    def submit(self, *, filename: str, data: bytes) -> Receipt:
        """Keep the bytes and open the record here; the workers do the rest from the id."""
        receipt = receive(self.services(), filename=filename, data=data)
        if receipt.duplicate_of is None:
            self.send(STAGES[0], receipt.document_id)
        return receipt

    def _step_for(self, stage: str) -> Callable[[str], None]:
        def step(document_id: str) -> None:
            try:
                following = advance(self.services(), stage, document_id)
            except NotFound:
                log.error("dropping %s of unknown document %s", stage, document_id)
                return
            except NOT_RETRYABLE as err:  # a retry cannot help: quarantine now, with the reason
                log.error("giving up %s of %s: %s", stage, document_id, err.message)
                give_up(self.services(), document_id, stage, err.message)
                return
            if following is not None:
                self.send(following, document_id)

        step.__name__ = stage
        return step

    def _exhausted(self, message: dict[str, Any], retries: dict[str, Any]) -> None:
        """Every retry failed: quarantine with the last error as the reason."""
        stage = str(message["actor_name"]).removeprefix("dematflow.")
        document_id = str(message["args"][0])
        trace = str(message.get("options", {}).get("traceback", "")).strip().splitlines()
        last = trace[-1] if trace else "unknown error"
        reason = last.split(": ", 1)[1] if ": " in last else last  # "module.Error: message"
        log.error(
            "giving up %s of %s after %s retries: %s", stage, document_id, retries.get("retries"), reason
        )
        give_up(self.services(), document_id, stage, reason)
