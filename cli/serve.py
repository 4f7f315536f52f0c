"""`dematflow serve` (the HTTP API and portal) and `dematflow accounts` (who may use them)."""

from __future__ import annotations

import getpass

import typer
from rich.markup import escape
from rich.table import Table

from cli.app import app, door, emit, err, out, settings_of
from dematflow import logs
from pipeline import accounts
from pipeline.accounts import Role
from pipeline.catalogue import Catalogue

accounts_app = typer.Typer(no_args_is_help=True, help="Manage the accounts of the API and the portal.")
app.add_typer(accounts_app, name="accounts")


@app.command()
@door
def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
) -> None:
    """Start the HTTP API and the supplier portal (embedded defaults, or the queue when
    DEMATFLOW_BROKER_URL is set)."""
    import uvicorn

    from api.app import create_app
    from api.settings import ApiSettings

    application = create_app(settings_of(ctx), ApiSettings.from_env(ctx.obj))
    err.print(f"dematflow: API et portail sur http://{host}:{port}/ (portail : /portail/)")
    # access_log: paths and statuses only; tokens travel in headers and never reach it
    from uvicorn.config import LOGGING_CONFIG

    log_config = logs.uvicorn_config(ctx.obj) or LOGGING_CONFIG  # JSON lines, or uvicorn's own text
    uvicorn.run(
        application, host=host, port=port, log_level="info", proxy_headers=False, log_config=log_config
    )


def _catalogue(ctx: typer.Context) -> Catalogue:
    settings = settings_of(ctx)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Catalogue.open(settings.database_url)


@accounts_app.command("add")
@door
def accounts_add(
    ctx: typer.Context,
    role: Role = typer.Option(..., "--role", help="supplier, agent, auditor or admin."),
    name: str = typer.Option(..., "--name", help="Sign-in name."),
    siren: list[str] = typer.Option([], "--siren", help="SIREN, SIRET or VAT id of a supplier (repeatable)."),
    password: bool = typer.Option(False, "--password", help="Also set a portal password (asked for)."),
    webhook: str = typer.Option(None, "--webhook", help="URL told of each lifecycle status (POST, JSON)."),
    days: int = typer.Option(accounts.DEFAULT_TOKEN_DAYS, "--days", help="Days the token is valid."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Create an account; its API token is printed once and cannot be shown again."""
    secret = _ask_password() if password else None
    account, token = accounts.add(
        _catalogue(ctx).engine,
        role=role,
        name=name,
        identifiers=tuple(siren),
        password=secret,
        webhook_url=webhook,
        token_days=days,
        by="cli",
    )
    if as_json:
        emit({**account.to_json(), "token": token})
        return
    out.print(f"compte {escape(account.name)} ({account.role.value}) créé : {account.id}")
    out.print("jeton d'API (affiché une seule fois, à conserver) :")
    out.print(token, markup=False, highlight=False)


@accounts_app.command("list")
@door
def accounts_list(ctx: typer.Context, as_json: bool = typer.Option(False, "--json")) -> None:
    """List the accounts (tokens are never shown)."""
    rows = accounts.listing(_catalogue(ctx).engine)
    if as_json:
        for a in rows:
            emit(a.to_json())
        return
    table = Table(title="Comptes")
    for col in ("id", "nom", "rôle", "SIREN / TVA", "mot de passe", "révoqué"):
        table.add_column(col)
    for a in rows:
        table.add_row(
            a.id,
            escape(a.name),
            a.role.value,
            ", ".join(a.identifiers),
            "oui" if a.has_password else "non",
            a.revoked_at or "",
        )
    out.print(table)


@accounts_app.command("revoke")
@door
def accounts_revoke(ctx: typer.Context, account: str = typer.Argument(..., help="Name or id.")) -> None:
    """Revoke an account and every token it holds (its documents and history stay)."""
    revoked = accounts.revoke(_catalogue(ctx).engine, account, by="cli")
    out.print(f"compte {escape(revoked.name)} révoqué le {revoked.revoked_at}")


@accounts_app.command("token")
@door
def accounts_token(
    ctx: typer.Context,
    account: str = typer.Argument(..., help="Name or id."),
    days: int = typer.Option(accounts.DEFAULT_TOKEN_DAYS, "--days"),
) -> None:
    """Issue another API token for an account (printed once)."""
    engine = _catalogue(ctx).engine
    token = accounts.issue_token(engine, accounts.find(engine, account).id, days=days, by="cli")
    out.print(token, markup=False, highlight=False)


@accounts_app.command("password")
@door
def accounts_password(ctx: typer.Context, account: str = typer.Argument(..., help="Name or id.")) -> None:
    """Set an account's portal password (asked for, at least 12 characters)."""
    engine = _catalogue(ctx).engine
    accounts.set_password(engine, accounts.find(engine, account).id, _ask_password(), by="cli")
    out.print("mot de passe enregistré")


def _ask_password() -> str:
    import sys

    if not sys.stdin.isatty():  # scripts pipe it in
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("mot de passe : ")
    if first != getpass.getpass("encore : "):
        raise typer.BadParameter("les deux saisies diffèrent")
    return first
