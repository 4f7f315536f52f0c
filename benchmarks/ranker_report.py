"""Tables of `train_ranker --loso`: accuracy per held-out source and field, reliability, confidently wrong."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

BUCKETS = ((0.0, 0.5), (0.5, 0.7), (0.7, 0.8), (0.8, 0.9), (0.9, 0.95), (0.95, 1.01))
Output = tuple[
    Any, str, "str | None", float, bool, "bool | None"
]  # (example, field, found, confidence, right, checked)


def _share(outs: Sequence[Output]) -> str:
    return f"{sum(o[4] for o in outs)}/{len(outs)}" if outs else "-"


def _accuracy(outs: Sequence[Output]) -> str:
    return f"{100 * sum(o[4] for o in outs) / len(outs):5.1f}%" if outs else "    -"


def print_loso(
    folds: dict[str, list[Output]],
    rules: dict[str, list[Output]],
    nested: dict[str, dict[str, Any]],
    threshold: float,
) -> None:
    """Per held-out source and reading: field accuracy of the model trained without it (and of the
    rule-based reader on the same pages), per field; then calibrated reliability and confidently wrong."""
    print("== leave one source out: field accuracy, model trained without the source | rule-based ==")
    for source in folds:
        for reading in sorted({o[0].reading for o in folds[source]}):
            mine = [o for o in folds[source] if o[0].reading == reading]
            base = [o for o in rules[source] if o[0].reading == reading]
            docs = len({o[0].name for o in mine})
            print(f"\n{source} ({reading}, {docs} docs): model {_accuracy(mine)} ({_share(mine)})", end="")
            print(f"  rules {_accuracy(base)} ({_share(base)})")
            fields = sorted({o[1] for o in mine}, key=lambda f: int(f[3:]))
            for field in fields:
                m = [o for o in mine if o[1] == field]
                b = [o for o in base if o[1] == field]
                print(
                    f"  {field:<8} model {_accuracy(m)} {_share(m):>8}   rules {_accuracy(b)} {_share(b):>8}"
                )
    calibrated = {s: [_calibrated(o, nested[s]) for o in outs] for s, outs in folds.items()}
    _reliability([o for outs in calibrated.values() for o in outs], threshold)
    for source, outs in calibrated.items():
        _confidently_wrong(source, outs, threshold)


def _calibrated(o: Output, curves: dict[str, Any]) -> Output:
    from extractors.ranking import Ranker

    conf = Ranker({}, curves, ()).calibrate(o[1], o[3], checked=o[5])
    return (o[0], o[1], o[2], conf, o[4], o[5])


def _reliability(outs: Sequence[Output], threshold: float) -> None:
    print("\n== reliability (held-out sources, calibrated on the other sources' folds): found values ==")
    print(f"{'confidence':<12}{'found':>7}{'right':>7}{'share':>8}")
    found = [o for o in outs if o[2] is not None]
    for lo, hi in BUCKETS:
        inside = [o for o in found if lo <= o[3] < hi]
        share = f"{100 * sum(o[4] for o in inside) / len(inside):6.1f}%" if inside else "     -"
        print(f"{lo:.2f}-{min(hi, 1.0):.2f}   {len(inside):>7}{sum(o[4] for o in inside):>7}{share:>8}")


def _confidently_wrong(source: str, outs: Sequence[Output], threshold: float) -> None:
    by: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for o in outs:
        row = by[o[0].reading]
        row[0] += 1
        row[1] += o[2] is not None and not o[4] and o[3] >= threshold
        row[2] += o[4] and o[3] >= threshold
    for reading, (n, wrong, sure) in sorted(by.items()):
        print(f"{source} ({reading}): wrong with confidence ≥ {threshold:.2f}: {wrong}/{n} = "
              f"{100 * wrong / max(n, 1):.1f}% of fields; right and automatic: {sure}/{n}")  # fmt: skip
