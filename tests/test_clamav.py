"""The antivirus hook (issue 12): a real, private clamd whose only signature is the EICAR test file.

No virus database can be downloaded here: the signature (an .ndb body signature, so EICAR is found
anywhere in a file) and the EICAR text itself are written at test time, never kept in the repository.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli.samples import Sample
from dematflow.errors import InfectedInput, ToolFailed
from extractors import clamav
from extractors.clamav import ClamdAddress, Verdict
from pipeline import journal, lifecycle
from pipeline.context import Services, open_services
from pipeline.intake import Receipt, receive
from pipeline.records import Status
from pipeline.run import advance, process, run_stages
from pipeline.settings import Settings
from tests.api_server import Server, free_port, start_server
from tests.conftest import require, sample

# The standard 68-byte EICAR test file, in three pieces so that no scanner flags this source file.
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS" + b"-TEST-FILE!$H+H*"
SIGNATURE = "Dematflow.Test.EICAR.UNOFFICIAL"  # clamd marks a signature from an unsigned database so
STREAM_MAX = 2 * 1024 * 1024  # clamd's StreamMaxLength here: larger streams are an ERROR answer
SELLER_SIREN = "552100554"


class Clamd:
    """A private clamd (UNIX socket and TCP on 127.0.0.1) that can be stopped and started again."""

    def __init__(self, root: Path) -> None:
        assert len(EICAR) == 68
        self.root, self.port = root, free_port()
        (root / "db").mkdir()
        (root / "db" / "eicar.ndb").write_text(f"Dematflow.Test.EICAR:0:*:{EICAR.hex()}\n")
        self.unix = ClamdAddress(path=str(root / "clamd.ctl"))
        self.tcp = ClamdAddress(host="127.0.0.1", port=self.port)
        self.conf = root / "clamd.conf"
        self.conf.write_text(
            "Foreground yes\n"
            f"LocalSocket {self.unix.path}\n"
            f"TCPSocket {self.port}\nTCPAddr 127.0.0.1\n"
            f"DatabaseDirectory {root / 'db'}\n"
            f"LogFile {root / 'clamd.log'}\n"
            f"TemporaryDirectory {root}\n"
            f"StreamMaxLength {STREAM_MAX}\n"
            "SelfCheck 0\n"
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        exe = shutil.which("clamd") or "/usr/sbin/clamd"
        argv = [exe, "--config-file", str(self.conf)]
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not clamav.ping(address=self.unix, timeout=1):
            assert self.proc.poll() is None, f"private clamd exited:\n{self.log()}"
            assert time.monotonic() < deadline, f"private clamd did not answer PING:\n{self.log()}"
            time.sleep(0.1)

    def log(self) -> str:
        path = self.root / "clamd.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else "(no log)"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=20)
        self.proc = None


def clamd_installed() -> bool:
    return shutil.which("clamd") is not None or Path("/usr/sbin/clamd").is_file()


@pytest.fixture(scope="module")
def clamd() -> Iterator[Clamd]:
    require(clamd_installed(), "clamd (apt-get install clamav-daemon)")
    # A short directory: a UNIX socket's path is limited to about 100 bytes.
    root = Path(tempfile.mkdtemp(prefix="dematflow-clamd-"))
    daemon = Clamd(root)
    try:
        daemon.start()
        yield daemon
    finally:
        daemon.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def running(clamd: Clamd) -> Clamd:
    if clamd.proc is None or clamd.proc.poll() is not None:
        clamd.start()  # a test before stopped it
    return clamd


@pytest.fixture
def scanned(settings: Settings, running: Clamd) -> Services:
    return open_services(dataclasses.replace(settings, clamd=running.unix, clamd_timeout=10))


def infected_pdf(demo_set: list[Sample]) -> bytes:
    """A Factur-X invoice that would be archived, with EICAR in a comment after its end."""
    invoice = sample(demo_set, "facture-facturx")
    return invoice.path.read_bytes() + b"\n%" + EICAR + b"\n"


def test_clamd_answers_over_its_socket_and_tcp(running: Clamd) -> None:
    assert clamav.probe(address=running.unix).startswith("ClamAV ")
    assert clamav.probe(address=running.tcp) == clamav.probe(address=running.unix)
    assert clamav.scan(b"%PDF-1.7 nothing here", address=running.tcp).verdict is Verdict.CLEAN
    assert clamav.scan(b"", address=running.unix).verdict is Verdict.CLEAN


def test_eicar_is_found_across_chunk_boundaries(running: Clamd) -> None:
    # The signature straddles two 4 KiB chunks, deep inside a stream of many.
    data = b"%PDF-1.7\n" + b"0" * (64 * 1024 - 30) + EICAR + b"1" * 100_000
    result = clamav.scan(data, address=running.unix, chunk=4096)
    assert (result.verdict, result.signature) == (Verdict.INFECTED, SIGNATURE)


def test_a_stream_over_clamds_limit_is_an_error_never_clean(running: Clamd) -> None:
    result = clamav.scan(b"0" * (STREAM_MAX + 1024 * 1024), address=running.unix)
    assert result.verdict is Verdict.ERROR and "size limit" in result.answer


def test_an_unreachable_clamd_is_a_retryable_tool_failure(tmp_path: Path) -> None:
    for nowhere in (
        ClamdAddress(path=str(tmp_path / "none.ctl")),
        ClamdAddress(host="127.0.0.1", port=free_port()),
    ):
        with pytest.raises(ToolFailed, match="unreachable") as failed:
            clamav.scan(b"data", address=nowhere, timeout=2)
        assert failed.value.retryable
        assert clamav.ping(address=nowhere, timeout=1) is False
    assert not InfectedInput("x", signature="s", scanner="v").retryable


def test_an_infected_file_is_quarantined_irrecevable_irr_antivirus(
    scanned: Services, demo_set: list[Sample]
) -> None:
    # Given an invoice carrying the EICAR test string, and clamd configured
    data = infected_pdf(demo_set)
    # When it is processed
    doc = process(scanned, filename="facture.pdf", data=data).document
    # Then it is quarantined with the signature, its original kept, nothing read from it
    assert doc.status is Status.QUARANTINED and doc.reason_code == "IRR_ANTIVIRUS"
    assert doc.reason == f"fichier infecté (signature {SIGNATURE})"
    assert doc.kind is None and doc.pages is None  # never identified: no reader opened it
    assert scanned.store.get(doc.objects["original"].key) == data
    assert set(doc.objects) == {"original", "lifecycle-001"}
    status = lifecycle.current(scanned.catalogue.engine, doc.id)
    assert status is not None and (status.code, status.reason) == (501, "IRR_ANTIVIRUS")
    # ...and the journal says which scanner found what
    entries = list(journal.entries(scanned.catalogue.engine, document_id=doc.id))
    quarantined = next(e for e in entries if e.action == "quarantined").body["detail"]
    assert quarantined["antivirus"] == "infected" and quarantined["signature"] == SIGNATURE
    assert quarantined["clamd"].startswith("ClamAV ") and quarantined["reason_code"] == "IRR_ANTIVIRUS"


def test_a_clean_invoice_is_processed_as_usual_and_the_scan_journalled(
    scanned: Services, demo_set: list[Sample]
) -> None:
    invoice = sample(demo_set, "facture-facturx")
    doc = process(scanned, filename=invoice.path.name, data=invoice.path.read_bytes()).document
    assert doc.status is Status.ARCHIVED, doc.reason
    entries = list(journal.entries(scanned.catalogue.engine, document_id=doc.id))
    identified = next(e for e in entries if e.action == "identified").body
    assert identified["detail"]["antivirus"] == "clean" and identified["tools"]["clamd"].startswith("ClamAV ")


def test_without_clamd_configured_nothing_is_scanned(services: Services, demo_set: list[Sample]) -> None:
    assert services.settings.clamd is None
    doc = process(services, filename="facture.pdf", data=infected_pdf(demo_set)).document
    assert doc.status is Status.ARCHIVED  # the hook is optional: off, the EICAR comment is just a comment
    entries = list(journal.entries(services.catalogue.engine, document_id=doc.id))
    identified = next(e for e in entries if e.action == "identified").body
    assert "antivirus" not in identified["detail"] and "clamd" not in identified["tools"]


def test_clamd_down_the_document_waits_then_completes_once_it_is_back(
    scanned: Services, running: Clamd, demo_set: list[Sample]
) -> None:
    invoice = sample(demo_set, "facture-facturx")
    receipt = receive(scanned, filename=invoice.path.name, data=invoice.path.read_bytes())
    # Given clamd configured but stopped
    running.stop()
    try:
        # When ingest runs: a retryable failure, and the document has not moved (never passed as clean)
        with pytest.raises(ToolFailed, match="unreachable") as failed:
            advance(scanned, "ingest", receipt.document_id)
        assert failed.value.retryable
        waiting = scanned.catalogue.get(receipt.document_id)
        assert waiting.status is Status.RECEIVED and waiting.stage == "received"
        assert lifecycle.current(scanned.catalogue.engine, waiting.id) is None
    finally:
        # Then once clamd is back, the same document completes
        running.start()
    doc = run_stages(scanned, Receipt(receipt.document_id)).document
    assert doc.status is Status.ARCHIVED, doc.reason


def test_clamd_unable_to_scan_is_retried_then_quarantined_without_501(
    scanned: Services,
) -> None:
    from pipeline.retry import RetryPolicy

    big = b"%PDF-1.7\n" + b"0" * (STREAM_MAX + 1024)  # over clamd's StreamMaxLength, under ours
    quick = RetryPolicy(max_retries=1, min_backoff_ms=10, max_backoff_ms=10)
    doc = run_stages(scanned, receive(scanned, filename="big.pdf", data=big), quick).document
    assert doc.status is Status.QUARANTINED and doc.reason_code is None  # our failure, not the supplier's
    assert doc.reason is not None and "clamd could not scan" in doc.reason
    assert lifecycle.current(scanned.catalogue.engine, doc.id) is None


@pytest.fixture
def server(tmp_path: Path, dev_keys: Path, running: Clamd) -> Iterator[Server]:
    yield from start_server(tmp_path, dev_keys, DEMATFLOW_CLAMD=str(running.unix))


def test_a_supplier_deposit_with_a_virus_gets_501_irr_antivirus(
    server: Server, demo_set: list[Sample]
) -> None:
    server.add_account("supplier", "Fournisseur A", SELLER_SIREN, password="mot de passe solide")
    with server.client("Fournisseur A") as client:
        answer = client.post("/api/v1/documents", files={"file": ("facture.pdf", infected_pdf(demo_set))})
        assert answer.status_code == 202, answer.text
        doc = server.wait_final(client, answer.json()["id"])
    assert doc["status"] == "quarantined" and doc["reason"] == f"fichier infecté (signature {SIGNATURE})"
    status = doc["lifecycle"]
    assert isinstance(status, dict) and (status["code"], status["reason_code"]) == (501, "IRR_ANTIVIRUS")


def test_doctor_asks_clamd_when_one_is_configured(settings: Settings, running: Clamd) -> None:
    env = {**os.environ, "DEMATFLOW_DATA_DIR": str(settings.data_dir), "DEMATFLOW_CLAMD": str(running.tcp)}
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "doctor"], env=env, capture_output=True, text=True, timeout=120
    )
    assert f"clamd ({running.tcp})" in done.stdout and "ClamAV " in done.stdout, done.stdout + done.stderr
