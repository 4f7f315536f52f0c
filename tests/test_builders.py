"""Paper to Factur-X: captured fields → the richest CII profile → a PDF that our own validator accepts."""

from __future__ import annotations

import io
from collections.abc import Mapping

import facturx
import pdfplumber
import pytest
from lxml import etree

from builders.cii import BASIC_WL, EN16931, MINIMUM, Built, build_cii
from builders.facturx import to_facturx
from cli.samples import InvoiceData, demo_invoices, invoice_pdf
from dematflow.errors import CorruptInput, ToolFailed, UnsupportedInput
from extractors.einvoice import parse_invoice_xml
from validators.chain import validate_document, validate_xml
from validators.report import Report

# What the buyer running dematflow knows or its settings give (never on the paper as a field):
# the billing mode, both electronic addresses and the legal mentions the French CTC rules require.
NOTES = {
    "PMT": "Indemnité forfaitaire pour frais de recouvrement : 40 €",
    "PMD": "Pénalités de retard : trois fois le taux d'intérêt légal",
    "AAB": "Pas d'escompte pour paiement anticipé",
}


@pytest.fixture(scope="module")
def invoice() -> InvoiceData:
    return demo_invoices()[1]  # the digital PDF invoice of the demo set


@pytest.fixture(scope="module")
def fields(invoice: InvoiceData) -> dict[str, str]:
    return invoice.expected_fields()  # exactly what `dematflow extract --json` reports for it


@pytest.fixture(scope="module")
def ctc(invoice: InvoiceData) -> dict[str, str]:
    assert invoice.seller.siret and invoice.buyer.siret
    return {
        "BT-23": "B1",
        "BT-34": invoice.seller.siret[:9],
        "BT-34-1": "0225",
        "BT-49": invoice.buyer.siret[:9],
        "BT-49-1": "0225",
    }


@pytest.fixture(scope="module")
def pdf(invoice: InvoiceData) -> bytes:
    return invoice_pdf(invoice)


def _lines(invoice: InvoiceData) -> list[dict[str, str]]:
    return [
        {
            "BT-153": ln.description,
            "BT-129": f"{ln.quantity}",
            "BT-146": f"{ln.unit_price}",
            "BT-152": f"{ln.vat_rate}",
        }
        for ln in invoice.lines
    ]


def _without(fields: Mapping[str, str], *terms: str) -> dict[str, str]:
    return {k: v for k, v in fields.items() if k not in terms}


def _blocking(report: Report) -> list[str]:
    return [f.rule for f in report.findings if f.severity.value in ("fatal", "error")]


def test_demo_fields_make_a_basic_wl_factur_x_our_validator_accepts(
    fields: dict[str, str], ctc: dict[str, str], pdf: bytes
) -> None:
    # Given the fields extracted from the digital demo invoice and the buyer's CTC settings
    built = build_cii({**fields, **ctc}, notes=NOTES)
    # When the Factur-X is built on the original PDF
    out = to_facturx(pdf, built)
    # Then it is BASIC WL (no lines were captured) and dematflow's full validator accepts it
    assert built.profile == BASIC_WL
    assert built.missing_for_en16931 == ("BG-25",)
    report = validate_document(out)
    assert report.valid, report.to_json()
    assert report.profile == BASIC_WL and report.flavor == "factur-x"
    assert {"xsd", "schematron:factur-x-basicwl", "schematron:br-fr"} <= set(report.checked)
    # And factur-x finds the very XML, and the original pages and their text are still there
    filename, xml = facturx.get_xml_from_pdf(out, check_xsd=True)
    assert filename == "factur-x.xml" and xml == built.xml
    with pdfplumber.open(io.BytesIO(pdf)) as before, pdfplumber.open(io.BytesIO(out)) as after:
        assert len(after.pages) == len(before.pages)
        assert [p.extract_text() for p in after.pages] == [p.extract_text() for p in before.pages]
    assert fields["BT-1"] in (after_text := _text(out)) and "Papeterie Martin" in after_text


def _text(pdf: bytes) -> str:
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        return "\n".join(p.extract_text() or "" for p in doc.pages)


def test_fields_read_back_from_the_built_xml(fields: dict[str, str]) -> None:
    read = parse_invoice_xml(build_cii(fields).xml).fields.values
    for term in ("BT-1", "BT-2", "BT-3", "BT-5", "BT-9", "BT-27", "BT-31", "BT-44", "BT-84", "BT-109",
                 "BT-110", "BT-112", "BT-115"):  # fmt: skip
        assert read[term] == fields[term], term
    assert read["BT-30"] == fields["BT-30"][:9]  # the SIREN (scheme 0002); the SIRET goes to BT-29


def test_without_ctc_terms_only_the_french_rules_object(fields: dict[str, str], pdf: bytes) -> None:
    built = build_cii(fields)
    report = validate_document(to_facturx(pdf, built))
    assert _blocking(report) and all(rule.startswith("BR-FR-") for rule in _blocking(report))
    assert validate_xml(built.xml, french_rules=False).valid


def test_lines_make_en16931(
    invoice: InvoiceData, fields: dict[str, str], ctc: dict[str, str], pdf: bytes
) -> None:
    built = build_cii({**fields, **ctc}, lines=_lines(invoice), notes=NOTES)
    assert built.profile == EN16931 and built.missing_for_en16931 == ()
    report = validate_document(to_facturx(pdf, built))
    assert report.valid, report.to_json()
    assert report.profile == EN16931 and "schematron:en16931" in report.checked


def test_lines_that_disagree_with_the_totals_fall_back_to_basic_wl(
    invoice: InvoiceData, fields: dict[str, str]
) -> None:
    lines = _lines(invoice)
    lines[0] = {**lines[0], "BT-129": "151"}  # one more notebook than the totals say
    built = build_cii(fields, lines=lines)
    assert built.profile == BASIC_WL and built.missing_for_en16931 == ("BR-CO-13",)


def test_missing_seller_vat_keeps_basic_wl_missing_every_seller_id_is_refused(
    fields: dict[str, str],
) -> None:
    assert build_cii(_without(fields, "BT-31")).profile == BASIC_WL
    with pytest.raises(UnsupportedInput, match="BT-30 or BT-31"):
        build_cii(_without(fields, "BT-30", "BT-31"))


def test_without_due_date_or_a_standard_rate_only_minimum(fields: dict[str, str], pdf: bytes) -> None:
    no_due = build_cii(_without(fields, "BT-9"))
    assert no_due.profile == MINIMUM and no_due.missing_for_en16931 == ("BT-9", "BG-25")
    odd_rate = build_cii({**fields, "BT-110": "35.00", "BT-112": "538.20", "BT-115": "538.20"})
    assert odd_rate.profile == MINIMUM
    for built in (no_due, odd_rate):
        assert validate_xml(built.xml, french_rules=False).valid
        assert validate_document(to_facturx(pdf, built)).profile == MINIMUM


def test_missing_totals_are_named(fields: dict[str, str]) -> None:
    with pytest.raises(UnsupportedInput) as caught:
        build_cii(_without(fields, "BT-109", "BT-112", "BT-115"))
    assert "BT-109, BT-112, BT-115" in caught.value.message
    with pytest.raises(UnsupportedInput, match="BT-112"):
        build_cii({**fields, "BT-112": "603,84"})  # a decimal comma is not the contract form


def test_values_are_escaped_not_concatenated(fields: dict[str, str]) -> None:
    hostile = {**fields, "BT-27": 'A&B <Seller> "quoted"]]>'}
    root = etree.fromstring(build_cii(hostile).xml)
    names = root.xpath("//*[local-name()='SellerTradeParty']/*[local-name()='Name']/text()")
    assert names == [hostile["BT-27"]]


def test_library_failures_become_our_errors(fields: dict[str, str], pdf: bytes) -> None:
    wrong_level = Built(xml=build_cii(fields).xml, profile=MINIMUM, missing_for_en16931=())
    with pytest.raises(ToolFailed, match="factur-x"):
        to_facturx(pdf, wrong_level)  # a BASIC WL XML fails the MINIMUM XSD
    with pytest.raises(CorruptInput):
        to_facturx(b"\x89PNG\r\n\x1a\n", build_cii(fields))
