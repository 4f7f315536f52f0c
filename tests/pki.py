"""A test PKI served over HTTP by certomancer (a CA, a TSA, an OCSP responder, CRLs) for seals at
every level: shared by the seal-level and renewal tests and by the seal benchmarks."""

from __future__ import annotations

import datetime as dt
import io
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from signing.signer import SealSigner, file_signer

ARCH = "dematflow-test"
ENTITIES = ("root", "signer", "tsa", "tsa2", "ocsp")
TSA_DAYS = 365 * 50


@dataclass(frozen=True)
class Pki:
    url: str  # where certomancer answers (TSA, OCSP, CRLs)
    root_pem: Path
    signer: SealSigner

    @property
    def tsa_url(self) -> str:
        return f"{self.url}/{ARCH}/tsa/tsa"

    @property
    def next_tsa_url(self) -> str:
        """A second TSA, its certificate valid fifty years (the one a renewal moves to)."""
        return f"{self.url}/{ARCH}/tsa/tsa2"


def _iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S+0000")


def pki_config(keys: Path, url: str, *, tsa_days: int = TSA_DAYS) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)

    def valid(days: int) -> dict[str, str]:
        return {
            "valid-from": _iso(now - dt.timedelta(days=1)),
            "valid-to": _iso(now + dt.timedelta(days=days)),
        }

    usage = {"id": "key_usage", "critical": True, "smart-value": {"schema": "key-usage"}}
    crl = {
        "id": "crl_distribution_points",
        "smart-value": {"schema": "crl-dist-url", "params": {"crl-repo-names": ["root"]}},
    }
    ocsp = {
        "id": "authority_information_access",
        "smart-value": {"schema": "aia-urls", "params": {"ocsp-responder-names": ["root"]}},
    }

    def uses(*names: str) -> dict[str, Any]:
        return {**usage, "smart-value": {**usage["smart-value"], "params": list(names)}}  # type: ignore[dict-item]

    return {
        "external-url-prefix": url,
        "keysets": {
            ARCH: {"path-prefix": str(keys), "keys": {e: {"path": f"{e}.key.pem"} for e in ENTITIES}}
        },
        "pki-architectures": {
            ARCH: {
                "keyset": ARCH,
                "entity-defaults": {"country-name": "FR", "organization-name": "PKI de test dematflow"},
                "entities": {e: {"common-name": f"Test {e}"} for e in ENTITIES},
                "certs": {
                    "root": {
                        "subject": "root",
                        "issuer": "root",
                        "validity": valid(365 * 60),
                        "extensions": [
                            {"id": "basic_constraints", "critical": True, "value": {"ca": True}},
                            uses("digital_signature", "key_cert_sign", "crl_sign"),
                        ],
                    },
                    # Two years: ten years on, only the embedded proofs can show it was good when used.
                    "signer": {
                        "issuer": "root",
                        "validity": valid(730),
                        "extensions": [uses("digital_signature", "non_repudiation"), crl, ocsp],
                    },
                    "tsa": {
                        "issuer": "root",
                        "validity": valid(tsa_days),
                        "extensions": [
                            uses("digital_signature"),
                            {"id": "extended_key_usage", "critical": True, "value": ["time_stamping"]},
                            crl,
                        ],
                    },
                    "tsa2": {
                        "issuer": "root",
                        "validity": valid(365 * 50),
                        "extensions": [
                            uses("digital_signature"),
                            {"id": "extended_key_usage", "critical": True, "value": ["time_stamping"]},
                            crl,
                        ],
                    },
                    "ocsp": {
                        "issuer": "root",
                        "validity": valid(365 * 50),
                        "extensions": [
                            uses("digital_signature"),
                            {"id": "extended_key_usage", "critical": True, "value": ["ocsp_signing"]},
                            {"id": "ocsp_no_check"},
                        ],
                    },
                },
                "services": {
                    "ocsp": {"root": {"for-issuer": "root", "responder-cert": "ocsp", "signing-key": "ocsp"}},
                    "crl-repo": {
                        "root": {
                            "for-issuer": "root",
                            "signing-key": "root",
                            "simulated-update-schedule": "P30D",
                        }
                    },
                    "time-stamping": {
                        "tsa": {"signing-key": "tsa", "signing-cert": "tsa"},
                        "tsa2": {"signing-key": "tsa2", "signing-cert": "tsa2"},
                    },
                },
            }
        },
    }


def serve_pki(root: Path, *, tsa_days: int = TSA_DAYS) -> tuple[Any, Pki]:
    """Generate the PKI's keys under ``root`` and serve it on a free local port (a werkzeug server,
    already serving in a daemon thread: ``server.shutdown()`` stops it). The first TSA's certificate
    is valid ``tsa_days`` from yesterday."""
    from certomancer.integrations.animator import Animator, AnimatorArchStore
    from certomancer.registry import ArchLabel, CertLabel, CertomancerConfig
    from werkzeug.serving import make_server

    for entity in ENTITIES:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        (root / f"{entity}.key.pem").write_bytes(pem)
    app: dict[str, Callable[..., Any]] = {}
    server = make_server("127.0.0.1", 0, lambda env, start: app["wsgi"](env, start), threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    config = CertomancerConfig(pki_config(root, url, tsa_days=tsa_days), key_search_dir=str(root))
    app["wsgi"] = Animator(AnimatorArchStore(config.pki_archs), with_web_ui=False)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    arch = config.get_pki_arch(ArchLabel(ARCH))
    for name in ("root", "signer"):
        cert = arch.get_cert(CertLabel(name))
        (root / f"{name}.pem").write_bytes(armor(cert.dump()))
    signer = file_signer(root / "signer.key.pem", root / "signer.pem", (root / "root.pem",))
    return server, Pki(url, root / "root.pem", signer)


def armor(der: bytes) -> bytes:
    from asn1crypto import pem

    return bytes(pem.armor("CERTIFICATE", der))


def sample_pdf(extra: str = "") -> bytes:
    """A one-page PDF; ``extra`` is written under the first line (different bytes, another document)."""
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    page = canvas.Canvas(buf)
    page.drawString(72, 720, "Facture 2024-042 - archivée dix ans")
    if extra:
        page.drawString(72, 700, extra)
    page.save()
    return buf.getvalue()


def lta_spec(pki: Pki, *, assume_not_revoked: tuple[Any, ...] = ()) -> Any:
    """PAdES validation trusting the PKI's root only, revocation information required.
    ``assume_not_revoked``: (certificate, at) pairs a future validator would have fresh proof for."""
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.sign.validation.policy_decl import (
        LocalKnowledge,
        PdfSignatureValidationSpec,
        SignatureValidationSpec,
    )
    from pyhanko_certvalidator import policy_decl
    from pyhanko_certvalidator.context import CertValidationPolicySpec
    from pyhanko_certvalidator.policy_decl import NonRevokedStatusAssertion
    from pyhanko_certvalidator.registry import SimpleTrustManager

    revinfo = policy_decl.CertRevTrustPolicy(
        revocation_checking_policy=policy_decl.REQUIRE_REVINFO,
        freshness_req_type=policy_decl.FreshnessReqType.MAX_DIFF_REVOCATION_VALIDATION,
    )
    trust = SimpleTrustManager.build([load_cert_from_pemder(str(pki.root_pem))])
    policy = CertValidationPolicySpec(trust_manager=trust, revinfo_policy=revinfo)
    known = LocalKnowledge(
        nonrevoked_assertions=[NonRevokedStatusAssertion(c.sha256, at) for c, at in assume_not_revoked]
    )
    return PdfSignatureValidationSpec(
        SignatureValidationSpec(cert_validation_policy=policy, local_knowledge=known)
    )
