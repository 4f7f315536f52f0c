"""Ingest: know what the kept bytes are (type from content, never the name) and enforce the limits."""

from __future__ import annotations

from dematflow.errors import EmptyInput, OversizedInput, UnsupportedInput
from extractors import images, pdftext, safexml
from extractors.sniff import FileKind, sniff
from pipeline.context import Context, versions
from pipeline.records import Document, Event, StageResult

MIN_SIDE_PX = 50
ACCEPTED = "PDF, TIFF, PNG, JPEG, or CII/UBL invoice XML"


def ingest(ctx: Context, doc: Document) -> StageResult:
    data = ctx.store.get(doc.objects["original"].key)
    limits = ctx.settings.limits
    if not data:
        raise EmptyInput("the file is empty (0 bytes)")
    if len(data) > limits.max_bytes:
        raise OversizedInput(f"{len(data):,} bytes is over the limit of {limits.max_bytes:,}")
    kind = sniff(data[:4096])
    if kind is FileKind.UNKNOWN:
        raise UnsupportedInput(f"unrecognised content (not {ACCEPTED})")
    if kind is FileKind.XML_OTHER:
        raise UnsupportedInput(f"XML that is not a CII or UBL invoice (accepted: {ACCEPTED})")
    pages = _count_pages(ctx, kind, data)
    if pages == 0:
        raise EmptyInput("the PDF has no pages")
    if pages > limits.max_pages:
        raise OversizedInput(f"{pages} pages is over the limit of {limits.max_pages}")
    event = Event(
        "ingest",
        "identified",
        doc.id,
        inputs={"original": doc.sha256},
        tools=versions("pdfplumber", "pillow", "lxml"),
        detail={"kind": kind.value, "pages": pages},
    )
    return StageResult(doc.evolve(kind=kind, pages=pages, stage="ingest"), event)


def _count_pages(ctx: Context, kind: FileKind, data: bytes) -> int:
    """Open the content once so unreadable, encrypted or oversized files stop here."""
    limits = ctx.settings.limits
    if kind is FileKind.PDF:
        return pdftext.pdf_page_count(data)
    if kind.is_image:
        pages = images.image_sizes(data, max_pages=limits.max_pages, max_pixels=limits.max_pixels)
        if any(min(size) < MIN_SIDE_PX for size in pages):
            raise UnsupportedInput(f"an image under {MIN_SIDE_PX} pixels a side is not a document page")
        return len(pages)
    safexml.parse_xml(data, max_bytes=limits.max_bytes)
    return 1
