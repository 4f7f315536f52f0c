"""Classify: read the document (embedded XML, text layer or OCR) and decide what kind of paper it is."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from extractors import capture as reader
from extractors.classify import classify as classify_text
from extractors.einvoice import parse_invoice_xml
from extractors.facturx import find_embedded_xml
from extractors.results import DocType, PageText, Source, Word
from extractors.sniff import FileKind
from pipeline import metrics, retention
from pipeline.context import Context, versions
from pipeline.records import Document, Event, StageResult
from storage import keys

if TYPE_CHECKING:
    from signing.textlayer import PageLayer

# UNTDID 1001 codes that mean a credit note; every other invoice type code is an invoice.
CREDIT_NOTE_CODES = {"81", "83", "261", "262", "296", "308", "381", "396", "420", "458", "532"}


def classify(ctx: Context, doc: Document) -> StageResult:
    doc, xml = _find_invoice_xml(ctx, doc)
    if xml is not None:
        inv = parse_invoice_xml(xml)
        code = inv.fields.values.get("BT-3", "380")
        doc_type = DocType.CREDIT_NOTE if code in CREDIT_NOTE_CODES else DocType.INVOICE
        payload: dict[str, Any] = {
            "source": Source.FACTURX.value,
            "syntax": inv.syntax,
            "flavor": inv.flavor,
            "profile": inv.profile,
            "pages": [],
        }
        tools, score = versions("factur-x", "lxml"), 1.0
    else:
        cap = _capture(ctx, doc)
        doc = _keep_searchable(ctx, doc, cap)
        doc_type, score = classify_text(cap.text)
        payload = {
            "source": cap.source.value,
            "tools": cap.tools,
            "preparation": {str(n): list(steps) for n, steps in cap.preparation.items()},
            "to_page": {str(n): list(m) for n, m in cap.to_page.items()},
            "pages": [_page_json(p) for p in cap.pages],
        }
        tools = cap.tools | (versions("pyHanko") if "searchable" in doc.objects else {})  # its text layer
    key = keys.capture(doc.id)
    captured = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()
    obj = retention.keep(ctx, doc.evolve(doc_type=doc_type), key, captured)
    source = Source(payload["source"])
    outputs = {o.key: o.sha256 for role, o in doc.objects.items() if role in ("einvoice_xml", "searchable")}
    event = Event(
        "classify",
        "classified",
        doc.id,
        inputs={"original": doc.sha256},
        outputs={**outputs, key: obj.sha256},
        tools=tools,
        detail={"doc_type": doc_type.value, "score": round(score, 3), "source": source.value},
    )
    updated = doc.evolve(doc_type=doc_type, source=source, stage="classify")
    return StageResult(updated.with_object("capture", obj), event)


def _capture(ctx: Context, doc: Document) -> reader.Capture:
    """Text and words of every page: the text layer where there is one, OCR of a working copy else.
    A capture archived by an earlier attempt is reused, so a retried job gives the same answer."""
    key = keys.capture(doc.id)
    if ctx.store.exists(key):
        return load_capture(ctx.store.get(key))
    data = ctx.store.get(doc.objects["original"].key)
    if doc.kind is not None and doc.kind.is_image:
        cap = reader.capture_images(data, ocr=ctx.ocr)
    else:
        cap = reader.capture_pdf(data, ocr=ctx.ocr)
    metrics.ocr_done(cap.ocr_pages, cap.ocr_seconds)
    return cap


def _keep_searchable(ctx: Context, doc: Document, cap: reader.Capture) -> Document:
    """A PDF with OCR'd (scanned) pages gets a searchable copy: its own bytes followed by a revision
    that lays the OCR words as invisible text on those pages; the kept master stays the original.
    An image's searchable copy is its rendition, which the seal stage makes and seals."""
    if doc.kind is not FileKind.PDF or not cap.to_page:
        return doc
    from signing.textlayer import add_text_layer  # pyHanko, loaded only where a copy is made

    original = doc.objects["original"].key
    make = lambda: add_text_layer(ctx.store.get(original), text_layers(cap))  # noqa: E731
    return doc.with_object("searchable", retention.keep_once(ctx, doc, keys.searchable(doc.id), make))


def text_layers(cap: reader.Capture) -> dict[int, PageLayer]:
    """The OCR'd pages' words, with where each page's working copy lies on the page as shown."""
    from signing.textlayer import PageLayer

    return {
        page.number: PageLayer(
            tuple((w.text, w.x0, w.top, w.x1, w.bottom) for w in page.words), cap.to_page[page.number]
        )
        for page in cap.pages
        if page.number in cap.to_page
    }


def _find_invoice_xml(ctx: Context, doc: Document) -> tuple[Document, bytes | None]:
    """The XML of a standalone e-invoice, or the one embedded in a Factur-X/ZUGFeRD PDF (which is
    then archived on its own, so later stages and auditors need not dig it out again)."""
    if doc.kind is FileKind.PDF:
        embedded = find_embedded_xml(ctx.store.get(doc.objects["original"].key))
        if embedded is None:
            return doc, None
        obj = retention.keep(ctx, doc, keys.einvoice(doc.id), embedded.xml)
        return doc.with_object("einvoice_xml", obj), embedded.xml
    return doc, invoice_xml(ctx, doc)


def invoice_xml(ctx: Context, doc: Document) -> bytes | None:
    """The e-invoice XML of a document classified earlier, or None for paper and plain PDFs."""
    if "einvoice_xml" in doc.objects:
        return ctx.store.get(doc.objects["einvoice_xml"].key)
    if doc.kind is not None and doc.kind.is_xml:
        return ctx.store.get(doc.objects["original"].key)
    return None


def _page_json(page: PageText) -> dict[str, Any]:
    """A page as the capture JSON keeps it (dataclasses.asdict, without its deep copies: ~6 ms a page)."""
    return {**vars(page), "words": [vars(w) for w in page.words]}


def load_capture(raw: bytes) -> reader.Capture:
    d = json.loads(raw)
    pages = tuple(
        PageText(
            number=p["number"],
            text=p["text"],
            source=Source(p["source"]),
            mean_conf=p["mean_conf"],
            words=tuple(Word(**w) for w in p["words"]),
        )
        for p in d["pages"]
    )
    preparation = {int(n): tuple(steps) for n, steps in d.get("preparation", {}).items()}
    to_page = {int(n): tuple(m) for n, m in d.get("to_page", {}).items()}
    return reader.Capture(
        source=Source(d["source"]),
        pages=pages,
        tools=d.get("tools", {}),
        preparation=preparation,
        to_page=to_page,
    )
