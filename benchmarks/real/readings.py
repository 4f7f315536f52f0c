"""Three readings of a corpus PDF (text layer, 300-dpi scan, degraded scan), cached on disk.

Each reading goes through the normal capture path (`extractors.capture`, as the classify stage
calls it) with the settings `dematflow extract --json` uses; the captured pages are kept as the
capture JSON the pipeline archives, keyed by the file's sha256, the reading, tesseract's version and a
hash of the capture code that reading runs.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks.real.dataset import RealDoc

if TYPE_CHECKING:
    import numpy as np

    from extractors.capture import Capture, OcrOptions
    from extractors.results import PageText

READINGS = ("text", "scan", "degraded")
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "dematflow" / "real_layouts"
DPI = 300
MAX_PAGES = 5  # the corpus's longest drawn invoice has five pages
SKEW = (0.5, 2.0)  # degrees, either way, per page
NOISE, BLUR, JPEG = 8.0, 0.5, 40
TOOL_TIMEOUT = 120


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def folder(doc: RealDoc) -> Path:
    """Where the rendered files and captures of ``doc`` are cached."""
    return CACHE / sha256_of(doc.path)


def pages(doc: RealDoc, reading: str) -> list[PageText]:
    """The captured pages of ``doc`` in ``reading`` ("text", "scan" or "degraded"), cached."""
    return list(capture(doc, reading).pages)


def capture(doc: RealDoc, reading: str) -> Capture:
    """The whole capture (pages, source, tools) of ``doc`` in ``reading``, cached."""
    from extractors import tesseract
    from pipeline.stages.classify import load_capture

    if reading not in READINGS:
        raise ValueError(f"lecture inconnue : {reading!r} (attendu : {', '.join(READINGS)})")
    here = folder(doc)
    cached = here / f"{reading}-tesseract-{tesseract.version()}-{code_version(reading)}.json"
    if cached.exists():
        return load_capture(cached.read_bytes())
    here.mkdir(parents=True, exist_ok=True)
    cap = _read(doc.path, here, reading)
    _write_atomic(cached, json.dumps(capture_json(cap), sort_keys=True, ensure_ascii=False).encode())
    return cap


# The modules whose code decides what a reading captures: a change to one of them is a new cache entry.
READERS = {
    "text": ("pdftext.py", "capture.py"),
    "scan": ("capture.py", "imageprep.py", "images.py", "tesseract.py"),
    "degraded": ("capture.py", "imageprep.py", "images.py", "tesseract.py"),
}


def code_version(reading: str) -> str:
    extractors = Path(__file__).resolve().parents[2] / "extractors"
    digest = hashlib.sha256()
    for name in READERS[reading]:
        digest.update((extractors / name).read_bytes())
    return digest.hexdigest()[:12]


def capture_json(cap: Capture) -> dict[str, object]:
    """A capture as the classify stage archives it (readable back with `load_capture`)."""
    return {
        "source": cap.source.value,
        "tools": cap.tools,
        "preparation": {str(n): list(steps) for n, steps in cap.preparation.items()},
        "to_page": {str(n): list(m) for n, m in cap.to_page.items()},
        "pages": [{**vars(p), "words": [vars(w) for w in p.words]} for p in cap.pages],
    }


def rendered(doc: RealDoc, reading: str) -> Path:
    """The file that ``reading`` reads (made and cached on first use)."""
    return _rendered(doc.path, folder(doc), reading)


def _read(path: Path, here: Path, reading: str) -> Capture:
    from extractors.capture import capture_images, capture_pdf

    data = _rendered(path, here, reading).read_bytes()
    ocr = ocr_options(here)
    return capture_pdf(data, ocr=ocr) if reading == "text" else capture_images(data, ocr=ocr)


def ocr_options(here: Path) -> OcrOptions:
    """The OCR options of `extract` (default settings), one process per document."""
    from pipeline.context import Context
    from pipeline.settings import Settings
    from storage.memory import MemoryStore

    settings = Settings.from_env({"DEMATFLOW_DATA_DIR": str(here.parent / "data"), "DEMATFLOW_OCR_JOBS": "1"})
    return Context(settings, MemoryStore()).ocr


def _rendered(path: Path, here: Path, reading: str) -> Path:
    target = here / {"text": "text.pdf", "scan": "scan.tiff", "degraded": "degraded.tiff"}[reading]
    if target.exists():
        return target
    if reading == "text":
        _write_atomic(target, redraw(path))
    elif reading == "scan":
        _write_atomic(target, _tiff(render_pages(path), compression="tiff_deflate"))
    else:
        seed = f"real-layouts:{sha256_of(path)}"
        pixels = [degrade(p, rng=random.Random(f"{seed}:{i}")) for i, p in enumerate(render_pages(path))]
        _write_atomic(target, _tiff(pixels, compression="jpeg", quality=JPEG))
    return target


def redraw(path: Path) -> bytes:
    """The PDF re-drawn by cairo: the same pages, without attachments, XMP or the invoice XML."""
    with tempfile.TemporaryDirectory(prefix="real-layouts-") as tmp:
        out = Path(tmp) / "out.pdf"
        subprocess.run(
            ["pdftocairo", "-pdf", str(path), str(out)], check=True, capture_output=True, timeout=TOOL_TIMEOUT
        )
        return out.read_bytes()


def render_pages(path: Path) -> list[np.ndarray]:
    """The pages (at most MAX_PAGES) as 300-dpi grey pixel arrays, as `pdftoppm -r 300 -gray` draws them."""
    import numpy
    from PIL import Image

    with tempfile.TemporaryDirectory(prefix="real-layouts-") as tmp:
        args = ["pdftoppm", "-r", str(DPI), "-gray", "-png", "-l", str(MAX_PAGES), str(path), f"{tmp}/p"]
        subprocess.run(args, check=True, capture_output=True, timeout=TOOL_TIMEOUT)
        files = sorted(Path(tmp).glob("p-*.png"), key=lambda f: int(f.stem.rsplit("-", 1)[1]))
        return [numpy.asarray(Image.open(f).convert("L")) for f in files]


def degrade(pixels: np.ndarray, *, rng: random.Random) -> np.ndarray:
    """A page as an office scanner delivers it: skewed 0.5-2°, a little blur and noise."""
    from benchmarks.synth.degrade import Quality, degrade_pixels, rotate

    skew = rng.uniform(*SKEW) * rng.choice((-1, 1))
    quality = Quality(dpi=(DPI, DPI), skew=0.0, noise=NOISE, blur=BLUR, jpeg=JPEG, upside_down=0.0)
    out, _, _ = degrade_pixels(rotate(pixels, skew), quality, dpi=DPI, rng=rng)
    return out


def _tiff(pixels: list[np.ndarray], *, compression: str, quality: int | None = None) -> bytes:
    """Pages as one multi-page TIFF at 300 dpi (JPEG-compressed frames for the degraded reading)."""
    from PIL import Image

    frames = [Image.fromarray(p, mode="L") for p in pixels]
    buffer = io.BytesIO()
    options: dict[str, object] = {"compression": compression, "dpi": (DPI, DPI)}
    if quality is not None:
        options["quality"] = quality
    frames[0].save(buffer, format="TIFF", save_all=True, append_images=frames[1:], **options)
    return buffer.getvalue()


def _write_atomic(target: Path, data: bytes) -> None:
    """Write then rename, so a worker killed midway leaves no half file in the cache."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)
