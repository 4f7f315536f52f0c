"""The text layer of a digital PDF, page by page, with word boxes (pdfplumber), read in a bounded child."""

from __future__ import annotations

import io
import logging
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

from dematflow.errors import CorruptInput, EncryptedInput, HostileInput, InputError, OversizedInput
from extractors import sandbox
from extractors.results import PageText, Source, Word
from extractors.sandbox import Budget

log = logging.getLogger(__name__)

# Inflated content streams (the page's own and its forms') one page may hold: an invoice page holds
# kilobytes, a dense vector drawing a few MB; pdfminer reads about 0.5 MB of it a second.
MAX_PAGE_CONTENT = 16 * 1024 * 1024
_FLATE = ("FlateDecode", "Fl")
MAX_ATTACHMENTS = 1000  # name-tree entries looked at, at most
PROGRAM_SUFFIXES = {"exe", "dll", "scr", "com", "bat", "cmd", "msi", "ps1", "vbs", "js", "jar", "sh", "app"}
PROGRAM_MAGIC = (b"MZ", b"\x7fELF", b"#!", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe", b"\xfe\xed\xfa")


def _caused_by(exc: BaseException, names: set[str]) -> bool:
    """Whether an error of one of these type names is in the chain (pdfplumber wraps pdfminer's)."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return False
        if names & {type(seen).__name__, *(type(a).__name__ for a in getattr(seen, "args", ()))}:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _is_password_error(exc: BaseException) -> bool:
    return _caused_by(exc, {"PDFPasswordIncorrect", "PDFEncryptionError"})


def _refuse(exc: Exception, what: str) -> NoReturn:
    """Translate a pdfplumber/pdfminer error: out of memory (the child's cap), a password, damage."""
    if _caused_by(exc, {"MemoryError"}):
        raise MemoryError from exc
    if _is_password_error(exc):
        raise EncryptedInput("the PDF is password-protected") from exc
    raise CorruptInput(f"{what} ({type(exc).__name__})") from exc


@contextmanager
def _open(data: bytes) -> Iterator[Any]:
    """Open with pdfplumber, translating its errors into dematflow input errors."""
    import pdfplumber

    if not data:
        raise CorruptInput("empty PDF")
    try:
        pdf = pdfplumber.open(io.BytesIO(data))
    except Exception as exc:  # pdfminer raises many unrelated types on broken files
        _refuse(exc, "the PDF is damaged or truncated and cannot be read")
    try:
        yield pdf
    finally:
        pdf.close()


def pdf_page_count(data: bytes) -> int:
    """Number of pages of a PDF."""
    with _open(data) as pdf:
        try:
            return len(pdf.pages)
        except Exception as exc:
            _refuse(exc, "the PDF page tree is damaged")


def checked_page_count(data: bytes, *, max_pages: int, budget: Budget = Budget()) -> int:
    """Number of pages, opened in a bounded child; when within ``max_pages``, each page's content
    streams are inflated (and dropped) with a bounded decompressor first, so a bomb stops here."""
    return sandbox.run(_inspect, data, max_pages, budget=budget, what="the PDF's structure")


def _inspect(data: bytes, max_pages: int) -> int:
    with _open(data) as pdf:
        try:
            pages = pdf.pages
            if len(pages) <= max_pages:
                for number, page in enumerate(pages, start=1):
                    _check_content(page.page_obj, number)
                _refuse_programs(pdf.doc.catalog)
            return len(pages)
        except InputError:
            raise
        except Exception as exc:
            _refuse(exc, "the PDF page tree is damaged")


def _check_content(page_obj: Any, number: int) -> None:
    from pdfminer.pdftypes import PDFStream, resolve1

    streams = [resolve1(c) for c in (page_obj.contents or [])]
    seen: set[int] = set()
    total, resources = 0, [page_obj.resources]
    while resources and len(seen) < 1000:  # forms inside forms, each counted once
        xobjects = resolve1((resolve1(resources.pop()) or {}).get("XObject")) or {}
        for ref in xobjects.values() if isinstance(xobjects, dict) else ():
            form = resolve1(ref)
            if isinstance(form, PDFStream) and id(form) not in seen:
                seen.add(id(form))
                if getattr(form.get("Subtype"), "name", None) == "Form":
                    streams.append(form)
                    resources.append(form.get("Resources"))
    for stream in streams:
        if isinstance(stream, PDFStream):
            total += _inflated_size(stream, MAX_PAGE_CONTENT - total)
        if total > MAX_PAGE_CONTENT:
            raise OversizedInput(
                f"page {number} of the PDF holds content that inflates beyond "
                f"{MAX_PAGE_CONTENT // 2**20} MB (a decompression bomb)"
            )


def _refuse_programs(catalog: dict[str, Any]) -> None:
    """An attachment that is a program (by its name or its first bytes) makes the PDF hostile."""
    from pdfminer.pdftypes import PDFStream, resolve1
    from pdfminer.utils import decode_text

    names = resolve1((resolve1(catalog.get("Names")) or {}).get("EmbeddedFiles"))
    nodes, looked = [names], 0
    while nodes and looked < MAX_ATTACHMENTS:
        node = resolve1(nodes.pop()) or {}
        nodes.extend(resolve1(node.get("Kids")) or [])
        pairs = resolve1(node.get("Names")) or []
        for spec in (resolve1(s) for s in pairs[1::2]):
            looked += 1
            raw = spec.get("UF") or spec.get("F") if isinstance(spec, dict) else None
            name = decode_text(raw) if isinstance(raw, bytes) else "attachment"
            data = resolve1((resolve1(spec.get("EF")) or {}).get("F")) if isinstance(spec, dict) else None
            head = _head(data) if isinstance(data, PDFStream) else b""
            if name.rsplit(".", 1)[-1].lower() in PROGRAM_SUFFIXES or head.startswith(PROGRAM_MAGIC):
                raise HostileInput(f"the PDF carries a program as an attachment ({name!r}): refused")


def _head(stream: Any) -> bytes:
    """The first bytes of a stream, through its Flate filters, with a bounded decompressor."""
    raw = stream.rawdata if stream.rawdata is not None else b""
    names = [getattr(f, "name", f) for f, _ in stream.get_filters()]
    if not all(name in _FLATE for name in names):
        return b""
    chunks: Iterable[bytes] = [raw]
    for _ in names:
        chunks = _inflate(chunks)
    return next((chunk for chunk in chunks if chunk), b"")[:16]


def _inflated_size(stream: Any, limit: int) -> int:
    """Bytes the stream decodes to, counted up to just past ``limit``; a filter other than Flate is
    not counted here (the child's time and memory budget still bounds it)."""
    raw = stream.rawdata if stream.rawdata is not None else b""
    names = [getattr(f, "name", f) for f, _ in stream.get_filters()]
    if not all(name in _FLATE for name in names):
        return len(raw)
    chunks: Iterable[bytes] = [raw]
    for _ in names:
        chunks = _inflate(chunks)
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > limit:
            break
    return total


def _inflate(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """One Flate layer, a megabyte at a time: never more than that in memory."""
    inflater = zlib.decompressobj()
    try:
        for chunk in chunks:
            while not inflater.eof:
                out = inflater.decompress(chunk, 1 << 20)
                chunk = inflater.unconsumed_tail
                if not out and not chunk:
                    break  # this input is used up: the next chunk
                yield out
    except zlib.error:
        return  # damaged: pdfminer says so when it reads the page


def _page_text(page: Any, number: int) -> PageText:
    words = tuple(
        Word(str(w["text"]), float(w["x0"]), float(w["top"]), float(w["x1"]), float(w["bottom"]))
        for w in page.extract_words(keep_blank_chars=False, use_text_flow=False)
    )
    text = page.extract_text() or ""
    return PageText(number, text, words, Source.PDF_TEXT, 1.0)


def read_pdf_text(data: bytes, *, max_pages: int, budget: Budget = Budget()) -> tuple[PageText, ...]:
    """Text and words of every page; a page without a text layer yields an empty PageText. Read in a
    child process within ``budget``: past it, ``OverBudget``."""
    return sandbox.run(_read_text, data, max_pages, budget=budget, what="the PDF's text")


def _read_text(data: bytes, max_pages: int) -> tuple[PageText, ...]:
    with _open(data) as pdf:
        try:
            pages = pdf.pages
            if len(pages) > max_pages:
                raise OversizedInput(f"{len(pages)} pages, limit {max_pages}")
            out = tuple(_page_text(page, i) for i, page in enumerate(pages, start=1))
        except OversizedInput:
            raise
        except Exception as exc:
            _refuse(exc, "a page of the PDF is damaged and cannot be read")
    log.debug("pdf text layer: %d page(s), %d chars", len(out), sum(len(p.text) for p in out))
    return out
