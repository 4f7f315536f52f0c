"""Schematron validation with saxonche: real XSLTs on real corpus files, fail closed, stable under load."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from dematflow.errors import ToolFailed, ToolUnavailable
from extractors.facturx import find_embedded_xml
from extractors.safexml import parse_xml
from tests.corpus import CORPUS, needs_corpus
from validators import chain, schematron
from validators.report import Finding, Severity
from validators.schematron import findings_from_svrl, run_schematron, schematrons_for

FACTURX_EN16931 = "factur-x-python/pdf/invoice_EN16931.pdf"  # French seller, expected VALID
CII_EN16931 = "en16931-cen/cii/examples/CII_business_example_01.xml"  # Norwegian parties, VALID
UBL_EN16931 = "en16931-cen/ubl/examples/ubl-tc434-example1.xml"  # Dutch parties, VALID


def corpus(relative: str) -> bytes:
    return (CORPUS / relative).read_bytes()


def facturx_xml() -> bytes:
    embedded = find_embedded_xml(corpus(FACTURX_EN16931))
    assert embedded is not None
    return embedded.xml


def replace_once(xml: bytes, pattern: bytes, new: bytes) -> bytes:
    out, n = re.subn(pattern, new, xml, count=1)
    assert n == 1, pattern
    return out


def blocking_rules(findings: list[Finding]) -> set[str]:
    return {f.rule for f in findings if f.severity in (Severity.FATAL, Severity.ERROR)}


# --- which schematrons apply ---------------------------------------------------------------------------


def test_schematrons_for_each_kind_of_document() -> None:
    def names(**kw: object) -> list[str]:
        args: dict[str, Any] = {"flavor": "factur-x", "profile": "EN16931", "french": False, **kw}
        return [s.name for s in schematrons_for(**args)]

    assert names(syntax="CII") == ["schematron:en16931"]
    assert names(syntax="CII", profile="BASIC WL", french=True) == [
        "schematron:factur-x-basicwl",
        "schematron:br-fr",
    ]
    assert names(syntax="CII", profile="EXTENDED-CTC-FR", flavor="cii") == ["schematron:extended-ctc-fr"]
    assert names(syntax="UBL", flavor="ubl") == ["schematron:en16931"]
    assert names(syntax="UBL", flavor="ubl", profile="EXTENDED-CTC-FR") == ["schematron:extended-ctc-fr"]
    # XRechnung: EN 16931 plus the KoSIT CIUS rules; fail closed where no schematron ships (ZUGFeRD 1.0).
    assert names(syntax="CII", flavor="xrechnung", profile="XRECHNUNG") == [
        "schematron:en16931",
        "schematron:xrechnung",
    ]
    assert names(syntax="CII", flavor="zugferd", zugferd1=True) == ["schematron:zugferd-1"]


@pytest.mark.parametrize(
    "sch",
    {
        s
        for p in ("MINIMUM", "BASIC WL", "BASIC", "EN16931", "EXTENDED", "EXTENDED-CTC-FR")
        for syntax in ("CII", "UBL")
        for flavor in ("factur-x", "xrechnung")
        for s in schematrons_for(syntax=syntax, flavor=flavor, profile=p, french=True)
    },
    ids=lambda s: s.path,
)
def test_every_shipped_xslt_compiles(sch: schematron.Schematron) -> None:
    assert sch.path is not None
    with schematron._saxon_lock():
        assert schematron._executable(str(schematron.schematron_file(sch))) is not None


def test_probe_names_saxon() -> None:
    assert "Saxon" in schematron.probe()


# --- SVRL reading --------------------------------------------------------------------------------------

SVRL = b"""<svrl:schematron-output xmlns:svrl="http://purl.oclc.org/dsdl/svrl">
  <svrl:ns-prefix-in-attribute-values uri="urn:x" prefix="rsm"/>
  <svrl:fired-rule context="/"/>
  <svrl:failed-assert test="t" id="BR-01" flag="fatal"
      location="/*:Invoice[namespace-uri()='urn:x'][1]/*:ID[namespace-uri()='urn:y'][1]">
    <svrl:text>
      [BR-01]-An Invoice shall
      have a number.</svrl:text>
  </svrl:failed-assert>
  <svrl:failed-assert test="t" id="FX-SCH-A-000001">
    <svrl:text>[BR-CO-15]-Totals.</svrl:text>
  </svrl:failed-assert>
  <svrl:failed-assert test="t" flag="warning">
    <svrl:text>[PEPPOL-R008] Empty element.</svrl:text>
  </svrl:failed-assert>
  <svrl:failed-assert test="t" id="X-1" flag="information">
    <svrl:text>Note.</svrl:text>
  </svrl:failed-assert>
  <svrl:failed-assert test="t" id="FX-SCH-A-000002">
    <svrl:text>No leading id.</svrl:text>
  </svrl:failed-assert>
  <svrl:successful-report test="t">
    <svrl:text>Element 'ram:X' is marked as not used.</svrl:text>
  </svrl:successful-report>
  <svrl:successful-report test="t" id="R-1" flag="error">
    <svrl:text>Reported.</svrl:text>
  </svrl:successful-report>
</svrl:schematron-output>"""


def test_svrl_rule_ids_severities_messages_and_locations() -> None:
    found = findings_from_svrl(parse_xml(SVRL))
    assert [(f.rule, f.severity) for f in found] == [
        ("BR-01", Severity.FATAL),
        ("BR-CO-15", Severity.ERROR),  # the text names the rule behind an opaque Factur-X id
        ("PEPPOL-R008", Severity.WARNING),  # no @id: the text's leading id
        ("X-1", Severity.INFO),
        ("FX-SCH-A-000002", Severity.ERROR),
        ("SCHEMATRON", Severity.WARNING),  # a flagless "not used" report is a warning
        ("R-1", Severity.ERROR),
    ]
    assert found[0].message == "[BR-01]-An Invoice shall have a number."
    assert found[0].location == "/rsm:Invoice[1]/*:ID[namespace-uri()='urn:y'][1]"


# --- real documents ------------------------------------------------------------------------------------


@needs_corpus
def test_valid_facturx_en16931_passes_with_french_rules() -> None:
    report = chain.validate_document(corpus(FACTURX_EN16931))
    assert report.valid, [f for f in report.findings if f.severity in (Severity.FATAL, Severity.ERROR)]
    assert report.checked == (
        "xsd",
        "schematron:en16931",
        "schematron:br-fr",
        "identifiers",
        "arithmetic",
        "pdfa-xmp",
        "facturx-attachment",
        "xmp-profile",
        "pdf-active-content",
    )
    assert report.not_checked == () and report.extra["french_rules"] is True
    assert "pending" not in report.extra


@needs_corpus
def test_tampered_total_fires_br_co_15() -> None:
    # Given a valid Factur-X whose total with VAT (BT-112) is then changed
    xml = replace_once(facturx_xml(), rb"(<ram:GrandTotalAmount>)[^<]+", rb"\g<1>99999.99")
    # When the EN 16931 schematron runs on it
    found = run_schematron(
        xml, schematrons_for(syntax="CII", flavor="factur-x", profile="EN16931", french=False)[0]
    )
    # Then BR-CO-15 fires as an error at the monetary summation
    hit = [f for f in found if f.rule == "BR-CO-15"]
    assert hit and hit[0].severity is Severity.ERROR
    assert hit[0].location and "SpecifiedTradeSettlementHeaderMonetarySummation" in hit[0].location
    assert not chain.validate_xml(xml).valid


@needs_corpus
def test_ubl_example_passes_and_a_broken_one_fires_the_rule() -> None:
    xml = corpus(UBL_EN16931)
    report = chain.validate_xml(xml)
    assert report.valid, report.findings
    assert "schematron:en16931" in report.checked and "schematron:br-fr" not in report.checked
    broken = replace_once(xml, rb"(<cbc:TaxInclusiveAmount currencyID=\"EUR\">)[^<]+", rb"\g<1>999.99")
    found = run_schematron(
        broken, schematrons_for(syntax="UBL", flavor="ubl", profile="EN16931", french=False)[0]
    )
    assert "BR-CO-15" in blocking_rules(found)


@needs_corpus
def test_french_rules_follow_the_parties_and_can_be_switched() -> None:
    foreign = corpus(CII_EN16931)  # seller and buyer in Norway
    assert "schematron:br-fr" not in chain.validate_xml(foreign).checked
    assert "schematron:br-fr" in chain.validate_xml(foreign, french_rules=True).checked
    # A French buyer (BT-55) is enough to switch them on.
    french_buyer = replace_once(
        foreign, rb"(?s)(<ram:BuyerTradeParty>.*?<ram:CountryID>)NO(</ram:CountryID>)", rb"\g<1>FR\g<2>"
    )
    assert "schematron:br-fr" in chain.validate_xml(french_buyer).checked
    off = chain.validate_xml(facturx_xml(), french_rules=False)
    assert "schematron:br-fr" not in off.checked and "schematron:br-fr" not in off.not_checked
    assert off.extra["french_rules"] is False


def test_fields_say_who_is_french() -> None:
    assert chain._is_french({"BT-40": "DE", "BT-55": "fr"})
    assert not chain._is_french({"BT-40": "DE"})


@needs_corpus
@pytest.mark.parametrize("fault", [ToolUnavailable("saxonche is not installed"), ToolFailed("Saxon crashed")])
def test_a_schematron_that_cannot_run_means_not_validated(
    monkeypatch: pytest.MonkeyPatch, fault: Exception
) -> None:
    def broken(relative: str, text: str) -> str:
        raise fault

    monkeypatch.setattr(schematron, "_transform", broken)
    report = chain.validate_document(corpus(FACTURX_EN16931))
    assert report.not_checked == ("schematron:en16931", "schematron:br-fr")
    assert not report.valid and report.to_json()["valid"] is False
    assert "schematron:en16931" not in report.checked


@needs_corpus
def test_no_rule_fired_is_not_a_pass() -> None:
    # The CII schematron on a UBL document matches nothing: that is "not checked", never "valid".
    with pytest.raises(ToolUnavailable, match="no rule fired"):
        run_schematron(
            corpus(UBL_EN16931), schematrons_for(syntax="CII", flavor="cii", profile=None, french=False)[0]
        )


@needs_corpus
def test_xrechnung_without_a_rules_folder_is_not_checked(tmp_path: Path) -> None:
    report = chain.validate_xml(
        corpus("xrechnung-testsuite/technical-cases/cius/01.05_minimal_test_uncefact.xml"),
        rules_dir=tmp_path / "no-rules-here",
    )
    assert "schematron:en16931" in report.checked and report.not_checked == ("schematron:xrechnung",)
    assert not report.valid
    # its CIUS guideline id (BT-24) is not held against it by the Factur-X EN 16931 XSLT
    assert "FX-SCH-A-000556" not in blocking_rules(list(report.findings))


@needs_corpus
def test_an_older_xrechnung_version_is_not_checked_with_the_3_0_rules() -> None:
    report = chain.validate_xml(corpus("mustangproject/validator-test/validXRv2.xml"))  # XRechnung 2.0
    assert report.not_checked == ("schematron:xrechnung",) and not report.valid


# --- stability: one Saxon processor per process, many validations, several threads ----------------------


@needs_corpus
def test_two_hundred_validations_in_a_loop_are_identical() -> None:
    xml = corpus(CII_EN16931)  # one schematron (~25 ms): the Factur-X + BR-FR pair is in the thread test
    first = json.dumps(chain.validate_xml(xml).to_json(), sort_keys=True)
    for _ in range(199):
        assert json.dumps(chain.validate_xml(xml).to_json(), sort_keys=True) == first


@needs_corpus
def test_four_threads_share_the_processor_safely() -> None:
    docs = [facturx_xml(), corpus(UBL_EN16931), corpus(CII_EN16931)]
    expected = [json.dumps(chain.validate_xml(d).to_json(), sort_keys=True) for d in docs]

    def work(i: int) -> tuple[int, str]:
        k = i % len(docs)
        return k, json.dumps(chain.validate_xml(docs[k]).to_json(), sort_keys=True)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(work, range(100)))
    assert len(results) == 100
    assert all(out == expected[k] for k, out in results)
