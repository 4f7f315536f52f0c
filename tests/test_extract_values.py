"""Readers of one value (amount, invoice number, name) and identifier repairs, on OCR damage."""

from __future__ import annotations

import pytest

from extractors.candidates import id_candidates
from extractors.layout import Segment
from extractors.values import read, read_number


def seg(text: str, conf: float = 0.9) -> Segment:
    return Segment(1, 0, text, ((0, len(text), conf),), 0.0, 100.0)


@pytest.mark.parametrize(
    ("region", "alone", "expected"),
    [
        ("FAC_2025 1431", False, "FAC_2025_1431"),  # the last separator lost: rejoined with its kind
        ("FCT/2025 9078 du 12/03/2025", False, "FCT/2025/9078"),
        ("FA-2026 -0142", False, "FA-2026-0142"),
        ("54 rue des Lilas", True, None),  # a segment below a title: the number must be most of it
        ("FA-2026-0042 du 12/03/2026", False, "FA-2026-0042"),
        ("12/03/2026", False, None),
    ],
)
def test_invoice_numbers(region: str, alone: bool, expected: str | None) -> None:
    assert read_number(region, alone=alone) == expected


def test_amount_readings_most_literal_first() -> None:
    readings = [value for value, _, _ in read("BT-109", seg("5 850;17 €"), 0, 10)]
    assert readings[0] != "5850.17" and "5850.17" in readings  # ';' for ',' only as a repair
    assert [v for v, _, _ in read("BT-110", seg("207582"), 0, 6)] == ["207582.00", "2075.82"]
    assert read("BT-115", seg("avant le 25 mai 20-"), 0, 19) == []


def test_iban_country_code_misread_is_repaired_when_mod97_passes() -> None:
    found = id_candidates(seg("IBAN : ER76 3000 4084 1600 0686 1274 641"), buyer=False)
    iban = next(c for c in found if c.field == "BT-84")
    assert iban.value == "FR7630004084160006861274641" and iban.checked and iban.repairs == 1


def test_a_word_after_a_vat_label_is_not_a_vat_number() -> None:
    found = id_candidates(seg("TVA 20 % sur HT 4358,05 EUR"), buyer=False)
    assert not [c for c in found if c.field == "BT-31"]
    found = id_candidates(seg("VAT: DE123456789"), buyer=False)
    assert [c.value for c in found if c.field == "BT-31"] == ["DE123456789"]


def test_a_currency_code_between_two_amounts_is_not_a_date() -> None:
    assert read("BT-109", seg("EUR 9 792,15 EUR 630,40"), 0, 23, below=True)[0][0] == "9792.15"
