"""Pure parsers for dates, amounts and currencies as printed on French and English invoices."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal, InvalidOperation

_MONTHS = {
    # French
    "janvier": 1, "janv": 1, "fevrier": 2, "fevr": 2, "fev": 2, "mars": 3, "avril": 4, "avr": 4,
    "mai": 5, "juin": 6, "juillet": 7, "juil": 7, "aout": 8, "septembre": 9, "sept": 9,
    "octobre": 10, "oct": 10, "novembre": 11, "nov": 11, "decembre": 12, "dec": 12,
    # English
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4,
    "apr": 4, "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sep": 9, "october": 10, "november": 11, "december": 12,
    # German (März folds to marz) and Dutch, as printed by suppliers across the border
    "januar": 1, "februar": 2, "marz": 3, "maerz": 3, "mrz": 3, "juni": 6, "juli": 7,
    "oktober": 10, "okt": 10, "dezember": 12, "dez": 12,
    "januari": 1, "februari": 2, "maart": 3, "mrt": 3, "mei": 5, "augustus": 8,
}  # fmt: skip
_MONTH = r"([a-z]{3,9})\.?"
# A numeric date is never part of a longer run of numbers: a phone "01.02.03.04.05", "INV/2023/03/08".
_ALONE_L = r"(?<![\d/])(?<!\d[.,-])"
_ALONE_R = r"(?![.,/]\d)(?!-\d{1,2}-\d)"
_ISO = re.compile(
    _ALONE_L + r"\b(\d{4})\s?[-/.]\s?(\d{1,2})\s?[-/.]\s?(\d{1,2})\b" + _ALONE_R
)  # "2025- 10-04"
_NUMERIC = re.compile(_ALONE_L + r"\b(\d{1,2})\s?[/.\-]\s?(\d{1,2})\s?[/.\-]\s?(\d{4}|\d{2})\b" + _ALONE_R)
# "3 août 2026", "1er mars", "7. Mai 2014", "3rd of August, 2014", "03-AUG-14"
_DAY = r"\b(\d{1,2})(?:er|st|nd|rd|th|\.)?(?:\s+of)?(?:\s+|[-/])"
_DAY_MONTH = re.compile(_DAY + _MONTH + r"(?:\s*,?\s+|[-/])(\d{4}|\d{2})\b(?![.,]\d)")
# "August 3, 2014", "Aug. 3rd 2014", and "August 3 , 2014" as a text layer splits it
_MONTH_DAY = re.compile(r"\b" + _MONTH + r"\s+(\d{1,2})(?:st|nd|rd|th)?(?:\s*,\s*|\s+)(\d{4})\b")

_SPACES = "\u00a0\u202f\u2009\u2007 '’"
_AMOUNT = re.compile(
    r"(?:(?<![\w.,])(?P<neg>[-−–(]))?\s*(?:[€$£]\s*)?(?<![\d.,])"
    r"(?P<num>\d{1,3}(?:[" + _SPACES + r".,]\d{3})+(?:[.,]\d{1,2})?|\d{1,9}(?:[.,]\d{1,2})?)"
    r"(?![.,]?\d)(?!\s*%)"  # whole numbers only (at most 9 digits: a SIRET or phone is none), never a rate
    r"(?:\s*(?:€|\$|£|EUR|USD|GBP|CHF))?\s*(?P<close>\))?(?P<trail>-(?!\d))?"
)
_CURRENCIES = (  # case-sensitive on purpose: "EURO-FRANCE SA" names a company, not a currency
    (re.compile(r"€|\bEUR\b|\b[Ee]uros?\b(?![-\w])"), "EUR"),
    (re.compile(r"\$|\bUSD\b|\b[Dd]ollars?\b"), "USD"),
    (re.compile(r"£|\bGBP\b|\b[Pp]ounds?\b"), "GBP"),
    (re.compile(r"\bCHF\b|\b[Ff]rancs? suisses?\b"), "CHF"),
)


def _fold(s: str) -> str:
    """Lower-case without accents (é → e) so 'Février' and 'fevrier' compare equal."""
    nfkd = unicodedata.normalize("NFKD", s.lower())
    return "".join(ch for ch in nfkd if not unicodedata.combining(ch))


# OCR confusions between letters and digits, repaired only inside runs that are mostly digits.
_CONFUSABLE = str.maketrans(
    {"O": "0", "o": "0", "D": "0", "Q": "0", "I": "1", "l": "1", "|": "1", "i": "1", "L": "1",
     "S": "5", "s": "5", "B": "8", "Z": "2", "z": "2", "G": "6"}
)  # fmt: skip
_RUN = re.compile(r"[A-Za-z0-9|]+")


def _repair_run(run: str, *, lone: bool, budget: int) -> str:
    digits = sum(c.isdigit() for c in run)
    fixable = sum(c != c.translate(_CONFUSABLE) for c in run)
    if not fixable or fixable > budget or fixable + digits != len(run):
        return run
    if digits >= fixable or lone:
        return run.translate(_CONFUSABLE)
    return run


def repair_digits(text: str, *, budget: int = 2) -> str:
    """Letters misread for digits (O→0, l/I→1, S→5, B→8, Z→2) fixed inside mostly-digit tokens.

    A run of letters and digits is repaired when at least half of it is digits and at most ``budget``
    characters change; a lone confusable letter only inside a token that is mostly digits
    ("l.234,56"). Words ("Total", "SAS", "FA") are never touched.
    """

    def token(m: re.Match[str]) -> str:
        tok = m[0]
        alnum = [c for c in tok if c.isalnum() or c == "|"]
        mostly = sum(c.isdigit() for c in alnum) * 2 >= len(alnum) > 1
        return _RUN.sub(lambda r: _repair_run(r[0], lone=mostly, budget=budget), tok)

    return re.sub(r"\S+", token, text)


def tidy_number_spaces(text: str) -> str:
    """Join the spaces OCR puts around a decimal separator: '2 400 ,00' / '2 400, 00' → '2 400,00'."""
    text = re.sub(r"(?<=\d)\s+(?=[.,]\d{2}(?!\d))", "", text)
    return re.sub(r"(?<=\d[.,])\s+(?=\d{2}(?!\d))", "", text)


def _month(word: str) -> int | None:
    return _MONTHS.get(word) or _MONTHS.get(word.replace("rn", "m"))


def _iso(year: int, month: int, day: int) -> str | None:
    if year < 100:
        year += 2000
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def _numeric(m: re.Match[str]) -> str | None:
    """Day first as in Europe; month first only when no day-first reading exists ("03/20/2023")."""
    day, month, year = int(m[1]), int(m[2]), int(m[3])
    return _iso(year, month, day) or (_iso(year, day, month) if day <= 12 < month else None)


def parse_date(s: str) -> str | None:
    """The first date in ``s`` as ``YYYY-MM-DD``, or None.

    Numeric dates are read day first unless only month first is a date; month names may be French,
    English, German or Dutch, abbreviated or not, with an ordinal ("1er", "3rd", "7.").
    """
    text = _fold(s)
    readings = (
        *((m.start(), _iso(int(m[1]), int(m[2]), int(m[3]))) for m in _ISO.finditer(text)),
        *((m.start(), _numeric(m)) for m in _NUMERIC.finditer(text)),
        *((m.start(), _named(m[3], m[2], m[1])) for m in _DAY_MONTH.finditer(text)),
        *((m.start(), _named(m[3], m[1], m[2])) for m in _MONTH_DAY.finditer(text)),
    )
    found = [(at, iso) for at, iso in readings if iso]
    return min(found)[1] if found else None


def _named(year: str, month: str, day: str) -> str | None:
    number = _month(month)
    return _iso(int(year), number, int(day)) if number else None


def _normalise_number(num: str) -> str | None:
    """'1 234,56' / '1.234,56' / '1,234.56' / '1234,5' → '1234.56' style string."""
    for ch in _SPACES:
        num = num.replace(ch, "")
    last_dot, last_comma = num.rfind("."), num.rfind(",")
    sep = max(last_dot, last_comma)
    if sep >= 0 and len(num) - sep - 1 in (1, 2):
        integer, fraction = num[:sep], num[sep + 1 :]
    else:  # no decimal part: every separator groups thousands
        integer, fraction = num, ""
    integer = integer.replace(".", "").replace(",", "")
    if not integer.isdigit() or (fraction and not fraction.isdigit()):
        return None
    try:
        value = Decimal(f"{integer}.{fraction or '0'}")
    except InvalidOperation:
        return None
    return f"{value.quantize(Decimal('0.01'))}"


def parse_amount(s: str) -> str | None:
    """The first amount in ``s`` as a decimal string with a dot and two decimals, or None."""
    text = s.replace("\u2212", "-")
    for m in _AMOUNT.finditer(text):
        value = _normalise_number(m["num"])
        if value is None:
            continue
        negative = (m["neg"] in ("-", "–") or (m["neg"] == "(" and m["close"])) or bool(m["trail"])
        if negative and Decimal(value) != 0:
            value = f"-{value}"
        return value
    return None


def find_amounts(s: str) -> list[tuple[int, int, str]]:
    """Every amount in ``s`` with its span: ``(start, end, "1234.56")``, in order."""
    out = []
    for m in _AMOUNT.finditer(s.replace("\u2212", "-")):
        if (value := parse_amount(m[0])) is not None:
            out.append((m.start(), m.end(), value))
    return out


def parse_amounts(s: str) -> list[str]:
    """Every amount in ``s``, in order."""
    return [value for _, _, value in find_amounts(s)]


def currency_of(s: str) -> str | None:
    """The ISO 4217 code of the first currency marker in ``s`` (€/EUR, $/USD, £/GBP, CHF)."""
    found = [(m.start(), code) for rx, code in _CURRENCIES if (m := rx.search(s))]
    return min(found)[1] if found else None
