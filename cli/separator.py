"""`dematflow separator`: print a separator sheet, to put before each document of a scanned batch."""

from __future__ import annotations

from pathlib import Path

import typer

from builders.separator import separator_pdf
from cli.app import app, door, out
from dematflow.errors import InvalidRequest
from extractors.results import DocType


@app.command("separator")
@door
def separator_cmd(
    output: Path = typer.Option(..., "--out", "-o", dir_okay=False, help="The sheet's PDF, to print."),
    doc_class: DocType = typer.Option(None, "--class", help="The class of the documents it precedes."),
    meta: list[str] = typer.Option([], "--meta", help="key=value said of the next document (site, batch)."),
) -> None:
    """Print a separator sheet (A4 PDF with a QR code): a scanned batch is split at each one."""
    said = dict(_pair(item) for item in meta)
    if doc_class is not None:
        said["class"] = doc_class.value
    output.write_bytes(separator_pdf(said))
    out.print(f"feuille de séparation écrite dans {output}")


def _pair(item: str) -> tuple[str, str]:
    key, sep, value = item.partition("=")
    if not sep or not key:
        raise InvalidRequest(f"--meta attend clé=valeur, pas {item!r}")
    return key.strip(), value.strip()
