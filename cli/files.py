"""Commands on one file that archive nothing: read its fields (`extract`), validate an e-invoice
(`validate`), turn a captured invoice into a Factur-X (`facturx`)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from cli.app import app, door, emit, out, settings_of
from dematflow.errors import InputError, OversizedInput, UnsupportedInput
from pipeline.convert import CAPTURED, facturx_from, printable_pdf
from pipeline.inspect import read_document
from pipeline.records import Status
from validators.chain import validate_document
from validators.report import Finding, Severity


@app.command()
@door
def extract(
    ctx: typer.Context,
    file: Path = typer.Argument(..., exists=True, dir_okay=False),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Read one file's type and fields (nothing is archived)."""
    settings = settings_of(ctx)
    doc = read_document(settings, filename=file.name, data=read_within_limit(file, settings.limits.max_bytes))
    findings = [f.to_json() for f in doc.findings]
    if doc.status is Status.QUARANTINED:
        findings.append(Finding("INPUT", Severity.FATAL, doc.reason or "unreadable").to_json())
    answer = {
        "doc_type": doc.doc_type.value if doc.doc_type else "other",
        "source": doc.source.value if doc.source else None,
        "fields": doc.fields,
        "confidence": {k: round(v, 3) for k, v in doc.confidence.items()},
        "findings": findings,
    }
    if as_json:
        emit(answer)
    else:
        table = Table(title=f"{file.name}: {answer['doc_type']} via {answer['source']}")
        for col in ("field", "value", "confidence"):
            table.add_column(col)
        for key, value in sorted(doc.fields.items()):
            table.add_row(key, value, f"{doc.confidence.get(key, 0):.2f}")
        out.print(table)
        for f in findings:
            out.print(f"[yellow]{f['rule']}[/] {f['severity']}: {f['message']}")
    if doc.status is Status.QUARANTINED:
        raise typer.Exit(2)


@app.command()
@door
def validate(
    ctx: typer.Context,
    file: Path = typer.Argument(..., exists=True, dir_okay=False),
    as_json: bool = typer.Option(False, "--json"),
    french_rules: bool = typer.Option(
        None,
        "--french-rules/--no-french-rules",
        help="French CTC rules (BR-FR); default: when the seller or the buyer is French.",
    ),
) -> None:
    """Validate an e-invoice (Factur-X/ZUGFeRD PDF, CII or UBL XML). Exit 0 valid, 1 invalid,
    2 not readable as an invoice."""
    try:
        settings = settings_of(ctx)
        data = read_within_limit(file, settings.limits.max_bytes)
        # rules_dir None: shared/rules beside the repository, if there
        report = validate_document(data, french_rules=french_rules, rules_dir=settings.rules_dir)
        answer = report.to_json()
        code = 0 if answer["valid"] else 1
    except InputError as exc:
        answer = {
            "valid": False,
            "checked": [],
            "not_checked": [],
            "syntax": None,
            "flavor": None,
            "profile": None,
            "findings": [Finding("INPUT", Severity.FATAL, exc.message).to_json()],
        }
        code = 2
    if as_json:
        emit(answer)
    else:
        verdict = "[green]valid[/]" if code == 0 else "[red]not valid[/]"
        out.print(
            f"{file.name}: {verdict} ({answer.get('flavor')} {answer.get('profile')}; "
            f"checked: {', '.join(answer['checked']) or 'nothing'})"
        )
        for f in answer["findings"]:
            out.print(f"  [yellow]{f['rule']}[/] {f['severity']}: {f['message']}")
    raise typer.Exit(code)


def read_within_limit(file: Path, max_bytes: int) -> bytes:
    """The file's bytes, refused before they are read when it is over DEMATFLOW_MAX_BYTES."""
    with file.open("rb") as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise OversizedInput(f"{file.name} is over the limit of {max_bytes:,} bytes (DEMATFLOW_MAX_BYTES)")
    return data


@app.command("facturx")
@door
def facturx_cmd(
    ctx: typer.Context,
    file: Path = typer.Argument(..., exists=True, dir_okay=False),
    out_file: Path = typer.Option(..., "--out", help="Where to write the Factur-X PDF."),
) -> None:
    """Turn an invoice captured from a scan or a plain PDF into a Factur-X PDF/A-3 (EN 16931,
    BASIC WL or MINIMUM: the richest the captured fields allow), validated before it is written."""
    data = file.read_bytes()
    doc = read_document(settings_of(ctx), filename=file.name, data=data)
    if doc.status is Status.QUARANTINED:
        raise UnsupportedInput(doc.reason or "unreadable")
    if doc.source not in CAPTURED:
        raise UnsupportedInput(f"{file.name} is already an e-invoice ({doc.source})")
    conversion = facturx_from(doc.fields, printable_pdf(doc.kind, data))
    out_file.write_bytes(conversion.pdf)
    out.print(
        f"wrote {out_file}: Factur-X {conversion.profile}, valid ({', '.join(conversion.report.checked)})"
    )
