"""Renewal of a B-LTA seal: a new document timestamp over the PDF, with the validation information of
the previous timestamp's TSA put in the DSS first (pyHanko's ``ltaupdate``), as a new revision."""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pyhanko.pdf_utils.misc import PdfError
from pyhanko.sign.general import SigningError
from pyhanko.sign.timestamps.common_utils import TimestampRequestError
from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError, RevokedError

from dematflow.errors import ConfigError, CorruptInput, InvalidRequest, ToolFailed
from signing.cms import TSA_TIMEOUT_S

if TYPE_CHECKING:
    from asn1crypto import x509

log = logging.getLogger(__name__)

__all__ = ["LatestTimestamp", "Renewal", "Renewer", "latest_timestamp", "renew_pdf"]


@dataclass(frozen=True)
class LatestTimestamp:
    """The last document timestamp of a PDF: who stamped it and until when its certificate is valid."""

    tsa: str  # the TSA certificate's common name (or whole subject)
    not_after: datetime  # the TSA certificate's end of validity (UTC)
    count: int  # document timestamps in the PDF (1 after a B-LTA seal, +1 per renewal)


@dataclass(frozen=True)
class Renewal:
    """The renewed PDF (the previous bytes plus one revision) and its timestamps before and after."""

    data: bytes
    previous: LatestTimestamp
    current: LatestTimestamp


def latest_timestamp(pdf: bytes) -> LatestTimestamp | None:
    """The PDF's last document timestamp; None when it has none (a seal below B-LTA)."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        stamps = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_timestamp_signatures
        if not stamps:
            return None
        cert = stamps[-1].signer_cert
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        raise CorruptInput(f"sealed PDF unreadable: {_describe(exc)}") from exc
    subject = cert.subject.native
    name = str(subject.get("common_name") or cert.subject.human_friendly)
    return LatestTimestamp(tsa=name, not_after=cert.not_valid_after, count=len(stamps))


def renew_pdf(
    pdf: bytes,
    *,
    tsa_url: str | None,
    trust_roots: Sequence[x509.Certificate],
    other_certs: Sequence[x509.Certificate] = (),
) -> Renewal:
    """Renew one seal (``Renewer.renew``)."""
    return Renewer(tsa_url=tsa_url, trust_roots=trust_roots, other_certs=other_certs).renew(pdf)


class Renewer:
    """Renews seals with one TSA client and one validation context: within a run, the TSA's
    certificates and the CRLs and OCSP responses fetched for the previous TSAs are asked for once."""

    def __init__(
        self,
        *,
        tsa_url: str | None,
        trust_roots: Sequence[x509.Certificate],
        other_certs: Sequence[x509.Certificate] = (),
    ) -> None:
        from pyhanko.sign.signers import PdfTimeStamper
        from pyhanko.sign.timestamps import HTTPTimeStamper
        from pyhanko_certvalidator import ValidationContext

        if not tsa_url:
            raise ConfigError(
                "renewing a B-LTA seal needs an RFC 3161 timestamp authority (DEMATFLOW_TSA_URL)"
            )
        self.tsa_url = tsa_url
        self._stamper = PdfTimeStamper(HTTPTimeStamper(tsa_url, timeout=TSA_TIMEOUT_S))
        self._context = ValidationContext(
            trust_roots=list(trust_roots), other_certs=list(other_certs), allow_fetching=True
        )

    def renew(self, pdf: bytes, *, previous: LatestTimestamp | None = None) -> Renewal:
        """Add an archive timestamp to a B-LTA sealed ``pdf``.

        The previous document timestamp is validated now against the trust roots (OCSP responses and
        CRLs fetched from its PKI) and that proof goes into the DSS, so the chain stays verifiable
        after its TSA certificate expires. ``previous``: ``latest_timestamp(pdf)`` when the caller
        has it already. Raises ConfigError (not a B-LTA seal), InvalidRequest (that certificate has
        expired already), CorruptInput, or ToolFailed (TSA or revocation service unreachable, the
        previous timestamp not valid now)."""
        from pyhanko.pdf_utils.reader import PdfFileReader

        previous = previous or latest_timestamp(pdf)
        if previous is None:
            raise ConfigError("not a B-LTA seal: the PDF has no document timestamp to renew")
        if previous.not_after <= datetime.now(UTC):  # pyHanko can no longer validate it: no retry helps
            raise InvalidRequest(
                f"too late to renew: the certificate of the last timestamp's TSA ({previous.tsa}) "
                f"expired on {previous.not_after:%Y-%m-%d}"
            )
        out = io.BytesIO()
        try:
            reader = PdfFileReader(io.BytesIO(pdf), strict=False)
            self._stamper.update_archival_timestamp_chain(reader, self._context, in_place=False, output=out)
        except TimestampRequestError as exc:
            raise ToolFailed(f"timestamp authority unreachable or refused: {exc}") from exc
        except (RevokedError, PathBuildingError, PathValidationError, SigningError) as exc:
            raise ToolFailed(f"the previous timestamp cannot be validated now: {_describe(exc)}") from exc
        except (AttributeError, AssertionError) as exc:  # pyHanko found no validation path to embed
            raise ToolFailed(f"the previous timestamp is not valid now: {_describe(exc)}") from exc
        except (PdfError, ValueError, KeyError, TypeError) as exc:
            raise CorruptInput(f"sealed PDF cannot be renewed: {_describe(exc)}") from exc
        data = out.getvalue()
        current = latest_timestamp(data)
        if current is None or current.count != previous.count + 1:
            raise ToolFailed("pyHanko wrote no new document timestamp")
        log.info("renewed B-LTA seal: %d -> %d bytes, timestamp by %s", len(pdf), len(data), current.tsa)
        return Renewal(data=data, previous=previous, current=current)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc)[:200]}"
