"""The catalogue's schema through Alembic: fresh, adopted from an earlier dematflow, concurrent, CLI."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, insert, inspect, select, text
from typer.testing import CliRunner

from cli.main import app
from pipeline import migrations
from pipeline.db import GENESIS, documents, journal_head, make_engine, metadata, search
from tests.conftest import fresh_database


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'catalogue.sqlite3'}"
    else:
        with fresh_database("dematflow_migrations") as pg:
            yield pg


def _differences(engine: Engine) -> list[Any]:
    """What autogenerate would change to bring the database to ``metadata`` (the full text of the
    ``after_create`` hooks aside: ``_full_text_in_place`` checks it)."""
    with engine.connect() as conn:
        opts = {"compare_type": True, "include_name": migrations.include_name}
        return list(compare_metadata(MigrationContext.configure(conn, opts=opts), metadata))


def _full_text_in_place(engine: Engine) -> bool:
    names = inspect(engine)
    if engine.dialect.name == "sqlite":
        return migrations.FULL_TEXT_TABLE in names.get_table_names()
    return migrations.FULL_TEXT_INDEX in {i["name"] for i in names.get_indexes("search")}


def _revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _legacy(url: str) -> None:
    """A catalogue as an earlier dematflow left it: ``create_all``, the journal's head, one document."""
    engine = create_engine(url)
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(journal_head).values(id=1, seq=0, hash=GENESIS))
        conn.execute(insert(documents).values(_document("d1")))
    engine.dispose()


def _document(doc_id: str) -> dict[str, str]:
    at = "2026-01-02T03:04:05+00:00"
    return dict(
        id=doc_id, sha256="a" * 64, tenant="t", filename="f.pdf", received_at=at, updated_at=at,
        status="archived", stage="archive", record="{}",
    )  # fmt: skip


def test_head_names_the_newest_script() -> None:
    assert migrations.script_head() == migrations.HEAD


def test_a_fresh_catalogue_at_head_is_what_metadata_describes(url: str) -> None:
    # Given an empty database, when it is opened, then it is at head and equal to metadata.
    engine = make_engine(url)
    assert _revision(engine) == migrations.HEAD
    assert _differences(engine) == []
    assert _full_text_in_place(engine)
    with engine.connect() as conn:
        assert conn.execute(select(journal_head.c.seq, journal_head.c.hash)).one() == (0, GENESIS)
    engine.dispose()


def test_a_catalogue_of_an_earlier_dematflow_is_adopted_without_loss(url: str) -> None:
    # Given a catalogue made by plain create_all, with a document and no alembic_version,
    _legacy(url)
    # when it is opened, then it is recorded at head, unchanged, and its document is still there.
    engine = make_engine(url)
    assert _revision(engine) == migrations.HEAD
    assert _differences(engine) == []
    assert _full_text_in_place(engine)
    with engine.connect() as conn:
        assert conn.execute(select(documents.c.id)).scalars().all() == ["d1"]
        assert conn.execute(select(journal_head.c.seq)).scalars().all() == [0]
    engine.dispose()


def test_an_sqlite_catalogue_with_the_old_full_text_table_is_moved_over(tmp_path: Path) -> None:
    # Given an earlier catalogue whose full text is in search_fts and whose search has no text_key,
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    _legacy(url)
    old = create_engine(url)
    with old.begin() as conn:
        conn.execute(text("DROP TABLE search_text"))
        conn.execute(text("ALTER TABLE search DROP COLUMN text_key"))
        conn.execute(text("CREATE VIRTUAL TABLE search_fts USING fts5(id UNINDEXED, body)"))
        conn.execute(text("INSERT INTO search_fts (rowid, id, body) VALUES (-7, 'd1', 'facture lebrun')"))
        at = "2026-01-02T03:04:05+00:00"
        conn.execute(insert(search).values(id="d1", tenant="t", received_at=at, text_state="fields"))
    old.dispose()
    # when it is opened, then it is at head, search_fts is gone and its row is in search_text.
    engine = make_engine(url)
    assert _revision(engine) == migrations.HEAD
    assert _differences(engine) == []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM sqlite_master WHERE name = 'search_fts'")).first() is None
        rows = conn.execute(text("SELECT id FROM search_text WHERE search_text MATCH 'lebrun'")).all()
        assert [r.id for r in rows] == ["d1"]
    engine.dispose()


OPEN_AT = """
import sys, time
from pipeline.db import make_engine
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
make_engine(sys.argv[1]).dispose()
"""


def test_two_processes_opening_a_fresh_catalogue_at_once_both_succeed(url: str) -> None:
    # Given two workers started together on an empty catalogue, when both open it at the same instant,
    at = time.time() + 3  # both have imported by then
    opening = [
        subprocess.Popen([sys.executable, "-c", OPEN_AT, url, str(at)], stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    results = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in opening]
    # then neither fails and the catalogue is at head once.
    assert [rc for rc, _ in results] == [0, 0], results
    engine = make_engine(url)
    assert _revision(engine) == migrations.HEAD
    assert _differences(engine) == []
    engine.dispose()


def test_db_current_and_db_upgrade(url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"DEMATFLOW_DATABASE_URL": url}
    args = ["--data-dir", str(tmp_path / "data"), "db"]
    _legacy(url)
    before = runner.invoke(app, [*args, "current"], env=env)
    assert before.exit_code == 1 and "before migrations" in before.output
    upgraded = runner.invoke(app, [*args, "upgrade"], env=env)
    assert upgraded.exit_code == 0 and f"-> {migrations.HEAD} (head)" in upgraded.output
    after = runner.invoke(app, [*args, "current"], env=env)
    assert after.exit_code == 0 and after.output.strip() == f"{migrations.HEAD} (head)"


def test_the_next_revision_is_made_with_alembic_revision(tmp_path: Path) -> None:
    # docs/migrations.md: `command.revision` on the package's scripts writes 0003 after the head.
    scripts = tmp_path / "migrations"
    shutil.copytree(migrations.SCRIPTS, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    config = migrations.alembic_config()
    config.set_main_option("script_location", str(scripts))
    command.revision(config, "add a column", rev_id="0003")
    written = ScriptDirectory.from_config(config).get_revision("0003")
    assert written is not None and written.down_revision == migrations.HEAD
    assert Path(written.path).name == "0003_add_a_column.py"
