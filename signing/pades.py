"""PAdES seals on kept PDFs, added as an incremental update so the original bytes stay intact."""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter, enumerate_sig_fields
from pyhanko.sign.timestamps.common_utils import TimestampRequestError

from dematflow.errors import CorruptInput, EmptyInput, EncryptedInput, ToolFailed
from signing.cms import Sealed, choose_timestamper, is_development, load_signer, signer_name
from signing.credentials import SealCredentials

log = logging.getLogger(__name__)

__all__ = ["Sealed", "seal_pdf"]


def seal_pdf(
    pdf: bytes,
    *,
    credentials: SealCredentials,
    tsa_url: str | None = None,
    reason: str = "dematflow archive seal",
    field_name: str = "DematflowSeal",
) -> Sealed:
    """Seal ``pdf`` (PAdES, ETSI.CAdES.detached, SHA-256) in a new incremental revision.

    Timestamped by ``tsa_url`` if given, else by the development TSA of ``credentials`` if
    it has one, else not at all. Existing signatures are left valid. Raises EmptyInput,
    CorruptInput, EncryptedInput, ToolFailed (TSA unreachable: retry) or ConfigError.
    """
    if not pdf:
        raise EmptyInput("cannot seal an empty file")
    writer = _open(pdf)
    signer = load_signer(credentials)
    timestamper = choose_timestamper(credentials, tsa_url=tsa_url)
    meta = signers.PdfSignatureMetadata(
        field_name=_free_field_name(writer, field_name),
        reason=reason,
        md_algorithm="sha256",
        subfilter=SigSeedSubFilter.PADES,
    )
    out = io.BytesIO()
    signed_at = datetime.now(UTC)
    try:
        signers.PdfSigner(meta, signer=signer, timestamper=timestamper).sign_pdf(writer, output=out)
    except TimestampRequestError as exc:
        raise ToolFailed(f"timestamp authority unreachable or refused: {exc}") from exc
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        # pyHanko reads lazily: a broken object can surface only while writing.
        raise CorruptInput(f"PDF cannot be sealed: {_describe(exc)}") from exc
    data = out.getvalue()
    log.info("sealed PDF: %d -> %d bytes, field %s", len(pdf), len(data), meta.field_name)
    return Sealed(
        data=data,
        signer=signer_name(signer),
        signed_at=signed_at,
        timestamped=timestamper is not None,
        development=is_development(credentials, tsa_url=tsa_url),
        level="PAdES-B-T" if timestamper is not None else "PAdES-B-B",
    )


def _open(pdf: bytes) -> IncrementalPdfFileWriter:
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    except (PdfError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise CorruptInput(f"not a readable PDF: {_describe(exc)}") from exc
    if writer.prev.encrypted:
        raise EncryptedInput("the PDF is encrypted; dematflow does not seal encrypted PDFs")
    return writer


def _free_field_name(writer: IncrementalPdfFileWriter, wanted: str) -> str:
    """``wanted`` unless a filled field already has that name (a document sealed twice)."""
    try:
        taken = {name for name, *_ in enumerate_sig_fields(writer, filled_status=True)}
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        raise CorruptInput(f"PDF form fields unreadable: {_describe(exc)}") from exc
    name, n = wanted, 1
    while name in taken:
        n += 1
        name = f"{wanted}{n}"
    return name


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc)[:200]}"
