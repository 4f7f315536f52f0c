"""`dematflow worker` and `dematflow queue status`: the workers, one queue per kind of work."""

from __future__ import annotations

import dataclasses
import os
import sys
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from cli.app import app, door, emit, out, services_of, settings_of
from dematflow.errors import ConfigError, InvalidRequest

if TYPE_CHECKING:  # the pipeline and dramatiq are imported by these commands only, not at every start
    from pipeline.queues import PipelineView
    from workers.depth import QueueDepth

queue_app = typer.Typer(no_args_is_help=True, help="Look at the work queues.")
app.add_typer(queue_app, name="queue")


@app.command()
@door
def worker(
    ctx: typer.Context,
    processes: int = typer.Option(None, "--processes", "-p"),
    queues: str = typer.Option(
        None,
        "--queues",
        "-Q",
        help="Comma-separated queues to consume (default: all, the queues of earlier releases too): "
        "dematflow.capture, dematflow.check, dematflow.seal, dematflow (maintenance).",
    ),
) -> None:
    """Start dramatiq workers (one thread per process: tesseract and seals are CPU-bound). Only
    workers consuming dematflow.seal need the seal key or the HSM."""
    settings = settings_of(ctx)
    n = processes or settings.worker_processes
    argv = [sys.executable, "-m", "dramatiq", "workers.app", "--processes", str(n), "--threads", "1"]
    if queues:
        argv += ["--queues", *queue_names(queues)]
    os.execve(sys.executable, argv, ctx.obj)


def queue_names(raw: str) -> list[str]:
    """The queues named in ``--queues``, checked against the ones dematflow declares."""
    from workers.actors import LEGACY_QUEUES, QUEUES

    known = QUEUES + LEGACY_QUEUES
    names = [name.strip() for name in raw.split(",") if name.strip()]
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        given = ", ".join(unknown) or repr(raw)
        raise InvalidRequest(f"file(s) inconnue(s) : {given} (connues : {', '.join(known)})")
    return names


@queue_app.command("status")
@door
def status(
    ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="One JSON object.")
) -> None:
    """Per queue: messages waiting, delayed, in flight, dead-lettered (read only); and the catalogue's
    view: documents in the pipeline per stage, the oldest one's age, the stalled ones."""
    from pipeline.queues import pipeline_view
    from workers.actors import LEGACY_QUEUES, QUEUES
    from workers.depth import depths

    settings = settings_of(ctx)
    if not settings.broker_url:
        raise ConfigError("DEMATFLOW_BROKER_URL n'est pas défini : aucune file à décrire")
    found = depths(settings.broker_url, QUEUES + LEGACY_QUEUES)
    view = pipeline_view(services_of(ctx))
    if as_json:
        emit(status_json(found, view))
        return
    out.print(queues_table(found))
    out.print(stages_table(view))
    if view.stalled:
        out.print(f"[yellow]{len(view.stalled)} document(s) sans progrès depuis {view.stalled_s:g} s[/]")


def status_json(found: list[QueueDepth], view: PipelineView) -> dict[str, Any]:
    return {
        "queues": [dataclasses.asdict(d) for d in found],
        "pipeline": [dataclasses.asdict(w) for w in view.waiting],
        "stalled": {"older_than_s": view.stalled_s, "count": len(view.stalled), "ids": list(view.stalled)},
    }


def queues_table(found: list[QueueDepth]) -> Table:
    table = Table(title="files de messages")
    for col in ("file", "en attente", "différés", "en cours", "en échec (XQ)", "consommateurs"):
        table.add_column(col)
    for d in found:
        if not d.declared:
            table.add_row(d.queue, "absente", "", "", "", "")
            continue
        cells = (d.waiting, d.delayed, d.in_flight, d.dead, d.consumers)
        table.add_row(d.queue, *("?" if c is None else str(c) for c in cells))
    return table


def stages_table(view: PipelineView) -> Table:
    table = Table(title="documents en cours (catalogue)")
    for col in ("étape attendue", "documents", "le plus ancien (s)"):
        table.add_column(col)
    for w in view.waiting:
        table.add_row(w.stage, str(w.documents), f"{w.oldest_s:g}")
    return table
