"""Tamper evidence: audit verify names a changed byte, an edited row, a deleted row, a cut tail."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import delete, update

from cli.samples import Sample
from pipeline.audit import verify
from pipeline.context import Services
from pipeline.db import journal as journal_table
from pipeline.db import journal_head
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
    assert result.ok and result.entries >= 14 and result.objects >= 10 and result.anchors >= 2


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
    with engine.begin() as conn:
        last = conn.execute(journal_head.select()).one()
        conn.execute(delete(journal_table).where(journal_table.c.seq > last.seq - 3))
        prev = conn.execute(journal_table.select().where(journal_table.c.seq == last.seq - 3)).one()
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
