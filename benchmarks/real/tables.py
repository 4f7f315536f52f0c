"""Figures from scored results: per field and group, per layout, reliability buckets, doc types."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from benchmarks.real.runs import Result
from benchmarks.real.scoring import BUCKETS, Verdict, bucket


@dataclass(frozen=True)
class Stats:
    """Counts over a set of scored fields."""

    n: int = 0
    right: int = 0
    absent: int = 0
    confidently_wrong: int = 0

    def add(self, other: Stats) -> Stats:
        return Stats(
            self.n + other.n,
            self.right + other.right,
            self.absent + other.absent,
            self.confidently_wrong + other.confidently_wrong,
        )

    @property
    def accuracy(self) -> float | None:
        return self.right / self.n if self.n else None

    def as_dict(self) -> dict[str, object]:
        rate = lambda k: round(k / self.n, 4) if self.n else None  # noqa: E731
        return {
            "n": self.n,
            "accuracy": rate(self.right),
            "absent": rate(self.absent),
            "confidently_wrong": rate(self.confidently_wrong),
        }


def stats(results: Iterable[Result], terms: Sequence[str]) -> Stats:
    total = Stats()
    for r in results:
        for term in terms:
            if (s := r.scores.get(term)) is not None:
                total = total.add(
                    Stats(1, s.verdict is Verdict.RIGHT, s.verdict is Verdict.ABSENT, s.confidently_wrong)
                )
    return total


def group(results: Iterable[Result], key: Callable[[Result], str]) -> dict[str, list[Result]]:
    out: dict[str, list[Result]] = defaultdict(list)
    for r in results:
        out[key(r)].append(r)
    return dict(out)


def by_field(results: Sequence[Result], terms: Sequence[str]) -> dict[str, Stats]:
    return {t: stats(results, (t,)) for t in terms if stats(results, (t,)).n}


def per_layout(results: Sequence[Result], terms: Sequence[str]) -> dict[str, dict[str, Stats]]:
    """Layout → reading → stats; a layout shared by many files counts each of them."""
    return {
        layout: {reading: stats(rs, terms) for reading, rs in group(items, lambda r: r.reading).items()}
        for layout, items in sorted(group(results, lambda r: r.layout).items())
    }


def layout_mean(results: Sequence[Result], terms: Sequence[str]) -> float | None:
    """Mean over distinct layouts of each layout's accuracy: a layout shared by 20 files counts once."""
    rates = [
        a
        for rs in group(results, lambda r: r.layout).values()
        if (a := stats(rs, terms).accuracy) is not None
    ]
    return sum(rates) / len(rates) if rates else None


def reliability(results: Iterable[Result], terms: Sequence[str]) -> list[dict[str, object]]:
    """Per confidence bucket: how many values were found with that confidence, and the share right."""
    counts: dict[tuple[float, float], list[int]] = {b: [0, 0] for b in BUCKETS}
    for r in results:
        for term in terms:
            s = r.scores.get(term)
            if s is None or s.found is None or s.confidence is None:
                continue
            cell = counts[bucket(s.confidence)]
            cell[0] += 1
            cell[1] += s.verdict is Verdict.RIGHT
    return [
        {"bucket": f"{lo:.2f}-{hi:.2f}", "count": n, "right": round(k / n, 4) if n else None}
        for (lo, hi), (n, k) in counts.items()
    ]


def doc_type_accuracy(results: Iterable[Result]) -> tuple[float | None, int, list[Result]]:
    """(accuracy, labelled documents, the misclassified ones)."""
    labelled = [r for r in results if r.expected_doc_type]
    misses = [r for r in labelled if r.doc_type != r.expected_doc_type]
    return (1 - len(misses) / len(labelled) if labelled else None), len(labelled), misses


def misses(results: Iterable[Result], terms: Sequence[str]) -> list[dict[str, object]]:
    """Every wrong or absent field: file, reading, field, expected, found, confidence."""
    return [
        {
            "file": r.file,
            "layout": r.layout,
            "source": r.source,
            "reading": r.reading,
            "field": s.term,
            "expected": s.expected,
            "found": s.found,
            "confidence": s.confidence,
            "verdict": s.verdict.value,
            "confidently_wrong": s.confidently_wrong,
        }
        for r in results
        for term in terms
        if (s := r.scores.get(term)) is not None and s.verdict is not Verdict.RIGHT
    ]
