"""Extract: invoice fields under EN 16931 names, from the e-invoice XML or from the captured words."""

from __future__ import annotations

from extractors.einvoice import parse_invoice_xml
from extractors.fields import extract_fields
from extractors.results import DocType, FieldSet
from pipeline.context import Context, versions
from pipeline.records import Document, Event, StageResult
from pipeline.stages.classify import invoice_xml, load_capture

INVOICES = (DocType.INVOICE, DocType.CREDIT_NOTE)
# A captured invoice is only trusted when these are read with confidence: number, date, total.
KEY_FIELDS = ("BT-1", "BT-2", "BT-112")
SELLER_FIELDS = ("BT-30", "BT-31", "BT-27")  # at least one identifies the seller


def extract(ctx: Context, doc: Document) -> StageResult:
    xml = invoice_xml(ctx, doc)
    review: tuple[str, ...]
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
        found, einvoice = extract_fields(cap.pages), {}
        review = fields_in_doubt(doc.doc_type, found, ctx.settings.review_threshold)
        tools = {**versions("dematflow"), **cap.tools}  # the fields came from what these read
    event = Event(
        "extract",
        "extracted",
        doc.id,
        inputs={doc.objects["capture"].key: doc.objects["capture"].sha256},
        tools=tools,
        detail={"fields": sorted(found.values), "review": list(review)},
    )
    updated = doc.evolve(
        fields=dict(found.values),
        confidence=dict(found.confidence),
        einvoice=einvoice,
        review=review,
        stage="extract",
    )
    return StageResult(updated, event)


def fields_in_doubt(doc_type: DocType | None, found: FieldSet, threshold: float) -> tuple[str, ...]:
    """Key fields of an invoice that are missing or below the confidence threshold."""
    if doc_type not in INVOICES:
        return ()
    doubt = [f for f in KEY_FIELDS if found.confidence.get(f, 0.0) < threshold]
    if not any(found.confidence.get(f, 0.0) >= threshold for f in SELLER_FIELDS):
        doubt.append("seller (BT-27/BT-30/BT-31)")
    return tuple(doubt)
