"""`dematflow demo`: make a small realistic set, process it on embedded defaults, verify the audit."""

from __future__ import annotations

from pathlib import Path

import typer

from cli.app import app, door, out, services_of
from cli.archive import print_verification
from cli.commands import process_files
from cli.render import outcomes_table
from cli.samples import make_demo_set
from pipeline.audit import verify


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
    creds = services.context.credentials
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
    result = verify(services)
    print_verification(result)
    raise typer.Exit(0 if result.ok else 1)
