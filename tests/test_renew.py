"""Renewal of B-LTA seals: a new archive timestamp before the last one's TSA certificate expires, kept
as a new version of the sealed object, journalled, and valid after the first TSA's certificate ended."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli.main import app
from pipeline import evidence, journal, verify_document
from pipeline.audit import verify
from pipeline.context import Services, open_services
from pipeline.renew import Outcome, default_before, renew_seals, superseded_role
from pipeline.run import process
from pipeline.settings import SealSettings, Settings
from signing import pdfsig
from signing.pades import check_last_seal
from signing.policy import SealLevel, SignerKind
from signing.renew import latest_timestamp
from storage import keys
from tests.conftest import IN_CI, make_settings
from tests.pki import Pki, lta_spec, sample_pdf, serve_pki

try:  # in the test extra; in CI a missing PKI is a failure, never a skip
    import certomancer  # noqa: F401
except ImportError:
    if IN_CI:
        pytest.fail("certomancer (the test PKI) is required in CI but is not installed")
    pytest.skip("certomancer not installed", allow_module_level=True)

TSA_DAYS = 200  # the first TSA's certificate ends well within the renewal margin (365 days)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pki]:
    server, served = serve_pki(tmp_path_factory.mktemp("pki"), tsa_days=TSA_DAYS)
    try:
        yield served
    finally:
        server.shutdown()


def _settings(pki: Pki, root: Path, dev_keys: Path, level: SealLevel = SealLevel.B_LTA) -> Settings:
    files = pki.root_pem.parent
    return make_settings(
        root,
        dev_keys,
        seal=SealSettings(signer=SignerKind.FILE, level=level),
        seal_key=files / "signer.key.pem",
        seal_cert=files / "signer.pem",
        seal_chain=(pki.root_pem,),
        tsa_url=pki.tsa_url,
    )


def _sealed(services: Services, text: str = "") -> str:
    """A PDF taken through the whole pipeline: its document id."""
    outcome = process(services, filename=f"facture{text}.pdf", data=sample_pdf(text))
    assert outcome.document.status.final and "sealed" in outcome.document.objects, outcome.document.reason
    return outcome.document.id


def _renewing(settings: Settings, pki: Pki) -> Services:
    """The same archive, its TSA now the second one (a TSA changes certificates over the years)."""
    return open_services(dataclasses.replace(settings, tsa_url=pki.next_tsa_url))


def _lta_at(pdf: bytes, pki: Pki, when: dt.datetime) -> Any:
    """PAdES-LTA validation at ``when``, offline, the PKI's root trusted; the newest TSA certificate
    taken as not revoked then (a validator would fetch that fresh proof; it cannot be in the PDF)."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import ades
    from pyhanko_certvalidator.ltv.types import ValidationTimingInfo

    reader = PdfFileReader(io.BytesIO(pdf))
    newest = reader.embedded_timestamp_signatures[-1].signer_cert
    spec = lta_spec(pki, assume_not_revoked=((newest, when),))
    timing = ValidationTimingInfo(
        validation_time=when, best_signature_time=when, point_in_time_validation=True
    )
    return asyncio.run(
        ades.ades_lta_validation(reader.embedded_signatures[0], pdf_validation_spec=spec, timing_info=timing)
    )


def test_an_expiring_b_lta_seal_gets_a_new_version_valid_after_the_first_tsa_expired(
    pki: Pki, tmp_path: Path, dev_keys: Path
) -> None:
    from pyhanko.sign.ades.report import AdESPassed

    # Given a PDF sealed at B-LTA by the pipeline, its timestamp's TSA certificate ending in 200 days
    settings = _settings(pki, tmp_path, dev_keys)
    doc_id = _sealed(open_services(settings))
    services = _renewing(settings, pki)
    first = services.catalogue.get(doc_id).objects["sealed"]
    first_bytes = services.store.get(first.key)
    stamp = latest_timestamp(first_bytes)
    assert stamp is not None and stamp.count == 1
    assert stamp.not_after < dt.datetime.now(dt.UTC) + dt.timedelta(days=TSA_DAYS + 1)

    # When the seals expiring within the default margin (a year) are renewed
    report = renew_seals(services, default_before())

    # Then the seal is renewed as a new object of the sealed role, the first kept unchanged
    [renewed] = report.of(Outcome.RENEWED)
    assert report.ok and renewed.document_id == doc_id and renewed.key == first.key
    doc = services.catalogue.get(doc_id)
    current = doc.objects["sealed"]
    assert current.key == renewed.new_key == keys.sealed_renewal(doc_id, 1)
    assert keys.role_of(current.key) is keys.Role.SEALED
    assert doc.objects[superseded_role(0)] == first
    assert services.store.get(first.key) == first_bytes and services.store.digest(first.key) == first.sha256
    data = services.store.get(current.key)
    assert data.startswith(first_bytes) and services.store.digest(current.key) == current.sha256
    assert current.retain_until == first.retain_until
    later = latest_timestamp(data)
    assert later is not None and later.count == 2 and later.tsa == "Test tsa2"
    assert later.not_after > stamp.not_after + dt.timedelta(days=365 * 40)

    # and it is journalled: the version it replaces as input, the new one as output
    last = list(journal.entries(services.catalogue.engine, document_id=doc_id))[-1]
    assert (last.stage, last.action) == ("seal", "renewed")
    assert last.body["inputs"] == {first.key: first.sha256}
    assert last.body["outputs"] == {current.key: current.sha256}
    assert last.body["detail"]["tsa"] == pki.next_tsa_url and last.body["detail"]["renewal"] == 1
    assert last.body["detail"]["expires_before"] < last.body["detail"]["expires_after"]

    # and the renewed PDF is intact for poppler and for our own verifier
    check = pdfsig.check(data)
    assert check.all_valid and check.signatures == 1 and check.timestamps == 2, check.output
    status = check_last_seal(data, [pki.root_pem])
    assert status.valid and status.whole_file and status.timestamp_valid

    # and a PAdES-LTA validation after the first TSA's certificate ended passes on the renewed PDF,
    # where the version that was not renewed no longer validates
    after_first = stamp.not_after + dt.timedelta(days=30)
    assert _lta_at(data, pki, after_first).ades_subindic == AdESPassed.OK
    assert _lta_at(first_bytes, pki, after_first).ades_subindic != AdESPassed.OK

    # and the audit finds every object, the journal and the catalogue in agreement; the auditor's
    # check of the document verifies the renewed seal; its evidence bundle holds both versions
    audited = verify(services)
    assert audited.ok, audited.problems
    checks = {c.name: c for c in verify_document.verify(services, doc_id).checks}
    assert checks["objects"].outcome is checks["seal"].outcome is verify_document.Outcome.OK, checks
    bundle = evidence.build(services, doc_id)
    assert evidence.verify(bundle).ok
    names = zipfile.ZipFile(io.BytesIO(bundle)).namelist()
    assert f"archive/{first.key}" in names and f"archive/{current.key}" in names


def test_nothing_expiring_renews_nothing_and_a_second_run_is_idempotent(
    pki: Pki, tmp_path: Path, dev_keys: Path
) -> None:
    settings = _settings(pki, tmp_path, dev_keys)
    doc_id = _sealed(open_services(settings))
    services = _renewing(settings, pki)
    # Before the margin reaches the TSA certificate's end: not due
    soon = renew_seals(services, default_before(margin_days=30))
    assert [c.outcome for c in soon.checked] == [Outcome.NOT_DUE] and soon.ok
    rows = journal.head(services.catalogue.engine)
    # Renewed once, then nothing more is due: the new timestamp's certificate runs fifty years
    assert len(renew_seals(services, default_before()).of(Outcome.RENEWED)) == 1
    again = renew_seals(services, default_before())
    assert [c.outcome for c in again.checked] == [Outcome.NOT_DUE]
    assert journal.head(services.catalogue.engine)[0] == rows[0] + 1  # the one renewal only
    assert services.catalogue.get(doc_id).objects["sealed"].key == keys.sealed_renewal(doc_id, 1)


def test_a_b_t_seal_is_reported_not_renewable(pki: Pki, tmp_path: Path, dev_keys: Path) -> None:
    settings = _settings(pki, tmp_path, dev_keys, level=SealLevel.B_T)
    doc_id = _sealed(open_services(settings))
    services = _renewing(settings, pki)
    before = services.catalogue.get(doc_id).objects["sealed"]
    report = renew_seals(services, default_before())
    [checked] = report.checked
    assert checked.outcome is Outcome.NOT_RENEWABLE and checked.document_id == doc_id
    assert not report.of(Outcome.RENEWED) and report.ok
    assert services.catalogue.get(doc_id).objects["sealed"] == before


def test_the_cli_renews_reports_as_json_and_the_audit_stays_ok(
    pki: Pki, tmp_path: Path, dev_keys: Path
) -> None:
    settings = _settings(pki, tmp_path, dev_keys)
    lta = _sealed(open_services(settings), " LTA")
    bt = _sealed(
        open_services(dataclasses.replace(settings, seal=SealSettings(SignerKind.FILE, SealLevel.B_T)))
    )
    files = pki.root_pem.parent
    env = {
        "DEMATFLOW_DATA_DIR": str(settings.data_dir),
        "DEMATFLOW_SEAL_KEY": str(files / "signer.key.pem"),
        "DEMATFLOW_SEAL_CERT": str(files / "signer.pem"),
        "DEMATFLOW_SEAL_CHAIN": str(pki.root_pem),
        "DEMATFLOW_TSA_URL": pki.next_tsa_url,
    }
    runner = CliRunner()
    done = runner.invoke(app, ["archive", "renew", "--json"], env=env)
    assert done.exit_code == 0, done.output
    lines = {(d := json.loads(line))["document_id"]: d for line in done.stdout.splitlines()}
    assert lines[lta]["outcome"] == "renewed" and lines[lta]["new_key"] == keys.sealed_renewal(lta, 1)
    assert lines[bt]["outcome"] == "not_renewable"
    # nothing is due any more; a date before both timestamps' ends renews nothing either
    again = runner.invoke(app, ["archive", "renew"], env=env)
    assert again.exit_code == 0 and "0 renewed" in again.stdout, again.output
    assert runner.invoke(app, ["archive", "renew", "--before", "2020-01-01"], env=env).exit_code == 0
    assert runner.invoke(app, ["archive", "renew", "--before", "soon"], env=env).exit_code == 7
    audited = runner.invoke(app, ["audit", "verify"], env=env)
    assert audited.exit_code == 0 and "OK" in audited.stdout, audited.output


def test_the_scheduled_actor_renews_on_the_maintenance_queue(
    pki: Pki, tmp_path: Path, dev_keys: Path
) -> None:
    from dramatiq import Worker
    from dramatiq.brokers.stub import StubBroker

    from workers.actors import MAINTENANCE, Actors

    settings = _settings(pki, tmp_path, dev_keys)
    doc_id = _sealed(open_services(settings))
    services = _renewing(settings, pki)
    broker = StubBroker()
    broker.emit_after("process_boot")
    actors = Actors(broker, lambda: services)
    assert actors.renew_seals.queue_name == MAINTENANCE
    worker = Worker(broker, worker_threads=1, worker_timeout=50)
    worker.start()
    try:
        actors.renew_seals.send()
        broker.join(MAINTENANCE, timeout=120_000)
        actors.renew_seals.send()  # idempotent: nothing is due any more
        broker.join(MAINTENANCE, timeout=120_000)
    finally:
        worker.stop()
        broker.close()
    assert services.catalogue.get(doc_id).objects["sealed"].key == keys.sealed_renewal(doc_id, 1)
    renewals = [
        e for e in journal.entries(services.catalogue.engine, document_id=doc_id) if e.action == "renewed"
    ]
    assert len(renewals) == 1


def test_a_timestamp_whose_tsa_certificate_expired_already_is_refused_not_retried(pki: Pki) -> None:
    from dematflow.errors import ConfigError, InvalidRequest
    from signing.pades import seal_pdf
    from signing.renew import LatestTimestamp, Renewer

    renewer = Renewer(
        tsa_url=pki.next_tsa_url, trust_roots=list(pki.signer.trust_roots), other_certs=pki.signer.chain
    )
    lta = seal_pdf(sample_pdf(), signer=pki.signer, tsa_url=pki.tsa_url, level=SealLevel.B_LTA).data
    expired = LatestTimestamp("Test tsa", dt.datetime(2020, 1, 1, tzinfo=dt.UTC), 1)
    with pytest.raises(InvalidRequest, match="too late"):
        renewer.renew(lta, previous=expired)
    b_t = seal_pdf(sample_pdf(), signer=pki.signer, tsa_url=pki.tsa_url, level=SealLevel.B_T).data
    with pytest.raises(ConfigError, match="not a B-LTA seal"):
        renewer.renew(b_t)
    with pytest.raises(ConfigError, match="DEMATFLOW_TSA_URL"):
        Renewer(tsa_url=None, trust_roots=())
