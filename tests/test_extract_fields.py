"""Invoice fields from synthetic pages: labels in French and English, layouts, and check digits."""

from __future__ import annotations

from extractors.fields import extract_fields
from extractors.results import PageText, Source, Word

FRENCH = """ACME Fournitures SARL
12 rue des Lilas, 75011 Paris
SIRET : 732 829 320 00074   TVA intracommunautaire : FR44 732829320
FACTURE
Facture n° FA-2026-0042
Date de facture : 12/03/2026
Date d'échéance : 11 avril 2026
Facturé à :     Mairie de Lyon
                1 place de la Comédie, 69001 Lyon
Désignation   Qté   PU HT   Total HT
Ramettes papier   10   5,00   50,00
Total HT     2 000,00 €
TVA 20 %     400,00 €
Total TTC    2 400,00 €
Net à payer  2 400,00 €
IBAN : FR76 3000 6000 0112 3456 7890 189
"""


def page(text: str, number: int = 1) -> PageText:
    return PageText(number, text, source=Source.PDF_TEXT)


def test_french_invoice_fields() -> None:
    fields = extract_fields([page(FRENCH)])
    assert fields.values == {
        "BT-1": "FA-2026-0042",
        "BT-2": "2026-03-12",
        "BT-3": "380",
        "BT-5": "EUR",
        "BT-9": "2026-04-11",
        "BT-27": "ACME Fournitures SARL",
        "BT-30": "73282932000074",
        "BT-31": "FR44732829320",
        "BT-44": "Mairie de Lyon",
        "BT-84": "FR7630006000011234567890189",
        "BT-109": "2000.00",
        "BT-110": "400.00",
        "BT-112": "2400.00",
        "BT-115": "2400.00",
    }
    assert all(0.0 <= c <= 1.0 for c in fields.confidence.values())
    assert fields.confidence["BT-112"] > 0.9  # HT + TVA = TTC agrees


def test_english_invoice_with_values_below_the_labels() -> None:
    text = """Globex Ltd
INVOICE
Invoice number: INV-7781
Invoice date: March 12, 2026
Due date: 12 April 2026
Bill to:
Initech SAS
Subtotal      Total VAT      Total incl. VAT
€1,000.00      €200.00      €1,200.00
Amount due: €1,200.00
"""
    v = extract_fields([page(text)]).values
    assert v["BT-1"] == "INV-7781"
    assert (v["BT-2"], v["BT-9"]) == ("2026-03-12", "2026-04-12")
    assert v["BT-44"] == "Initech SAS" and v["BT-27"] == "Globex Ltd"
    assert (v["BT-109"], v["BT-110"], v["BT-112"], v["BT-115"]) == (
        "1000.00",
        "200.00",
        "1200.00",
        "1200.00",
    )
    assert v["BT-5"] == "EUR"


def test_credit_note_type_code_and_positive_amounts() -> None:
    # EN 16931: a credit note (381) states its amounts positive, though the page prints them negative
    text = "AVOIR\nAvoir n° AV-12\nDate : 02/01/2026\nTotal TTC -120,00 €\n"
    v = extract_fields([page(text)]).values
    assert v["BT-3"] == "381" and v["BT-1"] == "AV-12" and v["BT-112"] == "120.00"


def test_a_credit_note_titled_by_its_number_alone() -> None:
    text = "Au bon moulin SARL\nAvoir AV-2017-0005\nDate de facture 16/11/2017\nTotal TTC -233,47 €\n"
    v = extract_fields([page(text)]).values
    assert v["BT-3"] == "381" and v["BT-112"] == "233.47"


def test_an_invoice_keeps_the_sign_it_prints() -> None:  # a corrective invoice (380) may be negative
    text = "FACTURE\nFacture n° F-9\nDate : 02/01/2026\nTotal TTC -120,00 €\n"
    v = extract_fields([page(text)]).values
    assert v["BT-3"] == "380" and v["BT-112"] == "-120.00"


def test_bad_check_digits_lower_confidence_and_valid_alternative_wins() -> None:
    # Given a misread SIRET and VAT number on page 1 and the valid ones in the footer
    text = (
        "ACME\nSIRET : 732 829 320 00075\nN° TVA : FR45 732829320\nFacture n° 7\n"
        "Total TTC 10,00 €\nACME SARL - SIRET 732 829 320 00074 - TVA FR44732829320\n"
    )
    fields = extract_fields([page(text)])
    assert fields.values["BT-30"] == "73282932000074"
    assert fields.values["BT-31"] == "FR44732829320"
    # Given only the misread ones, they are kept but with a low confidence
    alone = extract_fields([page("SIRET : 732 829 320 00075\nTVA : FR45 732829320\n")])
    assert alone.values["BT-30"] == "73282932000075"
    assert alone.confidence["BT-30"] <= 0.5 and alone.confidence["BT-31"] <= 0.5


def test_totals_that_disagree_get_low_confidence() -> None:
    text = "Total HT 100,00\nTotal TVA 20,00\nTotal TTC 130,00\n"
    fields = extract_fields([page(text)])
    assert fields.values["BT-112"] == "130.00"
    assert fields.confidence["BT-112"] <= 0.5


def test_nothing_is_invented() -> None:
    fields = extract_fields([page("Bonjour,\nveuillez trouver ci-joint le document.\n")])
    assert not {"BT-1", "BT-2", "BT-30", "BT-31", "BT-84", "BT-112"} & fields.values.keys()
    assert extract_fields([]).values == {}


def test_buyer_identifiers_do_not_beat_the_seller() -> None:
    text = (
        "Client : Mairie de Lyon\nSIRET 217 500 016 00012\n\n\n\n\n\n\n"
        "ACME - SIRET 732 829 320 00074\nFacture n° 9\n"
    )
    assert extract_fields([page(text)]).values["BT-30"] == "73282932000074"


def _words(line: str, top: float, conf: float, x: float = 50.0) -> list[Word]:
    out = []
    for token in line.split():
        out.append(Word(token, x, top, x + 8 * len(token), top + 12, conf))
        x += 8 * len(token) + 5
    return out


def test_word_boxes_pair_labels_across_columns_and_carry_ocr_confidence() -> None:
    # Given OCR words: labels at the left, values far to the right on the same line
    words = [
        *_words("Facture n° 2026-17", 100, 0.95),
        *_words("Total HT", 140, 0.9),
        *_words("1 000,00 €", 140, 0.9, x=400),
        *_words("TVA", 160, 0.9),
        *_words("200,00 €", 160, 0.6, x=400),
        *_words("Total TTC", 180, 0.9),
        *_words("1 200,00 €", 180, 0.9, x=400),
    ]
    text = "Facture n° 2026-17\nTotal HT 1 000,00 €\nTVA 200,00 €\nTotal TTC 1 200,00 €"
    fields = extract_fields([PageText(1, text, tuple(words), Source.OCR, 0.85)])
    assert fields.values["BT-1"] == "2026-17"
    assert fields.values["BT-110"] == "200.00" and fields.values["BT-112"] == "1200.00"
    assert fields.confidence["BT-110"] < fields.confidence["BT-112"]  # lower OCR confidence


def test_fields_from_a_later_page() -> None:
    pages = [page("Globex Ltd\nInvoice No: 55-A\n"), page("Total TTC : 99,90 €\n", 2)]
    v = extract_fields(pages).values
    assert v["BT-1"] == "55-A" and v["BT-112"] == "99.90"


def test_siret_with_a_letter_misread_is_repaired_because_luhn_then_passes() -> None:
    # Given OCR read one 0 of the SIRET as the letter O
    fields = extract_fields([page("ACME SARL\nSIRET : 732 829 32O 00074\n")])
    # Then the repaired value passes Luhn and is trusted
    assert fields.values["BT-30"] == "73282932000074"
    assert fields.confidence["BT-30"] >= 0.9


def test_wrong_digit_without_valid_alternative_stays_with_low_confidence() -> None:
    fields = extract_fields([page("ACME SARL\nSIRET : 732 829 321 00074\n")])
    assert fields.values["BT-30"] == "73282932100074"  # kept as read, never invented
    assert fields.confidence["BT-30"] <= 0.5


def test_one_wrong_siren_digit_is_corrected_by_the_vat_number() -> None:
    # Given a SIRET with one wrong digit and a valid VAT number carrying the same SIREN
    text = "ACME SARL\nSIRET : 732 829 321 00074\nTVA intracommunautaire : FR44 732829320\n"
    fields = extract_fields([page(text)])
    assert fields.values["BT-30"] == "73282932000074" and fields.confidence["BT-30"] >= 0.9


def test_iban_with_letters_in_digit_positions_is_repaired() -> None:
    fields = extract_fields([page("IBAN : FR76 3OO0 6000 0112 3456 7890 189\n")])
    assert fields.values["BT-84"] == "FR7630006000011234567890189"


def test_the_consistent_triple_wins_among_several_amounts() -> None:
    # Given a misread "Total" line and the real totals, Then HT + TVA = TTC picks the right ones
    text = (
        "Sous-total HT 1 000,00 €\nTotal 1 250,00 €\nMontant TVA 200,00 €\n"
        "Montant TTC 1 200,00 €\nTotal hors taxes 1 050,00\n"
    )
    fields = extract_fields([page(text)])
    v = fields.values
    assert (v["BT-109"], v["BT-110"], v["BT-112"]) == ("1000.00", "200.00", "1200.00")
    assert min(fields.confidence[f] for f in ("BT-109", "BT-110", "BT-112")) >= 0.9


def test_vat_breakdown_per_rate_adds_up_to_the_total() -> None:
    text = "Total HT 300,00 €\nTVA 5,5 % 11,00 €\nTVA 20 % 40,00 €\nNet à payer 351,00 €\n"
    fields = extract_fields([page(text)])
    assert fields.values["BT-110"] == "51.00" and fields.values["BT-112"] == "351.00"
    assert fields.values["BT-115"] == "351.00" and fields.confidence["BT-112"] >= 0.9


def test_broader_labels_and_ocr_damage() -> None:
    text = (
        "Plomberie Martin SARL FACTURE\nRéf. facture : FA-2026 -0142\nÉmise le l2/O3/2026\n"
        "À régler avant le 11.04.26\nAdresse de facturation :\nCollège Jules Ferry, 69003 Lyon\n"
        "Total hors taxes 1 000,00\nT.V.A. 20 % 200,00\nTotal à payer 1 2OO,00 €\n"
    )
    v = extract_fields([page(text)]).values
    assert v["BT-1"] == "FA-2026-0142"
    assert (v["BT-2"], v["BT-9"]) == ("2026-03-12", "2026-04-11")
    assert v["BT-44"] == "Collège Jules Ferry" and v["BT-27"] == "Plomberie Martin SARL"
    assert (v["BT-109"], v["BT-110"], v["BT-112"], v["BT-115"]) == (
        "1000.00",
        "200.00",
        "1200.00",
        "1200.00",
    )


def _ocr_page(*lines: tuple[str, float, float]) -> PageText:
    """A page of OCR words from (text, top, x) triples."""
    words = [w for text, top, x in lines for w in _words(text, top, 0.92, x=x)]
    return PageText(1, "\n".join(t for t, _, _ in lines), tuple(words), Source.OCR, 0.92)


def test_column_headers_take_their_values_from_the_line_below() -> None:
    # Given a header row "Invoice number | Date | Payment due" with the values under each header
    p = _ocr_page(
        ("Client", 100, 50),
        ("Mairie de Rennes", 118, 50),
        ("Invoice number", 160, 50),
        ("Date", 160, 300),
        ("Payment due", 160, 500),
        ("FAC_2026_5997", 178, 50),
        ("29 January 2026", 178, 300),
        ("28 February 2026", 178, 500),
    )
    v = extract_fields([p]).values
    assert v["BT-44"] == "Mairie de Rennes"  # a generic label alone on its segment looks below
    assert (v["BT-1"], v["BT-2"], v["BT-9"]) == ("FAC_2026_5997", "2026-01-29", "2026-02-28")


def test_a_label_wrapped_over_two_lines_finds_its_value_on_the_third() -> None:
    p = _ocr_page(("Date limite de", 100, 50), ("paiement", 118, 170), ("8 août 2025", 136, 50))
    assert extract_fields([p]).values["BT-9"] == "2025-08-08"


def test_a_rate_between_a_vat_label_and_its_amount_is_skipped() -> None:
    p = _ocr_page(
        ("Sous-total HT :", 100, 50),
        ("13805,07 EUR", 100, 500),
        ("T.V.A.", 118, 50),
        (": 20 %", 118, 150),
        ("2761,01 EUR", 118, 500),
        ("Total TTC :", 136, 50),
        ("16566,08 EUR", 136, 500),
    )
    assert extract_fields([p]).values["BT-110"] == "2761.01"


def test_credit_note_title_beside_the_seller_name_and_siret_preferred_to_siren() -> None:
    text = (
        "Nettoyage Fontaine & Associes          AVOIR\n"
        "SIREN 732 829 320\n"
        "Nettoyage Fontaine & Associés — SIRET 732 829 320 00074\n"
    )
    v = extract_fields([page(text)]).values
    assert v["BT-3"] == "381"
    assert v["BT-30"] == "73282932000074"
    assert v["BT-27"] == "Nettoyage Fontaine & Associés"  # the spelling with its accents wins


def test_repaired_readings_win_only_when_the_totals_confirm_them() -> None:
    # OCR lost the decimal comma of the VAT amount ("2.075,82" read "207582"): HT + TVA = TTC picks it
    text = "Montant HT : 10 379,12 €\nTotal TVA 20 % : 207582\nTotal TTC : 12 454,94 €\n"
    v = extract_fields([page(text)]).values
    assert v["BT-110"] == "2075.82" and v["BT-112"] == "12454.94"
    # the same number with nothing to confirm a repair is kept as printed
    assert extract_fields([page("Total TVA : 207582\n")]).values["BT-110"] == "207582.00"


def test_dates_are_not_amounts_and_names_lose_ocr_specks() -> None:
    text = "À régler : 2025-11-18\nClient : Restaurant ‘Le Central .\n"
    v = extract_fields([page(text)]).values
    assert "BT-115" not in v and v["BT-44"] == "Restaurant Le Central"


def test_the_amount_column_at_the_right_wins_over_a_base_printed_beside_the_label() -> None:
    p = _ocr_page(
        ("Subtotal", 100, 50),
        ("$ 112.90", 100, 500),
        ("Tax 15% on $ 112.90", 118, 50),
        ("$ 16.94", 118, 500),
        ("Total", 136, 50),
        ("$ 129.84", 136, 500),
    )
    v = extract_fields([p]).values
    assert (v["BT-109"], v["BT-110"], v["BT-112"]) == ("112.90", "16.94", "129.84")


def test_a_misread_date_label_falls_back_to_the_first_date_with_low_confidence() -> None:
    text = "Plomberie Mercier\nDate de livraison : 2025-08-02\nora patel facture: 2025-08-20\n"
    fields = extract_fields([page(text)])
    assert fields.values["BT-2"] == "2025-08-20"  # the delivery date is not taken for it
    assert fields.confidence["BT-2"] < 0.5  # so the document goes to review
    assert extract_fields([page("À régler avant le : 2025- 10-04\n")]).values["BT-9"] == "2025-10-04"


def test_a_credit_memo_named_in_a_letter_subject_is_a_credit_note() -> None:
    from extractors.classify import classify
    from extractors.results import DocType

    text = "Papeterie Mercier SAS\nObjet : Avoir numéro FA-00088156\nTotal HT 100,00 €\nTotal TTC 120,00 €\n"
    assert extract_fields([page(text)]).values["BT-3"] == "381"
    memo = "CREDIT MEMO\nCredit memo no. F25/1590\nInvoice total € 7,798.64\nTotal due\nUnit price Qty"
    assert classify(memo)[0] == DocType.CREDIT_NOTE


def test_a_bare_reference_yields_to_the_invoice_number() -> None:
    text = "Azure Interior\nInvoice INV/2023/03/0008\nDate: 03/20/2023\nReference: CUSTREF123\n"
    assert extract_fields([page(text)]).values["BT-1"] == "INV/2023/03/0008"
    assert extract_fields([page("Tax invoice\nReference 2025.12233\n")]).values["BT-1"] == "2025.12233"
