"""PAdES long-term validation of a seal from what the PDF holds alone (its DSS and document timestamps):
revocation information is required for every certificate of the paths, and nothing is fetched."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from asn1crypto import x509
    from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature

log = logging.getLogger(__name__)


def long_term(signature: EmbeddedPdfSignature, roots: Sequence[x509.Certificate]) -> bool | None:
    """True: PAdES-LTA validation passes offline against ``roots``; False: it does not; None: it could
    not run (unknown, never complete)."""
    from pyhanko.sign.ades.report import AdESPassed
    from pyhanko.sign.validation import ades
    from pyhanko.sign.validation.policy_decl import (
        PdfSignatureValidationSpec,
        RevinfoOnlineFetchingRule,
        RevocationInfoGatheringSpec,
        SignatureValidationSpec,
    )
    from pyhanko_certvalidator import policy_decl
    from pyhanko_certvalidator.context import CertValidationPolicySpec
    from pyhanko_certvalidator.registry import SimpleTrustManager

    revinfo = policy_decl.CertRevTrustPolicy(
        revocation_checking_policy=policy_decl.REQUIRE_REVINFO,
        freshness_req_type=policy_decl.FreshnessReqType.MAX_DIFF_REVOCATION_VALIDATION,
    )
    policy = CertValidationPolicySpec(
        trust_manager=SimpleTrustManager.build(list(roots)), revinfo_policy=revinfo
    )
    offline = RevocationInfoGatheringSpec(online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY)
    spec = PdfSignatureValidationSpec(
        SignatureValidationSpec(cert_validation_policy=policy, revinfo_gathering_policy=offline)
    )
    try:
        result = asyncio.run(ades.ades_lta_validation(signature, pdf_validation_spec=spec))
    except Exception as exc:  # pyHanko's AdES engine raises widely: unknown, never complete
        log.warning("long-term validation could not run: %s", type(exc).__name__)
        return None
    if result.ades_subindic != AdESPassed.OK:
        log.info("long-term validation incomplete: %s", result.ades_subindic)
    return bool(result.ades_subindic == AdESPassed.OK)
