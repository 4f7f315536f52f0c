"""The learned ranker: real-layout pages read right; a deterministic model that loads as shipped."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from benchmarks.train_ranker import Example, fit, rows_of
from extractors.features import NAMES
from extractors.fields import extract_fields
from extractors.pdftext import read_pdf_text
from extractors.ranking import MODEL, from_json, shipped
from extractors.results import PageText

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"  # as tests/corpus.py: ../shared
REAL = [
    ("mustangproject/validator-test/Facture_F20180027.pdf",
     {"BT-1": "F20180027", "BT-2": "2018-12-31", "BT-31": "FR32123456789", "BT-44": "LE CLIENT"}),
    ("zugferd-corpus/ZUGFeRDv2/correct/FNFE-factur-x-examples/Facture_FR_BASICWL.pdf",
     {"BT-1": "FA-2017-0010", "BT-31": "FR11999999998", "BT-44": "Ma jolie boutique", "BT-112": "671.15"}),
    ("zugferd-corpus/ZUGFeRDv2/correct/intarsys/EN16931/zugferd_2p0_EN16931_Einfach.pdf",
     {"BT-1": "471102", "BT-2": "2018-03-05", "BT-31": "DE123456789", "BT-109": "473.00",
      "BT-112": "529.87"}),
]  # fmt: skip


def _text_pdf(source: Path, tmp: Path) -> list[PageText]:
    """The corpus PDF re-drawn by pdftocairo (text layer only, no embedded XML), read as text."""
    target = tmp / "text.pdf"
    subprocess.run(["pdftocairo", "-pdf", str(source), str(target)], check=True, timeout=60)
    return list(read_pdf_text(target.read_bytes(), max_pages=10))


@pytest.mark.parametrize(("name", "expected"), REAL, ids=[Path(n).stem for n, _ in REAL])
def test_real_layouts_are_read_with_the_shipped_model(
    name: str, expected: dict[str, str], tmp_path: Path
) -> None:
    # the corpus must be there: this test fails rather than skips without it
    assert CORPUS.is_dir(), f"corpus partagé introuvable : {CORPUS}"
    fields = extract_fields(_text_pdf(CORPUS / name, tmp_path))
    assert {k: fields.values.get(k) for k in expected} == expected


def test_a_distractor_label_is_not_taken_for_the_invoice_number() -> None:
    text = "FACTURE N° : F20180027\nN° DE FACTURE ASSOCIÉE : F20180003\nDate : 31/12/2018\n"
    fields = extract_fields([PageText(1, text)])
    assert fields.values["BT-1"] == "F20180027"
    assert fields.values["BT-2"] == "2018-12-31"


def _examples() -> list[Example]:
    from benchmarks import synth

    docs = [synth.invoice_doc(seed=f"determinism-{i}", layout=sorted(synth.LAYOUTS)[i]) for i in range(4)]
    return [
        Example(d.name, "generator", d.layout, "text", read_pdf_text(d.pdf, max_pages=4), dict(d.expected))
        for d in docs
    ]


def test_training_twice_on_the_same_data_gives_identical_bytes() -> None:
    examples = _examples()
    rows = {ex.name + ex.reading: rows_of(ex) for ex in examples}
    first, second = fit(examples, rows), fit(examples, rows)
    assert first.to_json() == second.to_json()  # type: ignore[attr-defined]
    assert from_json(first.to_json()).to_json() == first.to_json()  # type: ignore[attr-defined]


def test_the_shipped_model_loads_and_scores_a_candidate_as_its_coefficients_say() -> None:
    import math

    ranker = shipped()
    assert ranker is not None and MODEL.stat().st_size < 300_000
    assert ranker.feature_names == NAMES
    model = ranker.models["BT-1"]
    row = [1.0 if name in ("rule_conf", "kind_t0", "how_same", "first", "bias") else 0.0 for name in NAMES]
    terms = zip(model.coef, row, model.mean, model.scale, strict=True)
    z = model.intercept + sum(w * (v - m) / s for w, v, m, s in terms)
    assert ranker.score("BT-1", row) == pytest.approx(1 / (1 + math.exp(-z)), abs=1e-12)
    assert from_json(MODEL.read_text()).score("BT-1", row) == ranker.score("BT-1", row)
