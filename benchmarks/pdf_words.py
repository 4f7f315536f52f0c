"""Words of digital PDF pages: pdfplumber against PDFium's text page, same pages, same run.

Usage (from the repository root):
    nice -n 10 .venv/bin/python -m benchmarks.pdf_words [--n 20] [--seed 1] [--repeat 3] [--no-corpus]
Prints milliseconds per page of each reader, their ratio, and how many of pdfplumber's words PDFium
gives with the same text and a box within TOLERANCE points (the field reader sees the same words).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks import synth
from benchmarks.synth.corpus import CORPUS
from extractors.pdftext import pdfium_pages
from extractors.results import PageText, Source, Word

TOLERANCE = 1.0  # points


def plumber_pages(data: bytes) -> tuple[PageText, ...]:
    """Every page as pdfplumber reads its words (the reader before pypdfium2), in this process."""
    import io

    import pdfplumber

    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return tuple(
            PageText(
                number,
                page.extract_text() or "",
                tuple(
                    Word(str(w["text"]), float(w["x0"]), float(w["top"]), float(w["x1"]), float(w["bottom"]))
                    for w in page.extract_words(keep_blank_chars=False, use_text_flow=False)
                ),
                Source.PDF_TEXT,
                1.0,
            )
            for number, page in enumerate(pdf.pages, start=1)
        )


def _timed(
    read: Callable[[bytes], tuple[PageText, ...]], files: list[bytes], repeat: int
) -> tuple[float, list]:
    best, out = float("inf"), []
    for _ in range(repeat):
        start = time.perf_counter()
        out = [read(data) for data in files]
        best = min(best, time.perf_counter() - start)
    return best, out


def _same(a: PageText, b: PageText) -> tuple[int, int]:
    """(pdfplumber words also read by PDFium with a box within TOLERANCE, pdfplumber words)."""
    theirs: dict[str, list[Word]] = {}
    for w in b.words:
        theirs.setdefault(w.text, []).append(w)
    hits = sum(
        any(max(abs(w.x0 - o.x0), abs(w.top - o.top), abs(w.x1 - o.x1), abs(w.bottom - o.bottom)) <= TOLERANCE
            for o in theirs.get(w.text, ()))
        for w in a.words
    )  # fmt: skip
    return hits, len(a.words)


def _readable(paths: list[Path]) -> list[bytes]:
    out = []
    for path in paths:
        data = path.read_bytes()
        try:
            plumber_pages(data), pdfium_pages(data, max_pages=200)
        except Exception:  # a corpus file refused on purpose (damaged, encrypted): not timed
            continue
        out.append(data)
    return out


def compare(name: str, files: list[bytes], repeat: int) -> None:
    t_plumber, plumbed = _timed(plumber_pages, files, repeat)
    t_pdfium, pdfiumed = _timed(lambda d: pdfium_pages(d, max_pages=200), files, repeat)
    pages = sum(len(p) for p in plumbed)
    hits = total = 0
    for a_pages, b_pages in zip(plumbed, pdfiumed, strict=True):
        for a, b in zip(a_pages, b_pages, strict=True):
            h, n = _same(a, b)
            hits, total = hits + h, total + n
    ms_a, ms_b = 1000 * t_plumber / max(pages, 1), 1000 * t_pdfium / max(pages, 1)
    print(f"{name:<22}{len(files):>6}{pages:>7}{ms_a:>14.1f}{ms_b:>12.1f}{ms_a / max(ms_b, 1e-9):>8.1f}x"
          f"{100 * hits / max(total, 1):>10.1f}% of {total}")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=20, help="generated digital documents")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    parser.add_argument("--no-corpus", action="store_true")
    args = parser.parse_args(argv)
    print(f"{'set':<22}{'files':>6}{'pages':>7}{'pdfplumber ms':>14}{'pdfium ms':>12}{'ratio':>9}"
          f"{'same words':>11}")  # fmt: skip
    generated = [synth.document(seed=args.seed, index=i).pdf for i in range(args.n)]
    compare("generator (digital)", generated, args.repeat)
    if not args.no_corpus:
        compare("corpus digital PDFs", _readable(sorted(CORPUS.rglob("*.pdf"))), args.repeat)


if __name__ == "__main__":
    main()
