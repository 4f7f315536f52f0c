"""Score one reading of a document against its truth: right, wrong or absent, and confidently wrong."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from benchmarks.real.dataset import RealDoc
from benchmarks.real.normalise import normalise
from extractors.results import FieldSet, PageText

BUCKETS = ((0.0, 0.5), (0.5, 0.7), (0.7, 0.8), (0.8, 0.9), (0.9, 0.95), (0.95, 1.0))


class Verdict(StrEnum):
    RIGHT = "right"
    WRONG = "wrong"
    ABSENT = "absent"


@dataclass(frozen=True)
class FieldScore:
    """One field of one document: what the XML says, what the reader found, and the verdict."""

    term: str
    expected: str
    found: str | None
    confidence: float | None
    verdict: Verdict
    confidently_wrong: bool  # wrong with a confidence at or above the review threshold: not reviewed


def score(doc: RealDoc, found: FieldSet, threshold: float) -> dict[str, FieldScore]:
    """Each field of ``doc.truth`` judged against ``found`` (values normalised on both sides)."""
    return score_truth(doc.truth, found, threshold)


def score_truth(truth: dict[str, str], found: FieldSet, threshold: float) -> dict[str, FieldScore]:
    """`score` on a bare truth dict (the generator's and invoice2data's documents have no RealDoc)."""
    out = {}
    for term, raw_expected in truth.items():
        expected = normalise(term, raw_expected)
        got = found.values.get(term)
        conf = found.confidence.get(term)
        if got is None:
            verdict = Verdict.ABSENT
        else:
            verdict = Verdict.RIGHT if normalise(term, got) == expected else Verdict.WRONG
        sure = verdict is Verdict.WRONG and conf is not None and conf >= threshold
        out[term] = FieldScore(term, expected, got, conf, verdict, sure)
    return out


def bucket(confidence: float) -> tuple[float, float]:
    """The reliability bucket a confidence falls in (the last one includes 1.0)."""
    for lo, hi in BUCKETS:
        if lo <= confidence < hi:
            return lo, hi
    return BUCKETS[-1]


class ReadFields(Protocol):
    """A field reader as the benchmark calls it. ``exclude_source``: a trained reader answers as if
    retrained without that source's documents (leave-one-source-out); None: its normal model."""

    def __call__(self, pages: Sequence[PageText], *, exclude_source: str | None) -> FieldSet: ...


@dataclass(frozen=True)
class Reader:
    """A named field reader, and whether ``exclude_source`` really holds a source out of training."""

    name: str
    read: ReadFields
    trained: bool  # False: exclude_source is ignored (nothing was learnt from the corpus)
    provenance: str  # said next to every figure it produces


def _rule_based(pages: Sequence[PageText], *, exclude_source: str | None) -> FieldSet:
    from extractors.fields import read_fields

    del exclude_source  # not trained: nothing to hold out
    return read_fields(pages, None)


RULE_BASED = Reader(
    name="rules (extractors.fields, hand-set confidences, no model)",
    read=_rule_based,
    trained=False,
    provenance="not trained on any of this (hand-set rules), tuned partly on the generator",
)


def held_out_ranker(*, synth: int = 160, heldout: int = 80, readings: Sequence[str] = ("text",)) -> Reader:
    """The shipped ranker; with ``exclude_source``, a model (weights and calibration) fitted as
    `benchmarks.train_ranker` fits it but without that source nor any layout it holds."""
    models: dict[str, object] = {}

    def read(pages: Sequence[PageText], *, exclude_source: str | None) -> FieldSet:
        from extractors.fields import extract_fields, read_fields

        if exclude_source is None:
            return extract_fields(pages)
        if not models:
            from benchmarks.train_ranker import held_out_models, real_examples, synth_examples

            models.update(held_out_models(synth_examples(synth, heldout) + real_examples(readings)))
        model = models.get(exclude_source)
        return read_fields(pages, model) if model is not None else extract_fields(pages)  # type: ignore[arg-type]

    return Reader(
        name="ranker (extractors/model/ranker.json)",
        read=read,
        trained=True,
        provenance="the shipped ranker, trained on every source, these files included: NOT held out",
    )


def held_out_note(reader: Reader, source: str) -> str:
    """What a leave-one-source-out figure of ``reader`` on ``source`` means."""
    if reader.trained:
        return f"held out: retrained without {source}"
    return reader.provenance


ReaderFactory = Callable[[], Reader]
