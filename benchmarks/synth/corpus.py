"""Ground truth of the shared corpus: invoice2data golden files and Mustang importer expectations."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
# invoice2data golden keys → EN 16931 terms of the `extract --json` contract
I2D_MAP = {
    "invoice_number": "BT-1",
    "date": "BT-2",
    "date_due": "BT-9",
    "currency": "BT-5",
    "amount": "BT-112",
    "amount_untaxed": "BT-109",
    "amount_tax": "BT-110",
    "iban": "BT-84",
}
# Mustang importer-test expectations (MANIFEST.md), in contract forms
MUSTANG = {
    "library-test/EXTENDED_Fremdwaehrung_wdis_fx-pdfa4.pdf": {
        "BT-2": "2025-12-01",
        "BT-9": "2025-12-14",
        "BT-115": "521.91",
    },
    "library-test/EN16931_1_Teilrechnung.pdf": {"BT-115": "147.65", "BT-110": "20.16"},
    "library-test/MustangBeispiel20221026.pdf": {
        "BT-112": "963.11",
        "BT-1": "RE1001",
        "BT-5": "EUR",
        "BT-2": "2022-10-26",
        "BT-109": "809.34",
        "BT-110": "153.77",
        "BT-44": "Beispiel AG",
    },
    "library-test/EN16931_Einfach.pdf": {},
    "library-test/ZTESTZUGFERD_1_INVDSS_012015738820PDF-1.pdf": {},
}


@dataclass(frozen=True)
class Job:
    """One file to read and what it should yield."""

    path: str
    level: str  # digital/clean/office/hard, invoice2data or mustang
    doc_type: str | None  # None: not scored
    expected: dict[str, str]
    layout: str


def _i2d_value(key: str, value: object) -> str | None:
    if key in ("amount", "amount_untaxed", "amount_tax"):
        return f"{float(str(value)):.2f}"
    text = str(value)
    if key == "iban":
        from extractors.identifiers import compact, is_iban

        return compact(text) if is_iban(text) else None
    return text


def corpus_jobs(corpus: Path = CORPUS) -> list[Job]:
    """invoice2data PDFs/PNGs with mappable golden fields, and the Mustang importer expectations."""
    jobs = []
    folder = corpus / "invoice2data" / "compare"
    for truth in sorted(folder.glob("*.json")) if folder.exists() else []:
        golden = json.loads(truth.read_text())[0]
        expected = {
            I2D_MAP[k]: v
            for k, raw in golden.items()
            if k in I2D_MAP
            if (v := _i2d_value(k, raw)) is not None
        }
        for ext in ("pdf", "png"):
            path = truth.with_suffix(f".{ext}")
            if path.exists():
                jobs.append(Job(str(path), "invoice2data", "invoice", expected, f"invoice2data/{ext}"))
    for rel, expected in MUSTANG.items():
        path = corpus / "mustangproject" / rel
        if path.exists():
            jobs.append(Job(str(path), "mustang", "invoice", expected, "mustang"))
    return jobs
