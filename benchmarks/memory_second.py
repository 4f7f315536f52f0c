"""Supplier memory: teach from one invoice of a layout, read the second one, with and without memory.

Usage (from the repository root):
    .venv/bin/python -m benchmarks.memory_second --pairs 5 [--seed 1] [--scan office] [--no-real]
Pairs are two invoices of one supplier: same layout, same style (wordings, date and amount forms),
same seller and bank, different number, dates, buyer, lines and totals. Both synthetic layout sets are
used (``LAYOUTS``, tuned on; ``HELDOUT_LAYOUTS``, never tuned on) and, when ``benchmarks.real_layouts``
exists, pairs of real corpus files sharing a layout. Prints the field accuracy of the second invoice
with memory and without, and the confidently-wrong rate (a wrong value at or above the review
threshold, 0.8).
"""

from __future__ import annotations

import argparse
import importlib
import itertools
import random
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from benchmarks.synth import HELDOUT_LAYOUTS, LAYOUTS, scan, scan_pages
from benchmarks.synth.heldout_style import held_style
from benchmarks.synth.model import invoice
from benchmarks.synth.style import amount_fr_dot, pick_style
from extractors.capture import OcrOptions, capture_images, capture_pdf
from extractors.fields import extract_fields
from extractors.memory import learn, merge, recall
from extractors.results import FieldSet, PageText

THRESHOLD = 0.8
TARGET = 0.99
SKIP = frozenset({"BT-3", "BT-5"})  # not read at a place (a code, a currency)


@dataclass(frozen=True)
class Pair:
    group: str  # "synth", "heldout", "real"
    layout: str
    first: Sequence[PageText]
    first_truth: dict[str, str]
    second: Sequence[PageText]
    second_truth: dict[str, str]


def _pages(pdf: bytes, level: str | None, rng: random.Random, two_pages: bool) -> Sequence[PageText]:
    ocr = OcrOptions(jobs=1)
    if level is None:
        return capture_pdf(pdf, ocr=ocr).pages
    scanned = (scan_pages if two_pages else scan)(pdf, level=level, rng=rng)
    return capture_images(scanned.data, ocr=ocr).pages


def synth_pairs(n: int, seed: int, level: str | None) -> Iterator[Pair]:
    sets: tuple[tuple[str, dict[str, Callable[..., tuple[bytes, Any]]]], ...] = (
        ("synth", dict(LAYOUTS)),
        ("heldout", dict(HELDOUT_LAYOUTS)),
    )
    for (group, layouts), name, k in itertools.product(sets, [None], range(n)):
        for name in sorted(layouts):
            rng = random.Random(f"memory:{seed}:{group}:{name}:{k}")
            lang = "en" if rng.random() < 0.2 else "fr"
            style = held_style(rng, language=lang) if group == "heldout" else pick_style(rng, language=lang)
            one = invoice(rng)
            two = replace(invoice(rng), seller=one.seller, iban=one.iban, bic=one.bic, bank=one.bank)
            layout_seed = rng.random()
            docs = []
            for inv in (one, two):
                pdf, extra = layouts[name](inv, style, random.Random(layout_seed))
                truth = inv.expected_fields()
                if isinstance(extra, frozenset):
                    truth = {t: v for t, v in truth.items() if t not in extra}
                else:
                    truth = {t: v for t, v in (truth | dict(extra)).items() if v is not None}
                if style.amount is amount_fr_dot or not any(s in style.amount(Decimal(1)) for s in "€$£E"):
                    truth.pop("BT-5", None)
                docs.append((_pages(pdf, level, rng, name == "two_pages"), truth))
            yield Pair(group, name, docs[0][0], docs[0][1], docs[1][0], docs[1][1])


def real_pairs() -> Iterator[Pair]:
    """Pairs of real corpus files that share a layout (benchmarks.real_layouts, when it exists)."""
    try:
        real = importlib.import_module("benchmarks.real_layouts")
    except ImportError:
        return
    by_layout = defaultdict(list)
    for doc in real.documents():
        if doc.layout:
            by_layout[doc.layout].append(doc)
    for layout, docs in sorted(by_layout.items()):
        for a, b in itertools.pairwise(docs[:3]):
            yield Pair("real", layout, real.pages(a, "text"), a.truth, real.pages(b, "text"), b.truth)


def _same(found: str | None, truth: str) -> bool:
    """Equal, names compared without case or spaces (the real corpus's truths are lower case)."""
    return found is not None and "".join(found.casefold().split()) == "".join(truth.casefold().split())


@dataclass
class Tally:
    fields: int = 0
    right_without: int = 0
    right_with: int = 0
    sure_wrong_without: int = 0
    sure_wrong_with: int = 0
    reviewed_with: int = 0  # fields sent to review by a disagreement

    def add(self, truth: dict[str, str], without: FieldSet, with_: FieldSet, doubts: tuple[str, ...]) -> None:
        for term, value in truth.items():
            if term in SKIP:
                continue
            self.fields += 1
            for found, right, sure in ((without, "right_without", "sure_wrong_without"),
                                       (with_, "right_with", "sure_wrong_with")):  # fmt: skip
                if _same(found.values.get(term), value):
                    setattr(self, right, getattr(self, right) + 1)
                elif term in found.values and found.confidence.get(term, 0.0) >= THRESHOLD:
                    setattr(self, sure, getattr(self, sure) + 1)
            self.reviewed_with += term in doubts


def run(pairs: Iterator[Pair], *, verbose: bool) -> dict[str, Tally]:
    tallies: dict[str, Tally] = defaultdict(Tally)
    for pair in pairs:
        layout = learn(pair.first, pair.first_truth)
        generic = extract_fields(pair.second)
        merged, doubts = merge(generic, recall(layout, pair.second))  # as the extract stage merges
        for key in (pair.group, "all"):
            tallies[key].add(pair.second_truth, generic, merged, doubts)
        if verbose:
            wrong = {t: (merged.values.get(t), v) for t, v in pair.second_truth.items()
                     if t not in SKIP and not _same(merged.values.get(t), v)}  # fmt: skip
            print(f"  {pair.group}/{pair.layout}: wrong with memory {wrong}")
    return tallies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--pairs", type=int, default=3, help="pairs per synthetic layout")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scan", default=None, help="read scans of this quality level instead of text")
    parser.add_argument("--no-real", action="store_true")
    parser.add_argument("--verbose", "-v", action="store_true")
    args = parser.parse_args()
    pairs = synth_pairs(args.pairs, args.seed, args.scan)
    if not args.no_real:
        pairs = itertools.chain(pairs, real_pairs())
    tallies = run(pairs, verbose=args.verbose)
    print(f"{'set':8} {'fields':>6} {'without':>8} {'with':>8} {'sure-wrong w/o':>15} {'sure-wrong w/':>14}"
          f" {'to review':>10}")  # fmt: skip
    for name, t in sorted(tallies.items()):
        n = max(t.fields, 1)
        rates = (t.right_without, t.right_with, t.sure_wrong_without, t.sure_wrong_with, t.reviewed_with)
        a, b, c, d, e = (r / n for r in rates)
        print(f"{name:8} {t.fields:6d} {a:8.3f} {b:8.3f} {c:15.3f} {d:14.3f} {e:10.3f}")
    total = tallies.get("all", Tally())
    accuracy = total.right_with / max(total.fields, 1)
    print(f"target with memory >= {TARGET}: {'met' if accuracy >= TARGET else 'NOT met'} ({accuracy:.3f})")


if __name__ == "__main__":
    main()
