"""The real-layout corpus: PDFs printed by invoicing software, with the embedded XML as ground truth."""

from __future__ import annotations

import functools
import hashlib
import io
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from benchmarks.real.normalise import normalise

log = logging.getLogger(__name__)

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
SOURCES = ("zugferd-corpus", "mustangproject", "factur-x-python", "invoice2data")
SCORED = ("BT-1", "BT-2", "BT-3", "BT-27", "BT-31", "BT-109", "BT-110", "BT-112")
EXTRA = ("BT-30", "BT-44", "BT-84", "BT-5")  # reported separately, where the XML has them
SKELETON_WORDS = 8  # letters-only words of page 1 that name a layout (its printed header)
BLANK_INK = 0.001  # share of dark pixels below which a page has nothing drawn on it
# Pages with no text layer (not_printed cannot read them) that draw another invoice than their XML,
# checked by eye: Mustang's invalidPDF.pdf draws RE-20171118/506 of 18.11.2017, its XML says
# RE20190610507 of 2019-06-10 (the totals are the XML's).
SEEN_NOT_PRINTED = {"mustangproject/validator-test/invalidPDF.pdf": ("BT-1", "BT-2")}


@dataclass(frozen=True)
class RealDoc:
    """One corpus PDF with an embedded e-invoice: where it comes from, its layout and its truth."""

    path: Path
    source: str  # the corpus top folder (zugferd-corpus, mustangproject, ...)
    layout: str  # page 1's first printed words and a hash of them: one key per printed template
    truth: dict[str, str]  # BT -> normalised value


@dataclass(frozen=True)
class Skipped:
    """A corpus PDF left out of the benchmark, and why."""

    path: Path
    reason: str


def corpus_root() -> Path:
    """The shared corpus; a missing one is an error (the benchmark would silently be empty)."""
    if not CORPUS.is_dir():
        raise FileNotFoundError(f"corpus partagé introuvable : {CORPUS}")
    return CORPUS


def documents() -> list[RealDoc]:
    """Every corpus PDF that carries a CII/UBL invoice and draws one on page 1, sorted by path."""
    return list(_survey()[0])


def non_invoices() -> list[RealDoc]:
    """PDFs the manifest labels as not invoices (an Order-X purchase order), for doc-type accuracy."""
    import json

    root = corpus_root()
    manifest = json.loads((root / "manifest.json").read_text())
    labelled = [f["file"] for f in manifest["files"] if f["expected"].startswith("NOT AN INVOICE")]
    return [
        RealDoc(root / rel, rel.split("/")[0], layout_key(_page1_skeleton((root / rel).read_bytes())), {})
        for rel in sorted(labelled)
        if (root / rel).suffix.lower() == ".pdf"
    ]


def skipped() -> list[Skipped]:
    """The PDFs carrying an invoice XML that were left out (page 1 blank, XML unreadable)."""
    return list(_survey()[1])


def unprinted() -> dict[Path, tuple[str, ...]]:
    """Per document, the XML fields left out of its truth because the page does not print them."""
    return dict(_survey()[2])


@functools.cache
def _survey() -> tuple[tuple[RealDoc, ...], tuple[Skipped, ...], tuple[tuple[Path, tuple[str, ...]], ...]]:
    root = corpus_root()
    docs, skips, hidden = [], [], []
    for path in sorted(root.rglob("*.pdf")):
        source = path.relative_to(root).parts[0]
        data = path.read_bytes()
        truth, why = _truth(data)
        if truth is None:
            if why:
                skips.append(Skipped(path, why))
            continue
        skeleton = _page1_skeleton(data)
        if not skeleton and _blank_page1(data):
            skips.append(Skipped(path, "page 1 blank: no text layer and no ink"))
            continue
        seen = SEEN_NOT_PRINTED.get(path.relative_to(root).as_posix(), ())
        missing = (*not_printed(truth, _text_layer(data)), *(t for t in seen if t in truth))
        if {"BT-1", "BT-112"} <= set(missing):
            skips.append(Skipped(path, "the page draws another invoice than its XML (number, total)"))
            continue
        if missing:
            hidden.append((path, missing))
        kept = {k: v for k, v in truth.items() if k not in missing}
        docs.append(RealDoc(path, source, layout_key(skeleton), kept))
    return tuple(docs), tuple(skips), tuple(hidden)


def embedded_invoice_xml(data: bytes) -> bytes | None:
    """The invoice XML of a PDF: the project's Factur-X reader, else any attached XML that parses
    as CII/UBL (invoice2data's AzureInterior carries ``UBL-Invoice-2.1.xml``)."""
    from extractors.einvoice import sniff_syntax
    from extractors.facturx import find_embedded_xml

    found = find_embedded_xml(data)
    if found is not None:
        return found.xml
    from pypdf import PdfReader

    for item in PdfReader(io.BytesIO(data), strict=False).attachment_list:
        if str(item.name).lower().endswith(".xml") and sniff_syntax(bytes(item.content)):
            return bytes(item.content)
    return None


def _truth(data: bytes) -> tuple[dict[str, str] | None, str]:
    """(truth, "") for an invoice; (None, reason) when skipped; (None, "") when no invoice XML."""
    from dematflow.errors import DematflowError
    from extractors.einvoice import parse_invoice_xml

    try:
        xml = embedded_invoice_xml(data)
    except DematflowError as exc:
        return None, f"PDF unreadable: {exc.message}"
    if xml is None:
        return None, ""
    try:
        inv = parse_invoice_xml(xml)
    except DematflowError as exc:
        return None, f"embedded XML not an invoice: {exc.message}"
    values = inv.fields.values
    truth = {k: normalise(k, values[k]) for k in (*SCORED, *EXTRA) if values.get(k)}
    if "BT-3" in truth:
        truth["BT-3"] = reader_type_code(truth["BT-3"])
    return truth, ""


def reader_type_code(code: str) -> str:
    """An UNTDID 1001 code as the page reader reports it: 381 for any credit note, else 380."""
    from pipeline.stages.classify import CREDIT_NOTE_CODES

    return "381" if code in CREDIT_NOTE_CODES else "380"


def _text_layer(data: bytes, *, first: bool = False) -> str:
    """The PDF's text layer as poppler's pdftotext reads it (page 1 only with ``first``); empty when
    it has none or cannot be read."""
    import subprocess

    args = ["pdftotext", *(["-l", "1"] if first else []), "-enc", "UTF-8", "-", "-"]
    done = subprocess.run(args, input=data, capture_output=True, timeout=60, check=False)
    if done.returncode != 0:
        log.info("text layer unreadable: %s", done.stderr[:200])
    return done.stdout.decode("utf-8", "replace")


def not_printed(truth: dict[str, str], text: str) -> tuple[str, ...]:
    """Identifiers and amounts of ``truth`` that the text layer verifiably does not show (a page
    drawn for another invoice than its XML: Mustang reuses one drawing for several test XMLs).
    Dates and names are not checked (too many printed forms); a page without text is not checked."""
    if len(text.strip()) < 20:
        return ()
    flat = re.sub(r"[^0-9A-Za-z]", "", text).upper()
    spaced = " ".join(text.split())
    ids = [t for t, v in truth.items() if t in ("BT-1", "BT-30", "BT-31", "BT-84") and v not in flat]
    sums = [
        t
        for t, v in truth.items()
        if t in ("BT-109", "BT-110", "BT-112") and not any(f in spaced for f in amount_forms(v))
    ]
    return tuple(t for t in truth if t in ids or t in sums)


def amount_forms(value: str) -> set[str]:
    """The ways an amount is commonly printed: 1234.56, 1234,56, 1.234,56, 1,234.56, 1 234,56."""
    number = abs(float(value))
    en = f"{number:,.2f}"
    plain = f"{number:.2f}"
    return {plain, plain.replace(".", ","), en, en.replace(",", " ").replace(".", ",")} | {
        en.replace(",", "_").replace(".", ",").replace("_", sep) for sep in (".", " ", " ", "'")
    }


def _page1_skeleton(data: bytes) -> list[str]:
    """Page 1's text layer as letters-only lower-case words (digits and punctuation dropped)."""
    return re.sub(r"[\d\W_]+", " ", _text_layer(data, first=True)).lower().split()


def _blank_page1(data: bytes) -> bool:
    """Whether page 1, rendered at 50 dpi, has (almost) no dark pixel on it."""
    import numpy as np

    from benchmarks.synth.degrade import render

    pixels = render(data, dpi=50)
    return float(np.mean(pixels < 128)) < BLANK_INK


def layout_key(skeleton: list[str]) -> str:
    """Page 1's first words and a short hash of them. Not the PDF producer: one Mustang template
    is stamped by four producer names ("My Application", "Toecount", "Mustang-cli", PyPDF2)."""
    head = " ".join(skeleton[:SKELETON_WORDS])
    if not head:
        return "(no text layer)"
    return f"{'-'.join(skeleton[:3])}#{hashlib.sha256(head.encode()).hexdigest()[:6]}"
