"""What the review screen shows of a page: its image rendered from the kept copy, its words with boxes
in fractions of the page, and the text inside a box the agent draws (OCR'd on the fly)."""

from __future__ import annotations

import io
import logging
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import TYPE_CHECKING

from dematflow.errors import InvalidRequest, NotFound, ToolFailed
from extractors.capture import Capture
from extractors.pdftext import PDFIUM_LOCK
from extractors.results import PageText, Source, Word
from pipeline.context import Services
from pipeline.records import Document
from pipeline.stages.classify import load_capture

if TYPE_CHECKING:
    from PIL.Image import Image

log = logging.getLogger(__name__)

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in 0..1 of the page, from its top left corner
MIN_WIDTH, MAX_WIDTH, DEFAULT_WIDTH = 100, 2000, 1000  # 120: the thumbnail strip
OCR_DPI = 300.0  # a PDF page is rendered at this resolution for a region's OCR
MIN_REGION_PX = 4  # a region smaller than this (at OCR resolution) holds nothing to read
KEPT = 64  # archived objects' readings (captures, page sizes) kept in memory: a queue's worth


class _Kept:
    """A small LRU of what was read from an archived object, by its key: archived objects never change
    (originals are named by their digest, captures by a fresh id), so a reading stays true."""

    def __init__(self, size: int) -> None:
        self.size, self.items, self.lock = size, OrderedDict[Hashable, object](), threading.Lock()
        self.rendering: dict[Path, threading.Lock] = {}

    def get(self, key: Hashable, read: Callable[[], object]) -> object:
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        value = read()
        with self.lock:
            self.items[key] = value
            while len(self.items) > self.size:
                self.items.popitem(last=False)
        return value

    def render_lock(self, path: Path) -> threading.Lock:
        """One lock per cached PNG: a second request for a page being rendered waits for that render."""
        with self.lock:
            return self.rendering.setdefault(path, threading.Lock())

    def rendered(self, path: Path) -> None:
        with self.lock:
            self.rendering.pop(path, None)


_KEPT = _Kept(KEPT)


def kept(key: Hashable, read: Callable[[], object]) -> object:
    """What ``read()`` gives for an archived object, remembered by ``key`` (which names that object)."""
    return _KEPT.get(key, read)


def capture_of(services: Services, doc: Document) -> Capture | None:
    """The archived capture (pages and words), or None for an e-invoice read from its XML."""
    obj = doc.objects.get("capture")
    if obj is None:
        return None
    cap = _KEPT.get(("capture", obj.key), lambda: load_capture(services.store.get(obj.key)))
    return cap  # type: ignore[return-value]


def _original(services: Services, doc: Document) -> bytes:
    return services.store.get(doc.objects["original"].key)


def _is_image(doc: Document) -> bool:
    return doc.kind is not None and doc.kind.is_image


def page_sizes(services: Services, doc: Document) -> list[tuple[float, float]]:
    """Each page's size as its words measure it: points for a PDF, pixels for an image."""
    obj = doc.objects.get("original")
    if obj is None:
        return []
    sizes = _KEPT.get(("sizes", obj.key, _is_image(doc), doc.kind), lambda: _page_sizes(services, doc))
    return list(sizes)  # type: ignore[call-overload]


def _page_sizes(services: Services, doc: Document) -> list[tuple[float, float]]:
    data = _original(services, doc)
    if _is_image(doc):
        from PIL import Image

        sizes = []
        try:
            with Image.open(io.BytesIO(data)) as img:
                for i in range(getattr(img, "n_frames", 1)):
                    img.seek(i)
                    sizes.append((float(img.width), float(img.height)))
        except (OSError, Image.DecompressionBombError):
            return []  # an unreadable image, kept as received: nothing to render
        return sizes
    if doc.kind is None or doc.kind.value != "pdf":
        return []  # an XML e-invoice has no pages to show
    import pypdfium2 as pdfium

    with PDFIUM_LOCK:
        try:
            pdf = pdfium.PdfDocument(data)
        except pdfium.PdfiumError:
            return []  # a corrupt PDF, kept as received: nothing to render
        try:
            return [tuple(pdf[i].get_size()) for i in range(len(pdf))]
        finally:
            pdf.close()


def normaliser(services: Services, doc: Document, cap: Capture) -> Callable[[int, Box | None], Box | None]:
    """A function turning a box in page ``n``'s word coordinates into fractions of the page: OCR'd
    pages through the capture's map from the working copy, text-layer pages by the page size."""
    sizes: list[tuple[float, float]] | None = None

    def to_fractions(page: int, box: Box | None) -> Box | None:
        nonlocal sizes
        if box is None:
            return None
        x0, y0, x1, y1 = box
        if page in cap.to_page:
            a, b, c, d, e, f = cap.to_page[page]
            corners = [(a * x + c * y + e, b * x + d * y + f) for x in (x0, x1) for y in (y0, y1)]
            xs, ys = [p[0] for p in corners], [p[1] for p in corners]
            return _clamp((min(xs), min(ys), max(xs), max(ys)))
        if sizes is None:
            sizes = page_sizes(services, doc)
        if not 1 <= page <= len(sizes):
            return None
        w, h = sizes[page - 1]
        return _clamp((x0 / w, y0 / h, x1 / w, y1 / h))

    return to_fractions


def _clamp(box: Box) -> Box:
    return tuple(round(min(1.0, max(0.0, v)), 5) for v in box)  # type: ignore[return-value]


def _page_of(cap: Capture | None, page: int) -> PageText:
    if cap is None or not 1 <= page <= len(cap.pages):
        raise NotFound(f"aucune page {page} lue dans ce document")
    return cap.pages[page - 1]


def words(services: Services, doc: Document, page: int) -> list[dict[str, object]]:
    """The words of page ``page`` (1-based) with their boxes in fractions of the page."""
    cap = capture_of(services, doc)
    text = _page_of(cap, page)
    assert cap is not None
    norm = normaliser(services, doc, cap)
    return [
        {"text": w.text, "box": norm(page, (w.x0, w.top, w.x1, w.bottom)), "confidence": round(w.conf, 3)}
        for w in text.words
    ]


def page_count(services: Services, doc: Document) -> int:
    """The pages that can be shown (0 for an XML e-invoice or an unreadable file)."""
    return len(page_sizes(services, doc))


def page_png(services: Services, doc: Document, page: int, width: int) -> Path:
    """Page ``page`` of the kept copy as a PNG ``width`` pixels wide, cached under DATA_DIR/cache
    (never in the archive: it is a view, not a record)."""
    if not MIN_WIDTH <= width <= MAX_WIDTH:
        raise InvalidRequest(f"largeur {width} hors de {MIN_WIDTH}..{MAX_WIDTH}")
    path = services.settings.data_dir / "cache" / "pages" / doc.id / f"{page}-{width}.png"
    if path.exists():  # rendered before, so the page exists: no need to open the PDF again
        return path
    if not 1 <= page <= page_count(services, doc):
        raise NotFound(f"aucune page {page} dans ce document")
    with _KEPT.render_lock(path):
        if not path.exists():  # rendered meanwhile (a prefetch, the prerender of the next document)
            _write_png(services, doc, page, width, path)
    _KEPT.rendered(path)
    return path


def _write_png(services: Services, doc: Document, page: int, width: int, path: Path) -> None:
    image = _render(services, doc, page, width=width)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
    with os.fdopen(fd, "wb") as f:
        f.write(buffer.getvalue())
    os.replace(tmp, path)  # another process rendering at once: the last complete file wins


def _render(services: Services, doc: Document, page: int, *, width: int | None = None) -> Image:
    """The page as a PIL image, ``width`` pixels wide (None: at OCR_DPI, or the image's own pixels)."""
    from PIL import Image

    data = _original(services, doc)
    if _is_image(doc):
        img = Image.open(io.BytesIO(data))
        img.seek(page - 1)
        frame = img.convert("L" if img.mode in ("1", "L", "I;16") else "RGB")
        if width is not None and frame.width != width:
            height = max(1, round(frame.height * width / frame.width))
            frame = frame.resize((width, height), Image.Resampling.LANCZOS)
        return frame
    import pypdfium2 as pdfium

    with PDFIUM_LOCK:  # pages of one document are asked for at once (the thumbnail strip)
        pdf = pdfium.PdfDocument(data)
        try:
            pdf_page = pdf[page - 1]
            scale = width / pdf_page.get_size()[0] if width is not None else OCR_DPI / 72.0
            rendered = pdf_page.render(scale=scale).to_pil().convert("RGB")
            pdf_page.close()
            return rendered
        finally:
            pdf.close()


def region_text(services: Services, doc: Document, page: int, box: Box) -> str:
    """The text inside ``box``: the words of a text-layer page, else the region OCR'd by tesseract."""
    x0, y0, x1, y1 = box
    if not (0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1):
        raise InvalidRequest("la zone doit être [x0, y0, x1, y1] avec 0 ≤ x0 < x1 ≤ 1 et 0 ≤ y0 < y1 ≤ 1")
    cap = capture_of(services, doc)
    if cap is not None and 1 <= page <= len(cap.pages) and cap.pages[page - 1].source is Source.PDF_TEXT:
        return _words_inside(services, doc, cap, page, box)
    if not 1 <= page <= page_count(services, doc):
        raise NotFound(f"aucune page {page} dans ce document")
    return _ocr_region(services, doc, page, box)


def _words_inside(services: Services, doc: Document, cap: Capture, page: int, box: Box) -> str:
    norm = normaliser(services, doc, cap)
    inside: list[tuple[float, float, Word]] = []
    for w in cap.pages[page - 1].words:
        b = norm(page, (w.x0, w.top, w.x1, w.bottom))
        if b is not None and box[0] <= (b[0] + b[2]) / 2 <= box[2] and box[1] <= (b[1] + b[3]) / 2 <= box[3]:
            inside.append(((b[1] + b[3]) / 2, b[0], w))
    inside.sort(key=lambda t: (round(t[0], 2), t[1]))
    lines: list[list[str]] = []
    last: float | None = None
    for middle, _, w in inside:
        if last is None or abs(middle - last) > 0.005:
            lines.append([])
        lines[-1].append(w.text)
        last = middle
    return "\n".join(" ".join(line) for line in lines)


def _ocr_region(services: Services, doc: Document, page: int, box: Box) -> str:
    import numpy as np
    from PIL import ImageOps

    from extractors import tesseract  # only a region OCR needs tesseract in the API process

    image = _render(services, doc, page)
    w, h = image.size
    left, top = int(box[0] * w), int(box[1] * h)
    crop = image.crop((left, top, max(int(box[2] * w), left + 1), max(int(box[3] * h), top + 1)))
    crop = ImageOps.expand(crop.convert("L"), border=16, fill=255)  # tesseract wants a margin
    if min(crop.size) < MIN_REGION_PX + 32:
        return ""  # a click, not a region: nothing to read
    settings = services.settings
    try:
        text = tesseract.ocr_page(
            np.asarray(crop),
            page_number=page,
            languages=settings.ocr_languages,
            timeout=min(settings.ocr_timeout, 60.0),
            dpi=OCR_DPI if not _is_image(doc) else None,
        )
    except ToolFailed as exc:  # an interactive helper: the agent types the value instead
        log.warning("region OCR of %s page %d failed: %s", doc.id, page, exc.message)
        return ""
    log.debug("region OCR of %s page %d: %d words", doc.id, page, len(text.words))
    return text.text.strip()
