"""PAdES seals on kept PDFs, added as an incremental update so the original bytes stay intact."""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter, enumerate_sig_fields
from pyhanko.sign.timestamps.common_utils import TimestampRequestError

from dematflow.errors import CorruptInput, EmptyInput, EncryptedInput, ToolFailed
from signing.cms import Sealed, choose_timestamper, is_development, load_signer, signer_name
from signing.credentials import SealCredentials

log = logging.getLogger(__name__)

__all__ = ["SealStatus", "Sealed", "check_last_seal", "seal_pdf"]


@dataclass(frozen=True)
class SealStatus:
    """What pyHanko says of the last signature of a PDF (the seal dematflow added last)."""

    signed: bool  # a signature is there at all
    valid: bool = False  # intact, and valid against the trust roots given
    whole_file: bool = False  # nothing was added after it
    timestamp_valid: bool | None = None  # None: no timestamp in it
    signer_der: bytes | None = None  # the signing certificate
    unreadable: str | None = None  # why the signature could not be read


def check_last_seal(pdf: bytes, trust_roots: Sequence[Path]) -> SealStatus:
    """Validate the last signature offline, against ``trust_roots`` (our own chain) only."""
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    try:
        signatures = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures
        if not signatures:
            return SealStatus(signed=False)
        last = signatures[-1]
        offline = ValidationContext(
            trust_roots=[load_cert_from_pemder(str(p)) for p in trust_roots], allow_fetching=False
        )
        status = validate_pdf_signature(
            last, signer_validation_context=offline, ts_validation_context=offline
        )
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        return SealStatus(signed=True, unreadable=type(exc).__name__)
    ts = status.timestamp_validity
    return SealStatus(
        signed=True,
        valid=bool(status.intact and status.valid),
        whole_file=status.coverage is SignatureCoverageLevel.ENTIRE_FILE,
        timestamp_valid=None if ts is None else bool(ts.intact and ts.valid),
        signer_der=last.signer_cert.dump(),
    )


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
