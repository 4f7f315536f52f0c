"""Document type from content keywords."""

from __future__ import annotations

import pytest

from extractors.classify import classify
from extractors.results import DocType

ADDRESS, IDENTITY = DocType.PROOF_OF_ADDRESS, DocType.IDENTITY_DOCUMENT
CASES = [
    ("FACTURE n° 12\nTotal HT 100,00\nTVA 20,00\nTotal TTC 120,00\nIBAN FR76...", DocType.INVOICE),
    ("INVOICE No 7\nSubtotal 10\nAmount due 12.00 EUR\nDue date 2026-01-01", DocType.INVOICE),
    ("AVOIR n° AV-3\nAnnule la facture 12\nTotal TTC -120,00 €", DocType.CREDIT_NOTE),
    ("CREDIT NOTE\nRefund of invoice 55\nTotal -10.00", DocType.CREDIT_NOTE),
    ("Note de crédit 4\nMontant 12,00", DocType.CREDIT_NOTE),
    (
        "RELEVÉ D'IDENTITÉ BANCAIRE\nTitulaire du compte : ACME\nIBAN FR76 3000 6000 0112\n"
        "BIC AGRIFRPP\nDomiciliation : Paris",
        DocType.BANK_DETAILS,
    ),
    (
        "Attestation de domicile\nJe soussigné certifie que M. X réside au 3 rue",
        DocType.PROOF_OF_ADDRESS,
    ),
    ("Justificatif de domicile (facture d'énergie de moins de 3 mois)", DocType.PROOF_OF_ADDRESS),
    (
        "RÉPUBLIQUE FRANÇAISE\nCARTE NATIONALE D'IDENTITÉ\nNationalité Française",
        DocType.IDENTITY_DOCUMENT,
    ),
    ("PASSEPORT / PASSPORT\nDate de naissance 01.01.1980\nP<FRAX<<<<", DocType.IDENTITY_DOCUMENT),
    ("Titre de séjour\nNationalité : X", DocType.IDENTITY_DOCUMENT),
    ("AVIS D'IMPÔT 2025\nImpôt sur le revenu\nRevenu fiscal de référence", DocType.TAX_NOTICE),
    ("Avis de taxe foncière 2025\nDirection générale des finances publiques", DocType.TAX_NOTICE),
    ("Compte rendu de la réunion du conseil", DocType.OTHER),
    ("", DocType.OTHER),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_classify(text: str, expected: DocType) -> None:
    doc, conf = classify(text)
    assert doc is expected
    assert 0.0 <= conf <= 1.0


def test_confidence_reflects_the_margin() -> None:
    _, clear = classify("FACTURE\nTotal HT 1\nTotal TTC 1,20\nNet à payer 1,20\nTVA 0,20")
    _, mixed = classify("Facture\nRelevé d'identité bancaire\nIBAN\nBIC")
    assert clear > mixed


def test_invoice_with_iban_is_not_bank_details() -> None:
    text = "Facture n° 3\nTotal TTC 12,00 €\nNet à payer 12,00\nIBAN FR76 3000\nBIC AGRIFRPP\nRIB"
    assert classify(text)[0] is DocType.INVOICE


def test_utility_bill_to_a_person_is_a_proof_of_address_to_an_organisation_an_invoice() -> None:
    # Given the same electricity bill addressed to a private person and to a town hall
    bill = "EDF\nFacture d'électricité\n{to}\nPoint de livraison 123\nConsommation 350 kWh\n"
    bill += "Total HT 71,00\nTVA 14,20\nTotal TTC 85,20 €\nMontant à payer 85,20 €"
    # Then the first is what people hand in as a proof of address, the second a bill to pay
    assert classify(bill.format(to="Mme Jeanne Martin\n3 rue des Lilas"))[0] is ADDRESS
    assert classify(bill.format(to="M. le Maire\nMairie de Lyon"))[0] is DocType.INVOICE


def test_machine_readable_zone_means_identity_document() -> None:
    mrz = "IDFRAMARTIN<<<<<<<<<<<<<<<<<<<<<<<<<<<<<\n8806923102858JEANNE<<<<<<<<<<<<6512068F4"
    assert classify(mrz)[0] is IDENTITY
