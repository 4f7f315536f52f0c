"""`dematflow audit sample`: the fixity check of a random sample of archived objects."""

from __future__ import annotations

import dataclasses

import typer

from cli.app import audit_app, door, emit, out, services_of
from cli.render import safe
from pipeline import fixity


@audit_app.command("sample")
@door
def sample_cmd(
    ctx: typer.Context,
    rate: float = typer.Option(0.01, "--rate", min=0.000001, max=1.0, help="Share of objects to re-hash."),
    seed: int = typer.Option(None, "--seed", help="Draw the same sample again."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Re-hash a random sample of archived objects, journal the result; exit 1 on a mismatch."""
    report = fixity.sample(services_of(ctx), rate=rate, seed=seed)
    if as_json:
        emit({**dataclasses.asdict(report), "ok": report.ok})
    else:
        verdict = "[green]OK[/]" if report.ok else f"[red]{len(report.mismatches)} mismatch(es)[/]"
        out.print(f"audit sample: {verdict} — {report.checked} of {report.archived} object(s) re-hashed")
        for m in report.mismatches:
            out.print(f"[red]{safe(m.key)}[/] (document {m.document_id}): {safe(m.what)}")
    raise typer.Exit(0 if report.ok else 1)
