"""The text layer of a digital PDF, page by page, with word boxes, read in a bounded child.

Words come from PDFium's text page (characters with their boxes, grouped into words as pdfplumber
groups them: a space, a gap wider than X_TOLERANCE or a change of line ends a word), in pdfplumber's
coordinates: points from the top left corner of the media box, the page turned by its /Rotate.
pdfplumber (pdfminer) stays for the structure checks (content streams, attachments)."""

from __future__ import annotations

import io
import logging
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

from dematflow.errors import CorruptInput, EncryptedInput, HostileInput, InputError, OversizedInput
from extractors import sandbox
from extractors.results import PageText, Source, Word
from extractors.sandbox import Budget

log = logging.getLogger(__name__)

# PDFium is not thread-safe: two threads of one process (the API's page views and region OCR, the
# embedded runner's documents in flight) must never call it at once. Every use holds this lock.
PDFIUM_LOCK = threading.RLock()

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


X_TOLERANCE = Y_TOLERANCE = 3.0  # points, as pdfplumber's extract_words


def _to_top_left(page: Any) -> Callable[[float, float], tuple[float, float]]:
    """PDF user space to pdfplumber's page space: from the media box's top left, /Rotate applied."""
    x0, y0, x1, y1 = page.get_mediabox()
    rotation = page.get_rotation() % 360
    if rotation == 90:
        return lambda x, y: (y - y0, x - x0)
    if rotation == 180:
        return lambda x, y: (x1 - x, y - y0)
    if rotation == 270:
        return lambda x, y: (y1 - y, x1 - x)
    return lambda x, y: (x - x0, y1 - y)


def _chars(page: Any) -> Iterator[tuple[str, float, float, float, float]]:
    """Each character of the page's text with its box (x0, top, x1, bottom) in page space; a
    generated character (a space or line break PDFium infers) comes as a space without a box."""
    import ctypes

    import pypdfium2.raw as pdfium_c

    textpage = page.get_textpage()
    try:
        handle, rect, to_page = textpage.raw, pdfium_c.FS_RECTF(), _to_top_left(page)
        for i in range(pdfium_c.FPDFText_CountChars(handle)):
            code = pdfium_c.FPDFText_GetUnicode(handle, i)
            char = chr(code) if 0 < code < 0x110000 and not 0xD800 <= code < 0xE000 else " "
            if pdfium_c.FPDFText_IsGenerated(handle, i) == 1 or char.isspace():
                yield " ", 0.0, 0.0, 0.0, 0.0
                continue
            pdfium_c.FPDFText_GetLooseCharBox(handle, i, ctypes.byref(rect))
            (ax, ay), (bx, by) = to_page(rect.left, rect.top), to_page(rect.right, rect.bottom)
            yield char, min(ax, bx), min(ay, by), max(ax, bx), max(ay, by)
    finally:
        textpage.close()


def _words(page: Any) -> list[Word]:
    words: list[Word] = []
    current: list[tuple[str, float, float, float, float]] = []
    for char in (*_chars(page), (" ", 0.0, 0.0, 0.0, 0.0)):
        if current and (char[0] == " " or _apart(current[-1], char)):
            words.append(
                Word("".join(c[0] for c in current), current[0][1], min(c[2] for c in current),
                     max(c[3] for c in current), max(c[4] for c in current))
            )  # fmt: skip
            current = []
        if char[0] != " ":
            current.append(char)
    return words


def _apart(a: tuple[str, float, float, float, float], b: tuple[str, float, float, float, float]) -> bool:
    """Whether two printed characters belong to different words: a gap, a step back, another line."""
    return b[1] - a[3] > X_TOLERANCE or b[1] < a[1] - X_TOLERANCE or abs(b[2] - a[2]) > Y_TOLERANCE


def _lines(words: list[Word]) -> str:
    """The page's text: words clustered into lines by their tops, each line left to right."""
    rows: list[list[Word]] = []
    for w in sorted(words, key=lambda w: (w.top, w.x0)):
        if rows and abs(w.top - rows[-1][0].top) <= Y_TOLERANCE:
            rows[-1].append(w)
        else:
            rows.append([w])
    return "\n".join(" ".join(w.text for w in sorted(row, key=lambda w: w.x0)) for row in rows)


def _pdfium_page(page: Any, number: int) -> PageText:
    words = sorted(_words(page), key=lambda w: (round(w.top), w.x0))
    return PageText(number, _lines(words), tuple(words), Source.PDF_TEXT, 1.0)


def pdfium_pages(data: bytes, *, max_pages: int) -> tuple[PageText, ...]:
    """Every page's words through PDFium, in this process (``read_pdf_text`` runs it in a child)."""
    import pypdfium2 as pdfium

    if not data:
        raise CorruptInput("empty PDF")
    with PDFIUM_LOCK:
        return _pdfium_pages(pdfium, data, max_pages)


def _pdfium_pages(pdfium: Any, data: bytes, max_pages: int) -> tuple[PageText, ...]:
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise EncryptedInput("the PDF is password-protected") from exc
        raise CorruptInput(f"the PDF is damaged or truncated and cannot be read ({exc})") from exc
    try:
        if len(pdf) > max_pages:
            raise OversizedInput(f"{len(pdf)} pages, limit {max_pages}")
        pages = []
        for i in range(len(pdf)):
            page = pdf[i]
            try:
                pages.append(_pdfium_page(page, i + 1))
            finally:
                page.close()
        return tuple(pages)
    except pdfium.PdfiumError as exc:
        raise CorruptInput(f"a page of the PDF is damaged and cannot be read ({exc})") from exc
    finally:
        pdf.close()


def read_pdf_text(data: bytes, *, max_pages: int, budget: Budget = Budget()) -> tuple[PageText, ...]:
    """Text and words of every page; a page without a text layer yields an empty PageText. Read in a
    child process within ``budget``: past it, ``OverBudget``."""
    return sandbox.run(_read_text, data, max_pages, budget=budget, what="the PDF's text")


def _read_text(data: bytes, max_pages: int) -> tuple[PageText, ...]:
    out = pdfium_pages(data, max_pages=max_pages)
    log.debug("pdf text layer: %d page(s), %d chars", len(out), sum(len(p.text) for p in out))
    return out
