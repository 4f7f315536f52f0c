"""Validation: XSD, identifiers, EN 16931 arithmetic and the whole chain on real corpus files."""

from __future__ import annotations

import io

import pytest
from reportlab.pdfgen import canvas
from stdnum import luhn

from dematflow.errors import CorruptInput, ToolUnavailable, UnsupportedInput
from tests.corpus import CORPUS, needs_corpus
from validators import chain
from validators.business import check_arithmetic, check_identifiers
from validators.report import BLOCKING, Severity
from validators.xsd import check_xsd

SIREN = "552081317"  # EDF; its VAT number is FR03552081317
SIRET = "5520813170001" + luhn.calc_check_digit("5520813170001")
IBAN = "FR7630006000011234567890189"


def corpus(relative: str) -> bytes:
    return (CORPUS / relative).read_bytes()


def rules(findings: object) -> set[str]:
    return {f.rule for f in findings}  # type: ignore[attr-defined]


# --- XSD ----------------------------------------------------------------


@needs_corpus
def test_xsd_valid_cii_ubl_and_zugferd1_pass() -> None:
    cii = corpus("factur-x-python/xml/factur-x-minimum.xml")
    assert check_xsd(cii, syntax="CII", flavor="factur-x", profile="MINIMUM") == []
    ubl = corpus("en16931-cen/ubl/examples/ubl-tc434-creditnote1.xml")
    assert check_xsd(ubl, syntax="UBL", flavor="ubl", profile="EN16931") == []
    zf1 = corpus("factur-x-python/xml/zugferd-comfort.xml")
    assert check_xsd(zf1, syntax="CII", flavor="zugferd", profile="EN16931") == []


@needs_corpus
def test_xsd_broken_element_is_a_fatal_finding_with_a_line() -> None:
    good = corpus("factur-x-python/xml/factur-x-minimum.xml")
    broken = good.replace(b"<ram:TypeCode>", b"<ram:Bogus>1</ram:Bogus><ram:TypeCode>", 1)
    assert broken != good
    findings = check_xsd(broken, syntax="CII", flavor="factur-x", profile="MINIMUM")
    assert findings and findings[0].rule == "XSD" and findings[0].severity is Severity.FATAL
    assert "Bogus" in findings[0].message
    assert findings[0].location is not None and findings[0].location.startswith("line ")


def test_xsd_unknown_syntax_is_unavailable_not_valid() -> None:
    with pytest.raises(ToolUnavailable):
        check_xsd(b"<r/>", syntax="EDIFACT", flavor=None, profile=None)


# --- identifiers ----------------------------------------------------------------


def test_valid_identifiers_give_no_findings() -> None:
    fields = {"BT-30": SIRET, "BT-31": "FR03552081317", "BT-84": IBAN}
    assert check_identifiers(fields) == []
    assert check_identifiers({"BT-30": SIREN, "BT-31": "FR 03 552 081 317"}) == []


def test_bad_identifiers_are_warnings_in_french() -> None:
    # Check digits are beyond EN 16931: a platform does not reject for them, the buyer reviews them.
    bad_siret = SIRET[:-1] + str((int(SIRET[-1]) + 1) % 10)
    found = check_identifiers({"BT-30": bad_siret, "BT-84": IBAN[:-1] + "0"})
    assert rules(found) == {"FR-SIRET", "IBAN"}
    assert all(f.severity is Severity.WARNING for f in found)
    iban = next(f for f in found if f.rule == "IBAN")
    assert iban.message == f"L'IBAN (BT-84) {IBAN[:-1]}0 ne passe pas le contrôle mod-97"
    assert iban.location == "BT-84"
    assert rules(check_identifiers({"BT-30": "552081318"})) == {"FR-SIREN"}
    wrong_key = check_identifiers({"BT-31": "FR44552081317"})
    assert rules(wrong_key) == {"FR-VAT"} and "devrait être 03" in wrong_key[0].message


def test_vat_must_match_the_sellers_siren() -> None:
    other = "732829320"  # a Luhn-valid SIREN that is not EDF's
    assert luhn.is_valid(other)
    found = check_identifiers({"BT-30": other, "BT-31": "FR03552081317"})
    assert rules(found) == {"FR-VAT"} and other in found[0].message


def test_foreign_nine_digit_registration_is_not_read_as_a_siren() -> None:
    assert check_identifiers({"BT-30": "123456789", "BT-40": "NO"}) == []
    assert rules(check_identifiers({"BT-30": "123456789"})) == {"FR-SIREN"}


# --- arithmetic ----------------------------------------------------------------

TOTALS = {"BT-106": "100.00", "BT-109": "100.00", "BT-110": "20.00", "BT-112": "120.00"}


def test_consistent_totals_pass_within_a_cent() -> None:
    fields = {**TOTALS, "BT-113": "20.00", "BT-114": "0.01", "BT-115": "100.01"}
    assert check_arithmetic(fields, ["60.00", "40.00"]) == []
    assert check_arithmetic({**TOTALS, "BT-112": "120.01"}) == []


def test_br_co_15_16_10_warnings_say_the_numbers() -> None:
    found = check_arithmetic({**TOTALS, "BT-112": "121.00", "BT-115": "100.00"}, ["60.00", "30.00"])
    by_rule = {f.rule: f for f in found}
    assert set(by_rule) == {"BR-CO-15", "BR-CO-16", "BR-CO-10"}
    assert all(f.severity is Severity.WARNING for f in found)
    assert "121.00" in by_rule["BR-CO-15"].message and "120.00" in by_rule["BR-CO-15"].message
    assert "100.00" in by_rule["BR-CO-16"].message and "121.00" in by_rule["BR-CO-16"].message
    assert "90.00" in by_rule["BR-CO-10"].message
    assert check_arithmetic({**TOTALS, "BT-112": "121.00"}, skip=("BR-CO-15",)) == []


def test_unreadable_amount_is_a_warning_and_missing_terms_skip_rules() -> None:
    found = check_arithmetic({**TOTALS, "BT-112": "1 20,00"})
    assert rules(found) == {"AMOUNT"} and found[0].severity is Severity.WARNING
    assert check_arithmetic({"BT-109": "100.00", "BT-112": "999.00"}) == []


# --- chain ----------------------------------------------------------------


def test_plain_pdf_and_garbage_are_not_e_invoices() -> None:
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf)
    pdf.drawString(72, 720, "Facture 42")
    pdf.save()
    with pytest.raises(UnsupportedInput, match="not an e-invoice"):
        chain.validate_document(buf.getvalue())
    with pytest.raises(UnsupportedInput, match="not an e-invoice"):
        chain.validate_document(b"PK\x03\x04 a zip file")


@needs_corpus
def test_valid_facturx_pdf() -> None:
    report = chain.validate_document(corpus("factur-x-python/pdf/invoice_EN16931.pdf"))
    assert report.valid, report.findings
    assert report.checked == (
        "xsd", "schematron:en16931", "schematron:br-fr", "identifiers", "arithmetic",
        "pdfa-xmp", "facturx-attachment", "xmp-profile", "pdf-active-content",
    ) and report.not_checked == ()  # fmt: skip
    assert (report.syntax, report.flavor, report.profile) == ("CII", "factur-x", "EN16931")
    assert report.extra["embedded_filename"] == "factur-x.xml"
    assert report.extra["fields"]["BT-1"] == "F20260023"


@needs_corpus
def test_ubl_xml_and_tampered_total() -> None:
    xml = corpus("en16931-cen/ubl/examples/ubl-tc434-example1.xml")
    assert chain.validate_document(xml).valid
    tampered = xml.replace(b">250.33</cbc:TaxInclusiveAmount>", b">260.33</cbc:TaxInclusiveAmount>")
    assert tampered != xml
    report = chain.validate_xml(tampered)
    assert not report.valid and {"BR-CO-15", "BR-CO-16"} <= rules(report.findings)


@needs_corpus
def test_xsd_failure_and_bad_encoding_declaration_make_it_invalid() -> None:
    fail1 = chain.validate_document(corpus("zugferd-corpus/ZUGFeRDv1/fail/Mustangproject/fail1.pdf"))
    assert not fail1.valid and "XSD" in rules(fail1.findings)
    bad_decl = chain.validate_document(
        corpus("zugferd-corpus/ZUGFeRDv2/fail/Mustangproject/factur-x-invalid-xml-encoding-attribute.pdf")
    )
    assert not bad_decl.valid and "XML-DECL" in rules(bad_decl.findings)
    assert bad_decl.extra["fields"]["BT-1"]  # still read, so a person sees which invoice it is


@needs_corpus
def test_pdf_declaring_facturx_without_readable_xml_is_corrupt() -> None:
    with pytest.raises(CorruptInput, match="XMP"):
        chain.validate_document(corpus("mustangproject/validator-test/corruptedV2PDF.pdf"))


@needs_corpus
def test_order_x_is_not_an_invoice() -> None:
    with pytest.raises(UnsupportedInput):
        chain.validate_document(
            corpus("mustangproject/library-test/ORDER-X_EX01_ORDER_FULL_DATA-COMFORT.pdf")
        )


@needs_corpus
def test_xsd_unavailable_is_not_checked_and_never_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    def unavailable(*_: object, **__: object) -> list[object]:
        raise ToolUnavailable("no XSD here")

    monkeypatch.setattr(chain, "check_xsd_tree", unavailable)
    report = chain.validate_xml(corpus("en16931-cen/ubl/examples/ubl-tc434-example1.xml"))
    # the schematron still runs without the XSD, but the verdict is "not validated"
    assert report.not_checked == ("xsd",)
    assert report.checked == ("schematron:en16931", "identifiers", "arithmetic")
    assert not report.valid and not [f for f in report.findings if f.severity in BLOCKING]


def test_validate_fields_for_captured_invoices() -> None:
    ok = chain.validate_fields({"BT-30": SIRET, **TOTALS})
    assert ok.valid and ok.checked == ("identifiers", "arithmetic") and ok.findings == ()
    # A captured invoice conforms to no standard: what the checks doubt is a warning for review.
    bad = chain.validate_fields({"BT-31": "FR99552081317", **TOTALS, "BT-112": "99.00"})
    assert rules(bad.findings) == {"FR-VAT", "BR-CO-15"}
    assert all(f.severity is Severity.WARNING for f in bad.findings)
