"""Tamper evidence: audit verify names a changed byte, an edited row, a deleted row, a cut tail."""

from __future__ import annotations

import json
import os

import pytest
from sqlalchemy import delete, select, update

from cli.samples import Sample
from pipeline.audit import verify
from pipeline.context import Services
from pipeline.db import documents, journal_head
from pipeline.db import journal as journal_table
from pipeline.run import process
from tests.conftest import sample


@pytest.fixture
def archived(services: Services, demo_set: list[Sample]) -> Services:
    for prefix in ("facture-FA", "rib-"):
        s = sample(demo_set, prefix)
        process(services, filename=s.path.name, data=s.path.read_bytes())
    assert verify(services).ok
    return services


def test_untouched_archive_verifies(archived: Services) -> None:
    result = verify(archived)
    assert result.ok and result.entries >= 14 and result.objects >= 10 and result.anchors >= 1
    assert result.documents == 2


def test_a_flipped_byte_in_an_archived_file_is_named(archived: Services) -> None:
    doc = archived.catalogue.list()[0]
    key = doc.objects["sealed"].key
    path = archived.settings.archive_dir / key
    os.chmod(path, 0o600)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    problems = verify(archived).problems
    assert [p.where for p in problems] == [key]
    assert "content changed" in problems[0].what


def test_a_missing_archived_file_is_named(archived: Services) -> None:
    doc = archived.catalogue.list()[0]
    key = doc.objects["data"].key
    (archived.settings.archive_dir / key).unlink()
    assert [(p.where, p.what) for p in verify(archived).problems] == [(key, "archived object is missing")]


def test_an_edited_journal_row_is_named(archived: Services) -> None:
    with archived.catalogue.engine.begin() as conn:
        conn.execute(
            update(journal_table)
            .where(journal_table.c.seq == 5)
            .values(body='{"detail":{"status":"archived"}}')
        )
    problems = verify(archived).problems
    assert any(p.where == "journal seq 5" and "edited" in p.what for p in problems)


def test_a_deleted_journal_row_is_named(archived: Services) -> None:
    with archived.catalogue.engine.begin() as conn:
        conn.execute(delete(journal_table).where(journal_table.c.seq == 4))
    problems = verify(archived).problems
    assert any("4 deleted" in p.what for p in problems)


def test_rows_cut_from_the_end_are_caught_by_the_archived_anchors(archived: Services) -> None:
    engine = archived.catalogue.engine
    anchored = min(json.loads(archived.store.get(k))["seq"] for k in archived.store.keys("journal/anchors/"))
    with engine.begin() as conn:
        conn.execute(delete(journal_table).where(journal_table.c.seq >= anchored))
        prev = conn.execute(journal_table.select().where(journal_table.c.seq == anchored - 1)).one()
        # a careful forger also rewinds the head row: only the write-once anchors remain
        conn.execute(update(journal_head).values(seq=prev.seq, hash=prev.hash))
    problems = verify(archived).problems
    assert any("rows were cut" in p.what for p in problems)


def test_unreadable_rows_and_anchors_are_reported_not_crashed_on(archived: Services) -> None:
    with archived.catalogue.engine.begin() as conn:
        conn.execute(update(journal_table).where(journal_table.c.seq == 3).values(body="{not json"))
    anchor = next(iter(archived.store.keys("journal/anchors/")))
    path = archived.settings.archive_dir / anchor
    os.chmod(path, 0o600)
    path.write_bytes(b"garbage")
    problems = verify(archived).problems
    assert any(p.where == "journal seq 3" and "edited" in p.what for p in problems)
    assert any(p.where == anchor and "unreadable" in p.what for p in problems)


def _edit_record(services: Services, document_id: str, **changes: object) -> None:
    engine = services.catalogue.engine
    with engine.begin() as conn:
        record = json.loads(
            conn.execute(select(documents.c.record).where(documents.c.id == document_id)).scalar_one()
        )
        fields = {**record["fields"], **changes.pop("fields", {})}  # type: ignore[dict-item]
        record.update(changes, fields=fields)
        columns = {k: v for k, v in changes.items() if k in ("status", "reason")}
        conn.execute(
            update(documents)
            .where(documents.c.id == document_id)
            .values(record=json.dumps(record), **columns)
        )


def test_a_status_turned_into_archived_in_the_catalogue_is_named(
    archived: Services, demo_set: list[Sample]
) -> None:
    s = sample(demo_set, "document-corrompu")
    doc = process(archived, filename=s.path.name, data=s.path.read_bytes()).document
    assert doc.status.value == "quarantined"
    _edit_record(archived, doc.id, status="archived", reason=None)
    problems = [(p.where, p.what) for p in verify(archived).problems]
    assert (
        f"document {doc.id}",
        "status is 'archived' in the catalogue but 'quarantined' in the journal",
    ) in problems
    assert any(w == f"document {doc.id}" and w_.startswith("reason") for w, w_ in problems)


def test_an_iban_changed_in_the_catalogue_is_named(archived: Services) -> None:
    rib = next(d for d in archived.catalogue.list() if "BT-84" in d.fields)
    _edit_record(archived, rib.id, fields={"BT-84": "FR7630006000011234567890189"})
    problems = verify(archived).problems
    assert [p.where for p in problems] == [f"document {rib.id}"]
    assert "fields differ" in problems[0].what and "BT-84 'FR7630006000011234567890189'" in problems[0].what


def test_a_document_erased_from_the_catalogue_is_named(archived: Services) -> None:
    gone = archived.catalogue.list()[0]
    with archived.catalogue.engine.begin() as conn:
        conn.execute(delete(documents).where(documents.c.id == gone.id))
    problems = [(p.where, p.what) for p in verify(archived).problems]
    assert (f"document {gone.id}", "received in the journal but erased from the catalogue") in problems
