"""Document type of German and Dutch invoices, and invoices that print their bank details."""

from __future__ import annotations

import pytest

from extractors.classify import classify
from extractors.results import DocType

# Shortened text layers of the invoice2data samples that were read as bank-details sheets.
COOLBLUE = """FACTUUR. Coolblue B.V.
Weena 664
BTW NL810433941B01
F actuurnummer: 993548900
IBAN NL50INGB0683251309
K lantnummer: 6669263
BIC INGBNL2A
F actuurdatum: 19 april 2014
Apple iPad Air Wifi 16 GB Zilver 1 € 399,00 21% € 399,00
Exclusief BTW € 593,36 Subtotaal € 717,97
BTW 21% € 124,61
Totaal € 717,97"""
QUALITY_HOSTING = """QualityHosting AG - Uferweg 40-42 - D-63571 Gelnhausen
Rechnung Seite 1
Rechnungsnr. 30064443 Kundennr. 47774
Rechnungsdatum 7. Mai 2014
1 1 Small Business StandardExchange 2010 3,89 3,89
Total EUR 34,73
Zahlungsziel 21.05.14
Registergericht Hanau | HRB 13302 IBAN DE30507500940000048567
Im Internet: www.qualityhosting.de UStId DE 232 446 240 SWIFT HELADEF1GEL"""
RIB = """RELEVÉ D'IDENTITÉ BANCAIRE
Titulaire du compte : Boulangerie Martin SARL
12 rue des Lilas
69003 Lyon
Domiciliation : Banque Populaire — agence Lyon
Code banque Code guichet N° de compte Clé RIB
10907 00001 12345678901 23
IBAN : FR76 1090 7000 0112 3456 7890 123
BIC : CCBPFRPPBDX"""


@pytest.mark.parametrize(("text", "name"), [(COOLBLUE, "coolblue"), (QUALITY_HOSTING, "QualityHosting")])
def test_invoice_printing_iban_and_bic_is_an_invoice(text: str, name: str) -> None:
    assert classify(text)[0] is DocType.INVOICE, name


def test_a_rib_stays_bank_details() -> None:
    assert classify(RIB)[0] is DocType.BANK_DETAILS


def test_priced_lines_mean_the_bank_identifiers_are_a_payment_footer() -> None:
    # Given a page with no invoice word the classifier knows, but priced lines and an IBAN/BIC footer
    text = "Widget 2 19,90 39,80\nGadget 1 5,00 5,00\nCable 3 1,50 4,50\nIBAN GB29NWBK60161331926819\nBIC X"
    # Then it is not a bank-details sheet
    assert classify(text)[0] is not DocType.BANK_DETAILS


def test_dates_and_rates_are_not_priced_lines() -> None:
    # Given a RIB that also prints dates and a rate
    text = RIB + "\nÉdité le 21.05.14\nOuvert le 12.03.2026\nTaux 15.00%"
    # Then it is still bank details
    assert classify(text)[0] is DocType.BANK_DETAILS


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Gutschrift Nr. 12\nzur Rechnung 30064443\nGesamtbetrag -34,73 EUR", DocType.CREDIT_NOTE),
        ("Creditnota 7\nbetreft factuur 993548900\nTotaal € -717,97", DocType.CREDIT_NOTE),
        ("Factuur 42\nTotaal € 10,00\nBTW 21% € 1,74", DocType.INVOICE),
        ("Rechnung 7\nMwSt. 19 %\nGesamtbetrag 11,90 EUR", DocType.INVOICE),
    ],
)
def test_german_and_dutch_vocabulary(text: str, expected: DocType) -> None:
    assert classify(text)[0] is expected


def test_credit_note_number_label_survives_a_title_joined_to_the_seller_name() -> None:
    # Given OCR that put the "AVOIR" title on the seller's line (so no line starts with it)
    text = (
        "Nettoyage Fontaine & Associes AVOIR\nClient Numéro d'avoir\nLycée Condorcet FA20256598\n"
        "Désignation Qté P.U. HT TVA Montant HT\nTotal hors taxes 1 519,11 €\nMontant TTC 1 822,93 €\n"
        "Compte IBAN: FR76 1027 8029 4050 7501 2781 124 BIC: CMCIFR2ZAXXX"
    )
    # Then the number label says it is a credit note
    assert classify(text)[0] is DocType.CREDIT_NOTE
