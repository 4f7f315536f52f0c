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
from extractors.results import PageText, Word

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


def _corpus_pages(name: str, tmp: Path) -> list[PageText]:
    assert CORPUS.is_dir(), f"corpus partagé introuvable : {CORPUS}"
    return _text_pdf(CORPUS / name, tmp)


def test_a_credit_note_title_over_negative_totals_goes_to_a_person(tmp_path: Path) -> None:
    # Given the FNFE credit note the corpus holds both as a 381 (amounts positive) and as a negative 380
    name = "zugferd-corpus/ZUGFeRDv2/fail/FNFE-factur-x-examples/Avoir_FR_type380_BASIC.pdf"
    fields = extract_fields(_corpus_pages(name, tmp_path))
    # Then the reader says what the title says, but neither the type nor the totals' sign is confident
    assert fields.values["BT-3"] == "381" and fields.values["BT-112"] == "233.47"
    assert all(fields.confidence[f] < 0.8 for f in ("BT-3", "BT-109", "BT-110", "BT-112"))


def test_one_row_of_a_column_of_totals_is_not_confident(tmp_path: Path) -> None:
    # "Nettobetrag | MwSt-Betrag | Endbetrag" over a row per VAT rate then the totals: each row adds up
    name = "zugferd-corpus/ZUGFeRDv1/correct/Intarsys/ZUGFeRD_1p0_EXTENDED_Warenrechnung.pdf"
    fields = extract_fields(_corpus_pages(name, tmp_path))
    assert all(fields.confidence[f] < 0.8 for f in ("BT-109", "BT-110", "BT-112"))


def test_a_hyphen_printed_as_a_minus_sign_is_read_as_one() -> None:
    text = "Rechnungskorrektur Nr. RK-1\nRechnungssumme ohne USt. \u20107,67\nBruttosumme \u20108,79\n"
    assert extract_fields([PageText(1, text)]).values["BT-112"] == "-8.79"


def test_a_value_printed_beside_another_role_leaves_the_field_open() -> None:
    from extractors.candidates import Candidate
    from extractors.doubts import open_questions
    from extractors.layout import layout

    text = "Rechnung Nr. 471102\nPfand 2,77\n4000001234578 (GTIN)\nN° TVA client FR19787878784"
    laid = [layout(PageText(1, text))]
    gtin = Candidate("BT-1", "4000001234578", 0.9, 1, 2, kind="t1")
    buyer = Candidate("BT-31", "FR19787878784", 0.99, 1, 3, checked=True)
    assert open_questions({"BT-1": gtin, "BT-31": buyer}, [gtin, buyer], "380", laid) == {"BT-1", "BT-31"}
    number = Candidate("BT-1", "471102", 0.9, 1, 0, kind="t0")
    assert open_questions({"BT-1": number}, [number], "380", laid) == set()
    # a rival value scored about as high: the model cannot tell them apart
    rival = Candidate("BT-1", "471103", 0.88, 1, 1, kind="t1")
    assert open_questions({"BT-1": number}, [number, rival], "380", laid) == {"BT-1"}
    # the buyer's label in a segment of its own, left of the value
    label = (Word("TVA", 10, 10, 40, 20), Word("client", 42, 10, 70, 20))
    words = (*label, Word("FR90343434346", 200, 10, 280, 20))
    apart = [layout(PageText(1, "TVA client FR90343434346", words))]
    theirs = Candidate("BT-31", "FR90343434346", 0.99, 1, 0, checked=True)
    assert open_questions({"BT-31": theirs}, [theirs], "380", apart) == {"BT-31"}
    # OCR parted "471102" into "4711 02": the number may have been cut at the space
    cut = Candidate("BT-1", "4711", 0.99, 1, 0, kind="t0")
    split = [layout(PageText(1, "Rechnungsnummer 4711 02"))]
    assert open_questions({"BT-1": cut}, [cut], "380", split) == {"BT-1"}


def test_a_number_under_an_account_label_is_not_confident() -> None:
    # AWS prints "Account number:" over 296664039561, left of "Invoice Number: 42183017"
    data = (CORPUS / "invoice2data/compare/AmazonWebServices.pdf").read_bytes()
    fields = extract_fields(read_pdf_text(data, max_pages=5))
    assert fields.values["BT-1"] == "42183017" or fields.confidence["BT-1"] < 0.8
