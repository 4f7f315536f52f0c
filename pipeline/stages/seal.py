"""Seal: a PAdES seal over the kept PDF (images wrapped losslessly first), a CMS seal for XML."""

from __future__ import annotations

from dematflow.errors import ConfigError
from extractors.sniff import FileKind
from pipeline import retention
from pipeline.context import Context, versions
from pipeline.records import Document, Event, StageResult
from pipeline.stages.classify import load_capture, text_layers
from signing.cms import seal_detached
from signing.pades import seal_pdf
from signing.textlayer import add_text_layer
from signing.wrap import wrap_images_as_pdf
from storage import keys


def seal(ctx: Context, doc: Document) -> StageResult:
    original = ctx.store.get(doc.objects["original"].key)
    creds, tsa = ctx.credentials, ctx.settings.tsa_url
    if creds is None:
        raise ConfigError("no seal credentials in this context (a dry run cannot seal)")
    if doc.kind is not None and doc.kind.is_xml:
        sealed = retention.keep_once(
            ctx,
            doc,
            keys.sealed(doc.id, xml=True),
            lambda: seal_detached(original, credentials=creds, tsa_url=tsa).data,
        )
    else:
        # An image is sealed as its rendition: its pixels wrapped into a PDF, searchable by its OCR
        # words. The rendition is not stored apart: it is the sealed PDF without its last revision.
        image = doc.kind is not FileKind.PDF
        sealed = retention.keep_once(
            ctx,
            doc,
            keys.sealed(doc.id, xml=False),
            lambda: (
                seal_pdf(
                    _rendition(ctx, doc, original) if image else original, credentials=creds, tsa_url=tsa
                ).data
            ),
        )
    event = Event(
        "seal",
        "sealed",
        doc.id,
        inputs={"original": doc.sha256},
        outputs={sealed.key: sealed.sha256},
        # An image's rendition is img2pdf's, or for plain TIFFs Pillow's decoding under ISA-L's Flate,
        # with its OCR words added by pyHanko's incremental writer.
        tools=versions("pyHanko", "img2pdf", "pillow", "isal"),
        detail={
            "development_seal": creds.development,
            "tsa": tsa or ("development" if creds.tsa_key_path else None),
        },
    )
    return StageResult(doc.with_object("sealed", sealed).evolve(stage="seal"), event)


def _rendition(ctx: Context, doc: Document, original: bytes) -> bytes:
    """The image wrapped pixel for pixel into a PDF, searchable: its OCR words (from the capture
    the classify stage archived) are laid on it as invisible text in an appended revision."""
    pdf = wrap_images_as_pdf(original)
    if "capture" not in doc.objects:
        return pdf
    layers = text_layers(load_capture(ctx.store.get(doc.objects["capture"].key)))
    return add_text_layer(pdf, layers) if layers else pdf
