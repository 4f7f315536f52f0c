"""Train the field ranker shipped in extractors/model/ranker.json, and measure it leave-one-source-out.

Rebuild the shipped model (deterministic: same data, byte-identical file):
    nice -n 10 .venv/bin/python -m benchmarks.train_ranker
Figures per held-out source (the model trained without it, next to the rule-based reader):
    nice -n 10 .venv/bin/python -m benchmarks.train_ranker --loso [--readings text,scan]
Training data: the generator's documents (its usual and held-out layouts, read as text PDFs) and the
real corpus layouts (benchmarks.real_layouts, readings cached under ~/.cache/dematflow/). A candidate is
positive when its value equals the truth (both normalised). Calibration curves are isotonic, fitted on
the out-of-fold outputs of the leave-one-source-out folds.
"""

from __future__ import annotations

import argparse
import logging
import pickle
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.real.normalise import normalise
from extractors.results import PageText

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent
CACHE = Path.home() / ".cache" / "dematflow" / "ranker"
FIELDS = (
    "BT-1",
    "BT-2",
    "BT-9",
    "BT-27",
    "BT-30",
    "BT-31",
    "BT-44",
    "BT-84",
    "BT-109",
    "BT-110",
    "BT-112",
    "BT-115",
)
GENERATOR = "generator"
AMOUNT_FIELDS = ("BT-109", "BT-110", "BT-112", "BT-115")
MIN_POSITIVES = 5
MIN_POINTS = 20  # fewer found values of a group: no curve, its values stay below the review threshold
BUCKETS = ((0.0, 0.5), (0.5, 0.7), (0.7, 0.8), (0.8, 0.9), (0.9, 0.95), (0.95, 1.01))


@dataclass(frozen=True)
class Example:
    """One document read one way, with its truth and where it comes from (for the folds)."""

    name: str
    source: str
    layout: str
    reading: str
    pages: tuple[PageText, ...]
    truth: dict[str, str]


def synth_examples(n: int, heldout: int) -> list[Example]:
    """Generator invoices (usual layouts, then held-out ones) read as text PDFs; cached on disk."""
    CACHE.mkdir(parents=True, exist_ok=True)
    cache = CACHE / f"synth-{n}-{heldout}.pkl"
    if cache.exists():  # plain tuples: the cache does not depend on how this module was started
        return [Example(name, GENERATOR, layout, "text", pages, truth)
                for name, layout, pages, truth in pickle.loads(cache.read_bytes())]  # fmt: skip
    from benchmarks import synth
    from extractors.pdftext import read_pdf_text

    docs = [synth.invoice_doc(seed=f"rank-{i}", layout=sorted(synth.LAYOUTS)[i % len(synth.LAYOUTS)],
                              credit=i % 9 == 8) for i in range(n)]  # fmt: skip
    held = sorted(synth.HELDOUT_LAYOUTS)
    docs += [synth.heldout_doc(seed=f"rank-{i}", layout=held[i % len(held)]) for i in range(heldout)]
    out = [
        Example(d.name, GENERATOR, d.layout, "text", read_pdf_text(d.pdf, max_pages=10), dict(d.expected))
        for d in docs
    ]
    cache.write_bytes(pickle.dumps([(e.name, e.layout, e.pages, e.truth) for e in out]))
    return out


def real_examples(readings: Sequence[str]) -> list[Example]:
    from benchmarks import real_layouts

    out = []
    for doc in real_layouts.documents():
        for reading in readings:
            pages = tuple(real_layouts.pages(doc, reading))
            out.append(Example(doc.path.name, doc.source, doc.layout, reading, pages, dict(doc.truth)))
    return out


def _same(field: str, got: str, want: str) -> bool:
    """Equal once normalised; an amount's sign aside (a credit note prints -218.48, its XML says 218.48)."""
    a, b = normalise(field, got), normalise(field, want)
    return a == b or (field.startswith("BT-1") and field in AMOUNT_FIELDS and a.lstrip("-") == b.lstrip("-"))


def rows_of(ex: Example) -> dict[str, list[tuple[list[float], int]]]:
    """Feature rows of the candidates of each field the truth knows, labelled right (1) or not (0)."""
    from extractors.features import context, features
    from extractors.fields import gather

    g = gather(ex.pages)
    rows = features(g.cands, context(g.laid, g.cands, g.buyer))
    out: dict[str, list[tuple[list[float], int]]] = defaultdict(list)
    for c, row in zip(g.cands, rows, strict=True):
        if c.field in FIELDS and c.field in ex.truth:
            out[c.field].append((row, int(_same(c.field, c.value, ex.truth[c.field]))))
    return out


def fit(examples: Sequence[Example], rows: dict[str, dict[str, list[tuple[list[float], int]]]]) -> object:
    """Per field, a standardised logistic regression on the candidates of ``examples``."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from extractors.features import NAMES
    from extractors.ranking import Linear, Ranker

    models = {}
    for field in FIELDS:
        data = [r for ex in examples for r in rows[ex.name + ex.reading].get(field, [])]
        y = np.array([label for _, label in data])
        if y.sum() < MIN_POSITIVES or y.sum() == len(y):
            continue
        x = np.array([row for row, _ in data], dtype=float)
        mean, scale = x.mean(axis=0), x.std(axis=0)
        scale[scale < 1e-9] = 1.0
        lr = LogisticRegression(C=0.5, max_iter=5000, class_weight="balanced").fit((x - mean) / scale, y)
        r6 = lambda v: tuple(round(float(a), 6) for a in v)  # noqa: E731
        models[field] = Linear(NAMES, r6(mean), r6(scale), r6(lr.coef_[0]), round(float(lr.intercept_[0]), 6))
    return Ranker(models, {}, NAMES)


Output = tuple[Example, str, "str | None", float, bool, "bool | None"]  # ..., raw confidence, right, checked


def outputs(examples: Sequence[Example], ranker: object) -> list[Output]:
    """(example, field, value found, raw confidence, right, checked) for every field the truth knows."""
    from extractors.fields import choose, gather, ranked
    from extractors.ranking import raw_confidence

    out = []
    for ex in examples:
        g = gather(ex.pages)
        values = choose(g, ranked(g, ranker))  # type: ignore[arg-type]
        for field in FIELDS:
            if field in ex.truth:
                c = values.get(field)
                right = c is not None and _same(field, c.value, ex.truth[field])
                conf = max(0.0, min(1.0, c.conf)) if c else 0.0
                if c is not None and ranker is not None:
                    conf = raw_confidence(conf, checked=c.checked)
                out.append((ex, field, c.value if c else None, conf, right, c.checked if c else None))
    return out


def curves(outs: Sequence[Output]) -> dict[str, object]:
    """Isotonic maps from raw confidence to the share right, per group of fields and check (found values
    of the real sources only: the generator's own layouts are easier than the world's)."""
    import numpy as np
    from sklearn.isotonic import IsotonicRegression

    from extractors.ranking import Curve, curve_key

    groups: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for ex, field, got, conf, right, checked in outs:
        if got is not None and ex.source != GENERATOR:
            groups[curve_key(field, checked=checked is True)].append((conf, float(right)))
    out: dict[str, object] = {}
    for key, pts in sorted(groups.items()):
        pts.sort()
        if len(pts) < MIN_POINTS:
            continue
        iso = IsotonicRegression(y_min=0.0, y_max=0.99, out_of_bounds="clip", increasing=True)
        iso.fit(np.array([p[0] for p in pts]), np.array([p[1] for p in pts]))
        out[key] = Curve(
            tuple(round(float(v), 6) for v in iso.X_thresholds_),
            tuple(round(float(v), 6) for v in iso.y_thresholds_),
        )
    return out


def train(examples: list[Example], *, loso: bool, threshold: float) -> str:
    """The shipped model's JSON; with ``loso``, the held-out figures printed on the way."""
    from benchmarks.ranker_report import print_loso
    from extractors.ranking import Ranker

    rows = feature_rows(examples)
    _, folds = fold_fits(examples, rows)
    everything = [o for outs in folds.values() for o in outs]
    final = fit(examples, rows)
    model = Ranker(final.models, curves(everything), final.feature_names)  # type: ignore[attr-defined, arg-type]
    if loso:
        rules = {source: outputs([ex for ex in examples if ex.source == source], None) for source in folds}
        print_loso(folds, rules, nested_curves(folds), threshold)
        _speed(examples, model)
    return model.to_json()


Rows = dict[str, dict[str, list[tuple[list[float], int]]]]


def feature_rows(examples: Sequence[Example]) -> Rows:
    start = time.perf_counter()
    rows = {ex.name + ex.reading: rows_of(ex) for ex in examples}
    log.info("features of %d examples in %.1f s", len(examples), time.perf_counter() - start)
    return rows


def fold_fits(examples: Sequence[Example], rows: Rows) -> tuple[dict[str, object], dict[str, list[Output]]]:
    """Per source, the model fitted without it (nor any layout it holds), and its outputs on it."""
    fits: dict[str, object] = {}
    folds: dict[str, list[Output]] = {}
    for source in sorted({ex.source for ex in examples}):
        held = [ex for ex in examples if ex.source == source]
        layouts = {ex.layout for ex in held}
        fits[source] = fit([ex for ex in examples if ex.source != source and ex.layout not in layouts], rows)
        folds[source] = outputs(held, fits[source])
    return fits, folds


def nested_curves(folds: dict[str, list[Output]]) -> dict[str, dict[str, object]]:
    """Per held-out source, calibration curves fitted on the other sources' out-of-fold outputs."""
    return {s: curves([o for t, outs in folds.items() if t != s for o in outs]) for s in folds}


def held_out_models(examples: Sequence[Example]) -> dict[str, object]:
    """Per source, a whole model (weights and curves) that never saw that source: for benchmarks."""
    from extractors.ranking import Ranker

    fits, folds = fold_fits(examples, feature_rows(examples))
    nested = nested_curves(folds)
    return {s: Ranker(f.models, nested[s], f.feature_names) for s, f in fits.items()}  # type: ignore[attr-defined, arg-type]


def _speed(examples: Sequence[Example], ranker: object) -> None:
    from extractors.fields import read_fields

    pages = [ex.pages for ex in examples[:60]]
    start = time.perf_counter()
    for p in pages:
        read_fields(p, ranker)  # type: ignore[arg-type]
    with_model = (time.perf_counter() - start) / max(1, sum(len(p) for p in pages))
    start = time.perf_counter()
    for p in pages:
        read_fields(p, None)
    rules = (time.perf_counter() - start) / max(1, sum(len(p) for p in pages))
    print(
        f"\nreading fields: {1000 * with_model:.1f} ms/page with the model, "
        f"{1000 * rules:.1f} ms/page rules only"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--loso", action="store_true", help="print leave-one-source-out figures")
    parser.add_argument("--synth", type=int, default=160, help="generator documents, usual layouts")
    parser.add_argument("--heldout", type=int, default=80, help="generator documents, held-out layouts")
    parser.add_argument("--readings", default="text", help="real-corpus readings: text,scan,degraded")
    parser.add_argument("--out", type=Path, default=ROOT / "extractors" / "model" / "ranker.json")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    from pipeline.settings import Settings

    threshold = Settings.from_env({}).review_threshold
    examples = synth_examples(args.synth, args.heldout) + real_examples(args.readings.split(","))
    text = train(examples, loso=args.loso, threshold=threshold)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(f"wrote {args.out} ({len(text.encode()) // 1024} KB, {len(examples)} examples)")


if __name__ == "__main__":
    main()
