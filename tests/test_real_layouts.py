"""The real-layout benchmark: its dataset and truth, the XML-free text reading, and the scorer.

These read the shared corpus and fail (never skip) when it is missing: the benchmark it guards would
otherwise report figures on nothing."""

from __future__ import annotations

from benchmarks.real.dataset import CORPUS, SCORED, RealDoc, documents, not_printed, skipped
from benchmarks.real.readings import redraw
from benchmarks.real.scoring import Verdict, score
from extractors.results import FieldSet


def _doc(name: str) -> RealDoc:
    return next(d for d in documents() if d.path.name == name)


def test_the_corpus_is_there() -> None:
    assert CORPUS.is_dir(), f"the shared corpus must be beside the repository: {CORPUS}"


def test_documents_have_the_xml_values_as_truth() -> None:
    docs = documents()
    assert len(docs) >= 90
    assert {"zugferd-corpus", "mustangproject", "factur-x-python"} <= {d.source for d in docs}
    facture = _doc("Facture_F20180027.pdf")
    assert facture.source == "mustangproject"
    assert facture.truth["BT-1"] == "F20180027"
    assert facture.truth["BT-2"] == "2018-12-31"
    assert facture.truth["BT-112"] == "110.00"
    assert facture.truth["BT-27"] == "le fournisseur"  # names folded for comparison
    # A credit note's type code is given as the page reader reports it (381), any invoice as 380
    assert _doc("Avoir_FR_type381_BASIC.pdf").truth["BT-3"] == "381"
    assert _doc("zugferd_2p0_EN16931_Miete.pdf").truth["BT-3"] == "380"  # 387 rental invoice


def test_documents_group_one_template_into_one_layout() -> None:
    # The FNFE examples print every variant (DOM, FR, UE; BASIC, EN16931 ...) on one template
    fnfe = {d.layout for d in documents() if d.path.parent.name == "FNFE-factur-x-examples"}
    assert len(fnfe) == 1
    assert 15 <= len({d.layout for d in documents()}) <= 40


def test_skipped_files_say_why() -> None:
    reasons = {s.path.name: s.reason for s in skipped()}
    assert "ORDER-X_EX01_ORDER_FULL_DATA-COMFORT.pdf" in reasons  # an order, not an invoice
    assert all(reasons.values())


def test_fields_the_page_does_not_print_are_left_out_of_the_truth() -> None:
    truth = {"BT-1": "RE20190610507", "BT-112": "1234.56", "BT-2": "2019-06-10"}
    page = "Rechnung RE-20190610/507 vom 10.06.2019 ... Gesamtbetrag 1.234,56 EUR"
    assert not_printed(truth, page) == ()
    # Mustang reuses one drawing for several XMLs: the number and total printed are another invoice's
    assert not_printed(truth, "Rechnung RE-20200620/508 ... Gesamtbetrag 1 234,57 EUR") == ("BT-1", "BT-112")
    # A page without text layer is checked by eye: Mustang's invalidPDF draws RE-20171118/506 of 18.11.2017
    invalid = _doc("invalidPDF.pdf").truth
    assert "BT-1" not in invalid and "BT-2" not in invalid and invalid["BT-112"] == "571.04"
    # The FNFE BASIC WL page prints the total the XML has (a skipped file would be wrongly scored)
    assert "BT-112" not in not_printed(_doc("Facture_FR_BASICWL.pdf").truth, "Total TTC 671,15 €")


def test_the_text_reading_has_no_xml_any_more() -> None:
    from extractors.capture import OcrOptions, capture_pdf
    from extractors.facturx import find_embedded_xml

    path = _doc("Facture_F20180027.pdf").path
    assert find_embedded_xml(path.read_bytes()) is not None
    drawn = redraw(path)
    assert find_embedded_xml(drawn) is None
    cap = capture_pdf(drawn, ocr=OcrOptions(jobs=1))
    assert "F20180027" in cap.text  # the page itself is still there, as a text layer


def test_score_counts_right_absent_and_confidently_wrong() -> None:
    doc = RealDoc(
        path=CORPUS / "nowhere.pdf",
        source="handmade",
        layout="handmade",
        truth={"BT-1": "F20180027", "BT-2": "2018-12-31", "BT-27": "le fournisseur", "BT-109": "100.00"},
    )
    found = FieldSet(
        values={"BT-1": "F 2018-0003", "BT-2": "2018-12-31", "BT-27": "LE  FOURNISSEUR", "BT-110": "10.00"},
        confidence={"BT-1": 0.9, "BT-2": 0.5, "BT-27": 0.95, "BT-110": 0.99},
    )
    scores = score(doc, found, threshold=0.8)
    assert set(scores) == set(doc.truth)  # fields the truth lacks are not scored
    assert scores["BT-1"].verdict is Verdict.WRONG and scores["BT-1"].confidently_wrong
    assert scores["BT-2"].verdict is Verdict.RIGHT and not scores["BT-2"].confidently_wrong
    assert scores["BT-27"].verdict is Verdict.RIGHT  # case and spaces folded
    assert scores["BT-109"].verdict is Verdict.ABSENT and not scores["BT-109"].confidently_wrong
    low = score(doc, FieldSet({"BT-1": "X1"}, {"BT-1": 0.79}), threshold=0.8)["BT-1"]
    assert low.verdict is Verdict.WRONG and not low.confidently_wrong  # below the threshold: reviewed
    assert set(SCORED) >= {"BT-1", "BT-2", "BT-112"}
