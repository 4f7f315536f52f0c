"""`dematflow archive renew`: a new archive timestamp on every B-LTA seal whose last one expires soon."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import typer
from rich.progress import Progress
from rich.table import Table

from cli.app import archive_app, door, emit, err, out, services_of
from dematflow.errors import InvalidRequest
from pipeline.renew import MARGIN_DAYS, Outcome, RenewalReport, default_before, renew_seals


@archive_app.command("renew")
@door
def renew_cmd(
    ctx: typer.Context,
    before: str = typer.Option(
        None, "--before", help="Renew seals whose timestamp expires before this date (YYYY-MM-DD)."
    ),
    margin_days: int = typer.Option(
        MARGIN_DAYS, "--margin-days", min=0, help="Without --before: today plus this many days."
    ),
    as_json: bool = typer.Option(
        False, "--json", help="One JSON object per seal renewed, skipped or failed."
    ),
) -> None:
    """Add an archive timestamp (a new version, the old one kept) to each B-LTA seal whose last
    timestamp's TSA certificate expires before the date; exit 1 if any renewal failed. Run it from a
    monthly timer, or send the renew_seals actor; a run with nothing expiring changes nothing."""
    try:
        limit = datetime.fromisoformat(before).replace(tzinfo=UTC) if before else default_before(margin_days)
    except ValueError as exc:
        raise InvalidRequest(f"--before {before!r} is not a date such as 2027-12-31") from exc
    services = services_of(ctx)
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("checking sealed PDFs", total=None)
        report = renew_seals(
            services, limit, progress=lambda n, total: progress.update(task, completed=n, total=total)
        )
    if as_json:
        for checked in report.checked:
            if checked.outcome is not Outcome.NOT_DUE:
                emit(dataclasses.asdict(checked))
    else:
        _print(report)
    raise typer.Exit(0 if report.ok else 1)


def _print(report: RenewalReport) -> None:
    renewed, skipped, failed = (
        report.of(o) for o in (Outcome.RENEWED, Outcome.NOT_RENEWABLE, Outcome.FAILED)
    )
    not_due = len(report.of(Outcome.NOT_DUE))
    out.print(
        f"archive renew (before {report.before[:10]}): {len(renewed)} renewed, {not_due} not due, "
        f"{len(skipped)} not renewable (not B-LTA), {len(failed)} failed"
    )
    if not (renewed or skipped or failed):
        return
    table = Table()
    for col in ("document", "outcome", "expired", "new version", "expires", "reason"):
        table.add_column(col, overflow="fold")
    for c in (*renewed, *skipped, *failed):
        table.add_row(
            c.document_id, c.outcome.value, (c.expires or "-")[:10], c.new_key or "-",
            (c.new_expires or "-")[:10], c.reason or "",
        )  # fmt: skip
    out.print(table)
