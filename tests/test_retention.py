"""Retention per class, legal holds and deletion after retention, on the embedded (filesystem) archive."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from dematflow.errors import ArchiveRefused, ConfigError, Forbidden, InvalidRequest
from extractors.results import DocType
from pipeline import accounts, audit, disposal, journal, retention
from pipeline.context import Services
from pipeline.records import Document, Event, StageResult, Status, utcnow
from pipeline.replay import fields_digest
from pipeline.settings import RetentionSettings, S3Settings, Settings
from storage import keys
from storage.memory import MemoryStore

POLICY = RetentionSettings()


def doc_of(doc_type: DocType | None, *, received: str = "2026-03-05", issued: str | None = None) -> Document:
    fields = {"BT-2": issued} if issued else {}
    return Document(
        "d1", "0" * 64, "f.pdf", 1, f"{received}T10:00:00+00:00", doc_type=doc_type, fields=fields
    )


def test_invoices_are_kept_ten_years_from_the_close_of_the_financial_year_of_their_issue() -> None:
    invoice = doc_of(DocType.INVOICE, received="2027-01-10", issued="2026-12-20")
    assert retention.for_document(POLICY, invoice) == datetime(2037, 1, 1, tzinfo=UTC)
    credit = doc_of(DocType.CREDIT_NOTE, received="2026-03-05")  # no BT-2: the year of receipt
    assert retention.for_document(POLICY, credit) == datetime(2037, 1, 1, tzinfo=UTC)
    future = doc_of(DocType.INVOICE, received="2026-03-05", issued="2031-01-01")  # a misread date
    assert retention.for_document(POLICY, future) == datetime(2037, 1, 1, tzinfo=UTC)


def test_a_financial_year_closing_on_30_june() -> None:
    june = RetentionSettings(year_end=(6, 30))
    assert retention.financial_year_close(date(2026, 8, 1), june) == date(2027, 6, 30)
    invoice = doc_of(DocType.INVOICE, issued="2026-03-05")
    assert retention.for_document(june, invoice) == datetime(2036, 7, 1, tzinfo=UTC)


def test_personal_documents_get_the_short_configurable_period() -> None:
    for kind in (DocType.IDENTITY_DOCUMENT, DocType.PROOF_OF_ADDRESS, DocType.TAX_NOTICE):
        assert retention.for_document(POLICY, doc_of(kind)) == datetime(2026, 9, 2, tzinfo=UTC)  # 180 days
    short = RetentionSettings(personal_days=30)
    assert retention.for_document(short, doc_of(DocType.IDENTITY_DOCUMENT)) == datetime(
        2026, 4, 5, tzinfo=UTC
    )
    env = {"DEMATFLOW_RETENTION_PERSONAL_DAYS": "30", "DEMATFLOW_RETENTION_YEAR_END": "06-30"}
    assert Settings.from_env(env).retention == RetentionSettings(30, (6, 30))
    with pytest.raises(ConfigError, match="DEMATFLOW_RETENTION_YEAR_END"):
        Settings.from_env({"DEMATFLOW_RETENTION_YEAR_END": "13-01"})


def test_unknown_classes_anchors_and_originals_get_the_longest_period() -> None:
    longest = retention.longest(POLICY, datetime(2026, 3, 5, tzinfo=UTC))
    assert longest == datetime(2037, 1, 1, tzinfo=UTC)
    assert retention.for_document(POLICY, doc_of(None)) == longest
    assert retention.for_document(POLICY, doc_of(DocType.OTHER)) == longest
    assert retention.for_document(POLICY, doc_of(DocType.BANK_DETAILS)) == longest
    identity = doc_of(DocType.IDENTITY_DOCUMENT)
    assert retention.until(POLICY, identity, keys.anchor(7)) == retention.longest(POLICY)
    assert retention.until(POLICY, None, keys.original("ab")) == retention.longest(POLICY)


def test_every_key_has_a_role_and_the_strings_are_those_of_earlier_archives() -> None:
    built = {
        keys.original("ab"): "originals/ab",
        keys.einvoice("d"): "einvoices/d.xml",
        keys.capture("d"): "captures/d.json",
        keys.searchable("d"): "renditions/d-searchable.pdf",
        keys.sealed("d", xml=False): "sealed/d.pdf",
        keys.sealed("d", xml=True): "sealed/d.p7s",
        keys.data("d"): "data/d.json",
        keys.report("d"): "reports/d.json",
        keys.facturx("d"): "facturx/d.pdf",
        keys.lifecycle("d", 2, 204): "lifecycle/d/002-204.xml",
        keys.anchor(12): "journal/anchors/000000000012.json",
        keys.day_segment("2026-12-01"): "journal/days/2026-12-01.jsonl",
    }
    assert list(built) == list(built.values())
    assert {keys.role_of(k) for k in built} == set(keys.Role)
    assert keys.content_type("sealed/d.pdf") == "application/pdf"
    with pytest.raises(ValueError):
        keys.role_of("elsewhere/x")


def test_s3_settings_are_all_or_nothing() -> None:
    assert Settings.from_env({}).s3 is None
    with pytest.raises(ConfigError, match="DEMATFLOW_S3_SECRET_KEY"):
        Settings.from_env({"DEMATFLOW_S3_ENDPOINT": "minio:9000", "DEMATFLOW_S3_BUCKET": "b",
                           "DEMATFLOW_S3_ACCESS_KEY": "k"})  # fmt: skip
    env = {
        "DEMATFLOW_S3_ENDPOINT": "http://minio:9000/",
        "DEMATFLOW_S3_BUCKET": "archive",
        "DEMATFLOW_S3_ACCESS_KEY": "k",
        "DEMATFLOW_S3_SECRET_KEY": "hush-hush",
        "DEMATFLOW_S3_SECURE": "false",
    }
    s3 = Settings.from_env(env).s3
    assert s3 == S3Settings("minio:9000", "archive", "k", "hush-hush", None, False)
    assert "hush-hush" not in repr(s3)  # the secret never lands in a log line or a traceback
    with pytest.raises(ConfigError, match="DEMATFLOW_S3_SECURE"):
        Settings.from_env({**env, "DEMATFLOW_S3_SECURE": "maybe"})


def test_memory_store_records_retention_extends_it_never_shortens_and_holds() -> None:
    store = MemoryStore()
    until = datetime(2030, 1, 1, tzinfo=UTC)
    obj = store.put("data/x.json", b"{}", retain_until=until, content_type="application/json")
    assert obj.retain_until == "2030-01-01T00:00:00+00:00" and obj.legal_hold is False
    assert store.extend_retention("data/x.json", until - timedelta(days=1)).retain_until == obj.retain_until
    assert store.extend_retention("data/x.json", until + timedelta(days=1)).retain_until.startswith(
        "2030-01-02"
    )
    store.set_legal_hold("data/x.json", True)
    with pytest.raises(ArchiveRefused, match="conservation judiciaire"):
        store.delete("data/x.json")


def _admins(services: Services) -> None:
    for name in ("alice", "bob"):
        accounts.add(services.catalogue.engine, role=accounts.Role.ADMIN, name=name)


def _personal_document(services: Services, seconds: float) -> Document:
    until = datetime.now(UTC) + timedelta(seconds=seconds)
    doc = Document(uuid.uuid4().hex, "", "justificatif.pdf", 2, utcnow(), doc_type=DocType.PROOF_OF_ADDRESS,
                   status=Status.ARCHIVED)  # fmt: skip
    obj = services.store.put(keys.original(doc.id), b"jd", retain_until=until)
    doc = doc.evolve(sha256=obj.sha256, objects={"original": obj})
    # the journal tells the same story as the catalogue (audit verify replays one against the other)
    received = {"filename": doc.filename, "size": doc.size, "tenant": doc.tenant, "account": None}
    services.catalogue.create(
        StageResult(
            doc.evolve(status=Status.RECEIVED),
            Event("ingest", "received", doc.id, outputs={obj.key: obj.sha256}, detail=received),
        )
    )
    services.catalogue.record(Event("classify", "classified", doc.id, detail={"doc_type": doc.doc_type}))
    archived = {"status": "archived", "reason": None, "fields_sha256": fields_digest(doc.fields)}
    services.catalogue.amend(StageResult(doc, Event("archive", "archived", doc.id, detail=archived)))
    return doc


def test_deletion_on_the_filesystem_archive_needs_two_admins_and_leaves_a_tombstone(
    services: Services,
) -> None:
    _admins(services)
    doc = _personal_document(services, 1.5)
    with pytest.raises(ArchiveRefused, match="conservé jusqu'au"):
        disposal.request_deletion(services, doc.id, by="alice")
    with pytest.raises(Forbidden):
        accounts.add(services.catalogue.engine, role=accounts.Role.AGENT, name="agent")
        disposal.request_deletion(services, doc.id, by="agent")
    time.sleep(1.6)
    assert [e.document_id for e in disposal.expiring(services, datetime.now(UTC))] == [doc.id]
    with pytest.raises(InvalidRequest, match="aucune demande"):
        disposal.approve_deletion(services, doc.id, by="bob")
    disposal.request_deletion(services, doc.id, by="alice", reason="RGPD")
    with pytest.raises(Forbidden):
        disposal.approve_deletion(services, doc.id, by="alice")
    tomb = disposal.approve_deletion(services, doc.id, by="bob")
    assert tomb.deleted == {doc.objects["original"].key: doc.sha256}
    assert not services.store.exists(doc.objects["original"].key)
    assert services.catalogue.get(doc.id).objects == {}
    result = audit.verify(services)
    assert result.ok, result.problems


def test_the_cli_holds_lists_what_expires_and_deletes(services: Services, settings: Settings) -> None:
    _admins(services)
    doc = _personal_document(services, 1.0)
    runner = CliRunner()
    env = {"DEMATFLOW_DATA_DIR": str(settings.data_dir)}

    def run(*args: str) -> str:
        result = runner.invoke(app, list(args), env=env)
        assert result.exit_code == 0, result.output
        return result.output

    run("archive", "hold", doc.id, "--by", "alice", "--reason", "litige")
    held = runner.invoke(app, ["archive", "delete-request", doc.id, "--by", "alice"], env=env)
    assert held.exit_code == 4 and "conservation judiciaire" in held.output
    run("archive", "release", doc.id, "--by", "alice", "--reason", "litige clos")
    time.sleep(1.1)
    listed = [json.loads(line) for line in run("archive", "expiring", "--json").splitlines()]
    assert [e["document_id"] for e in listed] == [doc.id]
    assert run("archive", "expiring", "--before", "2000-01-01", "--json") == ""
    run("archive", "delete-request", doc.id, "--by", "alice")
    run("archive", "delete-approve", doc.id, "--by", "bob")
    actions = [e.action for e in journal.entries(services.catalogue.engine, document_id=doc.id)]
    assert actions[-4:] == ["legal-hold", "legal-hold-released", "delete-requested", "deleted"]
    assert Path(settings.archive_dir).is_dir()


def test_a_process_that_never_uses_s3_never_imports_minio(tmp_path: Path) -> None:
    code = (
        "import sys, cli.main, pipeline.run, pipeline.migrate\n"
        "from pipeline.context import open_store\n"
        "from pipeline.settings import Settings\n"
        "open_store(Settings.from_env({'DEMATFLOW_DATA_DIR': sys.argv[1]}))\n"
        "assert 'minio' not in sys.modules, 'minio imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True)
    assert done.returncode == 0, done.stderr.decode()
