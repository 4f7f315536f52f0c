"""The catalogue's view of the queues: documents still in the pipeline, by the stage they wait for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from pipeline.context import Services
from pipeline.db import documents
from pipeline.records import STAGES, Status
from pipeline.stalled import stalled


@dataclass(frozen=True)
class Waiting:
    """Documents whose next step is ``stage``; the oldest was received ``oldest_s`` seconds ago."""

    stage: str
    documents: int
    oldest_s: float


@dataclass(frozen=True)
class PipelineView:
    waiting: tuple[Waiting, ...]  # in the order of the stages; only stages with documents
    stalled: tuple[str, ...]  # ids without progress for ``stalled_s`` (the sweep sends them again)
    stalled_s: float


def next_of(done: str) -> str:
    """The stage a document waits for once ``done`` (a stage, or ``received``) is done."""
    index = STAGES.index(done) + 1 if done in STAGES else 0
    return STAGES[min(index, len(STAGES) - 1)]


def pipeline_view(services: Services, now: datetime | None = None) -> PipelineView:
    """Per stage, how many documents wait for it and for how long the oldest has; the stalled ones."""
    now = now or datetime.now(UTC)
    stmt = (
        select(documents.c.stage, func.count(), func.min(documents.c.received_at))
        .where(documents.c.status == Status.RECEIVED.value)
        .group_by(documents.c.stage)
    )
    counts: dict[str, tuple[int, str]] = {}
    with services.catalogue.engine.connect() as conn:
        for done, count, oldest in conn.execute(stmt):
            stage = next_of(done)
            previous = counts.get(stage, (0, oldest))
            counts[stage] = (previous[0] + count, min(previous[1], oldest))
    waiting = tuple(
        Waiting(stage, counts[stage][0], _age(now, counts[stage][1])) for stage in STAGES if stage in counts
    )
    late = timedelta(seconds=services.settings.stalled_s)
    return PipelineView(waiting, tuple(stalled(services, late)), services.settings.stalled_s)


def _age(now: datetime, moment: str) -> float:
    return round(max(0.0, (now - datetime.fromisoformat(moment)).total_seconds()), 1)
