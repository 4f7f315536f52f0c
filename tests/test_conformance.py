"""Conformance on a representative corpus subset: dematflow's verdict = upstream's, or the documented one."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from benchmarks.conformance import (
    DOC,
    Verdict,
    covered_rules,
    expected_verdict,
    fired_rules,
    known_disagreements,
    load_cen_tests,
    load_manifest,
    run_inprocess,
)
from tests.conftest import require
from tests.corpus import CORPUS
from validators.chain import validate_document

SUBSET = (
    # Factur-X / ZUGFeRD 2 PDFs, valid and invalid
    "zugferd-corpus/ZUGFeRDv2/correct/intarsys/EN16931/zugferd_2p0_EN16931_Einfach.pdf",
    "zugferd-corpus/ZUGFeRDv2/correct/symtrax/Beispiele/EXTENDED/zugferd_2p1_EXTENDED_Warenrechnung.pdf",
    "zugferd-corpus/ZUGFeRDv2/correct/Mustangproject/MustangGnuaccountingBeispielRE-20201121_508_withBOM.pdf",
    "zugferd-corpus/ZUGFeRDv2/correct/FNFE-factur-x-examples/Facture_FR_MINIMUM.pdf",
    "zugferd-corpus/ZUGFeRDv2/fail/FNFE-factur-x-examples/Avoir_FR_type380_EN16931.pdf",
    "zugferd-corpus/ZUGFeRDv2/fail/ZUGFeRD_2.0_fully_compliant_complete.pdf",
    "factur-x-python/pdf/invoice_EN16931.pdf",
    "mustangproject/library-test/EXTENDED_Fremdwaehrung_wdis_fx-pdfa4.pdf",
    "mustangproject/validator-test/corruptedV2PDF.pdf",
    # ZUGFeRD 1
    "zugferd-corpus/ZUGFeRDv1/correct/Intarsys/ZUGFeRD_1p0_BASIC_Einfach.pdf",
    "zugferd-corpus/ZUGFeRDv1/fail/Mustangproject/fail1.pdf",
    # CII XML
    "en16931-cen/cii/examples/CII_example1.xml",
    "en16931-cen/cii/examples/CII_example4.xml",
    "mustangproject/validator-test/valid_with_VAT_O.xml",
    "mustangproject/validator-test/invalidV2Root.xml",
    # UBL Invoice and CreditNote
    "en16931-cen/ubl/examples/ubl-tc434-example1.xml",
    "en16931-cen/ubl/examples/ubl-tc434-creditnote1.xml",
    "en16931-cen/ubl/examples/ubl-tc434-example3.xml",
    "zugferd-corpus/XML-Rechnung/UBL/not_validating_full_invoice_based_onTest_EeISI_300_CENfullmodel.ubl.xml",
    # XRechnung
    "xrechnung-testsuite/business-cases/standard/01.01a-INVOICE_ubl.xml",
    "xrechnung-testsuite/business-cases/standard/01.01a-INVOICE_uncefact.xml",
    # not e-invoices
    "mustangproject/library-test/ORDER-X_EX01_ORDER_FULL_DATA-COMFORT.pdf",
    "invoice2data/compare/saeco.pdf",
)
CEN_FILES = (
    "en16931-cen/test/cii/BR-CO-15-2.xml",
    "en16931-cen/test/Invoice-unit-UBL/BR-01.xml",
    "en16931-cen/test/Invoice-unit-UBL/BR-CO-10.xml",
    "en16931-cen/test/Invoice-unit-UBL/BR-S-08-1.xml",
)


@pytest.fixture(scope="module")
def corpus() -> Path:
    require(CORPUS.is_dir() and (CORPUS / "manifest.json").is_file(), f"the shared corpus at {CORPUS}")
    return CORPUS


@pytest.fixture(scope="module")
def expected(corpus: Path) -> dict[str, Verdict]:
    """Upstream verdict, replaced by dematflow's documented verdict where docs/conformance.md explains why."""
    upstream = {e["file"]: expected_verdict(e) for e in load_manifest(corpus)}
    verdicts = {f: v for f, v in upstream.items() if v is not None}
    return verdicts | known_disagreements(DOC)


@pytest.mark.parametrize("relative", SUBSET)
def test_verdict_is_upstream_or_documented(corpus: Path, expected: dict[str, Verdict], relative: str) -> None:
    outcome = run_inprocess(corpus / relative)
    assert outcome.verdict not in (Verdict.CRASH, Verdict.NON_JSON), outcome.detail
    assert outcome.verdict is expected[relative], (outcome.rules, outcome.detail)


def test_every_documented_disagreement_is_a_real_corpus_file(corpus: Path) -> None:
    files = {e["file"] for e in load_manifest(corpus)}
    known = known_disagreements(DOC)
    assert known, "docs/conformance.md has no disagreement table"
    assert set(known) <= files


@pytest.mark.parametrize("relative", CEN_FILES)
def test_cen_rule_unit_tests_fire_as_stated(corpus: Path, relative: str) -> None:
    # Given the vefa testSet's per-test expectation for the rule in scope
    tests = [t for t in load_cen_tests(corpus) if t.file == relative]
    assert tests
    for t in tests:
        # When the chain validates the embedded (partial) invoice
        fired = fired_rules(t.document).get(t.rule)
        # Then the rule fires as an error exactly when the test says it must
        assert (fired in ("fatal", "error")) == (t.expect == "error"), (t.index, t.rule, t.expect, fired)


def test_coverage_is_read_from_the_schematrons_that_ran(corpus: Path) -> None:
    ubl = validate_document((corpus / "en16931-cen/ubl/examples/ubl-tc434-example1.xml").read_bytes())
    rules = covered_rules(ubl)
    assert {"BR-01", "BR-CO-15", "BR-S-08", "UBL-SR-12"} <= rules
    assert not any(r.startswith("BR-DE-") for r in rules)  # XRechnung rules are not shipped


def test_the_subset_stays_fast(corpus: Path) -> None:
    start = time.perf_counter()
    for relative in SUBSET[:5]:
        run_inprocess(corpus / relative)
    assert time.perf_counter() - start < 10
