"""`dematflow retry`: take quarantined documents through again once the cause is fixed."""

from __future__ import annotations

import dataclasses
import getpass
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import typer

from cli.app import app, door, emit, err, out, services_of
from cli.render import exit_code, outcome_json, outcomes_table, safe
from dematflow.errors import InvalidRequest
from pipeline import stalled
from pipeline.catalogue import Query
from pipeline.context import Services
from pipeline.records import Document, Status
from pipeline.retry import reopen
from pipeline.run import Receipt, next_stage, run_stages

REFUSED_EXIT = InvalidRequest.exit_code


def quarantined(services: Services, since: str | None) -> Iterator[Document]:
    """The quarantined documents, received on or after ``since``, oldest first, page by page."""
    query = Query(status=Status.QUARANTINED, received_from=since)
    while page := services.catalogue.list(query=query, limit=200):
        yield from page
        query = dataclasses.replace(query, after=(page[-1].received_at, page[-1].id))


@app.command()
@door
def retry(
    ctx: typer.Context,
    document_ids: list[str] = typer.Argument(None, metavar="[ID]...", help="Documents to retry."),
    all_quarantined: bool = typer.Option(False, "--quarantined", help="Every quarantined document."),
    all_stalled: bool = typer.Option(
        False, "--stalled", help="Every document still in the pipeline with no progress for --older-than."
    ),
    older_than: float = typer.Option(
        None, "--older-than", help="With --stalled: seconds without progress (default DEMATFLOW_STALLED_S)."
    ),
    since: str = typer.Option(None, "--since", help="With --quarantined: received on or after DATE."),
    force: bool = typer.Option(
        False, "--force", help="Also documents whose bytes were refused, or closed by a 501 Irrecevable."
    ),
    reason: str = typer.Option("the cause was fixed", "--reason", help="Why: journalled."),
    by: str = typer.Option(None, "--by", help="Who retries (default: the login name): journalled."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per document."),
) -> None:
    """Re-open quarantined documents at the stage they failed at and take them through again, in this
    process or, when DEMATFLOW_BROKER_URL is set, queued for the workers. --stalled sends again the
    next step of documents whose message a broker lost (the workers also do it by themselves).
    Documents quarantined for their bytes (empty, corrupt, unsupported: they would fail the same way)
    or whose lifecycle is closed by 501 Irrecevable are refused unless --force; with --force the new
    outcome is journalled and the 501 stays. Exit codes as `process` (0: all archived; queued: 0), 7
    when an ID named is refused."""
    if [bool(document_ids), all_quarantined, all_stalled].count(True) != 1:
        raise InvalidRequest("name document IDs, --quarantined or --stalled (one of them)")
    if since is not None:
        try:
            since = date.fromisoformat(since).isoformat()
        except ValueError:
            raise InvalidRequest(f"--since {since!r} is not a date such as 2026-03-31") from None
    services = services_of(ctx)
    if all_stalled:
        wait = timedelta(seconds=services.settings.stalled_s if older_than is None else older_than)
        late = [services.catalogue.get(i) for i in stalled.stalled(services, wait)]
        raise typer.Exit(exit_code(_take_through(services, late, as_json)))
    who = by or getpass.getuser()
    docs = [services.catalogue.get(i) for i in document_ids] if document_ids else quarantined(services, since)
    reopened, refused = [], 0
    for doc in docs:
        try:
            reopened.append(reopen(services, doc.id, who=who, why=reason, force=force))
        except InvalidRequest as exc:
            refused += 1
            err.print(f"[yellow]{doc.id} ({safe(doc.filename)}): {safe(exc.message)}[/]")
    code = exit_code(_take_through(services, reopened, as_json))
    raise typer.Exit(code or (REFUSED_EXIT if refused and document_ids else 0))


def _take_through(services: Services, docs: list[Document], as_json: bool) -> Iterator[str]:
    """Run the re-opened documents here, or queue them; yield each one's status."""
    if services.settings.broker_url:
        from workers.actors import Actors
        from workers.broker import make_broker

        actors = Actors(make_broker(services.settings.broker_url), lambda: services)
        for doc in docs:
            stage = next_stage(doc)
            if stage is not None:
                actors.send(stage, doc.id)
            line = {"document_id": doc.id, "file": doc.filename, "status": "queued", "stage": stage}
            if as_json:
                emit(line)
            else:
                out.print(f"{doc.id} ({safe(doc.filename)}): queued at {stage}")
        return
    rows = []
    for doc in docs:
        done = run_stages(services, Receipt(doc.id)).document
        if as_json:
            emit(outcome_json(Path(done.filename), done, duplicate=False))
        rows.append((done.filename, done, False))
        yield done.status.value
    if not as_json:
        out.print(outcomes_table(rows, "Retried") if rows else "nothing to retry")
