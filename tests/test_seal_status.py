"""The bottom line of every kept seal: a development seal through the pipeline (intact, trusted,
timestamped, LTV incomplete), the CAdES of an XML, a tampered sealed copy named by ``audit verify
--signatures``, other trust roots (intact, not trusted), and B-LTA on the certomancer PKI (all four)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli.samples import Sample, cii_xml, demo_invoices
from pipeline import audit_seals
from pipeline.context import Services, open_services
from pipeline.run import process
from signing.credentials import ROOT_CERT, ensure_dev_credentials
from signing.pades import seal_pdf
from signing.policy import SealLevel
from signing.seal_status import BottomLine, Verdict, check_pdf
from tests.conftest import make_settings, sample
from tests.test_cli import dematflow

YES, NO = Verdict.YES, Verdict.NO


def _sealed_report(services: Services, data: bytes, name: str) -> audit_seals.KeptSeal:
    doc = process(services, filename=name, data=data).document
    kept = audit_seals.check(services, doc)
    assert kept is not None
    return kept


def test_a_development_seal_is_intact_trusted_timestamped_not_ltv(
    services: Services, demo_set: list[Sample]
) -> None:
    # Given a PDF sealed by the embedded pipeline with the development key and TSA
    s = sample(demo_set, "facture-FA")
    kept = _sealed_report(services, s.path.read_bytes(), s.path.name)
    # Then its seal holds up to the timestamp; a B-T seal has no DSS, so LTV is not complete
    report = kept.report
    assert (report.form, report.intact, report.trusted, report.timestamped, report.ltv) == (
        "PAdES", YES, YES, YES, NO
    )  # fmt: skip
    assert report.bottom_line is BottomLine.TIMESTAMPED and report.ok
    assert report.problems == () and "no_dss" in report.notes
    assert report.signer and "DEVELOPMENT" in report.signer


def test_the_cades_of_an_xml_is_intact_trusted_timestamped_ltv_not_applicable(services: Services) -> None:
    kept = _sealed_report(services, cii_xml(demo_invoices()[0]), "facture.xml")
    report = kept.report
    assert kept.key.endswith(".p7s") and report.form == "CAdES"
    assert (report.intact, report.trusted, report.timestamped) == (YES, YES, YES)
    assert report.ltv is Verdict.NOT_APPLICABLE and report.bottom_line is BottomLine.TIMESTAMPED


def test_a_tampered_sealed_copy_is_named_not_intact_and_fails_the_command(
    tmp_path: Path, dev_keys: Path, demo_set: list[Sample]
) -> None:
    settings = make_settings(tmp_path, dev_keys)
    services = open_services(settings)
    intact = sample(demo_set, "facture-facturx")
    process(services, filename=intact.path.name, data=intact.path.read_bytes())
    s = sample(demo_set, "facture-FA")
    doc = process(services, filename=s.path.name, data=s.path.read_bytes()).document
    ok = dematflow(settings.data_dir, "audit", "verify", "--signatures")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "seals: OK" in ok.stdout and "2 timestamped" in ok.stdout
    # Given one byte of a sealed PDF changed in the filesystem archive, outside dematflow
    key = doc.objects["sealed"].key
    path = settings.archive_dir / key
    os.chmod(path, 0o600)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    # When every seal is validated
    done = dematflow(settings.data_dir, "audit", "verify", "--signatures")
    # Then that document's seal is named not intact, the other still counted, and the command fails
    assert done.returncode == 1
    out = " ".join(done.stdout.split())
    assert doc.id in done.stdout and "NOT INTACT" in done.stdout, done.stdout
    assert "1 timestamped" in out and "1 NOT INTACT" in out
    assert audit_seals.check(services, doc).report.intact is NO  # type: ignore[union-attr]


def test_other_trust_roots_leave_the_seal_intact_but_not_trusted(
    tmp_path: Path, dev_keys: Path, demo_set: list[Sample]
) -> None:
    # Given trust roots that are not our seal's (another development root)
    other = ensure_dev_credentials(tmp_path / "other-keys")
    settings = make_settings(tmp_path, dev_keys, seal_trust_roots=(other.chain_paths[0],))
    assert settings.seal_trust_roots[0].name == ROOT_CERT
    services = open_services(settings)
    s = sample(demo_set, "facture-FA")
    report = _sealed_report(services, s.path.read_bytes(), s.path.name).report
    # Then the seal is intact, yet neither it nor its timestamp chains to a trusted root
    assert report.intact is YES and report.trusted is NO and report.timestamped is NO
    assert "signer_untrusted" in report.problems and not report.ok
    assert report.bottom_line is BottomLine.INTACT


def test_the_setting_is_read_from_the_environment(tmp_path: Path) -> None:
    from pipeline.settings import Settings

    env = {"DEMATFLOW_DATA_DIR": str(tmp_path), "DEMATFLOW_SEAL_TRUST_ROOTS": f"/a.pem{os.pathsep}/b.pem"}
    assert Settings.from_env(env).seal_trust_roots == (Path("/a.pem"), Path("/b.pem"))
    assert Settings.from_env({"DEMATFLOW_DATA_DIR": str(tmp_path)}).seal_trust_roots == ()


# --- B-LTA on the certomancer PKI (its fixtures are the seal-level tests') ----------------------------


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from tests.test_seal_levels import serve_pki

    server, served = serve_pki(tmp_path_factory.mktemp("pki"))
    try:
        yield served
    finally:
        server.shutdown()


def test_b_lta_is_intact_trusted_timestamped_and_ltv_complete(pki: object) -> None:
    from pyhanko.keys import load_cert_from_pemder

    from tests.test_seal_levels import Pki, _pdf

    assert isinstance(pki, Pki)
    root = load_cert_from_pemder(str(pki.root_pem))
    sealed = seal_pdf(_pdf(), signer=pki.signer, tsa_url=pki.tsa_url, level=SealLevel.B_LTA)
    report = check_pdf(sealed.data, trust_roots=[root])
    assert [v for _, v in report.parts] == [YES, YES, YES, YES], report
    assert report.bottom_line is BottomLine.LTV_COMPLETE and report.ok
    # B-T on the same PKI: no DSS, so long-term validation is incomplete
    plain = seal_pdf(_pdf(), signer=pki.signer, tsa_url=pki.tsa_url, level=SealLevel.B_T)
    assert check_pdf(plain.data, trust_roots=[root]).bottom_line is BottomLine.TIMESTAMPED
