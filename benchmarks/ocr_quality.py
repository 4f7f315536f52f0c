"""OCR quality on synthetic scans, independent of field extraction: is the text itself read?

Usage (from the repository root):
    .venv/bin/python -m benchmarks.ocr_quality --n 12 --levels clean,office,hard --jobs 2 [--seed 1]

For each of ``n`` synthetic documents, page 1 is scanned at each level (benchmarks/synth/degrade.py)
and read by ``capture_images`` exactly as an uploaded image is; the ground truth is the PDF's text
layer. Printed per level: word recall (ground-truth words of 2+ characters found in the OCR output,
as a bag of words), numeric-token recall (the tokens holding digits: amounts, dates, SIRET), how many
upside-down pages were turned upright (and upright pages wrongly turned), and seconds per page.
"""

from __future__ import annotations

import argparse
import random
import time
import unicodedata
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from benchmarks import synth

_WIDTHS = (5, 7, 8, 12, 10, 7)  # report columns after the level
_EDGE_PUNCT = ".,;:!?()[]{}\"'«»“”‘’*|_-–—"


@dataclass(frozen=True)
class PageScore:
    level: str
    words: int  # ground-truth words (bag size)
    words_found: int
    numbers: int  # ground-truth tokens holding a digit
    numbers_found: int
    upside_down: bool
    turned: bool  # the working copy was turned 180° before the final reading
    seconds: float
    steps: tuple[str, ...]


def tokens(text: str) -> Counter[str]:
    """Bag of normalised words: NFKC (narrow no-break spaces split amounts as printed), lower case,
    edge punctuation stripped, 2 characters or more."""
    norm = unicodedata.normalize("NFKC", text).lower()
    bag: Counter[str] = Counter()
    for raw in norm.split():
        word = raw.strip(_EDGE_PUNCT)
        if len(word) >= 2:
            bag[word] += 1
    return bag


def _found(truth: Counter[str], read: Counter[str]) -> int:
    return sum(min(n, read[word]) for word, n in truth.items())


def score_page(seed: int, index: int, level: str) -> PageScore:
    """Scan page 1 of the ``index``-th synthetic document at ``level``, OCR it, compare with its text."""
    from extractors import pdftext
    from extractors.capture import OcrOptions, capture_images

    doc = synth.document(seed=seed, index=index)
    truth = tokens(pdftext.read_pdf_text(doc.pdf, max_pages=5)[0].text)
    scan = synth.scan(doc.pdf, level=level, rng=random.Random(f"ocr:{seed}:{index}:{level}"))
    start = time.perf_counter()
    capture = capture_images(scan.data, ocr=OcrOptions(jobs=1))
    seconds = time.perf_counter() - start
    read = tokens(capture.pages[0].text)
    numbers = Counter({w: n for w, n in truth.items() if any(ch.isdigit() for ch in w)})
    steps = capture.preparation.get(1, ())
    return PageScore(
        level=level,
        words=sum(truth.values()),
        words_found=_found(truth, read),
        numbers=sum(numbers.values()),
        numbers_found=_found(numbers, read),
        upside_down=scan.upside_down,
        turned="orient(180)" in steps,
        seconds=seconds,
        steps=steps,
    )


def _score(args: tuple[int, int, str]) -> PageScore:
    return score_page(*args)


def report(scores: list[PageScore], levels: list[str]) -> None:
    header = ("level", "pages", "words", "numbers", "upside-down", "wrong-turn", "s/page")
    print(f"{header[0]:8} " + " ".join(f"{h:>{w}}" for h, w in zip(header[1:], _WIDTHS, strict=True)))
    for level in levels:
        rows = [s for s in scores if s.level == level]
        if not rows:
            continue
        words = sum(s.words_found for s in rows) / max(1, sum(s.words for s in rows))
        numbers = sum(s.numbers_found for s in rows) / max(1, sum(s.numbers for s in rows))
        flipped = [s for s in rows if s.upside_down]
        upright = f"{sum(s.turned for s in flipped)}/{len(flipped)}" if flipped else "-"
        wrong = sum(s.turned for s in rows if not s.upside_down)
        seconds = sum(s.seconds for s in rows) / len(rows)
        cells = (len(rows), f"{words:.3f}", f"{numbers:.3f}", upright, wrong, f"{seconds:.2f}")
        print(f"{level:8} " + " ".join(f"{c:>{w}}" for c, w in zip(cells, _WIDTHS, strict=True)))


def main() -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--n", type=int, default=12, help="documents per level")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--levels", default="clean,office,hard")
    parser.add_argument("--jobs", type=int, default=2, help="pages read in parallel")
    parser.add_argument("--verbose", action="store_true", help="one line per page")
    args = parser.parse_args()
    levels = [level for level in args.levels.split(",") if level]
    unknown = set(levels) - set(synth.QUALITIES)
    if unknown:
        choices = ", ".join(synth.QUALITIES)
        parser.error(f"unknown level(s): {', '.join(sorted(unknown))}; choose from {choices}")
    work = [(args.seed, index, level) for level in levels for index in range(args.n)]
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        scores = list(pool.map(_score, work))
    if args.verbose:
        for (_, index, _), s in zip(work, scores, strict=True):
            print(
                f"{s.level:7} #{index:<3} words {s.words_found}/{s.words}"
                f" numbers {s.numbers_found}/{s.numbers} upside-down={s.upside_down}"
                f" turned={s.turned} {s.seconds:.2f}s {', '.join(s.steps)}"
            )
    report(scores, levels)
    wall = time.perf_counter() - start
    print(f"total {wall:.0f} s wall, --n {args.n} --seed {args.seed} --jobs {args.jobs}")


if __name__ == "__main__":
    main()
