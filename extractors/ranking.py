"""The learned ranker: per-field logistic scores of candidates and calibrated confidences, in plain Python.

The model is ``extractors/model/ranker.json``, written by ``python -m benchmarks.train_ranker``:
per field the feature names, their means and scales, the coefficients and the intercept, and a
calibration curve (isotonic, fitted on held-out folds) from the reader's raw confidence to the
probability that the chosen value is right. No scikit-learn at run time.
"""

from __future__ import annotations

import bisect
import functools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

MODEL = Path(__file__).resolve().parent / "model" / "ranker.json"
CAPPED = {"name:unchecked": 0.75, "amount:unchecked": 0.75}  # no check can confirm them: a person looks
UNKNOWN = 0.5  # the confidence of a value whose group has no calibration curve: a person looks at it
GROUPS = {
    "BT-1": "number", "BT-2": "date", "BT-9": "date", "BT-27": "name", "BT-44": "name",
    "BT-30": "id", "BT-31": "id", "BT-84": "id",
    "BT-109": "amount", "BT-110": "amount", "BT-112": "amount", "BT-115": "amount",
}  # fmt: skip


PRIOR = {"t2": 0.6, "t3": 0.3}  # a generic reference, another number's label: weaker whatever the model says


def prior(score: float, *, kind: str, checked: bool | None) -> float:
    """The model's score with what the rules know for sure: failed check digits, weak label kinds."""
    score *= PRIOR.get(kind, 1.0)
    return min(score, 0.4) if checked is False else score


def raw_confidence(score: float, *, checked: bool | None) -> float:
    """What the calibration curves read: a value a check confirmed ranks above any unconfirmed one."""
    if checked is True:
        return 0.9 + 0.1 * score
    return min(score, 0.4) if checked is False else score


def curve_key(field: str, *, checked: bool) -> str:
    """Calibration curves are per group of fields (few real documents per field) and per check."""
    return f"{GROUPS.get(field, field)}:{'checked' if checked else 'unchecked'}"


@dataclass(frozen=True)
class Linear:
    """A standardised logistic model of one field."""

    names: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float

    def score(self, row: Sequence[float]) -> float:
        z = self.intercept + sum(
            w * (v - m) / s for w, v, m, s in zip(self.coef, row, self.mean, self.scale, strict=True)
        )
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


@dataclass(frozen=True)
class Curve:
    """A monotone piecewise-linear map from raw confidence to the probability of being right."""

    x: tuple[float, ...]
    y: tuple[float, ...]

    def __call__(self, raw: float) -> float:
        if not self.x:
            return raw
        if raw <= self.x[0]:
            return self.y[0]
        if raw >= self.x[-1]:
            return self.y[-1]
        i = bisect.bisect_right(self.x, raw)
        x0, x1, y0, y1 = self.x[i - 1], self.x[i], self.y[i - 1], self.y[i]
        return y0 if x1 == x0 else y0 + (y1 - y0) * (raw - x0) / (x1 - x0)


@dataclass(frozen=True)
class Ranker:
    """Scores per field and calibration curves per field; fields without a model keep their rule score."""

    models: dict[str, Linear]
    curves: dict[str, Curve]
    feature_names: tuple[str, ...]

    def score(self, field: str, row: Sequence[float]) -> float | None:
        model = self.models.get(field)
        return model.score(row) if model else None

    def calibrate(self, field: str, raw: float, *, checked: bool | None) -> float:
        """The probability that a value read with raw confidence ``raw`` is right: the curve of the
        field's group, for values a check confirmed or not; without a curve, at most UNKNOWN."""
        key = curve_key(field, checked=checked is True)
        curve = self.curves.get(key) if self.curves else None
        if curve is None:
            return raw if not self.curves else min(raw, UNKNOWN)
        tilt = 0.97 + 0.03 * raw  # a flat step of the curve still ranks a better reading higher
        return min(curve(raw) * tilt, CAPPED.get(key, 1.0), 0.5 if checked is False else 1.0)

    def to_json(self) -> str:
        doc = {
            "features": list(self.feature_names),
            "models": {
                f: {"mean": m.mean, "scale": m.scale, "coef": m.coef, "intercept": m.intercept}
                for f, m in sorted(self.models.items())
            },
            "curves": {f: {"x": c.x, "y": c.y} for f, c in sorted(self.curves.items())},
        }
        return json.dumps(doc, indent=0, sort_keys=True) + "\n"


def _rounded(values: Sequence[float]) -> tuple[float, ...]:
    return tuple(round(float(v), 6) for v in values)


def from_json(text: str) -> Ranker:
    doc = json.loads(text)
    names = tuple(doc["features"])
    models = {
        f: Linear(
            names, _rounded(m["mean"]), _rounded(m["scale"]), _rounded(m["coef"]), round(m["intercept"], 6)
        )
        for f, m in doc["models"].items()
    }
    curves = {f: Curve(_rounded(c["x"]), _rounded(c["y"])) for f, c in doc.get("curves", {}).items()}
    return Ranker(models, curves, names)


@functools.cache
def shipped() -> Ranker | None:
    """The model shipped with the package; None when absent (the reader then ranks by its rules)."""
    if not MODEL.exists():
        return None
    from extractors.features import NAMES

    ranker = from_json(MODEL.read_text())
    return ranker if ranker.feature_names == NAMES else None  # a stale model is not used
