"""Dates, amounts and currencies as printed on French and English invoices."""

from __future__ import annotations

import pytest

from extractors.parsing import (
    currency_of,
    find_amounts,
    parse_amount,
    parse_date,
    repair_digits,
    tidy_number_spaces,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12/03/2026", "2026-03-12"),
        ("12.03.2026", "2026-03-12"),
        ("12-03-2026", "2026-03-12"),
        ("2026-03-12", "2026-03-12"),
        ("12 mars 2026", "2026-03-12"),
        ("1er mars 2026", "2026-03-01"),
        ("March 12, 2026", "2026-03-12"),
        ("12 March 2026", "2026-03-12"),
        ("Paris, le 3 février 2026", "2026-02-03"),
        ("3 FEVRIER 2026", "2026-02-03"),
        ("15 déc. 2025", "2025-12-15"),
        ("Sept 3rd, 2025", "2025-09-03"),
        ("01/02/26", "2026-02-01"),  # day first, two-digit year
        ("Échéance : 05 / 04 / 2026", "2026-04-05"),
        ("31/02/2026", None),  # no such day
        ("13/13/2026", None),
        ("Facture FA-2026-0042", None),
        ("", None),
    ],
)
def test_parse_date(text: str, expected: str | None) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 234,56 €", "1234.56"),
        ("1.234,56", "1234.56"),
        ("€1,234.56", "1234.56"),
        ("1234,56 EUR", "1234.56"),
        ("1 234.56", "1234.56"),
        ("1\u202f234,56\u00a0€", "1234.56"),  # narrow no-break space, no-break space
        ("1\u00a0234\u00a0567,89 €", "1234567.89"),
        ("1.234.567,89", "1234567.89"),
        ("-12,50 €", "-12.50"),
        ("\u2212 12,50 €", "-12.50"),
        ("(1 234,56)", "-1234.56"),
        ("12,50-", "-12.50"),
        ("€ -45.00", "-45.00"),
        ("12,5", "12.50"),
        ("100", "100.00"),
        ("0,00 €", "0.00"),
        ("TVA 20 % 400,00 €", "400.00"),  # a rate is not an amount
        ("TVA (5,5 %) : 11,00", "11.00"),
        ("Total TTC : 2 400,00 €", "2400.00"),
        ("n/a", None),
        ("", None),
    ],
)
def test_parse_amount(text: str, expected: str | None) -> None:
    assert parse_amount(text) == expected


def test_find_amounts_gives_spans_in_order() -> None:
    text = "HT 1 000,00 TVA 200,00"
    found = find_amounts(text)
    assert [v for _, _, v in found] == ["1000.00", "200.00"]
    assert text[found[1][0] : found[1][1]].strip() == "200,00"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 234,56 €", "EUR"),
        ("1234,56 EUR", "EUR"),
        ("montant en euros", "EUR"),
        ("$1,234.56", "USD"),
        ("Total USD 10", "USD"),
        ("£12.00", "GBP"),
        ("12,00 CHF", "CHF"),
        ("Total 12,00", None),
        ("EURO-FRANCE SA 12 $", "USD"),  # a word that merely contains EUR is not a currency
    ],
)
def test_currency_of(text: str, expected: str | None) -> None:
    assert currency_of(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("l2/O3/2026", "12/03/2026"),  # l → 1, O → 0 inside a date
        ("1 2O0,00 €", "1 200,00 €"),
        ("l.234,56", "1.234,56"),  # a lone confusable inside a mostly-digit token
        ("FA-2O26-0142", "FA-2026-0142"),  # the letters of the prefix are left alone
        ("Total SAS BOLLORE", "Total SAS BOLLORE"),  # words are never touched
        ("TVA 2O %", "TVA 20 %"),
        ("OOOS12", "OOOS12"),  # more than two repairs: left as read
    ],
)
def test_repair_digits(text: str, expected: str) -> None:
    assert repair_digits(text) == expected


def test_tidy_number_spaces_and_more_date_forms() -> None:
    assert parse_amount(tidy_number_spaces("Total 2 400 ,00 €")) == "2400.00"
    assert parse_amount(tidy_number_spaces("Total 2 400, 00 €")) == "2400.00"
    assert parse_date("12 mars 26") == "2026-03-12"
    assert parse_date("12 rnars 2026") == "2026-03-12"  # OCR reads m as rn
    assert parse_date("12-03-26") == "2026-03-12"
