"""The quarantine area: originals refused for their bytes alone are kept a year, not ten; extended if
they are read after all. On the filesystem archive and on SeaweedFS (S3 Object Lock, COMPLIANCE)."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from cli.samples import Sample
from extractors.results import DocType
from pipeline import disposal, retention
from pipeline.context import Services, open_services
from pipeline.records import Document, Status
from pipeline.run import process
from pipeline.settings import Settings
from storage import keys
from tests.conftest import sample
from tests.s3_server import S3Server, s3_server, s3_settings

__all__ = ["s3_server"]  # the session fixture, imported so pytest finds it

REFUSED = {"empty.pdf": b"", "notes.txt": b"just some plain text, no accepted kind", "x.xml": b"<html/>"}


@pytest.fixture
def s3_services(settings: Settings, s3_server: S3Server) -> Services:
    bucket = f"dematflow-{uuid.uuid4().hex[:12]}"
    return open_services(dataclasses.replace(settings, s3=s3_settings(s3_server, bucket)))


def retained_days(services: Services, doc: Document) -> float:
    """Days from now the store (not the record) keeps the document's original."""
    until = services.store.stat(doc.objects["original"].key).retain_until
    assert until is not None
    return (datetime.fromisoformat(until) - datetime.now(UTC)) / timedelta(days=1)


@pytest.mark.parametrize("filename", sorted(REFUSED))
def test_an_original_refused_for_its_bytes_is_kept_for_the_quarantine_period(
    services: Services, filename: str
) -> None:
    doc = process(services, filename=filename, data=REFUSED[filename]).document
    assert doc.status is Status.QUARANTINED and doc.reason_code in ("IRR_VIDE_F", "IRR_TYPE_F")
    assert 365 <= retained_days(services, doc) <= 366  # to the end of the day, a year ahead
    assert (
        doc.objects["original"].retain_until == services.store.stat(doc.objects["original"].key).retain_until
    )


def test_readable_or_merely_corrupt_originals_keep_the_longest_period(
    services: Services, demo_set: list[Sample]
) -> None:
    invoice = sample(demo_set, "facture-FA")
    good = process(services, filename=invoice.path.name, data=invoice.path.read_bytes()).document
    # a PDF that only fails to parse later: ingest's first checks cannot tell, so never under-protect
    corrupt = process(services, filename="c.pdf", data=b"%PDF-1.7\n" + b"\x00garbage" * 50).document
    assert good.status is not Status.QUARANTINED and corrupt.status is Status.QUARANTINED
    assert retained_days(services, good) > 9 * 365 and retained_days(services, corrupt) > 9 * 365


def test_the_quarantine_period_is_a_setting(tmp_path: object) -> None:
    env = {"DEMATFLOW_DATA_DIR": str(tmp_path), "DEMATFLOW_RETENTION_QUARANTINE_DAYS": "30"}
    assert Settings.from_env(env).retention.quarantine_days == 30
    assert Settings.from_env({"DEMATFLOW_DATA_DIR": str(tmp_path)}).retention.quarantine_days == 365


def extended_when_read_after_all(services: Services) -> None:
    # Given bytes refused at receipt (kept for the quarantine period)...
    doc = process(services, filename="later.txt", data=b"a format a later release reads").document
    assert retained_days(services, doc) < 400
    # ...When a later run reads them after all and keeps their capture (as classify does)...
    classified = doc.evolve(doc_type=DocType.INVOICE)
    retention.keep(services, classified, keys.capture(doc.id), b"{}")
    # ...Then the original is kept for the class's period first (extended, never shortened).
    assert retained_days(services, doc) > 9 * 365


def test_a_short_original_is_extended_when_the_document_is_read_after_all(services: Services) -> None:
    extended_when_read_after_all(services)


def test_quarantined_originals_show_among_the_expiring_ones(services: Services) -> None:
    doc = process(services, filename="empty.pdf", data=b"").document
    in_a_year = datetime.now(UTC) + timedelta(days=367)
    assert [e.document_id for e in disposal.expiring(services, in_a_year)] == [doc.id]
    assert list(disposal.expiring(services, datetime.now(UTC) + timedelta(days=300))) == []


def test_on_s3_the_quarantine_period_is_the_object_lock_date(s3_services: Services) -> None:
    doc = process(s3_services, filename="empty.pdf", data=b"").document
    assert doc.status is Status.QUARANTINED
    assert 365 <= retained_days(s3_services, doc) <= 366  # COMPLIANCE retain-until, as the server says


def test_on_s3_a_short_original_is_extended_when_read_after_all(s3_services: Services) -> None:
    extended_when_read_after_all(s3_services)
