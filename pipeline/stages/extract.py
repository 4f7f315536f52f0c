"""Extract: invoice fields under EN 16931 names, from the e-invoice XML or from the captured words."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from extractors.einvoice import parse_invoice_xml
from extractors.fields import extract_fields
from extractors.memory import merge, recall
from extractors.receipts import receipt_fields
from extractors.results import DocType, FieldSet, PageText
from pipeline.context import Context, versions
from pipeline.records import Document, Event, StageResult
from pipeline.stages.classify import invoice_xml, load_capture

INVOICES = (DocType.INVOICE, DocType.CREDIT_NOTE)
# A captured invoice is only trusted when these are read with confidence: number, date, total.
KEY_FIELDS = ("BT-1", "BT-2", "BT-112")
SELLER_FIELDS = ("BT-30", "BT-31", "BT-27")  # at least one identifies the seller
RECEIPT_FIELDS = ("BT-27", "BT-2", "BT-112")  # a till receipt: the shop, the date, the amount paid


def extract(ctx: Context, doc: Document) -> StageResult:
    xml = invoice_xml(ctx, doc)
    review: tuple[str, ...]
    memory: dict[str, Any] = {}
    if xml is not None:
        inv = parse_invoice_xml(xml)
        found, review = inv.fields, ()
        einvoice = {
            "syntax": inv.syntax,
            "flavor": inv.flavor,
            "profile": inv.profile,
            "guideline_id": inv.guideline_id,
        }
        tools = versions("factur-x", "lxml")
    else:
        cap = load_capture(ctx.store.get(doc.objects["capture"].key))
        found, memory, doubts = read_fields(ctx, doc, cap.pages)
        einvoice = {}
        review = fields_in_doubt(doc.doc_type, found, ctx.settings.review_threshold)
        review += tuple(f for f in doubts if f not in review)
        tools = {**versions("dematflow"), **cap.tools}  # the fields came from what these read
    event = Event(
        "extract",
        "extracted",
        doc.id,
        inputs={doc.objects["capture"].key: doc.objects["capture"].sha256},
        tools=tools,
        detail={"fields": sorted(found.values), "review": list(review), **memory},
    )
    updated = doc.evolve(
        fields=dict(found.values),
        confidence=dict(found.confidence),
        einvoice=einvoice,
        review=review,
        stage="extract",
    )
    return StageResult(updated, event)


def read_fields(
    ctx: Context, doc: Document, pages: Sequence[PageText]
) -> tuple[FieldSet, dict[str, Any], tuple[str, ...]]:
    """The generic reading merged with what the tenant's memory of this supplier reads (the fields
    they disagree on are in doubt), and what the journal says of the memory."""
    if doc.doc_type is DocType.RECEIPT:  # a till slip: its own reader, no supplier memory
        return receipt_fields(pages), {"memory": {"used": False}}, ()
    generic = extract_fields(pages)
    layout = ctx.memory.layout_for(doc.tenant, pages) if ctx.memory is not None and pages else None
    if layout is None:
        return generic, {"memory": {"used": False}}, ()
    remembered = recall(layout, pages)
    # Agreement raises the confidence; any disagreement goes to a person, even where the generic
    # reader was corrected on the taught document: trusting the memory there added confidently wrong
    # fields on real layouts (benchmarks/memory_second.py: 10.4 % instead of 9.0 % on real pairs).
    found, doubts = merge(generic, remembered)
    detail = {"used": True, "supplier_key": layout.key, "fields": sorted(remembered.values),
              "disagreements": list(doubts)}  # fmt: skip
    return found, {"memory": detail}, doubts


def fields_in_doubt(doc_type: DocType | None, found: FieldSet, threshold: float) -> tuple[str, ...]:
    """Key fields of an invoice or a receipt that are missing or below the confidence threshold."""
    if doc_type is DocType.RECEIPT:
        return tuple(f for f in RECEIPT_FIELDS if found.confidence.get(f, 0.0) < threshold)
    if doc_type not in INVOICES:
        return ()
    doubt = [f for f in KEY_FIELDS if found.confidence.get(f, 0.0) < threshold]
    if not any(found.confidence.get(f, 0.0) >= threshold for f in SELLER_FIELDS):
        doubt.append("seller (BT-27/BT-30/BT-31)")
    return tuple(doubt)
