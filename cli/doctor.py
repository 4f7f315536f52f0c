"""`dematflow doctor`: every tool and service this configuration needs, each asked by its own probe."""

from __future__ import annotations

import functools

import typer
from rich.table import Table

from cli.app import app, door, out, services_of, settings_of
from dematflow.errors import DematflowError


@app.command()
@door
def doctor(ctx: typer.Context) -> None:
    """Check that every tool and service dematflow needs answers."""
    from extractors import tesseract
    from signing import pdfsig

    table = Table(title="dematflow doctor")
    table.add_column("component")
    table.add_column("state")
    ok = True
    checks = {
        "tesseract": tesseract.probe,
        "pdfsig (poppler)": pdfsig.probe,
        "catalogue + archive + seal": lambda: services_of(ctx).store.describe(),
    }
    if (clamd := settings_of(ctx).clamd) is not None:  # the antivirus, only where one is configured
        from extractors import clamav

        checks[f"clamd ({clamd})"] = functools.partial(clamav.probe, address=clamd)
    for name, probe in checks.items():
        try:
            table.add_row(name, f"[green]{probe()}[/]")
        except DematflowError as exc:
            ok = False
            table.add_row(name, f"[red]{exc.message}[/]")
    out.print(table)
    raise typer.Exit(0 if ok else 3)
