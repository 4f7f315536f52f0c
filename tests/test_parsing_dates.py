"""Dates as printed on real invoices from across the border: the forms of the invoice2data samples."""

from __future__ import annotations

import pytest

from extractors.parsing import parse_amount, parse_date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Invoice Date: August 3 , 2014", "2014-08-03"),  # AWS: the text layer splits "3," apart
        ("Aug 3, 2014", "2014-08-03"),
        ("Aug. 3rd 2014", "2014-08-03"),
        ("the 3rd of August, 2014", "2014-08-03"),
        ("03-AUG-14", "2014-08-03"),
        ("Rechnungsdatum 7. Mai 2014", "2014-05-07"),  # QualityHosting
        ("1. März 2024", "2024-03-01"),
        ("12. Dezember 2023", "2023-12-12"),
        ("3 Okt. 2022", "2022-10-03"),
        ("F actuurdatum: 19 april 2014", "2014-04-19"),  # coolblue (Dutch)
        ("Orderdatum: 29 maart 2014", "2014-03-29"),
        ("25 mei 2015", "2015-05-25"),
        ("1 augustus 2015", "2015-08-01"),
        ("8-9-2022", "2022-09-08"),  # saeco
        ("Zahlungsziel 21.05.14", "2014-05-21"),  # two-digit year
        ("01.05.14-31.05.14", "2014-05-01"),  # a period: its first day
        ("03/20/2023 04/04/2023", "2023-03-20"),  # US form, month first only when day first is impossible
        ("04/03/2023", "2023-03-04"),  # ambiguous: day first, as in Europe
        ("Période du July 1 - July 31 , 2014", "2014-07-31"),  # the only full date
    ],
)
def test_real_world_date_forms(text: str, expected: str) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "August 32014",  # no separator between day and year
        "Tél. 01.02.03.04.05",  # a phone number, not 2003-02-01
        "06.51.91.64.41",
        "INV/2023/03/08",  # an invoice number holding a date-like run
        "1,12.03.2026",
        "3,89 5,39 49,99",  # amounts
        "Small Business QualityExchange 2010 3,89",
        "NL50INGB0683251309",
        "DE 232 446 240",
        "May 2014",  # a month, not a day
        "13/13/2023",
        "1 PCS 49,99",
    ],
)
def test_no_date_in_amounts_identifiers_or_phones(text: str) -> None:
    assert parse_date(text) is None


def test_earliest_date_in_the_text_wins() -> None:
    assert parse_date("Due 22-9-2022, issued 8 September 2022") == "2022-09-22"
    assert parse_date("TOTAL AMOUNT DUE ON August 3 , 2014 $4.11") == "2014-08-03"


def test_a_date_is_not_read_as_an_amount_and_back() -> None:
    # Given an amount with cents and thousands in the Dutch form
    # Then it is an amount, never a date
    assert parse_date("€ 4.053,67") is None
    assert parse_amount("€ 4.053,67") == "4053.67"
