"""CMS layer shared by both seals: signer and timestamper choice, detached CAdES for XML."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from asn1crypto import cms
from pyhanko.sign.timestamps import HTTPTimeStamper, TimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError
from pyhanko.sign.validation.generic_cms import async_validate_detached_cms
from pyhanko_certvalidator import ValidationContext

from dematflow.errors import ConfigError, ToolFailed
from signing.credentials import SealCredentials
from signing.policy import SealLevel
from signing.signer import SealSigner, from_credentials

log = logging.getLogger(__name__)

DIGEST = "sha256"
TSA_TIMEOUT_S = 30


@dataclass(frozen=True)
class Sealed:
    """A sealed document (a PDF, or DER CMS bytes for a detached seal) and how it was sealed.

    ``signed_at`` is the local clock just before signing; the timestamp token, when present,
    carries the TSA's own time. ``development`` is True when a development key or TSA was used.
    """

    data: bytes
    signer: str
    signed_at: datetime
    timestamped: bool
    development: bool
    level: str


def seal_detached(
    data: bytes,
    *,
    signer: SealSigner | None = None,
    credentials: SealCredentials | None = None,
    tsa_url: str | None = None,
    level: SealLevel | None = None,
) -> Sealed:
    """Make a detached CAdES signature (DER) over ``data``; timestamped as ``seal_pdf`` is.

    A detached CAdES stops at B-T: B-LT and B-LTA are asked of the PDF seals only (the XML's
    long-term proof is the day seal of the journal row that fingerprints it)."""
    seal = resolve_signer(signer, credentials)
    capped = SealLevel.B_T if level is not None and level.long_term else level
    timestamper = choose_timestamper(seal, tsa_url=tsa_url, level=capped)
    signed_at = datetime.now(UTC)
    try:
        content_info = asyncio.run(
            seal.signer.async_sign_general_data(
                data, DIGEST, detached=True, use_cades=True, timestamper=timestamper
            )
        )
    except TimestampRequestError as exc:
        raise ToolFailed(f"timestamp authority unreachable or refused: {exc}") from exc
    return Sealed(
        data=content_info.dump(),
        signer=seal.name,
        signed_at=signed_at,
        timestamped=timestamper is not None,
        development=is_development(seal, timestamper),
        level="CAdES-B-T" if timestamper is not None else "CAdES-B-B",
    )


def verify_detached(data: bytes, signature: bytes) -> bool:
    """True when ``signature`` is an intact, cryptographically valid CMS signature of ``data``.

    Certificate trust is not checked (a development seal is untrusted by design); an
    embedded timestamp must be intact too; an unparseable signature counts as not valid.
    """
    try:
        content_info = cms.ContentInfo.load(signature)
        if content_info["content_type"].native != "signed_data":
            return False
        # No trust roots and no fetching: integrity only, offline, whatever the host trusts.
        context = ValidationContext(trust_roots=[], allow_fetching=False)
        status = asyncio.run(
            async_validate_detached_cms(
                data,
                content_info["content"],
                signer_validation_context=context,
                ts_validation_context=context,
            )
        )
    except (ValueError, TypeError, KeyError) as exc:
        log.warning("detached signature unreadable: %s", type(exc).__name__)
        return False
    ts = status.timestamp_validity
    ts_ok = ts is None or (ts.intact and ts.valid)
    return bool(status.intact and status.valid and ts_ok)


def resolve_signer(signer: SealSigner | None, credentials: SealCredentials | None) -> SealSigner:
    """The signer given, or one built from key files (the older ``credentials=`` calling style)."""
    if signer is not None:
        return signer
    if credentials is None:
        raise ConfigError("a seal needs a signer")
    return from_credentials(credentials)


def choose_timestamper(
    signer: SealSigner, *, tsa_url: str | None, level: SealLevel | None = None
) -> TimeStamper | None:
    """The RFC 3161 TSA at ``tsa_url``; without one, the development TSA for a development seal at B-T
    or the default level. ``level=None`` (the default): B-T when a TSA is at hand, else B-B."""
    if level is SealLevel.B_B:
        return None
    if tsa_url:
        return HTTPTimeStamper(tsa_url, timeout=TSA_TIMEOUT_S)
    if level in (None, SealLevel.B_T) and signer.dev_timestamper is not None:
        return signer.dev_timestamper
    if level is None:
        return None
    raise ConfigError(
        f"le niveau de cachet {level.value} demande une autorité d'horodatage RFC 3161 (DEMATFLOW_TSA_URL)"
    )


def is_development(signer: SealSigner, timestamper: TimeStamper | None) -> bool:
    """A development key, or the in-process development TSA, makes a development seal."""
    return signer.development or (timestamper is not None and timestamper is signer.dev_timestamper)
