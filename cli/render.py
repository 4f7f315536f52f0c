"""How documents and results look on a terminal, as JSON lines and as `process`'s exit code."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.table import Table

from pipeline.records import Document, Status

KEY_FIELDS = ("BT-1", "BT-2", "BT-112", "BT-31")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # C0, DEL and C1: terminal escapes start here

# `process` exit codes (OCRmyPDF's convention: 0 only when all is done); the most severe one wins.
UNREAD = "unread"  # a file listed, then gone before it was read: nothing was kept
EXIT_CODES: dict[str, int] = {
    UNREAD: 5,  # as NotFound.exit_code
    Status.QUARANTINED.value: 2,  # as InputError.exit_code
    Status.RECEIVED.value: 12,  # still in progress: another run is taking it through
    Status.REJECTED.value: 10,
    Status.NEEDS_REVIEW.value: 11,
    Status.ARCHIVED.value: 0,
}  # in order of severity, most severe first


def exit_code(statuses: Iterable[str]) -> int:
    """The code of the most severe status met; 0 only when every document reached ``archived``."""
    met = set(statuses)
    return next((code for status, code in EXIT_CODES.items() if status in met), 0)


def safe(text: str) -> str:
    """Untrusted text (a file name, a value read from a document) fit for a rich terminal: control
    characters dropped (no terminal escape gets through) and markup escaped (printed as written)."""
    return escape(_CONTROL.sub("", text))


def outcome_json(path: Path, doc: Document, *, duplicate: bool) -> dict[str, Any]:
    """One line of `process --json`: file, document_id, status, and reason unless archived."""
    line: dict[str, Any] = {
        "file": str(path),
        "document_id": doc.id,
        "status": doc.status.value,
        "doc_type": doc.doc_type.value if doc.doc_type else None,
    }
    if doc.status is not Status.ARCHIVED:
        line["reason"] = doc.reason or f"stopped at {doc.stage}"
    if duplicate:
        line["duplicate_of"] = doc.id
    if "facturx" in doc.objects:
        line["facturx"] = doc.objects["facturx"].key
    return line


def key_fields(doc: Document) -> str:
    return "  ".join(f"{k}={doc.fields[k]}" for k in KEY_FIELDS if k in doc.fields)


STATUS_STYLE = {
    Status.ARCHIVED: "green",
    Status.NEEDS_REVIEW: "yellow",
    Status.REJECTED: "red",
    Status.QUARANTINED: "magenta",
    Status.RECEIVED: "cyan",
}


def status_text(doc: Document) -> str:
    return f"[{STATUS_STYLE[doc.status]}]{doc.status.value}[/]"


def outcomes_table(rows: list[tuple[str, Document, bool]], title: str) -> Table:
    table = Table(title=title, show_lines=False)
    for col in ("file", "type", "key fields", "verdict", "archive id"):
        table.add_column(col, overflow="fold")
    for name, doc, duplicate in rows:
        verdict = status_text(doc) + (f"\n{safe(doc.reason)}" if doc.reason else "")
        if duplicate:
            verdict += "\n(same bytes received before)"
        kind = doc.doc_type.value if doc.doc_type else (doc.kind.value if doc.kind else "?")
        source = f" ({doc.source.value})" if doc.source else ""
        table.add_row(safe(name), kind + source, safe(key_fields(doc)), verdict, doc.id)
    return table


def document_line(doc: Document, **more: object) -> dict[str, Any]:
    """A listed document as one JSON line (archive list, archive search), with ``more`` keys last."""
    return {
        "document_id": doc.id,
        "received_at": doc.received_at,
        "file": doc.filename,
        "doc_type": doc.doc_type.value if doc.doc_type else None,
        "status": doc.status.value,
        **more,
        "fields": doc.fields,
    }


def documents_table(docs: list[Document]) -> Table:
    table = Table(title="Archived documents")
    for col in ("id", "received", "file", "type", "status", "BT-1", "BT-112"):
        table.add_column(col, overflow="fold")
    for d in docs:
        table.add_row(
            d.id,
            d.received_at[:19],
            safe(d.filename),
            d.doc_type.value if d.doc_type else "-",
            status_text(d),
            safe(d.fields.get("BT-1", "")),
            safe(d.fields.get("BT-112", "")),
        )
    return table
