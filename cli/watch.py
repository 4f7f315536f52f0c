"""`dematflow watch`: the hot folder a scanning station drops its files into."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from types import FrameType

import typer

from cli.app import app, door, err, services_of, settings_of
from workers.watcher import Handoff, Watcher, WatchSettings, inline, queued


@app.command()
@door
def watch(
    ctx: typer.Context,
    dirs: list[Path] = typer.Argument(..., exists=True, file_okay=False, help="Folders to watch."),
    settle: float = typer.Option(
        None,
        "--settle",
        metavar="SECONDS",
        help="Seconds a file's size and date must stay unchanged before it is taken "
        "(default 2, or DEMATFLOW_WATCH_SETTLE).",
    ),
    poll: bool = typer.Option(False, "--poll", help="Poll the folders (network shares) instead of events."),
    delete: bool = typer.Option(False, "--delete", help="Delete received files instead of moving to .done/."),
    rescan: float = typer.Option(
        None, "--rescan", metavar="SECONDS", help="Seconds between full scans of the folders (default 60)."
    ),
) -> None:
    """Receive every file dropped into the folders (and their subfolders: SITE/SERVICE/BATCH), then
    process it here, or queue it for the workers when DEMATFLOW_BROKER_URL is set. Received files
    move to DIR/.done/, unreadable ones to DIR/.failed/ with a reason. Stops on SIGTERM or Ctrl-C."""
    settings = settings_of(ctx)
    config = WatchSettings.from_env(
        ctx.obj, tuple(dirs), settle=settle, poll=poll, delete=delete, rescan=rescan
    )
    services = services_of(ctx)
    handoff: Handoff
    if settings.broker_url:
        from workers.actors import Actors
        from workers.broker import make_broker

        handoff = queued(services, Actors(make_broker(settings.broker_url), lambda: services).send)
        workers = 1  # receiving is quick: one thread, one file in memory
    else:
        handoff, workers = inline(services), settings.in_flight
    logging.getLogger("workers.watcher").setLevel(logging.INFO)  # progress shows without --verbose
    stop = threading.Event()
    stop_on_signals(stop)
    mode = "queued for the workers" if settings.broker_url else "processed here"
    err.print(
        f"watching {', '.join(map(str, config.dirs))} (settle {config.settle:g} s, {mode})", markup=False
    )
    watcher = Watcher(services, config, handoff, workers=workers)
    counts = watcher.run(stop)
    err.print(f"stopped: {counts.received} received, {counts.failed} failed", markup=False)
    if watcher.fatal is not None:
        raise watcher.fatal


def stop_on_signals(stop: threading.Event) -> None:
    """The first SIGTERM or SIGINT stops after the files in hand; a second one ends at once."""

    def handler(signum: int, _frame: FrameType | None) -> None:
        stop.set()
        signal.signal(signum, signal.SIG_DFL)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, handler)
