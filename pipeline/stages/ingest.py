"""Ingest: know what the kept bytes are (type from content, never the name) and enforce the limits.

When an antivirus is configured (DEMATFLOW_CLAMD) the bytes are scanned before anything reads them.
"""

from __future__ import annotations

from dematflow.errors import (
    EmptyInput,
    HostileInput,
    InfectedInput,
    OversizedInput,
    ToolFailed,
    UnsupportedInput,
)
from extractors import clamav, images, pdftext, safexml
from extractors.sandbox import Budget
from extractors.sniff import FileKind, sniff
from pipeline.context import Context, versions
from pipeline.records import Document, Event, StageResult

MIN_SIDE_PX = 50
ACCEPTED = "PDF, TIFF, PNG, JPEG, or CII/UBL invoice XML"
# What else a file with a PDF in its first KiB may start as: then it is two things at once.
OTHER_KINDS = {
    b"PK\x03\x04": "a ZIP archive",
    b"\xff\xd8\xff": "a JPEG image",
    b"\x89PNG": "a PNG image",
    b"II*\x00": "a TIFF image",
    b"MM\x00*": "a TIFF image",
    b"GIF8": "a GIF image",
    b"MZ": "a Windows program",
    b"\x7fELF": "a program",
    b"<": "HTML or XML",
}


def ingest(ctx: Context, doc: Document) -> StageResult:
    data = ctx.store.get(doc.objects["original"].key)
    limits = ctx.settings.limits
    if not data:
        raise EmptyInput("the file is empty (0 bytes)")
    if len(data) > limits.max_bytes:
        raise OversizedInput(f"{len(data):,} bytes is over the limit of {limits.max_bytes:,}")
    scanned = _scan(ctx, data)
    kind = sniff(data[:4096])
    if kind is FileKind.UNKNOWN:
        raise UnsupportedInput(f"unrecognised content (not {ACCEPTED})")
    if kind is FileKind.XML_OTHER:
        raise UnsupportedInput(f"XML that is not a CII or UBL invoice (accepted: {ACCEPTED})")
    if kind is FileKind.PDF:
        _refuse_polyglot(data)
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
        tools=versions("pdfplumber", "pillow", "lxml") | ({"clamd": scanned} if scanned else {}),
        detail={"kind": kind.value, "pages": pages} | ({"antivirus": "clean"} if scanned else {}),
    )
    return StageResult(doc.evolve(kind=kind, pages=pages, stage="ingest"), event)


def _scan(ctx: Context, data: bytes) -> str | None:
    """clamd's version when it found the bytes clean; None when no antivirus is configured.

    Infected: InfectedInput (quarantine, 501 IRR_ANTIVIRUS). Unreachable, or could not scan: ToolFailed,
    retried, and the document waits: bytes that were not scanned are never passed as clean."""
    address = ctx.settings.clamd
    if address is None:
        return None
    timeout = ctx.settings.clamd_timeout
    scanner = clamav.probe(address=address, timeout=timeout)
    result = clamav.scan(data, address=address, timeout=timeout)
    if result.verdict is clamav.Verdict.INFECTED:
        signature = result.signature or "inconnue"
        raise InfectedInput(f"fichier infecté (signature {signature})", signature=signature, scanner=scanner)
    if result.verdict is not clamav.Verdict.CLEAN:
        raise ToolFailed(f"clamd could not scan the file: {result.answer}")
    return scanner


def _refuse_polyglot(data: bytes) -> None:
    """A PDF that is also another kind of file shows one thing to one reader and another to the next."""
    if not data.startswith(b"%PDF-"):
        for magic, other in OTHER_KINDS.items():
            if data.lstrip()[: len(magic)] == magic:
                raise HostileInput(f"the file is {other} that also holds a PDF (a polyglot): refused")
    end = data.rfind(b"%%EOF")
    if end != -1 and b"PK\x05\x06" in data[end:]:  # a ZIP's central directory after the PDF's end
        raise HostileInput("a ZIP archive is appended to the PDF (a polyglot): refused")


def _count_pages(ctx: Context, kind: FileKind, data: bytes) -> int:
    """Open the content once so unreadable, encrypted or oversized files stop here."""
    limits = ctx.settings.limits
    if kind is FileKind.PDF:
        budget = Budget(limits.stage_timeout, limits.stage_memory)
        return pdftext.checked_page_count(data, max_pages=limits.max_pages, budget=budget)
    if kind.is_image:
        pages = images.image_sizes(data, max_pages=limits.max_pages, max_pixels=limits.max_pixels)
        if any(min(size) < MIN_SIDE_PX for size in pages):
            raise UnsupportedInput(f"an image under {MIN_SIDE_PX} pixels a side is not a document page")
        return len(pages)
    safexml.parse_xml(data, max_bytes=limits.max_bytes)
    return 1
