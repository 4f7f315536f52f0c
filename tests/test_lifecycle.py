"""Lifecycle statuses: what the pipeline decides, what a person may record, and incoming messages."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import pytest
from lxml import etree

from builders.cdar import Party, StatusMessage, build_cdar
from cli.samples import Sample
from dematflow.errors import (
    CorruptInput,
    EmptyInput,
    EncryptedInput,
    HostileInput,
    InvalidStatusMessage,
    InvalidTransition,
    NotFound,
    OversizedInput,
    StatusRefused,
    UnsupportedInput,
)
from extractors.results import DocType
from pipeline import audit, journal, lifecycle
from pipeline.context import Services, open_services
from pipeline.lifecycle_codes import Side
from pipeline.lifecycle_store import seller_siren
from pipeline.records import Document, Status
from pipeline.run import advance, process
from pipeline.settings import Settings
from tests.conftest import sample
from validators.cdar import validate_cdar
from validators.report import Finding, Severity


def doc(**changes: object) -> Document:
    base = Document("d1", "0" * 64, "f.pdf", 1, "2025-07-01T15:10:00+00:00", status=Status.ARCHIVED)
    return base.evolve(**{"doc_type": DocType.INVOICE, **changes})


def error(rule: str) -> Finding:
    return Finding(rule, Severity.ERROR, "…")


EINVOICE = {"syntax": "CII", "flavor": "factur-x", "profile": "EN16931"}


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (doc(einvoice=EINVOICE), (200, None)),
        (doc(status=Status.REJECTED, einvoice=EINVOICE, findings=(error("BR-CO-15"),)), (213, "CALCUL_ERR")),
        (doc(status=Status.REJECTED, einvoice=EINVOICE, findings=(error("DOUBLON"),)), (213, "DOUBLON")),
        (doc(status=Status.REJECTED, einvoice=EINVOICE, findings=(error("XSD"),)), (213, "REJ_SEMAN")),
        (doc(status=Status.QUARANTINED, doc_type=None, reason_code="IRR_VIDE_F"), (501, "IRR_VIDE_F")),
        (doc(status=Status.NEEDS_REVIEW, review=("BT-1",)), (200, None)),  # captured: review is the buyer's
        (doc(status=Status.NEEDS_REVIEW, findings=(error("FR-SIRET"),)), (213, "REJ_SEMAN")),
    ],
)
def test_initial_status_of_a_finished_document(document: Document, expected: tuple[int, str | None]) -> None:
    decided = lifecycle.initial(document)
    assert decided is not None and decided[:2] == expected
    assert decided[2]  # a message a person reads
    if expected[0] == 213:
        assert document.findings[0].rule in decided[2]  # the rule ids are named


@pytest.mark.parametrize(
    "document",
    [
        doc(status=Status.RECEIVED),
        doc(doc_type=DocType.BANK_DETAILS),  # a supporting document has no lifecycle
        doc(status=Status.QUARANTINED, reason_code=None),  # retries exhausted: our fault, no 501
        doc(status=Status.NEEDS_REVIEW, einvoice=EINVOICE, not_checked=("schematron:xrechnung",)),
    ],
)
def test_no_initial_status(document: Document) -> None:
    assert lifecycle.initial(document) is None


def test_every_input_error_names_its_irrecevable_reason() -> None:
    assert EmptyInput.irr_reason == "IRR_VIDE_F"
    assert UnsupportedInput.irr_reason == "IRR_TYPE_F"
    assert OversizedInput.irr_reason == "IRR_TAILLE_F"
    assert {CorruptInput.irr_reason, EncryptedInput.irr_reason, HostileInput.irr_reason} == {"IRR_SYNTAX"}


# --- through the real pipeline ---------------------------------------------------------------------


def facturx(services: Services, demo_set: list[Sample]) -> Document:
    s = sample(demo_set, "facture-facturx")
    return process(services, filename=s.path.name, data=s.path.read_bytes()).document


def test_a_conformant_facturx_is_deposee_journalled_and_archived(
    services: Services, demo_set: list[Sample]
) -> None:
    document = facturx(services, demo_set)
    engine = services.catalogue.engine
    first = lifecycle.current(engine, document.id)
    assert first is not None and (first.code, first.label, first.actor) == (200, "Déposée", "dematflow")
    assert first.key == f"lifecycle/{document.id}/001-200.xml"
    xml = lifecycle.cdar(services, first)
    assert validate_cdar(xml).valid and b"<ram:ProcessConditionCode>200<" in xml
    events = [e for e in journal.entries(engine, document_id=document.id) if e.stage == "lifecycle"]
    assert len(events) == 1 and events[0].body["outputs"] == {first.key: first.sha256}
    assert events[0].body["detail"]["validated"] is True
    assert "lifecycle-001" in services.catalogue.get(document.id).objects
    # A redelivered last message does not record 200 a second time.
    assert advance(services, "archive", document.id) is None
    assert len(lifecycle.history(engine, document.id)) == 1
    assert audit.verify(services).ok


@pytest.mark.parametrize(("data", "reason"), [(b"", "IRR_VIDE_F"), (b"%PDF-1.7\n garbage", "IRR_SYNTAX")])
def test_an_empty_or_corrupt_file_is_irrecevable(services: Services, data: bytes, reason: str) -> None:
    document = process(services, filename="depot.pdf", data=data).document
    assert document.status is Status.QUARANTINED and document.reason_code == reason
    status = lifecycle.current(services.catalogue.engine, document.id)
    assert status is not None and (status.code, status.reason) == (501, reason)
    assert validate_cdar(lifecycle.cdar(services, status)).valid
    assert audit.verify(services).ok


def test_a_whole_life_then_nothing_after_encaissee(settings: Settings, demo_set: list[Sample]) -> None:
    services = open_services(dataclasses.replace(settings, org_siren="200000008"))  # MDT-38 of a 23
    document = facturx(services, demo_set)
    buyer = {"actor": "compta@org", "side": Side.BUYER}
    lifecycle.record(services, document.id, 204, **buyer)  # type: ignore[arg-type]
    lifecycle.record(services, document.id, 208, reason="JUSTIF_ABS", message="Bon de livraison ?", **buyer)  # type: ignore[arg-type]
    lifecycle.record(services, document.id, 209, actor="fournisseur", side=Side.SUPPLIER)
    lifecycle.record(services, document.id, 205, **buyer)  # type: ignore[arg-type]
    lifecycle.record(services, document.id, 211, amount="1200.00", **buyer)  # type: ignore[arg-type]
    paid = lifecycle.record(services, document.id, 212, amount="1200", vat_rate="20", actor="fournisseur")
    assert [t.code for t in lifecycle.history(services.catalogue.engine, document.id)] == [
        200, 204, 208, 209, 205, 211, 212,
    ]  # fmt: skip
    assert b"<ram:TypeCode>MEN</ram:TypeCode>" in lifecycle.cdar(services, paid)
    with pytest.raises(InvalidTransition):
        lifecycle.record(services, document.id, 207, reason="AUTRE", actor="compta@org")
    entries = list(journal.entries(services.catalogue.engine, document_id=document.id))
    assert [e.body["detail"]["code"] for e in entries if e.stage == "lifecycle"][-1] == 212
    assert all(e.body["detail"]["validated"] for e in entries if e.stage == "lifecycle")
    assert audit.verify(services).ok


def test_refusals_say_why_in_french(services: Services, demo_set: list[Sample]) -> None:
    document = facturx(services, demo_set)
    with pytest.raises(StatusRefused, match="exige un code motif"):
        lifecycle.record(services, document.id, 210, actor="compta@org")
    with pytest.raises(StatusRefused, match="n'est pas admis"):
        lifecycle.record(services, document.id, 210, reason="JUSTIF_ABS", actor="compta@org")
    with pytest.raises(StatusRefused, match="montant"):
        lifecycle.record(services, document.id, 212, amount="100", actor="fournisseur")
    with pytest.raises(StatusRefused, match="ne peut pas être posé"):
        lifecycle.record(services, document.id, 205, actor="fournisseur", side=Side.SUPPLIER)
    with pytest.raises(StatusRefused, match="inconnu"):
        lifecycle.record(services, document.id, 299, actor="compta@org")
    with pytest.raises(InvalidTransition, match="208"):
        lifecycle.record(services, document.id, 209, actor="fournisseur")
    with pytest.raises(InvalidTransition):
        lifecycle.record(services, document.id, 200, actor="compta@org")
    refused = lifecycle.record(services, document.id, 210, reason="DOUBLE_FACT", actor="compta@org")
    assert refused.message == "Double facturation"
    assert len(lifecycle.history(services.catalogue.engine, document.id)) == 2


def test_without_rule_files_a_status_is_kept_but_journalled_not_validated(
    settings: Settings, demo_set: list[Sample]
) -> None:
    services = open_services(dataclasses.replace(settings, rules_dir=settings.data_dir / "no-rules"))
    document = facturx(services, demo_set)
    status = lifecycle.current(services.catalogue.engine, document.id)
    assert status is not None and status.code == 200
    event = [e for e in journal.entries(services.catalogue.engine) if e.stage == "lifecycle"][-1]
    assert event.body["detail"]["validated"] is False
    assert "could not run" in event.body["detail"]["why_not_validated"]


def test_a_buyer_status_without_the_org_siren_is_kept_but_not_validated(
    services: Services, demo_set: list[Sample]
) -> None:
    document = facturx(services, demo_set)  # the test settings name no DEMATFLOW_ORG_SIREN
    lifecycle.record(services, document.id, 204, actor="compta@org")
    event = [e for e in journal.entries(services.catalogue.engine) if e.stage == "lifecycle"][-1]
    assert event.body["detail"]["validated"] is False
    assert event.body["detail"]["findings"][0].startswith("BR-FR-CDV-07")


# --- incoming messages ------------------------------------------------------------------------------


def buyer_message(document: Document, code: int, reason: str | None = None) -> bytes:
    now = datetime.now(UTC)
    siren = seller_siren(document)
    return build_cdar(
        StatusMessage(
            message_id=f"{document.fields['BT-1']}_{code}",
            name="réponse de l'acheteur",
            issued_at=now,
            status_at=now,
            sender=Party("WK"),
            issuer=Party("BY", "200000008", "ACHETEUR"),
            recipients=(Party("SE", siren, "VENDEUR", siren),),
            invoice_id=document.fields["BT-1"],
            code=code,
            label={204: "Prise en charge", 210: "Refusée"}[code],
            invoice_date=date.fromisoformat(document.fields["BT-2"]),
            received_at=now,
            seller_siren=siren,
            reason_code=reason,
        )
    )


def test_an_incoming_204_is_applied_and_kept_as_received(services: Services, demo_set: list[Sample]) -> None:
    document = facturx(services, demo_set)
    xml = buyer_message(document, 204)
    applied = lifecycle.apply_incoming(services, xml, actor="pa-acheteur")
    assert (applied.code, applied.actor, applied.document_id) == (204, "pa-acheteur", document.id)
    assert lifecycle.cdar(services, applied) == xml
    assert audit.verify(services).ok


def test_an_invalid_incoming_message_is_refused_with_its_findings(
    services: Services, demo_set: list[Sample]
) -> None:
    document = facturx(services, demo_set)
    root = etree.fromstring(buyer_message(document, 204))
    code = root.find(".//{*}ReferenceReferencedDocument/{*}ProcessConditionCode")
    assert code is not None
    code.text = "210"  # tampered: a refusal without its mandatory reason
    with pytest.raises(InvalidStatusMessage) as refused:
        lifecycle.apply_incoming(services, etree.tostring(root), actor="pa-acheteur")
    assert any(d.startswith("BR-FR-CDV-15") for d in refused.value.details)
    assert len(lifecycle.history(services.catalogue.engine, document.id)) == 1


def test_an_incoming_message_about_an_unknown_invoice_is_not_found(
    services: Services, demo_set: list[Sample]
) -> None:
    document = facturx(services, demo_set)
    other = document.evolve(fields={**document.fields, "BT-1": "INCONNUE-1"})
    with pytest.raises(NotFound):
        lifecycle.apply_incoming(services, buyer_message(other, 204), actor="pa-acheteur")
