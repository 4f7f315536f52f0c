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
