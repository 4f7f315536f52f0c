"""The catalogue's schema through Alembic: brought to the head revision when a catalogue is opened.

The fast path reads which tables exist and the ``alembic_version`` row, nothing else: alembic itself is
imported only when something is to be done. Upgrades run in one transaction that other openers wait
for (SQLite: its ``BEGIN IMMEDIATE``; PostgreSQL: a transaction-level advisory lock), so workers
opening a fresh catalogue at once do not race. A catalogue made by a dematflow from before migrations
(tables, no ``alembic_version``) is adopted: revision 0001 creates only the tables it lacks.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, text

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

HEAD = "0002"  # the newest revision under versions/ (tests/test_migrations.py checks it)
FIRST = "0001"
SCRIPTS = Path(__file__).parent
_LOCK = 0x64656D6174  # PostgreSQL advisory lock of schema changes ("demat")
FULL_TEXT_TABLE = "search_text"  # SQLite's FTS5 table; its shadow tables are search_text_data, ...
FULL_TEXT_INDEX = "ix_search_tsv"  # PostgreSQL's GIN index on search.tsv
_PROBED = ("alembic_version", "documents", "search_fts")


@dataclass(frozen=True)
class State:
    """What the database holds: its recorded revision and the revision its tables match."""

    recorded: str | None  # the alembic_version row; None: none (a new or an earlier catalogue)
    legacy: bool  # tables of a dematflow from before migrations, no alembic_version
    full_text_moved: bool  # False: an SQLite catalogue whose full text is still in search_fts

    @property
    def at_head(self) -> bool:
        return self.recorded == HEAD and self.full_text_moved


def ensure_head(engine: Engine) -> State | None:
    """Bring the database to HEAD; what it was before when something had to be done, else None."""
    with engine.begin() as conn:
        state = probe(conn)
        if state.at_head:
            return None
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK})
            state = probe(conn)  # another process may have done it while this one waited
            if state.at_head:
                return None
        _upgrade(conn, state)
        return state


def probe(conn: Connection) -> State:
    """The database's revision in one or two cheap queries."""
    if conn.dialect.name == "sqlite":
        names = set(
            conn.execute(
                text("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN (:a, :b, :c)"),
                dict(zip("abc", _PROBED, strict=True)),
            ).scalars()
        )
    else:
        names = set(
            conn.execute(
                text(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = current_schema() AND table_name IN (:a, :b, :c)"
                ),
                dict(zip("abc", _PROBED, strict=True)),
            ).scalars()
        )
    recorded = None
    if "alembic_version" in names:
        recorded = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return State(
        recorded=recorded,
        legacy=recorded is None and "documents" in names,
        full_text_moved="search_fts" not in names,
    )


def current(engine: Engine) -> State:
    """The database's state, changing nothing."""
    with engine.connect() as conn:
        return probe(conn)


def _upgrade(conn: Connection, state: State) -> None:
    from alembic import command

    config = alembic_config(conn)
    if state.legacy:
        log.info("catalogue from before migrations: adopted at revision %s", FIRST)
    elif state.recorded is not None and not state.full_text_moved:
        # The shape wins over the row: full text still in search_fts has not been through 0002.
        command.stamp(config, FIRST, purge=True)
    command.upgrade(config, "head")
    log.info("catalogue schema: %s -> %s", state.recorded or "none", HEAD)


def include_name(name: str | None, kind: str, _parents: Any) -> bool:
    """What autogenerate compares: not the full text made by the ``after_create`` hooks of
    pipeline/db.py (SQLite's FTS5 table and its shadow tables, PostgreSQL's GIN index)."""
    if kind == "table" and name is not None and name.startswith(FULL_TEXT_TABLE):
        return False
    return not (kind == "index" and name == FULL_TEXT_INDEX)


def alembic_config(conn: Connection | None = None) -> Config:
    """Alembic's configuration in code (no alembic.ini): these scripts, and the connection to use."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    config.attributes["connection"] = conn
    return config


def script_head() -> str | None:
    """The head revision of the scripts themselves (what HEAD must say)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()
