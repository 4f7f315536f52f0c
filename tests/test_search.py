"""Search on SQLite (FTS5) and PostgreSQL (French tsvector): every criterion, full text, tenancy, API."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, text

from api.app import create_app
from extractors.results import DocType
from pipeline import accounts, search
from pipeline.accounts import Role
from pipeline.context import Services, open_services
from pipeline.db import lifecycle
from pipeline.db import search as search_table
from pipeline.records import Document, Event, StageResult, Status
from pipeline.search import Criteria
from pipeline.settings import Settings
from tests.conftest import fresh_database, make_settings


@dataclass(frozen=True)
class Spec:
    tenant: str
    status: Status
    doc_type: DocType
    fields: dict[str, str]
    text: str | None


SELLER_A = {"BT-30": "12345678900011", "BT-31": "FR32123456789", "BT-27": "Élec Rhône SARL"}
DOCS = {
    "d1": Spec(
        tenant="tenant-a",
        status=Status.ARCHIVED,
        doc_type=DocType.INVOICE,
        fields={
            **SELLER_A,
            "BT-44": "Mairie  de Lyon",
            "BT-1": "FA-2026-001",
            "BT-2": "2026-01-15",
            "BT-9": "2026-02-15",
            "BT-112": "1200.00",
        },
        text="Prestations facturées : électricité et chauffages du gymnase",
    ),
    "d2": Spec(
        tenant="tenant-b",
        status=Status.NEEDS_REVIEW,
        doc_type=DocType.CREDIT_NOTE,
        fields={
            "BT-31": "FR40 987 654 321",
            "BT-44": "Société Générale",
            "BT-1": "F-77",
            "BT-2": "2026-03-01",
            "BT-9": "2026-03-31",
            "BT-112": "99.90",
        },
        text="Avoir pour retour de marchandises",
    ),
    "d3": Spec(
        tenant="tenant-a",
        status=Status.REJECTED,
        doc_type=DocType.INVOICE,
        fields={"BT-27": "Plomberie Martin", "BT-1": "2025/12/9", "BT-2": "2025-12-31", "BT-112": "5 000,00"},
        text=None,
    ),
}


@pytest.fixture(params=["sqlite", "postgresql"])
def services_on(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Services]:
    if request.param == "sqlite":
        services = open_services(settings)
    else:
        services = open_services(replace(settings, database_url=request.getfixturevalue("pg_url")))
    yield services
    services.catalogue.engine.dispose()


def add(services: Services, doc_id: str, n: int, tenant: str | None = None) -> Document:
    """Given a document as the pipeline leaves it: created at intake, then its final state committed."""
    spec = DOCS[doc_id]
    doc = Document(
        id=doc_id,
        sha256=doc_id * 16,
        filename=f"{doc_id}.pdf",
        size=1,
        received_at=f"2026-06-0{n}T10:00:00",
        tenant=tenant or spec.tenant,
    )
    services.catalogue.create(StageResult(doc, Event("ingest", "received", doc_id)))
    done = replace(doc, status=spec.status, doc_type=spec.doc_type, fields=spec.fields, stage="archive")
    if spec.text is not None:
        raw = json.dumps({"pages": [{"number": 1, "text": spec.text}]}).encode()
        done = done.with_object("capture", services.store.put(f"captures/{doc_id}.json", raw))
    assert services.catalogue.commit(StageResult(done, Event("archive", "archived", doc_id)), after="ingest")
    return done


def seed(services_on: Services) -> Services:
    for n, doc_id in enumerate(DOCS, 1):
        add(services_on, doc_id, n)
    with services_on.catalogue.engine.begin() as conn:
        for doc_id, seq, code in (("d1", 1, 200), ("d1", 2, 205), ("d2", 1, 205), ("d2", 2, 212)):
            conn.execute(
                insert(lifecycle).values(
                    document_id=doc_id,
                    seq=seq,
                    code=code,
                    actor="t",
                    at="2026-06-01",
                    key="k",
                    sha256="0" * 64,
                )
            )
    assert search.catch_up(services_on) == 2  # the two captures are read on the first search
    return services_on


@pytest.fixture
def seeded(services_on: Services) -> Services:
    return seed(services_on)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def seeded_once(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, dev_keys: Path
) -> Iterator[Services]:
    """The same seeded catalogue for every read-only test of a backend (a fresh database each run)."""
    settings = make_settings(tmp_path_factory.mktemp("search"), dev_keys)
    if request.param == "sqlite":
        services = open_services(settings)
        yield seed(services)
        services.catalogue.engine.dispose()
        return
    with fresh_database() as url:
        services = open_services(replace(settings, database_url=url))
        yield seed(services)
        services.catalogue.engine.dispose()


def ids(services: Services, **criteria: object) -> list[str]:
    return [d.id for d in search.find(services.catalogue.engine, Criteria(**criteria))]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        ({}, ["d1", "d2", "d3"]),
        ({"siren": "123456789"}, ["d1"]),
        ({"siren": "987654321"}, ["d2"]),  # from the French VAT id
        ({"siret": "12345678900011"}, ["d1"]),
        ({"vat": "fr 40 987654321"}, ["d2"]),
        ({"buyer": "mairie de lyon"}, ["d1"]),
        ({"invoice_number": "2025/12/9"}, ["d3"]),
        ({"issued_from": "2026-01-01"}, ["d1", "d2"]),
        ({"issued_from": "2026-01-15", "issued_to": "2026-01-15"}, ["d1"]),
        ({"due_to": "2026-03-01"}, ["d1"]),
        ({"due_from": "2026-03-01", "due_to": "2026-12-31"}, ["d2"]),
        ({"min_amount": Decimal("100")}, ["d1", "d3"]),  # 5 000,00 is a number, not a string
        ({"min_amount": Decimal("99.90"), "max_amount": Decimal("1200")}, ["d1", "d2"]),
        ({"max_amount": Decimal("99.89")}, []),
        ({"status": Status.REJECTED}, ["d3"]),
        ({"lifecycle": 205}, ["d1"]),  # d2 was at 205, its current status is 212
        ({"lifecycle": 212}, ["d2"]),
        ({"lifecycle": 200}, []),
        ({"doc_type": "credit_note"}, ["d2"]),
        ({"tenant": "tenant-a"}, ["d1", "d3"]),
        ({"text": "gymnase"}, ["d1"]),
        ({"text": "electricite"}, ["d1"]),  # accents folded
        ({"text": "Plomberie"}, ["d3"]),  # no capture: its fields are its text
        ({"text": "marchandises retour"}, ["d2"]),
        ({"text": "gymnase marchandises"}, []),  # every word must be there
        ({"text": "%' OR 1=1 --"}, []),
        (
            {"tenant": "tenant-a", "status": Status.ARCHIVED, "siren": "123456789", "text": "chauffages"},
            ["d1"],
        ),
    ],
)
def test_each_criterion(seeded_once: Services, criteria: dict[str, object], expected: list[str]) -> None:
    assert ids(seeded_once, **criteria) == expected


def test_cursor_pages_in_the_order_received(seeded_once: Services) -> None:
    first = search.find(seeded_once.catalogue.engine, Criteria(), limit=2)
    rest = search.find(seeded_once.catalogue.engine, Criteria(after=(first[-1].received_at, first[-1].id)))
    assert [d.id for d in first + rest] == ["d1", "d2", "d3"]


def test_french_stemming_on_postgresql(seeded_once: Services) -> None:
    if seeded_once.catalogue.engine.dialect.name != "postgresql":
        pytest.skip("stemming is PostgreSQL's French configuration; FTS5 matches word prefixes")
    assert ids(seeded_once, text="facture") == ["d1"]  # « facturées »
    assert ids(seeded_once, text="chauffage électricité") == ["d1"]
    assert ids(seeded_once, text="avoirs") == ["d2"]


def test_a_supplier_finds_nothing_of_another_tenant(seeded: Services) -> None:
    engine = seeded.catalogue.engine
    supplier, _ = accounts.add(engine, role=Role.SUPPLIER, name="B", identifiers=("987654321",))
    agent, _ = accounts.add(engine, role=Role.AGENT, name="Agent")
    a, b = replace(supplier, tenant="tenant-a"), replace(supplier, tenant="tenant-b")
    assert [d.id for d in search.find_for(seeded, b, Criteria())] == ["d2"]
    assert [d.id for d in search.find_for(seeded, b, Criteria(tenant="tenant-a"))] == ["d2"]
    assert [d.id for d in search.find_for(seeded, b, Criteria(siren="123456789"))] == []
    assert [d.id for d in search.find_for(seeded, b, Criteria(text="gymnase"))] == []
    assert [d.id for d in search.find_for(seeded, a, Criteria())] == ["d1", "d3"]
    assert [d.id for d in search.find_for(seeded, agent, Criteria(text="gymnase"))] == ["d1"]


def test_a_later_save_keeps_the_captured_text(seeded: Services) -> None:
    # Given d1 indexed with its capture, when a later rendition is saved (amend), then its text stays.
    doc = seeded.catalogue.get("d1")
    seeded.catalogue.amend(StageResult(doc, Event("convert", "facturx", "d1")))
    assert ids(seeded, text="gymnase") == ["d1"]


def test_reindex_fills_documents_archived_before_search(seeded: Services) -> None:
    with seeded.catalogue.engine.begin() as conn:
        conn.execute(search_table.delete())
    assert ids(seeded) == []
    assert search.reindex(seeded) == 3
    assert ids(seeded, text="gymnase") == ["d1"] and ids(seeded) == ["d1", "d2", "d3"]


def test_the_api_door(settings: Settings) -> None:
    services = open_services(settings)
    engine = services.catalogue.engine
    supplier, supplier_token = accounts.add(engine, role=Role.SUPPLIER, name="A", identifiers=("123456789",))
    for n, doc_id in enumerate(DOCS, 1):
        add(services, doc_id, n, tenant=supplier.tenant if DOCS[doc_id].tenant == "tenant-a" else None)
    _, agent_token = accounts.add(engine, role=Role.AGENT, name="Agent")
    with TestClient(create_app(settings)) as client:
        agent = {"Authorization": f"Bearer {agent_token}"}
        got = client.get("/api/v1/search", params={"text": "électricité"}, headers=agent)
        assert got.status_code == 200, got.text
        assert [i["id"] for i in got.json()["items"]] == ["d1"]
        assert set(got.json()["items"][0]) >= {"id", "status", "invoice_number", "total", "lifecycle"}
        page = client.get("/api/v1/search", params={"limit": 2}, headers=agent).json()
        assert len(page["items"]) == 2 and page["next_cursor"]
        rest = client.get("/api/v1/search", params={"cursor": page["next_cursor"]}, headers=agent).json()
        assert [i["id"] for i in rest["items"]] == ["d3"] and rest["next_cursor"] is None
        amounts = client.get(
            "/api/v1/search", params={"min_amount": "1000", "max_amount": "2000"}, headers=agent
        )
        assert [i["id"] for i in amounts.json()["items"]] == ["d1"]
        # A supplier's search is its own tenant's, whatever it asks for.
        mine = client.get(
            "/api/v1/search",
            params={"tenant": "tenant-b"},
            headers={"Authorization": f"Bearer {supplier_token}"},
        )
        assert mine.status_code == 200 and [i["id"] for i in mine.json()["items"]] == ["d1", "d3"]
        assert client.get("/api/v1/search").status_code == 401
        for bad in (
            {"text": "a\x00b"},
            {"siren": "12345"},
            {"issued_from": "hier"},
            {"min_amount": "x"},
            {"lifecycle": "999"},
            {"cursor": "!!"},
            {"limit": "0"},
        ):
            answer = client.get("/api/v1/search", params=bad, headers=agent)
            assert answer.status_code == 422, (bad, answer.text)
            assert answer.headers["content-type"].startswith("application/problem+json")


def test_the_cli_door(seeded: Services) -> None:
    if seeded.catalogue.engine.dialect.name != "sqlite":
        pytest.skip("the CLI reads the data directory's embedded catalogue")
    cmd = [sys.executable, "-m", "cli.main", "--data-dir", str(seeded.settings.data_dir), "archive", "search"]
    found = subprocess.run(
        [*cmd, "--text", "électricité", "--min", "1000", "--to", "2026-12-31", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert found.returncode == 0, found.stderr
    assert [json.loads(line)["document_id"] for line in found.stdout.splitlines()] == ["d1"]
    bad = subprocess.run([*cmd, "--from", "hier"], capture_output=True, text=True, timeout=300)
    assert bad.returncode == 7 and "--from" in bad.stderr


def _many(services: Services, n: int) -> list[str]:
    """``n`` documents sharing a word, two of them received in the same microsecond."""
    made = []
    for i in range(n):
        doc = Document(
            id=f"m{i:03d}",
            sha256=f"{i:064x}",
            filename=f"m{i}.pdf",
            size=1,
            received_at=f"2026-07-01T10:00:{min(i, n - 2):02d}.000001+00:00",
            tenant="tenant-a",
            status=Status.ARCHIVED,
            fields={"BT-1": f"N{i}", "BT-27": "Transports Lebrun"},
        )
        services.catalogue.create(StageResult(doc, Event("ingest", "received", doc.id)))
        made.append(doc.id)
    return sorted(made, key=lambda d: (services.catalogue.get(d).received_at, d))


@pytest.mark.parametrize("few_rows", [0, 10**6], ids=["match-driven", "criteria-driven"])
def test_sqlite_full_text_pages_in_the_order_received(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, few_rows: int
) -> None:
    # Given 30 documents with the same word, two received in one microsecond (one key slot each),
    # when a full-text search is read 7 at a time by either plan, then each comes once, in order.
    monkeypatch.setattr(search, "FEW_ROWS", few_rows)
    services = open_services(settings)
    expected = _many(services, 30)
    seen: list[str] = []
    after = None
    while True:
        page = search.find(
            services.catalogue.engine, Criteria(text="lebrun", tenant="tenant-a", after=after), limit=7
        )
        seen += [d.id for d in page]
        if len(page) < 7:
            break
        after = (page[-1].received_at, page[-1].id)
    assert seen[:28] == expected[:28] and set(seen[28:]) == {"m028", "m029"}  # the last two: one microsecond


def test_an_sqlite_catalogue_from_before_receipt_order_keys_is_upgraded(settings: Settings) -> None:
    # Given a catalogue whose full text sits in the older search_fts (keys hashed from the id),
    services = open_services(settings)
    _many(services, 5)
    with services.catalogue.engine.begin() as conn:
        conn.execute(text("CREATE VIRTUAL TABLE search_fts USING fts5(id UNINDEXED, body)"))
        conn.execute(
            text("INSERT INTO search_fts (rowid, id, body) SELECT -rowid, id, body FROM search_text")
        )
        conn.execute(text("DROP TABLE search_text"))
        conn.execute(text("UPDATE search SET text_key = NULL"))
    services.catalogue.engine.dispose()
    # when it is opened again, then its rows are moved over and full text finds them as before.
    again = open_services(settings)
    found = [d.id for d in search.find(again.catalogue.engine, Criteria(text="lebrun"))]
    assert found[:3] == ["m000", "m001", "m002"] and set(found[3:]) == {"m003", "m004"}
    with again.catalogue.engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM sqlite_master WHERE name = 'search_fts'")).first() is None
