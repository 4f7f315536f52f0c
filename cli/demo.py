"""`dematflow demo`: make a small realistic set, process it on embedded defaults, verify the audit."""

from __future__ import annotations

import secrets
from pathlib import Path

import typer

from cli.app import app, door, out, services_of
from cli.archive import print_verification
from cli.commands import process_files
from cli.render import outcomes_table
from cli.samples import make_demo_set
from dematflow.errors import NotFound
from pipeline import accounts
from pipeline.audit import verify
from pipeline.context import Services

DEMO_AGENT = "agent-demo"


@app.command()
@door
def demo(
    ctx: typer.Context,
    inbox: Path = typer.Option(
        None, "--inbox", help="Where to write the demo files (default DATA_DIR/demo-inbox)."
    ),
) -> None:
    """Create demo documents (Factur-X, digital PDF, skewed scan, bank details, a corrupt file),
    process them on embedded defaults and verify the audit trail."""
    services = services_of(ctx)
    inbox = inbox or services.settings.data_dir / "demo-inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    samples = make_demo_set(inbox)
    out.print(f"demo set: {len(samples)} files in {inbox}")
    creds = services.context.signer
    seal = "DEVELOPMENT seal" if creds is None or creds.development else "configured seal"
    out.print(f"data directory: {services.settings.data_dir} ({services.store.describe()}, {seal})")
    results = process_files(services, [s.path for s in samples])
    out.print(outcomes_table([(p.name, d, dup) for p, d, dup in results], "dematflow demo"))
    for sample, (_, doc, _) in zip(samples, results, strict=True):
        if doc.status.value != sample.expected_status:
            out.print(
                f"[yellow]note:[/] {sample.path.name} ended {doc.status.value}, "
                f"the demo expected {sample.expected_status}"
            )
    _demo_agent(services)
    result = verify(services)
    print_verification(result)
    raise typer.Exit(0 if result.ok else 1)


def _demo_agent(services: Services) -> None:
    """An agent account to sign in to the review desk with (``dematflow serve``), made once."""
    engine = services.catalogue.engine
    try:
        accounts.find(engine, DEMO_AGENT)
    except NotFound:
        password = secrets.token_urlsafe(12)
        accounts.add(engine, role=accounts.Role.AGENT, name=DEMO_AGENT, password=password, by="demo")
        out.print(f"demo agent (review desk, after `dematflow serve`): {DEMO_AGENT}", soft_wrap=True)
        out.print(f"demo agent password: {password}", soft_wrap=True)
        return
    out.print(f"demo agent: {DEMO_AGENT} (exists; `dematflow accounts password {DEMO_AGENT}` resets it)")
