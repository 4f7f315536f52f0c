"""The Typer application, settings built at the edge, and the one place errors become exit codes."""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from dematflow import logs
from dematflow.errors import ConfigError, DematflowError
from pipeline.context import Services, open_services
from pipeline.settings import Settings

app = typer.Typer(
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    help="Dematerialise invoices and supporting documents: capture, validate, seal, archive, audit.",
)
archive_app = typer.Typer(no_args_is_help=True, help="Browse and retrieve archived documents.")
audit_app = typer.Typer(no_args_is_help=True, help="Verify and read the audit journal.")
app.add_typer(archive_app, name="archive")
app.add_typer(audit_app, name="audit")
journal_app = typer.Typer(no_args_is_help=True, help="Seal the audit journal day by day.")
evidence_app = typer.Typer(no_args_is_help=True, help="Check an evidence bundle.")
app.add_typer(journal_app, name="journal")
app.add_typer(evidence_app, name="evidence")
db_app = typer.Typer(no_args_is_help=True, help="The catalogue's schema: its revision, its upgrade.")
app.add_typer(db_app, name="db")

out = Console()
err = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])


@app.callback()
def _root(
    ctx: typer.Context,
    data_dir: Path = typer.Option(
        None,
        "--data-dir",
        envvar="DEMATFLOW_DATA_DIR",
        help="Data directory (default ./dematflow-data).",
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log progress to stderr."),
) -> None:
    # factur-x logs a warning for every plain PDF it is asked about: expected here, not news.
    logging.getLogger("factur-x").setLevel(logging.ERROR)
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format=logs.TEXT)
    env = dict(os.environ)
    try:
        logs.apply(env)  # DEMATFLOW_LOG_FORMAT=json: one JSON object a line on stderr
    except ConfigError as exc:
        err.print(f"[red]{escape(exc.message)}[/]")
        raise typer.Exit(exc.exit_code) from None
    if data_dir is not None:
        env["DEMATFLOW_DATA_DIR"] = str(data_dir)
    ctx.obj = env


def settings_of(ctx: typer.Context) -> Settings:
    return Settings.from_env(ctx.obj)


def services_of(ctx: typer.Context) -> Services:
    return open_services(settings_of(ctx))


def emit(value: dict[str, Any]) -> None:
    """One JSON object on one line of stdout, untouched by rich's wrapping."""
    sys.stdout.write(json.dumps(value, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def door(fn: F) -> F:
    """Turn dematflow errors into a one-line message and the error's exit code; never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except DematflowError as exc:
            err.print(f"[red]dematflow: {exc.message}[/red]")
            raise typer.Exit(exc.exit_code) from None

    return wrapper  # type: ignore[return-value]
