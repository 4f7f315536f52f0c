"""CDAR lifecycle messages: the Annexe B examples, every message dematflow builds, and the rule table."""

from __future__ import annotations

import os
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from builders.cdar import Party, StatusMessage, build_cdar
from dematflow.errors import InvalidStatusMessage, ToolUnavailable
from pipeline.lifecycle_codes import (
    ALLOWED_REASONS,
    CDAR_LABELS,
    LABELS,
    MANDATORY_REASON,
    REASONS,
    Code,
    Side,
    side_of,
)
from validators.cdar import CDAR_RULES, XSD, XSLT, parse_cdar, validate_cdar
from validators.report import BLOCKING
from validators.rules import SHARED, base_dir

try:
    RULES = base_dir(SHARED, None) / CDAR_RULES
except ToolUnavailable:  # pragma: no cover - the shared rules folder sits beside the repository
    if os.environ.get("CI") == "true":  # in CI a missing rules folder is a failure, never a skip
        raise
    pytest.skip("../shared/rules is not there", allow_module_level=True)
EXAMPLES = sorted((RULES / "examples").glob("*.xml"))

# The Annexe B examples predate rule set 1.4.0.02: all are XSD-valid, 7 of 11 pass the fatal
# schematron. The 211/212 ones lack MDT-124-2 (SequenceNumeric, BR-FR-CDV-16); the _POUR_PPF ones
# address the PPF as 0238:9998 with no MDT-2, where BR-FR-CDV-02 now wants 0238:0000.
KNOWN = {
    "UC1_F202500003_01-CDV-200_Deposee_POUR_PPF.xml": {"BR-FR-CDV-02_MDT-3", "BR-FR-CDV-CL-01_MDT-2"},
    "UC1_F202500003_06-CDV-211_Paiement_transmis.xml": {"BR-FR-CDV-16_MDT-124-2"},
    "UC1_F202500003_07-CDV-212_Encaissee.xml": {"BR-FR-CDV-16_MDT-124-2"},
    "UC1_F202500003_07-CDV-212_Encaissee_POUR_PPF.xml": {
        "BR-FR-CDV-02_MDT-3",
        "BR-FR-CDV-16_MDT-124-2",
        "BR-FR-CDV-CL-01_MDT-2",
    },
}
SELLER = Party("SE", "100000009", "VENDEUR", "100000009")
BUYER = Party("BY", "200000008", "ACHETEUR", "200000008")
PLATFORM = Party("WK")
AT = datetime(2025, 7, 1, 15, 10, tzinfo=UTC)


def message(code: int, reason_code: str | None = None, **changes: object) -> StatusMessage:
    side = side_of(code)
    issuer = {
        Side.PLATFORM: PLATFORM,
        Side.BUYER: Party("BY", "200000008", "ACHETEUR"),
        Side.SUPPLIER: Party("SE", "100000009", "VENDEUR"),
    }[side]
    fields: dict[str, object] = {
        "message_id": f"F202500003_{code}_20250701151000#380_20250701",
        "name": f"F202500003-CDV-{code}",
        "issued_at": AT,
        "status_at": AT,
        "sender": PLATFORM,
        "issuer": issuer,
        "recipients": (BUYER if side is Side.SUPPLIER else SELLER,),
        "invoice_id": "F202500003",
        "code": code,
        "label": CDAR_LABELS.get(Code(code), LABELS[Code(code)]),
        "invoice_date": date(2025, 7, 1),
        "received_at": AT,
        "seller_siren": "100000009",
        "reason_code": reason_code,
        "reason": REASONS.get(reason_code, reason_code) if reason_code else None,
        **changes,
    }
    return StatusMessage(**fields)  # type: ignore[arg-type]


def rules(xml: bytes) -> set[str]:
    return {f.rule for f in validate_cdar(xml).findings if f.severity in BLOCKING}


def test_there_are_eleven_examples() -> None:
    assert len(EXAMPLES) == 11


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_each_annex_b_example_is_validated_with_its_known_findings(path: Path) -> None:
    report = validate_cdar(path.read_bytes())
    assert report.checked == ("xml", "xsd", "schematron:br-fr-cdv") and not report.not_checked
    assert not [f for f in report.findings if f.rule == "XSD"]
    assert rules(path.read_bytes()) == KNOWN.get(path.name, set())
    assert report.valid is (path.name not in KNOWN)


EMITTED = [
    (200, None, {}),
    (202, None, {}),
    (203, None, {}),
    (204, None, {}),
    (205, None, {}),
    (206, "QTE_ERR", {}),
    (207, "TX_TVA_ERR", {}),
    (208, "JUSTIF_ABS", {}),
    (209, None, {}),
    (210, "NON_CONFORME", {}),
    (211, None, {"amount": Decimal("12000")}),
    (211, None, {}),
    (212, None, {"amount": Decimal("12000"), "vat_rate": Decimal("20")}),
    (213, "DOUBLON", {}),
    (213, "REJ_SEMAN", {}),
    (213, "CALCUL_ERR", {}),
    (501, "IRR_VIDE_F", {"invoice_type": None, "invoice_date": None, "seller_siren": None}),
    (501, "IRR_SYNTAX", {}),
]


@pytest.mark.parametrize(("code", "reason", "extra"), EMITTED, ids=lambda v: str(v))
def test_every_message_dematflow_builds_passes_xsd_and_fatal_schematron(
    code: int, reason: str | None, extra: dict[str, object]
) -> None:
    xml = build_cdar(message(code, reason, **extra))
    report = validate_cdar(xml)
    assert report.valid, [f.to_json() for f in report.findings]
    read = parse_cdar(xml)
    assert (read.code, read.reason_code, read.invoice_id) == (code, reason, "F202500003")
    assert read.amount == extra.get("amount") and read.vat_rate == extra.get("vat_rate")


def test_a_reason_not_allowed_for_the_status_is_a_fatal_finding() -> None:
    assert "BR-FR-CDV-CL-09_MDT-113_213" in rules(build_cdar(message(213, "JUSTIF_ABS")))
    assert "BR-FR-CDV-CL-09_MDT-113" in rules(build_cdar(message(207, "PAS_UN_MOTIF")))


def test_a_missing_mandatory_reason_and_a_212_without_amount_are_fatal() -> None:
    assert "BR-FR-CDV-15_MDT-113" in rules(build_cdar(message(210)))
    no_amount = message(212, None, reason="Encaissée, montant non précisé")
    assert "BR-FR-CDV-14_MDT-207" in rules(build_cdar(no_amount))


def test_the_validator_fails_closed_without_its_rule_files(tmp_path: Path) -> None:
    report = validate_cdar(build_cdar(message(200)), rules=tmp_path / "nowhere")
    assert not report.valid and "schematron:br-fr-cdv" in report.not_checked


def test_hostile_or_broken_xml_is_a_finding_never_a_crash() -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "x">]><a>&x;</a>'
    assert rules(bomb) == {"XML"}
    assert rules(b"<rsm:not-closed") == {"XML"}


def test_the_validation_names_the_rule_files_it_used() -> None:
    artefacts = validate_cdar(build_cdar(message(200))).extra["artefacts"]
    assert {f"rules/{CDAR_RULES}/{XSD}", f"rules/{CDAR_RULES}/{XSLT}"} <= set(artefacts)
    # the XSD and the 3 it imports (the code-list XSDs of the folder are imported by none), the XSLT
    assert len(artefacts) == 5 and all(len(v) == 64 for v in artefacts.values())


def test_parse_reads_the_examples() -> None:
    paid = parse_cdar((RULES / "examples" / "UC1_F202500003_07-CDV-212_Encaissee.xml").read_bytes())
    assert (paid.code, paid.amount, paid.vat_rate, paid.issuer_role) == (
        212,
        Decimal(12000),
        Decimal(20),
        "SE",
    )
    dispute = parse_cdar((RULES / "examples" / "UC4_F202500006_04-CDV-207_En_litige.xml").read_bytes())
    assert (dispute.reason_code, dispute.invoice_date, dispute.seller_siren) == (
        "TX_TVA_ERR",
        date(2025, 7, 1),
        "100000009",
    )
    with pytest.raises(InvalidStatusMessage):
        parse_cdar(b"<a/>")


# --- the reason table against the schematron it mirrors -----------------------------------------------


def _xslt() -> str:
    return (RULES / XSLT).read_text(encoding="utf-8")


def test_allowed_reasons_per_status_match_rule_cl_09() -> None:
    text = _xslt()
    for code, allowed in ALLOWED_REASONS.items():
        assert_id = f"BR-FR-CDV-CL-09_MDT-113_{code}<"
        block = text[: text.index(assert_id)]
        test = block[block.rindex("<xsl:when test=") :]
        assert set(re.findall(r"\(\.\) = '([A-Z_0-9]+)'", test)) == allowed, code


def test_the_reason_list_and_mandatory_reasons_match_the_schematron() -> None:
    text = _xslt()
    listed = re.search(r"custom:status-reason-codes\"\s+as=\"xs:string\"\s+select=\"'([^']+)'", text)
    assert listed is not None and set(listed.group(1).split()) == set(REASONS)
    block = text[: text.index("BR-FR-CDV-15_MDT-113<")]
    test = block[block.rindex("<xsl:when test=") :]
    when = re.search(r'test="not\(([^"]+?)\) or', test)
    assert when is not None
    assert set(map(int, re.findall(r"'(\d+)'", when.group(1)))) == MANDATORY_REASON
