"""`dematflow archive search`: find documents by seller, buyer, number, dates, amounts, status, text."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

import typer

from cli.app import archive_app, door, emit, err, out, services_of
from cli.render import document_line, documents_table
from dematflow.errors import InvalidRequest
from pipeline import search
from pipeline.records import Status


@archive_app.command("search")
@door
def search_cmd(
    ctx: typer.Context,
    siren: str = typer.Option(None, "--siren", help="Seller SIREN (9 digits)."),
    siret: str = typer.Option(None, "--siret", help="Seller SIRET (14 digits)."),
    vat: str = typer.Option(None, "--vat", help="Seller VAT id (BT-31)."),
    buyer: str = typer.Option(None, "--buyer", help="Buyer name (BT-44), case and spaces ignored."),
    number: str = typer.Option(None, "--number", help="Invoice number (BT-1)."),
    text: str = typer.Option(None, "--text", help="Words of the captured text."),
    issued_from: str = typer.Option(None, "--from", help="Issued on or after (BT-2, YYYY-MM-DD)."),
    issued_to: str = typer.Option(None, "--to", help="Issued on or before."),
    due_from: str = typer.Option(None, "--due-from", help="Due on or after (BT-9)."),
    due_to: str = typer.Option(None, "--due-to", help="Due on or before."),
    min_amount: str = typer.Option(None, "--min", help="Total with VAT at least (BT-112)."),
    max_amount: str = typer.Option(None, "--max", help="Total with VAT at most."),
    status: Status = typer.Option(None, "--status"),
    lifecycle: int = typer.Option(None, "--lifecycle", help="Current lifecycle code (200-213, 501)."),
    doc_type: str = typer.Option(None, "--class", help="invoice, credit_note, ..."),
    tenant: str = typer.Option(None, "--tenant"),
    limit: int = typer.Option(100, "--limit", min=1, max=10_000),
    reindex: bool = typer.Option(False, "--reindex", help="First index documents archived before search."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per document."),
) -> None:
    """Documents meeting every criterion given, in the order received."""
    services = services_of(ctx)
    if reindex:
        err.print(f"indexed {search.reindex(services)} document(s)")
    criteria = search.Criteria(
        siren=siren,
        siret=siret,
        vat=vat,
        buyer=buyer,
        invoice_number=number,
        issued_from=_day(issued_from, "--from"),
        issued_to=_day(issued_to, "--to"),
        due_from=_day(due_from, "--due-from"),
        due_to=_day(due_to, "--due-to"),
        min_amount=_amount(min_amount, "--min"),
        max_amount=_amount(max_amount, "--max"),
        status=status,
        lifecycle=lifecycle,
        doc_type=doc_type,
        tenant=tenant,
        text=text,
    )
    search.catch_up(services)
    docs = search.find(services.catalogue.engine, criteria, limit=limit)
    if not as_json:
        out.print(documents_table(docs))
        return
    for d in docs:
        emit(document_line(d, tenant=d.tenant))


def _day(value: str | None, option: str) -> str | None:
    if value is None:
        return None
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return date.fromisoformat(value).isoformat()
    except ValueError:
        pass
    raise InvalidRequest(f"{option} {value!r} is not a date such as 2026-12-01")


def _amount(value: str | None, option: str) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(value.replace(",", "."))
    except InvalidOperation:
        raise InvalidRequest(f"{option} {value!r} is not an amount such as 1234.50") from None
