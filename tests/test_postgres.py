"""The catalogue and journal on the machine's PostgreSQL, chosen by URL alone."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from dataclasses import replace

import pytest

from cli.samples import Sample
from pipeline.audit import verify
from pipeline.catalogue import Catalogue
from pipeline.context import Services, open_services
from pipeline.records import Event
from pipeline.run import process
from pipeline.settings import Settings


@pytest.fixture
def pg_services(settings: Settings, pg_url: str) -> Iterator[Services]:
    services = open_services(replace(settings, database_url=pg_url))
    yield services
    services.catalogue.engine.dispose()


def test_pipeline_and_audit_on_postgresql(pg_services: Services, demo_set: list[Sample]) -> None:
    for s in demo_set:
        process(pg_services, filename=s.path.name, data=s.path.read_bytes())
    assert pg_services.catalogue.engine.dialect.name == "postgresql"
    assert sum(pg_services.catalogue.count().values()) == len(demo_set)
    assert verify(pg_services).ok


def test_concurrent_appends_keep_one_unbroken_chain(pg_url: str) -> None:
    catalogues = [Catalogue.open(pg_url) for _ in range(4)]

    def writer(cat: Catalogue, n: int) -> None:
        for i in range(25):
            cat.record(Event("test", "append", detail={"writer": n, "i": i}))

    threads = [threading.Thread(target=writer, args=(c, n)) for n, c in enumerate(catalogues)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    from pipeline import journal

    entries = list(journal.entries(catalogues[0].engine))
    assert [e.seq for e in entries] == list(range(1, 101))
    assert all(e.expected_hash() == e.hash for e in entries)
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(entries))
    for c in catalogues:
        c.engine.dispose()
