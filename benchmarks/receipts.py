"""Receipts benchmark: doc-type accuracy including till receipts, and the receipt fields (BT-27, BT-2,
BT-112) on tuned and held-out styles, with the values wrong while confident (≥ the review threshold).

Usage (from the repository root):
    nice -n 10 .venv/bin/python -m benchmarks.receipts --n 12 --seed 1
        [--levels digital,clean,photo] [--mix 40] [--no-corpus] [--cache DIR] [--examples 6]
Captures are cached by content hash (OCR is the slow part), so a re-run after changing the reader or
the classifier only reads again what changed.
"""

from __future__ import annotations

import argparse
import hashlib
import pickle
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import synth
from benchmarks.synth.corpus import CORPUS
from benchmarks.synth.receipts import HELDOUT_STYLES, RECEIPT_LEVELS, STYLES, receipt_doc, receipt_scan
from extractors.capture import OcrOptions, capture_images, capture_pdf
from extractors.classify import classify
from extractors.receipts import receipt_fields
from extractors.results import PageText
from pipeline.settings import Settings

FIELDS = ("BT-27", "BT-2", "BT-112")
DOC_TYPE_TARGET = 0.98


@dataclass
class Tally:
    docs: int = 0
    typed: int = 0
    right: Counter[str] = field(default_factory=Counter)
    confident_wrong: int = 0
    to_review: int = 0
    doubtful: Counter[str] = field(default_factory=Counter)  # below the threshold, per field
    failures: list[str] = field(default_factory=list)


def _pages(data: bytes, *, pdf: bool, cache: Path) -> tuple[PageText, ...]:
    """The captured pages of a file, from the cache when this content was read before."""
    key = cache / f"{hashlib.sha256(data).hexdigest()}.pickle"
    if key.exists():
        pages: tuple[PageText, ...] = pickle.loads(key.read_bytes())
        return pages
    ocr = OcrOptions(jobs=1)
    pages = (capture_pdf(data, ocr=ocr) if pdf else capture_images(data, ocr=ocr)).pages
    key.write_bytes(pickle.dumps(pages))
    return pages


def _receipt_file(index: int, style: str, level: str, seed: int) -> tuple[synth.SynthDoc, bytes, bool]:
    doc = receipt_doc(seed=f"{seed}-{level}-{index}", style=style)
    if level == "digital":
        return doc, doc.pdf, True
    return doc, receipt_scan(doc.pdf, level=level, rng=random.Random(f"{seed}:{level}:{index}")).data, False


def run_receipts(args: argparse.Namespace, threshold: float) -> dict[tuple[str, str], Tally]:
    out: dict[tuple[str, str], Tally] = {}
    for level in args.levels:
        for group, styles in (("tuned", STYLES), ("held-out", HELDOUT_STYLES)):
            tally = out.setdefault((level, group), Tally())
            for i in range(args.n):
                doc, data, pdf = _receipt_file(i, styles[i % len(styles)], level, args.seed)
                pages = _pages(data, pdf=pdf, cache=args.cache)
                kind = classify("\n\n".join(p.text for p in pages))[0].value
                found = receipt_fields(pages)
                tally.docs += 1
                tally.typed += kind == "receipt"
                if kind != "receipt":
                    tally.failures.append(f"{doc.name} [{doc.language}] doc_type {kind}")
                doubt = False
                for key in FIELDS:
                    got, conf = found.values.get(key), found.confidence.get(key, 0.0)
                    doubt |= conf < threshold
                    tally.doubtful[key] += conf < threshold
                    tally.right[key] += got == doc.expected[key]
                    if got != doc.expected[key]:
                        tally.confident_wrong += conf >= threshold
                        tally.failures.append(f"{doc.name} [{doc.language}] {key} {doc.expected[key]!r} "
                                              f"got {got!r} ({conf:.2f})")  # fmt: skip
                tally.to_review += doubt
    return out


def run_others(args: argparse.Namespace) -> tuple[int, int, list[str]]:
    """Doc type of the synthetic mix (invoices, credit notes, supporting documents, digital) and of
    the corpus PDFs, which are none of them receipts."""
    right, total, misses = 0, 0, []
    for i in range(args.mix):
        doc = synth.document(seed=args.seed, index=i)
        kind = classify("\n\n".join(p.text for p in _pages(doc.pdf, pdf=True, cache=args.cache)))[0].value
        right, total = right + (kind == doc.doc_type), total + 1
        misses += [] if kind == doc.doc_type else [f"{doc.name}: {doc.doc_type} read {kind}"]
    for i, layout in enumerate(sorted(synth.HELDOUT_LAYOUTS) if args.mix else ()):
        doc = synth.heldout_doc(seed=f"{args.seed}-{i}", layout=layout)
        kind = classify("\n\n".join(p.text for p in _pages(doc.pdf, pdf=True, cache=args.cache)))[0].value
        right, total = right + (kind == doc.doc_type), total + 1
        misses += [] if kind == doc.doc_type else [f"held-out invoice {doc.name}: read {kind}"]
    for path in [] if args.no_corpus else sorted(CORPUS.rglob("*.pdf")):
        try:
            kind = classify(
                "\n\n".join(p.text for p in _pages(path.read_bytes(), pdf=True, cache=args.cache))
            )[0]
        except Exception:  # a corpus file the reader refuses (damaged on purpose): not a receipt either
            continue
        right, total = right + (kind.value != "receipt"), total + 1
        misses += [f"corpus {path.name}: read receipt"] if kind.value == "receipt" else []
    return right, total, misses


def _pct(a: int, b: int) -> str:
    return f"{100 * a / b:5.1f}%" if b else "  n/a"


def report(results: dict[tuple[str, str], Tally], others: tuple[int, int, list[str]], examples: int) -> None:
    typed = sum(t.typed for t in results.values()) + others[0]
    total = sum(t.docs for t in results.values()) + others[1]
    print(f"doc-type accuracy including receipts: {typed}/{total} = {_pct(typed, total)} "
          f"(target {100 * DOC_TYPE_TARGET:.0f}%)")  # fmt: skip
    for group in ("tuned", "held-out"):
        a = sum(t.typed for (_, g), t in results.items() if g == group)
        b = sum(t.docs for (_, g), t in results.items() if g == group)
        print(f"  receipts {group:<9} {a}/{b} = {_pct(a, b)}")
    print(f"  invoices, credit notes, supporting documents, corpus PDFs: {others[0]}/{others[1]} = "
          f"{_pct(others[0], others[1])}\n")  # fmt: skip
    print(f"{'level':<9}{'styles':<10}{'docs':>5}{'type':>8}" + "".join(f"{f:>8}" for f in FIELDS)
          + f"{'wrong≥thr':>11}{'review':>8}  below threshold per field")  # fmt: skip
    for (level, group), t in results.items():
        cells = "".join(f"{_pct(t.right[f], t.docs):>8}" for f in FIELDS)
        print(f"{level:<9}{group:<10}{t.docs:>5}{_pct(t.typed, t.docs):>8}{cells}"
              f"{t.confident_wrong:>11}{_pct(t.to_review, t.docs):>8}  "
              + " ".join(f"{f} {t.doubtful[f]}" for f in FIELDS))  # fmt: skip
    for (level, group), t in results.items():
        for line in t.failures[:examples]:
            print(f"  {level}/{group}: {line}")
    for line in others[2][:examples]:
        print(f"  {line}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=12, help="receipts per level and style group")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--levels", default=",".join(RECEIPT_LEVELS))
    parser.add_argument("--mix", type=int, default=40, help="digital documents of the invoice mix")
    parser.add_argument("--no-corpus", action="store_true")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/dematflow-receipts-cache"))
    parser.add_argument("--examples", type=int, default=6)
    args = parser.parse_args(argv)
    args.levels = [lvl for lvl in args.levels.split(",") if lvl]
    args.cache.mkdir(parents=True, exist_ok=True)
    threshold = Settings.from_env({}).review_threshold
    start = time.perf_counter()
    results = run_receipts(args, threshold)
    others = run_others(args)
    print(f"receipts benchmark: n={args.n}/level/style group seed={args.seed} threshold={threshold} "
          f"({time.perf_counter() - start:.0f} s)")  # fmt: skip
    print(f"held-out styles (never tuned on): {', '.join(HELDOUT_STYLES)}\n")
    report(results, others, args.examples)


if __name__ == "__main__":
    main()
