"""The S3 archive against a real S3 server with Object Lock (SeaweedFS started on free ports).

What matters is proved with the raw minio client, bypassing dematflow: the server itself refuses to
delete or alter a locked version, and the retention dates are read back from the server.
"""

from __future__ import annotations

import dataclasses
import io
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from minio import Minio
from minio.commonconfig import COMPLIANCE
from minio.error import S3Error
from minio.retention import Retention

from cli.samples import Sample
from dematflow.errors import ArchiveConflict, ArchiveRefused, ConfigError, Forbidden, NotFound
from extractors.results import DocType
from pipeline import accounts, audit, disposal, journal, retention
from pipeline.context import Services, open_services
from pipeline.records import Document, Event, StageResult, Status, utcnow
from pipeline.replay import fields_digest
from pipeline.run import process
from pipeline.settings import Settings
from storage import keys
from storage.base import sha256_hex
from storage.s3 import S3Store
from tests.conftest import sample
from tests.s3_server import S3Server, s3_server, s3_settings

__all__ = ["s3_server"]  # the session fixture, imported so pytest finds it


def raw(server: S3Server) -> Minio:
    return Minio(server.endpoint, server.access_key, server.secret_key, secure=False, region="us-east-1")


@pytest.fixture
def bucket() -> str:
    return f"dematflow-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def s3(s3_server: S3Server, bucket: str) -> S3Store:
    c = s3_settings(s3_server, bucket)
    return S3Store(endpoint=c.endpoint, bucket=bucket, access_key=c.access_key, secret_key=c.secret_key,
                   region=c.region, secure=False)  # fmt: skip


@pytest.fixture
def s3_services(settings: Settings, s3_server: S3Server, bucket: str) -> Services:
    return open_services(dataclasses.replace(settings, s3=s3_settings(s3_server, bucket)))


def in_a_day() -> datetime:
    return datetime.now(UTC) + timedelta(days=1)


def test_the_bucket_is_created_with_object_lock_and_versioning(s3: S3Store, s3_server: S3Server) -> None:
    client = raw(s3_server)
    assert client.get_bucket_versioning(s3.bucket).status == "Enabled"
    client.get_object_lock_config(s3.bucket)  # raises on a bucket without Object Lock


def test_digest_streams_the_first_version(s3: S3Store) -> None:
    data = bytes(range(256)) * 9000
    s3.put("big/1", data, retain_until=in_a_day())
    assert s3.digest("big/1") == sha256_hex(data)
    with pytest.raises(NotFound):
        s3.digest("big/none")


def test_a_bucket_without_object_lock_is_refused(s3_server: S3Server, bucket: str) -> None:
    raw(s3_server).make_bucket(bucket)  # no Object Lock
    c = s3_settings(s3_server, bucket)
    with pytest.raises(ConfigError, match="no Object Lock"):
        S3Store(endpoint=c.endpoint, bucket=bucket, access_key=c.access_key, secret_key=c.secret_key,
                secure=False)  # fmt: skip


def test_identical_bytes_are_a_no_op_and_different_bytes_are_refused(
    s3: S3Store, s3_server: S3Server
) -> None:
    first = s3.put("data/x.json", b"{}", retain_until=in_a_day(), content_type="application/json")
    again = s3.put("data/x.json", b"{}", retain_until=in_a_day())
    assert again.version_id == first.version_id and again.sha256 == first.sha256
    with pytest.raises(ArchiveConflict):
        s3.put("data/x.json", b"{ }")
    versions = list(raw(s3_server).list_objects(s3.bucket, prefix="data/x.json", include_version=True))
    assert len(versions) == 1 and s3.get("data/x.json") == b"{}"
    assert s3.stat("data/x.json").content_type == "application/json"


def test_the_server_refuses_to_delete_or_alter_a_locked_version(s3: S3Store, s3_server: S3Server) -> None:
    obj = s3.put("originals/abc", b"original bytes", retain_until=in_a_day())
    client = raw(s3_server)
    # Given a locked version, when anyone deletes it behind dematflow's back, the server says no.
    with pytest.raises(S3Error) as refused:
        client.remove_object(s3.bucket, "originals/abc", version_id=obj.version_id)
    assert refused.value.code == "AccessDenied"
    # Nor may its retention be shortened.
    with pytest.raises(S3Error):
        soon = Retention(COMPLIANCE, datetime.now(UTC) + timedelta(hours=1))
        client.set_object_retention(s3.bucket, "originals/abc", soon, version_id=obj.version_id)
    # A conditional put of other bytes is refused by the server (412) even without our stat first.
    with pytest.raises(S3Error) as precondition:
        client._put_object(s3.bucket, "originals/abc", b"forged", {"If-None-Match": "*"})
    assert precondition.value.code == "PreconditionFailed"
    # A plain PUT only stacks a new version: the locked one stays byte-exact and undeletable.
    client.put_object(s3.bucket, "originals/abc", io.BytesIO(b"forged"), 6)
    kept = client.get_object(s3.bucket, "originals/abc", version_id=obj.version_id)
    assert kept.read() == b"original bytes"
    kept.close()
    with pytest.raises(S3Error):
        client.remove_object(s3.bucket, "originals/abc", version_id=obj.version_id)
    # dematflow reads the version it wrote, whatever was stacked on it or hid it (a delete marker).
    client.remove_object(s3.bucket, "originals/abc")
    assert s3.get("originals/abc") == b"original bytes" and s3.stat("originals/abc") == s3.stat(
        "originals/abc"
    )
    assert s3.stat("originals/abc").version_id == obj.version_id and list(s3.keys("originals/")) == [
        "originals/abc"
    ]


def test_retention_per_class_is_set_on_the_objects(
    s3_services: Services, s3_server: S3Server, demo_set: list[Sample]
) -> None:
    s = sample(demo_set, "facture-facturx")
    doc = process(s3_services, filename=s.path.name, data=s.path.read_bytes()).document
    assert doc.status is Status.ARCHIVED, doc.reason
    client, bucket = raw(s3_server), s3_services.settings.s3.bucket  # type: ignore[union-attr]

    def server_date(key: str) -> date:
        ret = client.get_object_retention(bucket, key)
        assert ret is not None and ret.mode == COMPLIANCE
        return ret.retain_until_date.date()

    issued = date.fromisoformat(doc.fields["BT-2"])
    # An invoice: 10 years from the close of the financial year of its issue date (BT-2).
    assert server_date(doc.objects["data"].key) == date(issued.year + 11, 1, 1)
    assert server_date(doc.objects["sealed"].key) == date(issued.year + 11, 1, 1)
    # The original was stored before its class was known: the longest period, from receipt.
    received = datetime.fromisoformat(doc.received_at).date()
    assert server_date(doc.objects["original"].key) == date(received.year + 11, 1, 1)
    anchors = list(s3_services.store.keys(keys.ANCHORS))
    assert anchors and server_date(anchors[-1]) == date(datetime.now(UTC).year + 11, 1, 1)
    # A personal supporting document: the short GDPR period, from receipt.
    identity = doc.evolve(id="id-card", doc_type=DocType.IDENTITY_DOCUMENT)
    kept = retention.keep(s3_services, identity, keys.data(identity.id), b"{}")
    days = s3_services.settings.retention.personal_days
    assert server_date(kept.key) == received + timedelta(days=days + 1)


def test_the_whole_pipeline_archives_into_s3_and_verifies(
    s3_services: Services, demo_set: list[Sample]
) -> None:
    for prefix in ("facture-facturx", "facture-FA"):
        s = sample(demo_set, prefix)
        doc = process(s3_services, filename=s.path.name, data=s.path.read_bytes()).document
        assert doc.status is Status.ARCHIVED, doc.reason
        assert s3_services.store.get(doc.objects["original"].key) == s.path.read_bytes()
        assert all(o.version_id for o in doc.objects.values())
    result = audit.verify(s3_services)
    assert result.ok, result.problems
    assert result.objects >= 10 and s3_services.store.describe().startswith("s3:")


def _admins(services: Services) -> None:
    for name in ("alice", "bob"):
        accounts.add(services.catalogue.engine, role=accounts.Role.ADMIN, name=name)


def _document(services: Services, until: datetime) -> Document:
    """A received document whose objects are retained until ``until`` (seconds away, for the test)."""
    doc = Document(id=uuid.uuid4().hex, sha256="", filename="cni.pdf", size=3, received_at=utcnow(),
                   doc_type=DocType.IDENTITY_DOCUMENT, status=Status.ARCHIVED)  # fmt: skip
    obj = services.store.put(keys.original(doc.id), b"cni", retain_until=until)
    data = services.store.put(keys.data(doc.id), b"{}", retain_until=until)
    doc = doc.evolve(sha256=obj.sha256, objects={"original": obj, "data": data})
    # the journal tells the same story as the catalogue (audit verify replays one against the other)
    received = {"filename": doc.filename, "size": doc.size, "tenant": doc.tenant, "account": None}
    event = Event("ingest", "received", doc.id, outputs={obj.key: obj.sha256}, detail=received)
    services.catalogue.create(StageResult(doc.evolve(status=Status.RECEIVED), event))
    services.catalogue.record(Event("classify", "classified", doc.id, detail={"doc_type": doc.doc_type}))
    archived = {"status": "archived", "reason": None, "fields_sha256": fields_digest(doc.fields)}
    done = Event("archive", "archived", doc.id, outputs={data.key: data.sha256}, detail=archived)
    services.catalogue.amend(StageResult(doc, done))
    return doc


def test_legal_hold_is_set_and_lifted_by_an_admin_and_journalled(
    s3_services: Services, s3_server: S3Server
) -> None:
    _admins(s3_services)
    doc = _document(s3_services, in_a_day())
    client, bucket = raw(s3_server), s3_services.settings.s3.bucket  # type: ignore[union-attr]
    with pytest.raises(Forbidden):
        accounts.add(s3_services.catalogue.engine, role=accounts.Role.AUDITOR, name="carol")
        disposal.set_hold(s3_services, doc.id, on=True, by="carol", reason="litige")
    disposal.set_hold(s3_services, doc.id, on=True, by="alice", reason="litige fournisseur n° 12")
    for obj in doc.objects.values():
        assert client.is_object_legal_hold_enabled(bucket, obj.key, version_id=obj.version_id)
    disposal.set_hold(s3_services, doc.id, on=False, by="bob", reason="litige clos")
    assert not client.is_object_legal_hold_enabled(bucket, doc.objects["data"].key)
    events = [
        e for e in journal.entries(s3_services.catalogue.engine, document_id=doc.id) if e.stage == "retention"
    ]
    assert [(e.action, e.body["detail"]["by"]) for e in events] == [
        ("legal-hold", "alice"),
        ("legal-hold-released", "bob"),
    ]
    assert events[0].body["detail"]["reason"] == "litige fournisseur n° 12"


def test_deletion_is_refused_by_us_first_and_by_the_server_behind_us(
    s3_services: Services, s3_server: S3Server
) -> None:
    _admins(s3_services)
    doc = _document(s3_services, in_a_day())
    with pytest.raises(ArchiveRefused, match="conservé jusqu'au"):
        disposal.request_deletion(s3_services, doc.id, by="alice")
    with pytest.raises(ArchiveRefused, match="suppression refusée"):
        s3_services.store.delete(doc.objects["data"].key)
    bucket = s3_services.settings.s3.bucket  # type: ignore[union-attr]
    with pytest.raises(S3Error) as refused:
        raw(s3_server).remove_object(
            bucket, doc.objects["data"].key, version_id=doc.objects["data"].version_id
        )
    assert refused.value.code == "AccessDenied"


def test_deletion_after_retention_needs_two_admins_and_leaves_a_tombstone(
    s3_services: Services, s3_server: S3Server
) -> None:
    _admins(s3_services)
    doc = _document(s3_services, datetime.now(UTC) + timedelta(seconds=3))
    disposal.set_hold(s3_services, doc.id, on=True, by="alice", reason="contrôle fiscal")
    time.sleep(3.5)
    with pytest.raises(ArchiveRefused, match="conservation judiciaire"):
        disposal.request_deletion(s3_services, doc.id, by="alice")
    disposal.set_hold(s3_services, doc.id, on=False, by="alice", reason="contrôle clos")
    disposal.request_deletion(s3_services, doc.id, by="alice", reason="fin de conservation RGPD")
    with pytest.raises(Forbidden, match="autre administrateur"):
        disposal.approve_deletion(s3_services, doc.id, by="alice")
    tomb = disposal.approve_deletion(s3_services, doc.id, by="bob")
    assert set(tomb.deleted) == {o.key for o in doc.objects.values()}
    bucket = s3_services.settings.s3.bucket  # type: ignore[union-attr]
    assert not list(raw(s3_server).list_objects(bucket, prefix=keys.data(doc.id), include_version=True))
    last = list(journal.entries(s3_services.catalogue.engine, document_id=doc.id))[-1]
    assert (last.action, last.body["detail"]["approved_by"], last.body["detail"]["requested_by"]) == (
        "deleted", "bob", "alice")  # fmt: skip
    assert last.body["detail"]["sha256"] == doc.sha256 and last.at
    result = audit.verify(s3_services)
    assert result.ok, result.problems


def test_migrate_moves_a_filesystem_archive_checking_every_hash(
    services: Services, s3_server: S3Server, bucket: str, demo_set: list[Sample]
) -> None:
    from pipeline.migrate import migrate

    s = sample(demo_set, "facture-FA")
    process(services, filename=s.path.name, data=s.path.read_bytes())
    target = open_services(dataclasses.replace(services.settings, s3=s3_settings(s3_server, bucket)))
    first = migrate(services, target.store)
    assert first.copied == len(list(services.store.keys())) and first.skipped == 0
    again = migrate(services, target.store)
    assert (again.copied, again.skipped) == (0, first.copied)
    for key in list(services.store.keys()):
        assert target.store.get(key) == services.store.get(key)
    result = audit.verify(target)
    assert result.ok, result.problems
    moved = [
        e for e in journal.entries(target.catalogue.engine) if e.stage == "archive" and e.action == "migrated"
    ]
    assert len(moved) == 2 and moved[0].body["detail"]["copied"] == first.copied
    assert Path(services.settings.archive_dir).is_dir()  # the filesystem archive is left as it was


def test_the_migrate_command_copies_then_resumes(
    services: Services, s3_server: S3Server, bucket: str, demo_set: list[Sample]
) -> None:
    from typer.testing import CliRunner

    from cli.main import app

    s = sample(demo_set, "facture-facturx")
    process(services, filename=s.path.name, data=s.path.read_bytes())
    c = s3_settings(s3_server, bucket)
    env = {"DEMATFLOW_DATA_DIR": str(services.settings.data_dir), "DEMATFLOW_S3_ENDPOINT": c.endpoint,
           "DEMATFLOW_S3_BUCKET": bucket, "DEMATFLOW_S3_ACCESS_KEY": c.access_key,
           "DEMATFLOW_S3_SECRET_KEY": c.secret_key, "DEMATFLOW_S3_SECURE": "false"}  # fmt: skip
    first = CliRunner().invoke(app, ["archive", "migrate", "--to", "s3"], env=env)
    assert first.exit_code == 0, first.output
    total = len(list(services.store.keys()))
    assert f"{total} object(s) copied, 0 already there, 0 problem(s)" in first.output
    again = CliRunner().invoke(app, ["archive", "migrate", "--to", "s3"], env=env)
    assert f"0 object(s) copied, {total} already there" in again.output
    verified = CliRunner().invoke(app, ["audit", "verify"], env=env)  # now reading from S3
    assert verified.exit_code == 0 and "OK" in verified.output, verified.output
