"""Batch separation: a scanned batch divided by separator sheets becomes one document per run of pages.

Right after ingest, a multi-page scan (a PDF whose pages have no text layer, a multi-page TIFF) is
looked through for separator sheets (``extractors.separator``). If there is one, each run of pages
between sheets becomes a new PDF (``builders.pages``: page objects copied as they are; a TIFF's frames
wrapped losslessly first), received like any deposit with the sheet's metadata, and processed from the
start. The sheets themselves are left out. The batch is kept as received and ends ``archived`` without
going further (``ingest/separated``, naming its documents); each document's ``derive/separated`` names
the batch, its fingerprint and its pages. The review desk's split derives its documents here too.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePath

from builders import pages
from dematflow.errors import InputError, InvalidRequest
from extractors import separator
from extractors.sniff import FileKind
from pipeline.context import Services, versions
from pipeline.intake import Receipt, receive
from pipeline.records import Document, Event, StageResult, Status

log = logging.getLogger(__name__)

SEPARATED = "LOT_SEPARE"  # reason_code of a batch split at its separator sheets: kept as received, not sealed


@dataclass(frozen=True)
class Part:
    """One document derived from pages of another."""

    receipt: Receipt
    pages: tuple[int, ...]
    filename: str


def pdf_of(services: Services, doc: Document) -> bytes:
    """The original if it is a PDF, an image wrapped losslessly into one (its pixels as received)."""
    original = services.store.get(doc.objects["original"].key)
    if doc.kind is FileKind.PDF:
        return original
    if doc.kind is not None and not doc.kind.is_xml:
        from signing.wrap import wrap_images_as_pdf  # img2pdf: loaded only for an image

        return wrap_images_as_pdf(original)
    raise InvalidRequest("seuls les PDF et les images se découpent ou se fusionnent")


def derive(
    services: Services,
    doc: Document,
    pdf: bytes,
    parts: Sequence[Sequence[int]],
    meta: Sequence[Mapping[str, str]] | None = None,
) -> list[Part]:
    """Receive one new document per part (pages from 1) of ``pdf``, of the same tenant and depositor;
    ``meta``, one mapping a part, is added to each one's metadata (it never overrides the provenance)."""
    derived = []
    for index, part in enumerate(parts):
        data = pages.select([(pdf, list(part))])
        name = f"{PurePath(doc.filename).stem}-p{pages.label(part)}.pdf"
        extra = dict(meta[index]) if meta else {}
        receipt = receive(services, filename=name, data=data, tenant=doc.tenant, owner=doc.owner,
                          meta={**extra, "derived_from": doc.id, "pages": pages.label(part)})  # fmt: skip
        derived.append(Part(receipt, tuple(part), name))
    return derived


def separate(services: Services, doc: Document) -> tuple[str, ...] | None:
    """None when the document is no separated batch (it goes on to classify); else the batch is
    closed and the new documents to start are returned (none if another worker closed it first)."""
    if not _may_be_batch(doc):
        return None
    try:
        found = _separators(services, doc)
    except InputError as err:  # classify will say what is wrong with the file; separation is a bonus
        log.warning("separator detection skipped for %s: %s", doc.id, err.message)
        return None
    count = doc.pages or 0
    runs = page_runs(count, found)
    if not found or not runs:
        return None
    said = [{**doc.meta, **meta} for _, meta in runs]  # the batch's (a hot folder's site), the sheet's
    parts = derive(services, doc, pdf_of(services, doc), [r for r, _ in runs], said)
    reason = f"lot séparé en {len(parts)} documents"
    detail = {
        "separators": sorted(found),
        "parts": [_part_json(p) for p in parts],
        "status": {"before": doc.status.value, "after": Status.ARCHIVED.value},
        "reason": reason,
    }
    tools = versions("pypdfium2", "opencv-python-headless", "pikepdf")
    event = Event("ingest", "separated", doc.id, {"original": doc.sha256}, {}, tools, detail)
    closed = doc.evolve(status=Status.ARCHIVED, reason=reason, reason_code=SEPARATED)
    if services.catalogue.commit(StageResult(closed, event), after=doc.stage) is None:
        return ()  # another worker separated it at the same time, and started its documents
    inputs = {doc.objects["original"].key: doc.sha256}
    for part, (_, meta) in zip(parts, runs, strict=True):
        child = {"from": doc.id, "pages": list(part.pages), "batch_sha256": doc.sha256, "separator": meta}
        services.catalogue.record(Event("derive", "separated", part.receipt.document_id, inputs, {},
                                        versions("pikepdf"), child))  # fmt: skip
    log.info("batch %s separated into %d document(s)", doc.id, len(parts))
    return tuple(p.receipt.document_id for p in parts if p.receipt.duplicate_of is None)


def _part_json(part: Part) -> dict[str, object]:
    return {"document_id": part.receipt.document_id, "pages": list(part.pages), "filename": part.filename}


def page_runs(
    count: int, found: Mapping[int, Mapping[str, str]]
) -> list[tuple[list[int], dict[str, str]]]:
    """The runs of pages between separator pages, each with the metadata of the sheet before it."""
    runs: list[tuple[list[int], dict[str, str]]] = []
    current: list[int] = []
    meta: dict[str, str] = {}
    for number in range(1, count + 2):
        if number in found or number == count + 1:
            if current:
                runs.append((current, meta))
            current, meta = [], dict(found.get(number, {}))
        else:
            current.append(number)
    return runs


def _may_be_batch(doc: Document) -> bool:
    """Only multi-page PDFs and images, received as such (a derived document is not looked at again)."""
    if (doc.pages or 0) < 2 or "derived_from" in doc.meta or doc.kind is None:
        return False
    return doc.kind is FileKind.PDF or doc.kind.is_image


def _separators(services: Services, doc: Document) -> dict[int, dict[str, str]]:
    data = services.store.get(doc.objects["original"].key)
    if doc.kind is FileKind.PDF:
        return separator.find_in_pdf(data)
    from extractors import images

    limits = services.settings.limits
    frames = images.load_images(data, max_pages=limits.max_pages, max_pixels=limits.max_pixels)
    return separator.find_in_images(frames, images.image_dpi(data))
