"""Archive and audit commands: list, show and get documents; verify and read the journal."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.progress import Progress
from rich.table import Table

from cli.app import archive_app, audit_app, door, emit, err, out, services_of
from cli.render import documents_table
from dematflow.errors import NotFound
from pipeline import journal
from pipeline.audit import Verification, verify
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
        emit(
            {
                "document_id": d.id,
                "received_at": d.received_at,
                "file": d.filename,
                "doc_type": d.doc_type.value if d.doc_type else None,
                "status": d.status.value,
                "reason": d.reason,
                "fields": d.fields,
            }
        )


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


@audit_app.command("verify")
@door
def verify_cmd(ctx: typer.Context) -> None:
    """Recompute the journal's hash chain and re-hash every archived object."""
    services = services_of(ctx)
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("verifying journal", total=None)
        result = verify(services, progress=lambda n: progress.update(task, completed=n))
    print_verification(result)
    raise typer.Exit(0 if result.ok else 1)


def print_verification(result: Verification) -> None:
    summary = f"{result.entries} journal entries, {result.objects} archived objects, {result.anchors} anchors"
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
