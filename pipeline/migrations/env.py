"""Alembic's environment: the connection comes from ``config.attributes`` (pipeline/migrations), or
from ``sqlalchemy.url`` when a developer runs the ``alembic`` command with an ini of their own."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from pipeline.db import metadata
from pipeline.migrations import include_name


def _run(conn: Connection) -> None:
    context.configure(connection=conn, target_metadata=metadata, compare_type=True, include_name=include_name)
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    conn = context.config.attributes.get("connection")
    if conn is not None:
        _run(conn)
        return
    engine = create_engine(context.config.get_main_option("sqlalchemy.url") or "sqlite://")
    with engine.connect() as own:
        _run(own)
        own.commit()


_main()
