"""Archive and audit commands: list, show and get documents; holds, retention and deletion; migration
to S3; verify and read the journal."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime
from pathlib import Path

import typer
from rich.progress import Progress
from rich.table import Table

from cli.app import (
    archive_app,
    audit_app,
    door,
    emit,
    err,
    evidence_app,
    journal_app,
    out,
    services_of,
    settings_of,
)
from cli.render import document_line, documents_table, safe
from cli.seals import print_seals
from dematflow.errors import ConfigError, InvalidRequest, NotFound
from pipeline import audit_seals, daybook, disposal, evidence, journal
from pipeline.audit import Verification, verify
from pipeline.audit_seals import SealAudit
from pipeline.context import open_services, open_store
from pipeline.migrate import migrate
from pipeline.records import Status


@archive_app.command("list")
@door
def list_(
    ctx: typer.Context,
    status: Status = typer.Option(None, "--status"),
    limit: int = typer.Option(100, "--limit"),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per document."),
) -> None:
    """Documents in the order they were received."""
    docs = services_of(ctx).catalogue.list(status=status, limit=limit)
    if not as_json:
        out.print(documents_table(docs))
        return
    for d in docs:
        emit(document_line(d, reason=d.reason))


@archive_app.command()
@door
def show(ctx: typer.Context, document_id: str) -> None:
    """Everything known about one document, with its archived objects."""
    doc = services_of(ctx).catalogue.get(document_id)
    out.print_json(data=doc.to_json())


@archive_app.command()
@door
def get(
    ctx: typer.Context,
    document_id: str,
    out_file: Path = typer.Option(..., "--out", help="Where to write the object."),
    role: str = typer.Option(
        "original",
        "--role",
        help="original, sealed, searchable, data, report, capture, einvoice_xml, facturx",
    ),
) -> None:
    """Write an archived object (by default the original bytes) to a file."""
    services = services_of(ctx)
    doc = services.catalogue.get(document_id)
    if role not in doc.objects:
        raise NotFound(
            f"document {document_id} has no {role!r} object (it has: {', '.join(sorted(doc.objects))})"
        )
    out_file.write_bytes(services.store.get(doc.objects[role].key))
    err.print(f"wrote {role} of {document_id} to {out_file} (sha256 {doc.objects[role].sha256})")


@archive_app.command()
@door
def hold(
    ctx: typer.Context,
    document_id: str,
    by: str = typer.Option(..., "--by", help="The admin account setting the hold."),
    reason: str = typer.Option(..., "--reason", help="Why (a litigation, an audit): journalled."),
) -> None:
    """Set a legal hold on every object of a document: no deletion until it is released."""
    objs = disposal.set_hold(services_of(ctx), document_id, on=True, by=by, reason=reason)
    err.print(f"legal hold set on {len(objs)} object(s) of {document_id} by {by}")


@archive_app.command()
@door
def release(
    ctx: typer.Context,
    document_id: str,
    by: str = typer.Option(..., "--by", help="The admin account lifting the hold."),
    reason: str = typer.Option(..., "--reason", help="Why: journalled."),
) -> None:
    """Lift the legal hold of a document (its retention dates still apply)."""
    objs = disposal.set_hold(services_of(ctx), document_id, on=False, by=by, reason=reason)
    err.print(f"legal hold lifted on {len(objs)} object(s) of {document_id} by {by}")


@archive_app.command()
@door
def expiring(
    ctx: typer.Context,
    before: str = typer.Option(None, "--before", help="A date (YYYY-MM-DD); default: today."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per document."),
) -> None:
    """Documents whose retention ends before a date: candidates for a deletion request."""
    try:
        limit = datetime.fromisoformat(before).replace(tzinfo=UTC) if before else datetime.now(UTC)
    except ValueError as exc:
        raise InvalidRequest(f"--before {before!r} is not a date such as 2036-12-31") from exc
    found = list(disposal.expiring(services_of(ctx), limit))
    if as_json:
        for e in found:
            emit(dataclasses.asdict(e))
        return
    table = Table(title=f"{len(found)} document(s) whose retention ends before {limit:%Y-%m-%d}")
    for col in ("document", "class", "retained until", "file"):
        table.add_column(col, overflow="fold")
    for e in found:
        table.add_row(e.document_id, e.doc_type or "-", e.retain_until, safe(e.filename))
    out.print(table)


@archive_app.command("delete-request")
@door
def delete_request(
    ctx: typer.Context,
    document_id: str,
    by: str = typer.Option(..., "--by", help="The admin account asking."),
    reason: str = typer.Option("", "--reason"),
) -> None:
    """Ask for the deletion of a document whose retention is over (a second admin approves)."""
    disposal.request_deletion(services_of(ctx), document_id, by=by, reason=reason)
    err.print(f"deletion of {document_id} requested by {by}: another admin must run delete-approve")


@archive_app.command("delete-approve")
@door
def delete_approve(
    ctx: typer.Context,
    document_id: str,
    by: str = typer.Option(..., "--by", help="The admin account approving (not the one who asked)."),
) -> None:
    """Approve a deletion: the objects go, a tombstone (what, when, who, hash) stays in the journal."""
    tomb = disposal.approve_deletion(services_of(ctx), document_id, by=by)
    err.print(
        f"deleted {len(tomb.deleted)} object(s) of {document_id} (asked by {tomb.requested_by}, "
        f"approved by {tomb.approved_by})" + (f"; kept, shared: {', '.join(tomb.kept)}" if tomb.kept else "")
    )


@archive_app.command("migrate")
@door
def migrate_cmd(
    ctx: typer.Context,
    to: str = typer.Option(..., "--to", help="s3: the bucket named by DEMATFLOW_S3_*."),
) -> None:
    """Copy the filesystem archive into S3, checking every hash; run it again to resume."""
    settings = settings_of(ctx)
    if to != "s3" or settings.s3 is None:
        raise ConfigError(
            "archive migrate --to s3 needs DEMATFLOW_S3_ENDPOINT, _BUCKET, _ACCESS_KEY, _SECRET_KEY"
        )
    source = open_services(dataclasses.replace(settings, s3=None))
    target = open_store(settings)
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task(f"copying to {target.describe()}", total=None)
        result = migrate(
            source, target, progress=lambda n, total: progress.update(task, completed=n, total=total)
        )
    out.print(
        f"{result.copied} object(s) copied, {result.skipped} already there, {len(result.problems)} problem(s)"
    )
    for problem in result.problems:
        out.print(f"[red]{problem}[/]")
    raise typer.Exit(0 if result.ok else 1)


@audit_app.command("verify")
@door
def verify_cmd(
    ctx: typer.Context,
    signatures: bool = typer.Option(
        False, "--signatures", help="Also validate every kept seal (PAdES, CAdES) against the trust roots."
    ),
) -> None:
    """Recompute the journal's hash chain and re-hash every archived object; with --signatures, validate
    every seal too: intact, trusted, timestamped, LTV-complete (offline, pyHanko)."""
    services = services_of(ctx)
    seals: SealAudit | None = None
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("verifying journal", total=None)
        result = verify(services, progress=lambda n: progress.update(task, completed=n))
        if signatures:
            step = progress.add_task("validating seals", total=None)
            seals = audit_seals.walk(
                services, progress=lambda n, t: progress.update(step, completed=n, total=t)
            )
    print_verification(result)
    if seals is not None:
        print_seals(seals)
    raise typer.Exit(0 if result.ok and (seals is None or seals.ok) else 1)


def print_verification(result: Verification) -> None:
    summary = (
        f"{result.entries} journal entries, {result.seals} day seals, {result.documents} catalogue rows, "
        f"{result.objects} archived objects, {result.anchors} anchors"
    )
    if result.ok:
        out.print(f"[green]audit verify: OK[/] — {summary} checked, nothing altered")
        return
    table = Table(title=f"audit verify: {len(result.problems)} problem(s) — {summary}")
    table.add_column("where", overflow="fold")
    table.add_column("what", overflow="fold")
    for p in result.problems:
        table.add_row(p.where, p.what)
    out.print(table)


@audit_app.command("log")
@door
def log_cmd(
    ctx: typer.Context,
    document: str = typer.Option(None, "--document"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The journal, oldest first (optionally one document's history)."""
    services = services_of(ctx)
    entries = journal.entries(services.catalogue.engine, document_id=document)
    if as_json:
        for e in entries:
            emit(dict(e.__dict__))
        return
    table = Table(title="Audit journal")
    for col in ("seq", "at", "document", "stage", "action", "detail", "hash"):
        table.add_column(col, overflow="fold")
    for e in entries:
        detail = json.dumps(e.body.get("detail", {}), ensure_ascii=False)
        table.add_row(
            str(e.seq), e.at[:23], e.document_id or "-", e.stage, e.action, detail[:80], e.hash[:12]
        )
    out.print(table)


@journal_app.command("seal")
@door
def seal_cmd(
    ctx: typer.Context,
    day: str = typer.Option(None, "--day", help="YYYY-MM-DD (UTC); default: yesterday."),
) -> None:
    """Seal every unsealed day up to --day: its rows, CAdES-sealed and timestamped, kept write-once.
    Run it daily from cron or a systemd timer after midnight UTC; a sealed day is left as it is."""
    try:
        until = date.fromisoformat(day) if day else None
    except ValueError as exc:
        raise InvalidRequest(f"--day {day!r} is not a date such as 2026-12-01") from exc
    made = daybook.seal_through(services_of(ctx), until)
    for m in made:
        out.print(f"{m.day}: {m.rows} row(s) sealed ({m.seal.key})")
    if not made:
        out.print("nothing to seal: every day up to then is sealed")


@archive_app.command("evidence")
@door
def evidence_cmd(
    ctx: typer.Context,
    document_id: str,
    out_file: Path = typer.Option(..., "--out", help="The ZIP to write."),
) -> None:
    """Write a document's evidence bundle (objects, journal rows, day seals, certificates, LISEZMOI)."""
    out_file.write_bytes(evidence.build(services_of(ctx), document_id))
    err.print(f"wrote the evidence of {document_id} to {out_file}")


@evidence_app.command("verify")
@door
def evidence_verify(bundle: Path) -> None:
    """Run the checks LISEZMOI.txt describes and name what fails."""
    result = evidence.verify(bundle.read_bytes())
    for p in result.problems:
        out.print(f"[red]{safe(p)}[/]")
    out.print(("[green]OK[/] — " if result.ok else "[red]FAILED[/] — ") + ", ".join(result.checked))
    raise typer.Exit(0 if result.ok else 1)
