"""Synthetic French (and some English) documents with ground truth, deterministic by seed."""

from __future__ import annotations

import random
from dataclasses import replace
from decimal import Decimal

from benchmarks.synth.degrade import LEVELS, QUALITIES, Scan, scan
from benchmarks.synth.heldout import HELDOUT_LAYOUTS, scan_pages
from benchmarks.synth.heldout_style import held_number, held_style
from benchmarks.synth.layouts import LAYOUTS
from benchmarks.synth.model import DOC_TYPES, SynthDoc, invoice
from benchmarks.synth.others import MAKERS
from benchmarks.synth.style import amount_fr_dot, pick_style

__all__ = [
    "DOC_TYPES",
    "HELDOUT_LAYOUTS",
    "LAYOUTS",
    "LEVELS",
    "QUALITIES",
    "Scan",
    "SynthDoc",
    "document",
    "heldout_doc",
    "invoice_doc",
    "kind_for",
    "other_doc",
    "scan",
    "scan_pages",
]

# Of every 20 documents: 13 invoices, 2 credit notes, one of each supporting class.
_CYCLE = (
    ("invoice",) * 13
    + ("credit_note",) * 2
    + ("bank_details", "proof_of_address", "identity_document", "tax_notice", "other")
)


def kind_for(index: int) -> str:
    """The class of the ``index``-th document of a benchmark set (a fixed mix)."""
    return _CYCLE[index % len(_CYCLE)]


def _invoice(
    seed: int | str, layout: str, *, credit: bool, language: str, pdf: bytes, expected: dict[str, str]
) -> SynthDoc:
    kind = "credit_note" if credit else "invoice"
    name = f"{'avoir' if credit else 'facture'}-{layout}-{seed}"
    return SynthDoc(name=name, doc_type=kind, layout=layout, language=language, pdf=pdf, expected=expected)


def invoice_doc(
    *, seed: int | str, layout: str | None = None, credit: bool = False, language: str | None = None
) -> SynthDoc:
    """An invoice (or credit note) in ``layout`` (random when None); ground truth = printed fields."""
    rng = random.Random(f"invoice:{seed}")
    lang = language or ("en" if rng.random() < 0.15 else "fr")
    style = pick_style(rng, language=lang)
    name = layout or rng.choice(sorted(LAYOUTS))
    inv = invoice(rng, credit=credit)
    pdf, omitted = LAYOUTS[name](inv, style, rng)
    if style.amount is amount_fr_dot:
        omitted |= {"BT-5"}  # no currency sign printed anywhere: the currency is not on the page
    expected = {k: v for k, v in inv.expected_fields().items() if k not in omitted}
    return _invoice(seed, name, credit=credit, language=lang, pdf=pdf, expected=expected)


def heldout_doc(
    *, seed: int | str, layout: str | None = None, credit: bool = False, language: str | None = None
) -> SynthDoc:
    """An invoice (or credit note) in a held-out ``layout`` with held-out wordings, never tuned on."""
    rng = random.Random(f"heldout:{seed}")
    lang = language or ("en" if rng.random() < 0.25 else "fr")
    style = held_style(rng, language=lang)
    name = layout or rng.choice(sorted(HELDOUT_LAYOUTS))
    inv = invoice(rng, credit=credit)
    if rng.random() < 0.5:
        inv = replace(inv, number=held_number(rng, inv))
    pdf, truth = HELDOUT_LAYOUTS[name](inv, style, rng)
    if not any(sign in style.amount(Decimal(1)) for sign in ("€", "EUR")):
        truth = {"BT-5": None, **truth}  # no currency sign on the amounts (a layout may print one)
    expected = {k: v for k, v in (inv.expected_fields() | truth).items() if v is not None}
    return _invoice(seed, name, credit=credit, language=lang, pdf=pdf, expected=expected)


def other_doc(*, seed: int | str, doc_type: str) -> SynthDoc:
    """A supporting document of class ``doc_type`` (bank_details, proof_of_address, ...)."""
    rng = random.Random(f"{doc_type}:{seed}")
    style = pick_style(rng, language="fr")
    pdf, expected = MAKERS[doc_type](style, rng)
    return SynthDoc(
        name=f"{doc_type}-{seed}",
        doc_type=doc_type,
        layout=doc_type,
        language="fr",
        pdf=pdf,
        expected=expected,
    )


def document(*, seed: int, index: int) -> SynthDoc:
    """The ``index``-th document of the set drawn from ``seed``."""
    kind = kind_for(index)
    key = f"{seed}-{index}"
    if kind in ("invoice", "credit_note"):
        layout = sorted(LAYOUTS)[index % len(LAYOUTS)]
        return invoice_doc(seed=key, layout=layout, credit=kind == "credit_note")
    return other_doc(seed=key, doc_type=kind)
