"""Seal: a PAdES seal over the kept PDF (images wrapped losslessly first), a CMS seal for XML."""

from __future__ import annotations

from extractors.sniff import FileKind
from pipeline import retention
from pipeline.context import Context, versions
from pipeline.records import Document, Event, StageResult
from pipeline.stages.classify import load_capture, text_layers
from signing.cms import seal_detached
from signing.pades import seal_pdf
from signing.policy import SealLevel
from signing.signer import SealSigner
from signing.textlayer import add_text_layer
from signing.wrap import wrap_images_as_pdf
from storage import keys


def seal(ctx: Context, doc: Document) -> StageResult:
    original = ctx.store.get(doc.objects["original"].key)
    signer, tsa, level = ctx.seal_signer(), ctx.settings.tsa_url, ctx.settings.seal.level
    if doc.kind is not None and doc.kind.is_xml:
        sealed = retention.keep_once(
            ctx,
            doc,
            keys.sealed(doc.id, xml=True),
            lambda: seal_detached(original, signer=signer, tsa_url=tsa, level=level).data,
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
                    _rendition(ctx, doc, original) if image else original,
                    signer=signer,
                    tsa_url=tsa,
                    level=level,
                    reason=_reason(signer),
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
            "development_seal": signer.development,
            "signer": signer.kind.value,
            "level": level.value if level else None,
            "tsa": tsa
            or ("development" if signer.dev_timestamper and level in (None, SealLevel.B_T) else None),
        },
    )
    return StageResult(doc.with_object("sealed", sealed).evolve(stage="seal"), event)


def _reason(signer: SealSigner) -> str:
    """The seal's /Reason: a development seal says so in the PDF itself."""
    if signer.development:
        return "dematflow archive seal (DEVELOPMENT key, not for production)"
    return "dematflow archive seal"


def _rendition(ctx: Context, doc: Document, original: bytes) -> bytes:
    """The image wrapped pixel for pixel into a PDF, searchable: its OCR words (from the capture
    the classify stage archived) are laid on it as invisible text in an appended revision."""
    pdf = wrap_images_as_pdf(original)
    if "capture" not in doc.objects:
        return pdf
    layers = text_layers(load_capture(ctx.store.get(doc.objects["capture"].key)))
    return add_text_layer(pdf, layers) if layers else pdf
