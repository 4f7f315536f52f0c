"""Seal levels B-B … B-LTA against a test PKI served over HTTP by certomancer (TSA, OCSP, CRLs)."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dematflow.errors import ConfigError
from pipeline.daycheck import seal_facts
from signing import pdfsig
from signing.cms import seal_detached
from signing.credentials import ensure_dev_credentials
from signing.pades import check_last_seal, seal_pdf
from signing.policy import SealLevel
from signing.signer import development_signer
from tests.conftest import IN_CI, require
from tests.pki import Pki, serve_pki
from tests.pki import lta_spec as _spec
from tests.pki import sample_pdf as _pdf

try:  # in the test extra; in CI a missing PKI is a failure, never a skip (tests.conftest.require)
    import certomancer  # noqa: F401
except ImportError:
    if IN_CI:
        pytest.fail("certomancer (the test PKI) is required in CI but is not installed")
    pytest.skip("certomancer not installed", allow_module_level=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pki]:
    server, served = serve_pki(tmp_path_factory.mktemp("pki"))
    try:
        yield served
    finally:
        server.shutdown()


def _embedded(pdf: bytes) -> Any:
    from pyhanko.pdf_utils.reader import PdfFileReader

    return PdfFileReader(io.BytesIO(pdf))


@pytest.mark.parametrize("level", list(SealLevel))
def test_each_level_seals_and_pdfsig_finds_it_intact(pki: Pki, level: SealLevel) -> None:
    sealed = seal_pdf(_pdf(), signer=pki.signer, tsa_url=pki.tsa_url, level=level)
    assert sealed.level == f"PAdES-{level.value}" and sealed.timestamped is level.timestamped
    assert not sealed.development
    check = pdfsig.check(sealed.data)
    reader = _embedded(sealed.data)
    # pdfsig lists the document timestamp of B-LTA too, but cannot verify that kind
    assert check.all_valid and check.signatures == 1, check.output
    assert check.timestamps == (1 if level is SealLevel.B_LTA else 0)
    assert ("/DSS" in reader.root) is level.long_term
    assert len(reader.embedded_timestamp_signatures) == (1 if level is SealLevel.B_LTA else 0)


def test_b_lta_validates_now_and_ten_years_ahead(pki: Pki) -> None:
    from pyhanko.sign.ades.report import AdESPassed
    from pyhanko.sign.validation import ades

    # Given a PDF sealed at B-LTA: timestamp, DSS (OCSP + CRL fetched over HTTP), document timestamp
    sealed = seal_pdf(_pdf(), signer=pki.signer, tsa_url=pki.tsa_url, level=SealLevel.B_LTA)
    signature = _embedded(sealed.data).embedded_signatures[0]
    # (our own verifier accepts the DSS and document timestamp added after the seal)
    status = check_last_seal(sealed.data, [pki.root_pem])
    assert status.valid and status.whole_file and status.timestamp_valid
    # When it is validated as PAdES-LTA today
    now = asyncio.run(ades.ades_lta_validation(signature, pdf_validation_spec=_spec(pki)))
    assert now.ades_subindic == AdESPassed.OK, now.failure_msg
    # and ten years on, its seal certificate long expired, the PKI offline (no fetching), the archive
    # having kept its timestamp chain up (pyHanko simulates that maintenance)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=3653)
    future = asyncio.run(
        ades.simulate_future_ades_lta_validation(
            signature, pdf_validation_spec=_spec(pki), future_validation_time=later
        )
    )
    # Then both validations pass, and the signature's time is the TSA's, not the validator's
    assert future.ades_subindic == AdESPassed.OK, future.failure_msg
    assert future.best_signature_time is not None and future.best_signature_time < later


def test_b_t_without_a_revocation_proof_is_not_maintainable(pki: Pki) -> None:
    from pyhanko.sign.ades.report import AdESStatus
    from pyhanko.sign.validation import ades

    sealed = seal_pdf(_pdf(), signer=pki.signer, tsa_url=pki.tsa_url, level=SealLevel.B_T)
    signature = _embedded(sealed.data).embedded_signatures[0]
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=3653)
    future = asyncio.run(
        ades.simulate_future_ades_lta_validation(
            signature, pdf_validation_spec=_spec(pki), future_validation_time=later
        )
    )
    assert future.ades_subindic.status is AdESStatus.INDETERMINATE


def test_the_xml_cades_reaches_b_t_and_openssl_verifies_it(pki: Pki, tmp_path: Path) -> None:
    require(shutil.which("openssl") is not None, "openssl")
    xml = b"<?xml version='1.0'?><Invoice><ID>F-2024-042</ID></Invoice>"
    sealed = seal_detached(xml, signer=pki.signer, tsa_url=pki.tsa_url, level=SealLevel.B_LTA)
    assert sealed.level == "CAdES-B-T" and sealed.timestamped
    assert seal_facts(sealed.data).timestamp is not None
    (tmp_path / "invoice.xml").write_bytes(xml)
    (tmp_path / "invoice.p7s").write_bytes(sealed.data)
    verify = [
        "openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", "invoice.p7s",
        "-content", "invoice.xml", "-CAfile", str(pki.root_pem), "-purpose", "any", "-out", "/dev/null",
    ]  # fmt: skip
    done = subprocess.run(verify, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_long_term_levels_need_a_real_tsa_and_pki(tmp_path: Path) -> None:
    dev = development_signer(tmp_path / "keys")
    with pytest.raises(ConfigError, match="B-LT"):
        seal_pdf(_pdf(), signer=dev, level=SealLevel.B_LT)
    # the default stays today's: B-T with the development TSA, labelled development
    sealed = seal_pdf(_pdf(), signer=dev)
    assert sealed.level == "PAdES-B-T" and sealed.development
    assert seal_pdf(
        _pdf(), credentials=ensure_dev_credentials(tmp_path / "keys"), level=SealLevel.B_B
    ).level == ("PAdES-B-B")
