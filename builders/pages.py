"""New PDFs made of pages of others (a split batch, a merged document): pikepdf copies the page objects
as they are, nothing is re-rendered or re-compressed, and the same selection always gives the same bytes."""

from __future__ import annotations

import io
from collections.abc import Sequence

from dematflow.errors import CorruptInput


def count(pdf: bytes) -> int:
    import pikepdf

    try:
        with pikepdf.open(io.BytesIO(pdf)) as opened:
            return len(opened.pages)
    except pikepdf.PdfError as exc:
        raise CorruptInput(f"PDF illisible : {exc}") from exc


def select(selection: list[tuple[bytes, list[int]]]) -> bytes:
    """A new PDF of the selected pages, copied as they are; the same selection gives the same bytes."""
    import pikepdf

    out, opened = pikepdf.new(), []
    try:
        for pdf, pages in selection:
            opened.append(source := pikepdf.open(io.BytesIO(pdf)))
            out.pages.extend(source.pages[p - 1] for p in pages)
        buffer = io.BytesIO()
        out.save(buffer, deterministic_id=True)
        return buffer.getvalue()
    except pikepdf.PdfError as exc:
        raise CorruptInput(f"PDF illisible : {exc}") from exc
    finally:
        for source in opened:
            source.close()


def label(pages: Sequence[int]) -> str:
    """1,2,3,5 -> 1-3_5 (for file names and metadata)."""
    runs: list[list[int]] = []
    for p in pages:
        if runs and p == runs[-1][-1] + 1:
            runs[-1].append(p)
        else:
            runs.append([p])
    return "_".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)
