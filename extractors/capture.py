"""Capture the text of a document: the PDF text layer, OCR for scanned pages and images."""

from __future__ import annotations

import functools
import logging
import multiprocessing
import os
import shutil
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np

from dematflow.errors import ToolFailed
from extractors import imageprep, images, pdftext, tesseract
from extractors.results import PageText, Source
from extractors.sandbox import Budget

log = logging.getLogger(__name__)

MIN_TEXT_CHARS = 20  # fewer alphanumerics than this on a PDF page: treat it as a scan
# Orientation is checked only when the first reading is doubtful, so upright pages pay nothing for
# OSD: an upright page reads at ~0.9 mean word confidence, an upside-down one at 0.44-0.55; a page
# on its side either reads badly or (tesseract reads vertical lines) gives words taller than wide.
DOUBTFUL_CONF = 0.80
MIN_OSD_CONFIDENCE = 1.5  # OSD at working resolution: 3.6-21 when right on sparse invoice pages
# Below this a page reads so badly that the turn OSD suggests, however unsure, is tried as well, or
# 180° when it suggests none (measured: noisy upside-down pages read at 0.50-0.54 while OSD said 180°
# at confidence 0.2, or 0° at 0.6). The better reading is kept, so an upright page loses nothing.
UNREADABLE_CONF = 0.65
BATCH_PAGES = 8  # pages read by one tesseract run at most (their working copies wait on disk meanwhile)
MIN_RUN_PAGES = 2  # pages given to one OCR process at least, when a document's pages are spread


def _cpu_count() -> int:
    return os.cpu_count() or 1


@dataclass(frozen=True)
class OcrOptions:
    """How scanned pages are read.

    ``jobs`` is the number of processes the pages of one document are spread over (one tesseract
    thread each), in runs of at least MIN_RUN_PAGES consecutive pages, each run read by one
    tesseract process. Use ``jobs=1`` (in-process) inside dramatiq workers, which already run one process
    per core; the default, the core count, suits the CLI and embedded use. The pool is created on
    first use and reused by the process; its workers start from a forkserver, so a script using
    ``jobs > 1`` must guard its entry point (``if __name__ == "__main__":``).

    ``budget`` bounds the reading of a PDF's text (a child process, ``extractors.sandbox``);
    ``scratch`` is where page images wait for tesseract, in a folder per process (None: the system
    temp folder): folders of processes that were killed are removed by the next run."""

    languages: str = "fra+eng"
    dpi: int = 300
    timeout: float = 120.0
    max_pages: int = 200
    max_pixels: int = 60_000_000
    jobs: int = field(default_factory=_cpu_count)
    budget: Budget = field(default_factory=Budget)
    scratch: Path | None = None


@dataclass(frozen=True)
class Capture:
    """The pages of one document, where their text came from and the tool versions used.

    ``preparation`` lists, per OCR'd page number, the steps applied to its working copy;
    ``to_page`` maps, per OCR'd page number, a point of the working copy (the pixels its words' boxes
    are in) to the page as shown: fractions of its width and height, from the top left corner.
    With it a searchable text layer can be laid on the kept page (``signing.textlayer``).
    ``ocr_seconds``: how long its pages took to read by OCR (0 when loaded back from the archive)."""

    source: Source
    pages: tuple[PageText, ...]
    tools: dict[str, str] = field(default_factory=dict)
    preparation: dict[int, tuple[str, ...]] = field(default_factory=dict)
    to_page: dict[int, imageprep.Affine] = field(default_factory=dict)
    ocr_seconds: float = 0.0

    @property
    def ocr_pages(self) -> int:
        return len(self.to_page)

    @property
    def text(self) -> str:
        return "\n\n".join(page.text for page in self.pages)


@dataclass(frozen=True)
class PageJob:
    """One page image to read, picklable so that it can go to a worker process."""

    image: np.ndarray
    number: int
    dpi: float | None  # resolution of ``image``; None when unknown (then estimated)


@dataclass(frozen=True)
class PageResult:
    page: PageText
    steps: tuple[str, ...]
    to_page: imageprep.Affine


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown"


def _ocr_tools() -> dict[str, str]:
    return {"tesseract": tesseract.version(), "opencv": _version("opencv-python-headless")}


def _has_text(page: PageText) -> bool:
    return sum(ch.isalnum() for ch in page.text) >= MIN_TEXT_CHARS


def _recognise(prepared: imageprep.Prepared, number: int, ocr: OcrOptions) -> PageText:
    return tesseract.ocr_page(
        prepared.image,
        page_number=number,
        languages=ocr.languages,
        timeout=ocr.timeout,
        dpi=prepared.dpi,
        workdir=_workdir(ocr),
    )


def _workdir(ocr: OcrOptions) -> Path | None:
    """This process's scratch folder (OCR pool workers have their own)."""
    if ocr.scratch is None:
        return None
    folder = ocr.scratch / str(os.getpid())
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@functools.cache
def _sweep(scratch: Path) -> None:
    """Once per process: remove the scratch folders of processes no longer running (killed)."""
    for folder in scratch.glob("[0-9]*") if scratch.is_dir() else ():
        if not _alive(int(folder.name)):
            log.info("removing the OCR scratch of a stopped process: %s", folder)
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: alive
        return True
    return True


def _quality(page: PageText) -> float:
    """Mean word confidence, discounted by the share of words standing on their side."""
    words = [w for w in page.words if len(w.text) >= 3]
    tall = sum(w.bottom - w.top > w.x1 - w.x0 for w in words)
    return page.mean_conf * (1.0 - tall / len(words)) if words else page.mean_conf


def read_pages(jobs: Sequence[PageJob], ocr: OcrOptions) -> list[PageResult]:
    """Prepare the working copies of some pages, OCR them, and turn upright the ones that read badly.

    BATCH_PAGES pages at a time, read by one tesseract run when their working copies share a
    resolution (the models load once); a long document never has all its working copies at once."""
    results: list[PageResult] = []
    for start in range(0, len(jobs), BATCH_PAGES):
        batch = [
            (job, imageprep.estimate_dpi(job.image.shape[1], job.image.shape[0], job.dpi))
            for job in jobs[start : start + BATCH_PAGES]
        ]
        prepared = [imageprep.prepare_for_ocr(job.image, dpi=dpi) for job, dpi in batch]
        numbers = [job.number for job, _ in batch]
        if len({p.dpi for p in prepared}) == 1:
            images, dpi = [p.image for p in prepared], prepared[0].dpi
            pages = tesseract.ocr_pages(
                images,
                page_numbers=numbers,
                languages=ocr.languages,
                timeout=ocr.timeout,
                dpi=dpi,
                workdir=_workdir(ocr),
            )
        else:
            pages = [_recognise(p, n, ocr) for p, n in zip(prepared, numbers, strict=True)]
        for (job, dpi), prep, page in zip(batch, prepared, pages, strict=True):
            results.append(_upright(job, dpi, prep, page, ocr))
    return results


def _upright(
    job: PageJob, dpi: float, prepared: imageprep.Prepared, page: PageText, ocr: OcrOptions
) -> PageResult:
    """The page's reading, or, when it reads badly, the reading of the page turned as OSD says."""
    if _quality(page) < DOUBTFUL_CONF:
        small, small_dpi = imageprep.osd_copy(prepared)
        degrees, confidence = tesseract.detect_orientation(
            small, dpi=small_dpi, timeout=ocr.timeout, workdir=_workdir(ocr)
        )
        log.debug("page %d: osd %d° (confidence %.1f)", job.number, degrees, confidence)
        unreadable = _quality(page) < UNREADABLE_CONF
        if unreadable and not degrees:  # OSD fooled by noise: upside down is what scanners do most
            degrees = 180
        if degrees and (confidence >= MIN_OSD_CONFIDENCE or unreadable):
            turned = imageprep.prepare_for_ocr(job.image, dpi=dpi, rotation=degrees)  # deskew again
            again = _recognise(turned, job.number, ocr)
            if _quality(again) > _quality(page):
                prepared, page = turned, again
    h, w = job.image.shape[:2]
    to_fractions = (1.0 / w, 0.0, 0.0, 1.0 / h, 0.0, 0.0)
    return PageResult(page, prepared.steps, imageprep.compose(prepared.to_source, to_fractions))


_POOLS: dict[int, ProcessPoolExecutor] = {}
_POOL_LOCK = threading.Lock()  # documents read on several threads share one pool


def _pool(jobs: int) -> ProcessPoolExecutor:
    """Worker processes, created on first use and reused; forkserver so no lock is inherited."""
    with _POOL_LOCK:
        if jobs not in _POOLS:
            _POOLS[jobs] = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("forkserver"))
        return _POOLS[jobs]


def _read_pages(jobs: Sequence[PageJob], ocr: OcrOptions) -> list[PageResult]:
    """The pages in order, spread over ``ocr.jobs`` processes in runs of consecutive pages."""
    # Runs of at least two pages: a page more in a run saves loading the models again (~0.3 s of CPU),
    # which matters more than finishing one short document sooner when documents are in flight.
    if ocr.scratch is not None:
        _sweep(ocr.scratch)
    size = min(BATCH_PAGES, max(MIN_RUN_PAGES, -(-len(jobs) // max(ocr.jobs, 1))))
    runs = [jobs[i : i + size] for i in range(0, len(jobs), size)]
    if ocr.jobs <= 1 or len(runs) <= 1:  # one run gains nothing from a trip to another process
        return read_pages(jobs, ocr)
    pool = _pool(ocr.jobs)
    try:
        return [result for run in pool.map(read_pages, runs, [ocr] * len(runs)) for result in run]
    except BrokenProcessPool as exc:  # a worker was killed (OOM, signal): start afresh next time
        pool.shutdown(wait=False, cancel_futures=True)
        with _POOL_LOCK:
            if _POOLS.get(ocr.jobs) is pool:
                del _POOLS[ocr.jobs]
        raise ToolFailed(f"an OCR worker process died: {exc}") from exc


def capture_pdf(data: bytes, *, ocr: OcrOptions) -> Capture:
    """Text layer per page; pages with (almost) no text are rendered and OCR'd."""
    pages = list(pdftext.read_pdf_text(data, max_pages=ocr.max_pages, budget=ocr.budget))
    tools = {"pdfplumber": _version("pdfplumber")}
    scanned = [page.number for page in pages if not _has_text(page)]
    if not scanned:
        return Capture(Source.PDF_TEXT, tuple(pages), tools)
    tools |= _ocr_tools() | {"pypdfium2": _version("pypdfium2")}
    rendered = images.render_pdf_pages(data, pages=scanned, dpi=ocr.dpi, max_pixels=ocr.max_pixels)
    jobs = [PageJob(image, number, float(ocr.dpi)) for image, number in zip(rendered, scanned, strict=True)]
    start = time.perf_counter()
    results = _read_pages(jobs, ocr)
    seconds = time.perf_counter() - start
    for result in results:
        pages[result.page.number - 1] = result.page
    log.info("pdf: %d of %d page(s) OCR'd", len(scanned), len(pages))
    return _ocr_capture(tuple(pages), tools, results, seconds)


def capture_images(data: bytes, *, ocr: OcrOptions) -> Capture:
    """OCR every page of a PNG / JPEG / TIFF file."""
    loaded = images.load_images(data, max_pages=ocr.max_pages, max_pixels=ocr.max_pixels)
    declared = images.image_dpi(data)
    tools = _ocr_tools() | {"pillow": _version("pillow")}
    start = time.perf_counter()
    results = _read_pages([PageJob(image, i, declared) for i, image in enumerate(loaded, start=1)], ocr)
    seconds = time.perf_counter() - start
    log.info("image: %d page(s) OCR'd", len(results))
    return _ocr_capture(tuple(r.page for r in results), tools, results, seconds)


def _ocr_capture(
    pages: tuple[PageText, ...], tools: dict[str, str], results: list[PageResult], seconds: float
) -> Capture:
    steps = {r.page.number: r.steps for r in results}
    to_page = {r.page.number: r.to_page for r in results}
    return Capture(Source.OCR, pages, tools, steps, to_page, seconds)
