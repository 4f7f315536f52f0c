"""Day seals: a day's rows closed, sealed and timestamped in the write-once archive; audit verify checks
them and so catches a database rewritten with its hash chain recomputed."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import update

from cli.samples import Sample
from dematflow.errors import InvalidRequest
from pipeline import daybook
from pipeline.audit import verify
from pipeline.context import Services
from pipeline.db import journal as journal_table
from pipeline.db import journal_head
from pipeline.journal import canonical, chain_hash, entries
from pipeline.run import process
from storage import keys
from tests.conftest import sample


def _day(services: Services) -> date:
    return date.fromisoformat(next(entries(services.catalogue.engine)).at[:10])


@pytest.fixture
def sealed(services: Services, demo_set: list[Sample]) -> Services:
    s = sample(demo_set, "facture-FA")
    process(services, filename=s.path.name, data=s.path.read_bytes())
    day = _day(services)
    made = daybook.seal_through(services, day, today=day + timedelta(days=1))
    assert [m.day for m in made] == [day.isoformat()] and made[0].rows >= 7
    return services


def test_a_sealed_day_verifies_and_sealing_it_again_does_nothing(sealed: Services) -> None:
    day = _day(sealed)
    assert daybook.seal_through(sealed, day, today=day + timedelta(days=1)) == []
    result = verify(sealed)
    assert result.ok, result.problems
    assert result.seals == 1


def test_a_day_not_over_is_refused(sealed: Services) -> None:
    with pytest.raises(InvalidRequest):
        daybook.seal_through(sealed, _day(sealed), today=_day(sealed))


def test_days_are_sealed_in_order_and_empty_days_get_a_segment(sealed: Services) -> None:
    day = _day(sealed)
    made = daybook.seal_through(sealed, day + timedelta(days=3), today=day + timedelta(days=4))
    assert [m.day for m in made] == [(day + timedelta(days=i)).isoformat() for i in (1, 2, 3)]
    assert all(m.rows == 0 for m in made)
    header, rows = daybook.parse_segment(sealed.store.get(keys.day_segment(made[-1].day)))
    assert rows == {} and header.previous_seal_sha256 == made[-2].seal.sha256
    assert verify(sealed).ok


def test_a_missing_day_is_named(sealed: Services) -> None:
    day = _day(sealed)
    made = daybook.seal_through(sealed, day + timedelta(days=2), today=day + timedelta(days=3))
    for key in (keys.day_segment(made[0].day), keys.day_seal(made[0].day)):
        path = sealed.settings.archive_dir / key
        path.chmod(0o600)
        path.unlink()
    problems = verify(sealed).problems
    assert any(p.where == keys.day_segment(made[0].day) and "no seal" in p.what for p in problems)
    assert any("does not chain" in p.what for p in problems)


def test_a_consistent_rewrite_of_the_database_is_caught_by_the_day_seal(sealed: Services) -> None:
    # Given an attacker who edits a row's body and recomputes every following hash and the head
    engine = sealed.catalogue.engine
    rows = list(entries(engine))
    target = next(e for e in rows if (e.stage, e.action) == ("archive", "archived"))
    with engine.begin() as conn:
        prev = target.prev_hash
        for e in rows[rows.index(target) :]:
            body = e.body if e is not target else {**e.body, "detail": {**e.body["detail"], "reason": None}}
            body = json.loads(json.dumps(body)) if e is not target else {**body, "forged": True}
            digest = chain_hash(prev, e.seq, e.at, e.document_id, e.stage, e.action, body)
            conn.execute(
                update(journal_table)
                .where(journal_table.c.seq == e.seq)
                .values(body=canonical(body), prev_hash=prev, hash=digest)
            )
            prev = digest
        conn.execute(update(journal_head).values(hash=prev))
    # When verify runs, the chain itself is consistent...
    problems = verify(sealed).problems
    assert not any("edited" in p.what or "chain" in p.what for p in problems)
    # ...but the sealed segment in the write-once store names the day and the row
    day = _day(sealed).isoformat()
    assert any(
        p.where == f"journal seq {target.seq}" and day in p.what and "body" in p.what for p in problems
    ), problems


def test_a_forged_seal_is_refused(sealed: Services) -> None:
    day = _day(sealed).isoformat()
    path = sealed.settings.archive_dir / keys.day_segment(day)
    path.chmod(0o600)
    path.write_bytes(path.read_bytes().replace(b'"rows":', b'"rows": ', 1))
    problems = verify(sealed).problems
    assert any(p.where == keys.day_seal(day) and "does not match" in p.what for p in problems)


def test_the_scheduled_actor_seals_the_days_up_to_yesterday(services: Services) -> None:
    from dramatiq import Worker
    from dramatiq.brokers.stub import StubBroker

    from workers.actors import Actors

    broker = StubBroker()
    broker.emit_after("process_boot")
    actors = Actors(broker, lambda: services)
    worker = Worker(broker, worker_threads=1, worker_timeout=50)
    worker.start()
    try:
        actors.seal_days.send()
        broker.join("dematflow", timeout=60_000)
        again = actors.seal_days.send()  # idempotent: nothing more to seal
        broker.join("dematflow", timeout=60_000)
    finally:
        worker.stop()
        broker.close()
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    assert daybook.sealed_days(services)[-1] == yesterday and again.message_id
    assert verify(services).ok


def test_the_days_rows_are_archived_in_full_and_checked_against_the_seal(sealed: Services) -> None:
    # Given the day's segment seals hashes, and its rows are archived in full beside it
    day = _day(sealed).isoformat()
    header, manifest = daybook.parse_segment(sealed.store.get(keys.day_segment(day)))
    full = daybook.parse_rows(sealed.store.get(keys.day_rows(day)))
    assert header.format == 2 and set(manifest) == set(full)
    assert all(set(line) == {"seq", "prev_hash", "hash"} for line in manifest.values())
    # When someone with access to the archive folder edits a row of the rows object
    path = sealed.settings.archive_dir / keys.day_rows(day)
    path.chmod(0o600)
    path.write_bytes(path.read_bytes().replace(b'"stage":"archive"', b'"stage":"archivX"', 1))
    # Then verify names the rows object: it no longer matches the hashes the seal covers
    problems = verify(sealed).problems
    assert any(p.where == keys.day_rows(day) and "not those its seal covers" in p.what for p in problems)
