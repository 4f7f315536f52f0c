"""The signatures a deposited PDF already carries, each validated offline: integrity, signer, signing
time, timestamp, coverage, and what was changed after it (pyHanko's difference analysis)."""

from __future__ import annotations

import io
import logging
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dematflow.errors import ConfigError

if TYPE_CHECKING:
    from asn1crypto import x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.status import PdfSignatureStatus

log = logging.getLogger(__name__)

# A signature dictionary holds its /ByteRange in plain bytes (its offsets point into the file, so it
# cannot sit in a compressed object stream): without the word, there is nothing for pyHanko to do.
MARKER = b"/ByteRange"
NO_TRUST_LIST = "signataire non vérifié (aucune liste de confiance configurée)"
# What pyHanko and asn1crypto raise on a damaged or hostile signature (SignatureValidationError is a
# ValueError): the signature is then reported unreadable, never a crash of the stage.
ERRORS: tuple[type[BaseException], ...] = (
    ValueError, KeyError, TypeError, IndexError, AttributeError, ArithmeticError, AssertionError,
    NotImplementedError, RecursionError, OSError, zlib.error,
)  # fmt: skip


class Verdict(StrEnum):
    INTACT = "intact"  # digest and signature value match; nothing beyond form filling since
    MODIFIED = "modified"  # intact, but the document was changed after it beyond what it allows
    BROKEN = "broken"  # the signed bytes, the signature value or its timestamp do not match
    UNREADABLE = "unreadable"  # the signature dictionary or its CMS could not be read


@dataclass(frozen=True)
class SignatureReport:
    """One signature of a deposited PDF, as validated at reception, with its bottom line in French."""

    field: str | None  # the signature field's name (None: the form itself was unreadable)
    verdict: Verdict
    summary: str
    intact: bool | None = None  # the digest of the signed bytes matches
    valid: bool | None = None  # the signature value checks against the signer's public key
    trusted: bool | None = None  # chains to a configured trust root; None: no trust list configured
    signer: str | None = None  # the signing certificate's subject
    issuer: str | None = None
    certificate_not_before: datetime | None = None
    certificate_not_after: datetime | None = None
    signing_time: datetime | None = None  # as the signer claims it (signed attributes)
    timestamp: bool = False  # an RFC 3161 signature timestamp is embedded
    timestamp_valid: bool | None = None  # its token is intact and valid (its TSA is not trust-checked)
    timestamp_time: datetime | None = None
    coverage: str | None = None  # "entire_file", "entire_revision", "contiguous_block_from_start", "unclear"
    revision: int | None = None  # the revision the signature covers
    modification_level: str | None = None  # after signing: "none", "lta_updates", "form_filling", ...
    docmdp_ok: bool | None = None  # the changes are within the signature's DocMDP permissions
    problem: str | None = None  # why it is unreadable, or why the signer is not trusted

    @property
    def certificate_valid_at_signing(self) -> bool | None:
        when = self.timestamp_time or self.signing_time
        if when is None or self.certificate_not_before is None or self.certificate_not_after is None:
            return None
        return self.certificate_not_before <= when <= self.certificate_not_after

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            out[name] = value.isoformat() if isinstance(value, datetime) else value
        out["verdict"] = self.verdict.value
        out["certificate_valid_at_signing"] = self.certificate_valid_at_signing
        return out

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> SignatureReport:
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        for name in ("certificate_not_before", "certificate_not_after", "signing_time", "timestamp_time"):
            if known.get(name):
                known[name] = datetime.fromisoformat(known[name])
        known["verdict"] = Verdict(known["verdict"])
        return cls(**known)


def has_signatures(pdf: bytes) -> bool:
    """The cheap check: could the PDF carry a signature at all (no parsing)."""
    return MARKER in pdf


def read_signatures(
    pdf: bytes, *, trust_roots: Sequence[x509.Certificate] = ()
) -> tuple[SignatureReport, ...]:
    """Each signature of ``pdf`` (document timestamps aside), validated offline against
    ``trust_roots`` (none: the signer is reported unverified); () when the PDF carries none."""
    if not has_signatures(pdf):
        return ()
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.fields import enumerate_sig_fields

    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        fields = list(enumerate_sig_fields(reader, filled_status=True))
    except _errors() as exc:
        return (_unreadable(None, exc),)
    reports = [_one(reader, name, value, field, trust_roots) for name, value, field in fields]
    found = [r for r in reports if r is not None]
    return tuple(sorted(found, key=lambda r: r.revision if r.revision is not None else 1 << 30))


def _one(
    reader: PdfFileReader, name: str, value: Any, field: Any, trust_roots: Sequence[x509.Certificate]
) -> SignatureReport | None:
    from pyhanko.sign.fields import SigSeedSubFilter
    from pyhanko.sign.validation import EmbeddedPdfSignature, validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    try:
        sig = value.get_object()
        if sig.get("/Type") == "/DocTimeStamp":
            return None  # a document timestamp (B-LTA), not a signature
        subfilter = sig.get("/SubFilter")
        if subfilter not in [s.value for s in SigSeedSubFilter]:
            return _unreadable(name, None, f"SubFilter {subfilter} non pris en charge")
        embedded = EmbeddedPdfSignature(reader, field, name)
        offline = ValidationContext(trust_roots=list(trust_roots), allow_fetching=False)
        status = validate_pdf_signature(
            embedded, signer_validation_context=offline, ts_validation_context=offline
        )
        return _report(name, embedded.signed_revision, status, trusting=bool(trust_roots))
    except _errors() as exc:
        log.info("signature %s unreadable: %s", name, type(exc).__name__)
        return _unreadable(name, exc)


def _errors() -> tuple[type[BaseException], ...]:
    from pyhanko.pdf_utils.misc import PdfError

    return (PdfError, *ERRORS)


def _report(name: str, revision: int, status: PdfSignatureStatus, *, trusting: bool) -> SignatureReport:
    from pyhanko.sign.diff_analysis import ModificationLevel

    cert, ts, level = status.signing_cert, status.timestamp_validity, status.modification_level
    intact, valid = bool(status.intact), bool(status.valid)
    ts_ok = None if ts is None else bool(ts.intact and ts.valid)
    modified = status.docmdp_ok is False or (level is not None and level > ModificationLevel.FORM_FILLING)
    if not (intact and valid) or ts_ok is False:
        verdict = Verdict.BROKEN
    else:
        verdict = Verdict.MODIFIED if modified else Verdict.INTACT
    trusted = bool(status.trusted) if trusting else None
    indication = status.trust_problem_indic
    return SignatureReport(
        field=name,
        verdict=verdict,
        summary=_summary(verdict, intact=intact, valid=valid, ts_ok=ts_ok, trusted=trusted),
        intact=intact,
        valid=valid,
        trusted=trusted,
        signer=cert.subject.human_friendly,
        issuer=cert.issuer.human_friendly,
        certificate_not_before=cert.not_valid_before,
        certificate_not_after=cert.not_valid_after,
        signing_time=status.signer_reported_dt,
        timestamp=ts is not None,
        timestamp_valid=ts_ok,
        timestamp_time=ts.timestamp if ts is not None else None,
        coverage=status.coverage.name.lower() if status.coverage is not None else None,
        revision=revision,
        modification_level=level.name.lower() if level is not None else None,
        docmdp_ok=status.docmdp_ok,
        problem=str(indication.standard_name) if trusting and indication is not None else None,
    )


def _summary(verdict: Verdict, *, intact: bool, valid: bool, ts_ok: bool | None, trusted: bool | None) -> str:
    if verdict is Verdict.BROKEN:
        if not intact:
            return "signature rompue : le contenu signé a été altéré depuis la signature"
        if not valid:
            return "signature invalide : la valeur de signature ne correspond pas au certificat"
        return "signature intacte, mais son horodatage est invalide"
    head = "signature intacte"
    if verdict is Verdict.MODIFIED:
        head += ", mais le document a été modifié après la signature au-delà de ce qu'elle autorise"
    timestamp = "horodatée" if ts_ok else "non horodatée"
    signer = {None: NO_TRUST_LIST, True: "signataire de confiance"}.get(
        trusted, "signataire non reconnu par la liste de confiance"
    )
    return f"{head} ; {timestamp} ; {signer}"


def _unreadable(name: str | None, exc: BaseException | None, problem: str | None = None) -> SignatureReport:
    why = problem or (f"{type(exc).__name__}: {str(exc)[:160]}" if exc is not None else "illisible")
    return SignatureReport(
        field=name, verdict=Verdict.UNREADABLE, summary=f"signature illisible ({why})", problem=why
    )


def load_trust_roots(paths: Sequence[Path]) -> tuple[x509.Certificate, ...]:
    """The certificates in PEM (one or many per file) or DER files; ConfigError when one is unreadable."""
    from asn1crypto import pem
    from asn1crypto import x509 as asn1_x509

    roots: list[asn1_x509.Certificate] = []
    for path in paths:
        try:
            data = path.read_bytes()
            ders = [der for _, _, der in pem.unarmor(data, multiple=True)] if pem.detect(data) else [data]
            certs = [asn1_x509.Certificate.load(der) for der in ders]
            for cert in certs:
                cert.native  # noqa: B018  (parse now: a bad file fails here, not half-way through)
            roots += certs
        except (OSError, ValueError, TypeError) as exc:
            raise ConfigError(f"DEMATFLOW_SIGNATURE_TRUST_ROOTS: {path} is no readable certificate") from exc
    return tuple(roots)
