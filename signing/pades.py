"""PAdES seals on kept PDFs, added as an incremental update so the original bytes stay intact."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter, enumerate_sig_fields
from pyhanko.sign.general import SigningError
from pyhanko.sign.timestamps.common_utils import TimestampRequestError
from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError, RevokedError

from dematflow.errors import ConfigError, CorruptInput, EmptyInput, EncryptedInput, ToolFailed
from signing.cms import Sealed, choose_timestamper, is_development, resolve_signer
from signing.credentials import SealCredentials
from signing.policy import SealLevel
from signing.signer import SealSigner

if TYPE_CHECKING:
    from asn1crypto import x509
    from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
    from pyhanko_certvalidator import ValidationContext

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


def check_last_seal(pdf: bytes, trust_roots: Sequence[Path | x509.Certificate]) -> SealStatus:
    """Validate the last signature offline, against ``trust_roots`` (our own chain) only."""
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = reader.embedded_regular_signatures
        if not signatures:
            return SealStatus(signed=False)
        last = signatures[-1]
        offline = ValidationContext(
            trust_roots=[load_cert_from_pemder(str(p)) if isinstance(p, Path) else p for p in trust_roots],
            allow_fetching=False,
        )
        status = validate_pdf_signature(
            last, signer_validation_context=offline, ts_validation_context=offline
        )
        # B-LTA: a DSS and document timestamps follow the seal; each must be intact too.
        stamps = [t for t in reader.embedded_timestamp_signatures if t.signed_revision > last.signed_revision]
        stamps_ok = all(_timestamp_intact(t) for t in stamps)
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        return SealStatus(signed=True, unreadable=type(exc).__name__)
    ts = status.timestamp_validity
    whole = status.coverage is SignatureCoverageLevel.ENTIRE_FILE or (
        status.coverage is SignatureCoverageLevel.ENTIRE_REVISION
        and status.modification_level is ModificationLevel.LTA_UPDATES
        and stamps_ok
        and bool(stamps)
    )
    return SealStatus(
        signed=True,
        valid=bool(status.intact and status.valid),
        whole_file=whole,
        timestamp_valid=None if ts is None else bool(ts.intact and ts.valid and stamps_ok),
        signer_der=last.signer_cert.dump(),
    )


def _timestamp_intact(stamp: EmbeddedPdfSignature) -> bool:
    """The document timestamp's digest matches what it covers (its TSA is not trusted here)."""
    from pyhanko.sign.validation import validate_pdf_timestamp
    from pyhanko_certvalidator import ValidationContext

    status = validate_pdf_timestamp(
        stamp, validation_context=ValidationContext(trust_roots=[], allow_fetching=False)
    )
    return bool(status.intact)


def seal_pdf(
    pdf: bytes,
    *,
    signer: SealSigner | None = None,
    credentials: SealCredentials | None = None,
    tsa_url: str | None = None,
    level: SealLevel | None = None,
    reason: str = "dematflow archive seal",
    field_name: str = "DematflowSeal",
) -> Sealed:
    """Seal ``pdf`` (PAdES, ETSI.CAdES.detached, SHA-256) in a new incremental revision.

    ``level`` None: B-T by ``tsa_url`` or the development TSA when there is one, else B-B. B-LT adds
    the DSS (certificates, OCSP responses, CRLs fetched from the PKI now); B-LTA a document
    timestamp over it. Existing signatures are left valid. Raises EmptyInput, CorruptInput,
    EncryptedInput, ToolFailed (TSA or revocation service unreachable: retry) or ConfigError.
    """
    if not pdf:
        raise EmptyInput("cannot seal an empty file")
    writer = _open(pdf)
    seal = resolve_signer(signer, credentials)
    timestamper = choose_timestamper(seal, tsa_url=tsa_url, level=level)
    long_term = level is not None and level.long_term
    meta = signers.PdfSignatureMetadata(
        field_name=_free_field_name(writer, field_name),
        reason=reason,
        md_algorithm="sha256",
        subfilter=SigSeedSubFilter.PADES,
        embed_validation_info=long_term,
        validation_context=_fetching_context(seal) if long_term else None,
        use_pades_lta=level is SealLevel.B_LTA,
    )
    out = io.BytesIO()
    signed_at = datetime.now(UTC)
    room = (id(seal.signer), type(timestamper).__name__, tsa_url, level)
    try:
        pdf_signer = signers.PdfSigner(meta, signer=seal.signer, timestamper=timestamper)
        _sign(pdf_signer, writer, lambda: _open(pdf), out, room)
    except TimestampRequestError as exc:
        raise ToolFailed(f"timestamp authority unreachable or refused: {exc}") from exc
    except RevokedError as exc:
        raise ConfigError(f"the seal certificate is revoked: {exc}") from exc
    except (PathBuildingError, PathValidationError, SigningError) as exc:
        # Mostly revocation information the PKI could not give just now (OCSP, CRL): worth a retry.
        raise ToolFailed(f"validation information for the seal unavailable: {_describe(exc)}") from exc
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        # pyHanko reads lazily: a broken object can surface only while writing.
        raise CorruptInput(f"PDF cannot be sealed: {_describe(exc)}") from exc
    data = out.getvalue()
    log.info("sealed PDF: %d -> %d bytes, field %s", len(pdf), len(data), meta.field_name)
    reached = (level or SealLevel.B_T) if timestamper is not None else SealLevel.B_B
    return Sealed(
        data=data,
        signer=seal.name,
        signed_at=signed_at,
        timestamped=timestamper is not None,
        development=is_development(seal, timestamper),
        level=f"PAdES-{reached.value}",
    )


# The room a signer's CMS takes in the PDF, once pyHanko has estimated it (by building a whole dummy
# signature: about 40 % of a B-B seal's CPU). Its estimate keeps a 50 % margin; a container that
# outgrows it after all (a TSA answering with more certificates) is signed again with a new estimate.
_ROOM: dict[tuple[object, ...], int] = {}
_BYTE_RANGE = re.compile(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]")


def _sign(
    signer: signers.PdfSigner,
    writer: IncrementalPdfFileWriter,
    reopen: Callable[[], IncrementalPdfFileWriter],
    out: io.BytesIO,
    room: tuple[object, ...],
) -> None:
    reserved = _ROOM.get(room)
    if reserved is not None:
        try:
            signer.sign_pdf(writer, output=out, bytes_reserved=reserved)
            return
        except SigningError as exc:
            if "larger than expected" not in str(exc):
                raise
            log.info("seal container outgrew %d bytes: estimated again", reserved)
            _ROOM.pop(room, None)
            writer = reopen()  # the first attempt's revision is dropped with its writer
            out.seek(0)
            out.truncate()
    signer.sign_pdf(writer, output=out)
    ranges = _BYTE_RANGE.findall(out.getbuffer()[-65536:].tobytes())
    if ranges:  # the last signature's: [0, start of /Contents, end of /Contents, ...]
        _, start, end, _ = map(int, ranges[-1])
        _ROOM[room] = end - start - 2


def _fetching_context(seal: SealSigner) -> ValidationContext:
    """Trust our chain's roots; fetch OCSP responses and CRLs now, to embed them (B-LT)."""
    from pyhanko_certvalidator import ValidationContext

    return ValidationContext(
        trust_roots=list(seal.trust_roots), other_certs=list(seal.chain), allow_fetching=True
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
