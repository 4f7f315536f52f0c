"""Everyday commands: process, submit, extract, validate, facturx, doctor."""

from __future__ import annotations

import errno
import functools
from collections.abc import Callable, Iterator
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cli.app import app, door, emit, err, out, services_of, settings_of
from cli.render import UNREAD, exit_code, outcome_json, outcomes_table, safe
from dematflow.errors import InputError
from pipeline.context import Services
from pipeline.convert import convert, convertible
from pipeline.records import STAGES, Document
from pipeline.run import Unread
from pipeline.run import process_all as run_all
from workers.watch_rules import read_limited

REFUSED = "refused"  # over DEMATFLOW_MAX_BYTES: refused before a byte was read or kept
REFUSED_EXIT = 13


def collect(paths: list[Path]) -> Iterator[Path]:
    """Files named, and the files under folders named, in a stable order; hidden files skipped."""
    for path in paths:
        if path.is_dir():
            yield from sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        else:
            yield path


def process_files(
    services: Services,
    files: list[Path],
    *,
    quiet: bool = False,
    facturx: bool = False,
    on_done: Callable[[Path, Document, bool], None] | None = None,
    on_unread: Callable[[Path, str], None] | None = None,
) -> list[tuple[Path, Document, bool]]:
    """Run every file through the pipeline in this process, with one progress bar for all stages;
    ``on_done`` hears of each document as soon as it is finished, ``on_unread`` of each file that
    vanished before it was read (it is left out of the results; the batch goes on). With
    ``facturx``, captured invoices also get a Factur-X rendition archived beside the original."""
    results = []
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, disable=quiet, transient=True) as progress:
        task = progress.add_task("processing", total=len(files) * len(STAGES))
        steps = [0] * len(files)

        def step(index: int, stage: str) -> None:  # documents in flight report from their threads
            steps[index] += 1
            progress.update(task, description=f"{files[index].name}: {stage}", advance=1)

        limit = services.settings.limits.max_bytes  # bounded: a file that grew since it was sized
        documents = [(path.name, functools.partial(read_limited, path, limit)) for path in files]
        outcomes = run_all(services, documents, in_flight=services.settings.in_flight, on_stage=step)
        for index, (path, outcome) in enumerate(zip(files, outcomes, strict=True)):
            # a document that stopped early (quarantined, a duplicate) completes its share of the bar
            progress.update(task, advance=len(STAGES) - steps[index])
            if isinstance(outcome, Unread):
                err.print(f"[yellow]{safe(str(path))}: not read ({safe(outcome.reason)}); nothing kept[/]")
                if on_unread is not None:
                    on_unread(path, outcome.reason)
                continue
            doc = outcome.document
            if facturx and convertible(doc):
                try:
                    doc = convert(services, doc.id)
                except InputError as exc:
                    err.print(f"[yellow]{path.name}: no Factur-X made: {exc.message}[/]")
            results.append((path, doc, outcome.duplicate))
            if on_done is not None:
                on_done(path, doc, outcome.duplicate)
    return results


@app.command()
@door
def process(
    ctx: typer.Context,
    paths: list[Path] = typer.Argument(..., exists=True),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per document."),
    facturx: bool = typer.Option(
        False, "--facturx", help="Also archive a Factur-X made from each captured invoice."
    ),
) -> None:
    """Process files and folders in this process (embedded mode) and archive them.

    Exit codes (OCRmyPDF's convention; when several apply, the first listed wins): 5 a file vanished
    before it was read (nothing kept), 13 a file over DEMATFLOW_MAX_BYTES was refused before a byte
    of it was read (nothing kept), 2 some document quarantined, 12 some still in progress (another
    run is taking it through), 10 some rejected, 11 some need review, 0 every document archived.
    Errors that stop the run keep their own codes (3: a tool is missing, 4: storage, 6: settings)."""
    services = services_of(ctx)
    statuses: list[str] = []

    def unread(path: Path, reason: str) -> None:
        statuses.append(UNREAD)
        if as_json:
            emit({"file": str(path), "document_id": None, "status": UNREAD, "reason": reason})

    def done(path: Path, doc: Document, duplicate: bool) -> None:
        statuses.append(doc.status.value)
        if as_json:  # each line as soon as its document is done, so a later failure loses nothing
            emit(outcome_json(path, doc, duplicate=duplicate))

    files = []
    for path in collect(paths):
        why = oversized(path, services.settings.limits.max_bytes)
        if why is None:
            files.append(path)
            continue
        statuses.append(REFUSED)
        err.print(f"[yellow]{safe(str(path))} : refusé, {why}[/]")
        if as_json:
            emit({"file": str(path), "document_id": None, "status": REFUSED, "reason": why})
    results = process_files(services, files, quiet=as_json, facturx=facturx, on_done=done, on_unread=unread)
    if not as_json:
        out.print(outcomes_table([(p.name, d, dup) for p, d, dup in results], "Processed"))
        counts: dict[str, int] = {}
        for status in statuses:
            counts[status] = counts.get(status, 0) + 1
        out.print(", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "nothing to process")
    raise typer.Exit(door_exit_code(statuses))


def oversized(path: Path, max_bytes: int) -> str | None:
    """Why ``path`` is refused before a byte of it is read or kept (over DEMATFLOW_MAX_BYTES), or None
    (a file gone meanwhile is the read's business)."""
    try:
        size = path.stat().st_size
    except OSError:
        return None
    if size <= max_bytes:
        return None
    return f"{size:,} octets, au-delà de la limite de {max_bytes:,} (DEMATFLOW_MAX_BYTES) : rien de conservé"


def door_exit_code(statuses: list[str]) -> int:
    """``exit_code``, with a file refused for its size (nothing kept) right after a vanished one."""
    if UNREAD not in statuses and REFUSED in statuses:
        return REFUSED_EXIT
    return exit_code(statuses)


@app.command()
@door
def submit(ctx: typer.Context, paths: list[Path] = typer.Argument(..., exists=True)) -> None:
    """Keep the files and queue them for the workers (needs DEMATFLOW_BROKER_URL). Exit 0, or 5 a file
    vanished before it was read, 13 a file was over DEMATFLOW_MAX_BYTES (refused, nothing kept)."""
    from workers.actors import Actors
    from workers.broker import make_broker

    settings = settings_of(ctx)
    services = services_of(ctx)
    actors = Actors(make_broker(settings.broker_url), lambda: services)
    limit = settings.limits.max_bytes
    statuses: list[str] = []
    for path in collect(paths):
        line: dict[str, object] = {"file": str(path), "document_id": None}
        try:
            if (why := oversized(path, limit)) is not None:
                raise OSError(errno.EFBIG, why)
            data = read_limited(path, limit)
        except OSError as exc:
            status = REFUSED if exc.errno == errno.EFBIG else UNREAD
            reason = exc.strerror or type(exc).__name__
            said = "refusé" if status == REFUSED else "non lu"
            err.print(f"[yellow]{safe(str(path))} : {said}, {safe(reason)}[/]")
            statuses.append(status)
            emit(line | {"status": status, "reason": reason})
            continue
        receipt = actors.submit(filename=path.name, data=data)
        del data
        line |= {"document_id": receipt.document_id, "status": "received"}
        if receipt.duplicate_of:
            line["duplicate_of"] = receipt.duplicate_of
        statuses.append("received")
        emit(line)
    if REFUSED in statuses or UNREAD in statuses:
        raise typer.Exit(door_exit_code(statuses))
