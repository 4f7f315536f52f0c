"""The bottom line of one kept seal (a sealed PDF, or the detached CAdES of an XML original): intact,
trusted, timestamped, LTV-complete, each yes, no, not checked or not applicable. pyHanko validates offline
against the trust roots given (never fetching), and is imported only when a seal is checked."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from asn1crypto import x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
    from pyhanko_certvalidator import ValidationContext

log = logging.getLogger(__name__)

__all__ = ["BottomLine", "SealReport", "Verdict", "check_detached", "check_pdf"]


class Verdict(StrEnum):
    YES = "yes"
    NO = "no"
    NOT_CHECKED = "not_checked"  # the check could not run: never counted as yes
    NOT_APPLICABLE = "not_applicable"  # LTV of a detached CAdES


class BottomLine(StrEnum):
    """The highest rung reached: each one holds only if the rungs below it hold too."""

    LTV_COMPLETE = "ltv_complete"
    TIMESTAMPED = "timestamped"
    TRUSTED = "trusted"
    INTACT = "intact"
    NOT_INTACT = "not_intact"
    NOT_VERIFIED = "not_verified"


@dataclass(frozen=True)
class SealReport:
    """``problems``: codes of what failed (the seal is not as kept); ``notes``: why a rung is not
    reached or was not checked (no timestamp, no DSS, no trust roots), not failures by themselves."""

    form: str  # "PAdES" | "CAdES"
    intact: Verdict
    trusted: Verdict = Verdict.NOT_CHECKED
    timestamped: Verdict = Verdict.NOT_CHECKED
    ltv: Verdict = Verdict.NOT_CHECKED
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    signer: str | None = None  # the seal certificate's common name
    signer_der: bytes | None = field(default=None, repr=False)

    @classmethod
    def not_verified(cls, form: str, note: str) -> SealReport:
        return cls(form, Verdict.NOT_CHECKED, notes=(note,))

    @classmethod
    def broken(cls, form: str, problem: str) -> SealReport:
        return cls(form, Verdict.NO, problems=(problem,))

    @property
    def parts(self) -> tuple[tuple[str, Verdict], ...]:
        return (
            ("intact", self.intact),
            ("trusted", self.trusted),
            ("timestamped", self.timestamped),
            ("ltv", self.ltv),
        )

    @property
    def bottom_line(self) -> BottomLine:
        if self.intact is Verdict.NOT_CHECKED:
            return BottomLine.NOT_VERIFIED
        if self.intact is not Verdict.YES:
            return BottomLine.NOT_INTACT
        reached = BottomLine.INTACT
        for rung, verdict in (
            (BottomLine.TRUSTED, self.trusted),
            (BottomLine.TIMESTAMPED, self.timestamped),
            (BottomLine.LTV_COMPLETE, self.ltv),
        ):
            if verdict is not Verdict.YES:
                return reached
            reached = rung
        return reached

    @property
    def ok(self) -> bool:
        """Intact and trusted, nothing failed (a missing timestamp or DSS is a level, not a fault)."""
        return self.intact is Verdict.YES and self.trusted is Verdict.YES and not self.problems


def check_pdf(
    pdf: bytes, *, trust_roots: Sequence[x509.Certificate], other_certs: Sequence[x509.Certificate] = ()
) -> SealReport:
    """The last regular signature of ``pdf`` (the seal dematflow added last) and what follows it."""
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.errors import SignatureValidationError

    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = reader.embedded_regular_signatures
        if not signatures:
            return SealReport.broken("PAdES", "no_signature")
        last = signatures[-1]
        context = _context(trust_roots, other_certs)
        status = validate_pdf_signature(
            last, signer_validation_context=context, ts_validation_context=context
        )
        later = [t for t in reader.embedded_timestamp_signatures if t.signed_revision > last.signed_revision]
        stamps = [_stamp(t, context) for t in later]
    except (PdfError, SignatureValidationError, ValueError, KeyError, TypeError, IndexError) as exc:
        log.warning("sealed PDF unreadable: %s", type(exc).__name__)
        return SealReport.broken("PAdES", "signature_unreadable")
    problems: list[str] = []
    notes: list[str] = []
    intact = _pdf_intact(status, problems)
    trusted = _trust(status, trust_roots, problems, notes)
    timestamped = _timestamped(status.timestamp_validity, stamps, trust_roots, problems, notes)
    ltv = _ltv(last, reader, trust_roots, notes) if intact is Verdict.YES else Verdict.NOT_CHECKED
    return SealReport(
        "PAdES", intact, trusted, timestamped, ltv, tuple(problems), tuple(notes), *_signer(last.signer_cert)
    )


def check_detached(
    data: bytes,
    signature: bytes,
    *,
    trust_roots: Sequence[x509.Certificate],
    other_certs: Sequence[x509.Certificate] = (),
) -> SealReport:
    """A detached CAdES over ``data``; LTV does not apply (the XML's long-term proof is its day seal)."""
    from asn1crypto import cms
    from pyhanko.sign.validation.errors import SignatureValidationError
    from pyhanko.sign.validation.generic_cms import async_validate_detached_cms

    try:
        content_info = cms.ContentInfo.load(signature)
        if content_info["content_type"].native != "signed_data":
            return SealReport.broken("CAdES", "signature_unreadable")
        signed = content_info["content"]
        context = _context(trust_roots, other_certs)
        status = asyncio.run(
            async_validate_detached_cms(
                data, signed, signer_validation_context=context, ts_validation_context=context
            )
        )
        cert = status.signing_cert
    except (SignatureValidationError, ValueError, KeyError, TypeError, IndexError) as exc:
        log.warning("detached seal unreadable: %s", type(exc).__name__)
        return SealReport.broken("CAdES", "signature_unreadable")
    problems: list[str] = []
    notes: list[str] = []
    intact = Verdict.YES if status.intact and status.valid else Verdict.NO
    if intact is Verdict.NO:
        problems.append("signature_invalid")
    trusted = _trust(status, trust_roots, problems, notes)
    timestamped = _timestamped(status.timestamp_validity, [], trust_roots, problems, notes)
    return SealReport(
        "CAdES",
        intact,
        trusted,
        timestamped,
        Verdict.NOT_APPLICABLE,
        tuple(problems),
        tuple(notes),
        *_signer(cert),
    )


def _context(roots: Sequence[x509.Certificate], others: Sequence[x509.Certificate]) -> ValidationContext:
    from pyhanko_certvalidator import ValidationContext

    return ValidationContext(trust_roots=list(roots), other_certs=list(others), allow_fetching=False)


def _pdf_intact(status: Any, problems: list[str]) -> Verdict:
    """The digest matches and the seal covers the whole file, or only the DSS and document timestamps
    (B-LT, B-LTA) came after it."""
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    if not (status.intact and status.valid):
        problems.append("signature_invalid")
        return Verdict.NO
    whole = status.coverage is SignatureCoverageLevel.ENTIRE_FILE or (
        status.coverage is SignatureCoverageLevel.ENTIRE_REVISION
        and status.modification_level in (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES)
    )
    if not whole:
        problems.append("changed_after_seal")
        return Verdict.NO
    return Verdict.YES


def _trust(status: Any, roots: Sequence[x509.Certificate], problems: list[str], notes: list[str]) -> Verdict:
    if not roots:
        notes.append("no_trust_roots")
        return Verdict.NOT_CHECKED
    if not (status.intact and status.valid):
        return Verdict.NOT_CHECKED  # a broken signature says nothing of its signer
    if status.trusted:
        return Verdict.YES
    problems.append("signer_untrusted")
    return Verdict.NO


def _stamp(stamp: EmbeddedPdfSignature, context: ValidationContext) -> tuple[bool, bool]:
    """(intact, trusted) of a document timestamp added after the seal."""
    from pyhanko.sign.validation import validate_pdf_timestamp

    status = validate_pdf_timestamp(stamp, validation_context=context)
    return bool(status.intact and status.valid), bool(status.trusted)


def _timestamped(
    token: Any,
    stamps: list[tuple[bool, bool]],
    roots: Sequence[x509.Certificate],
    problems: list[str],
    notes: list[str],
) -> Verdict:
    """The signature timestamp intact and its TSA trusted, or else a trusted document timestamp."""
    if any(not intact for intact, _ in stamps):
        problems.append("document_timestamp_invalid")
    if token is not None and not (token.intact and token.valid):
        problems.append("timestamp_invalid")
        return Verdict.NO
    if token is None and not stamps:
        notes.append("no_timestamp")
        return Verdict.NO
    if not roots:
        return Verdict.NOT_CHECKED
    if (token is not None and token.trusted) or any(i and t for i, t in stamps):
        return Verdict.YES
    problems.append("timestamp_untrusted")
    return Verdict.NO


def _ltv(
    last: EmbeddedPdfSignature, reader: PdfFileReader, roots: Sequence[x509.Certificate], notes: list[str]
) -> Verdict:
    if "/DSS" not in reader.root:
        notes.append("no_dss")
        return Verdict.NO
    if not roots:
        return Verdict.NOT_CHECKED
    from signing.seal_ltv import long_term

    complete = long_term(last, roots)
    if complete is None:
        notes.append("ltv_not_checked")
        return Verdict.NOT_CHECKED
    if not complete:
        notes.append("ltv_incomplete")
    return Verdict.YES if complete else Verdict.NO


def _signer(cert: x509.Certificate | None) -> tuple[str | None, bytes | None]:
    if cert is None:
        return None, None
    subject = cert.subject.native
    return str(subject.get("common_name") or cert.subject.human_friendly), cert.dump()
