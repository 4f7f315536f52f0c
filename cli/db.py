"""`dematflow db upgrade` and `dematflow db current`: the catalogue's schema, for operators."""

from __future__ import annotations

from pathlib import Path

import typer

from cli.app import db_app, door, emit, out, settings_of
from pipeline import migrations
from pipeline.db import plain_engine
from pipeline.migrations import State


@db_app.command("current")
@door
def current_cmd(ctx: typer.Context, as_json: bool = typer.Option(False, "--json")) -> None:
    """Print the catalogue's schema revision (changing nothing); exit 1 when it is behind."""
    url = settings_of(ctx).database_url
    state = State(None, legacy=False, full_text_moved=True) if _no_file(url) else _current(url)
    if as_json:
        emit({"revision": state.recorded, "head": migrations.HEAD, "at_head": state.at_head})
    else:
        out.print(_describe(state))
    raise typer.Exit(0 if state.at_head else 1)


@db_app.command("upgrade")
@door
def upgrade_cmd(ctx: typer.Context) -> None:
    """Bring the catalogue's schema to the newest revision (run before starting new workers)."""
    url = settings_of(ctx).database_url
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = plain_engine(url)
    try:
        before = migrations.ensure_head(engine)
    finally:
        engine.dispose()
    if before is None:
        out.print(f"catalogue: already at {migrations.HEAD} (head)")
    else:
        out.print(f"catalogue: {_describe(before)} -> {migrations.HEAD} (head)")


def _current(url: str) -> State:
    engine = plain_engine(url)
    try:
        return migrations.current(engine)
    finally:
        engine.dispose()


def _describe(state: State) -> str:
    if state.legacy:
        return "none (tables of a dematflow from before migrations; `dematflow db upgrade` adopts them)"
    if state.recorded is None:
        return "none (empty)"
    return f"{state.recorded} (head)" if state.at_head else state.recorded


def _no_file(url: str) -> bool:
    """An SQLite catalogue not created yet (reading it would create an empty file)."""
    return url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists()
