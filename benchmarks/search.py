"""Search latency over a generated catalogue, on SQLite (FTS5) and PostgreSQL (French tsvector).

Usage: .venv/bin/python -m benchmarks.search [--rows 200000] [--db sqlite|postgresql|both]
                                             [--runs 40] [--pg-admin postgresql+psycopg://…/postgres]

Generates ``--rows`` documents (2,000 sellers, 300 buyers, dates over six years, amounts, a current
lifecycle code, 40 French words of text each) straight into the tables, in the shape the catalogue
writes them (``search.columns``), then times typical searches through ``search.find`` (first page of
50, records decoded) and prints p50/p95 in ms. Target: p95 < 100 ms. PostgreSQL gets a fresh
database, dropped after.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine, create_engine, func, insert, text

from pipeline import search
from pipeline.db import documents, lifecycle, make_engine
from pipeline.db import search as search_table
from pipeline.records import Document, Status
from pipeline.search import Criteria

_VOCABULARY = (
    "facture prestation électricité chauffage maintenance entretien ascenseur nettoyage bureaux "
    "fournitures papeterie informatique logiciel licence abonnement téléphonie transport livraison "
    "marchandises palette réparation véhicule carburant location matériel échafaudage peinture "
    "plomberie menuiserie serrurerie vitrerie toiture isolation climatisation restauration repas "
    "traiteur formation conseil audit honoraires avocat expertise comptable assurance sécurité "
    "gardiennage surveillance imprimerie affiches publicité hébergement déplacement hôtel billet "
    "train avion taxi parking péage remise escompte acompte solde avoir retour pénalités retard"
)
WORDS = _VOCABULARY.split(" ")
STATUSES = [Status.ARCHIVED] * 7 + [Status.NEEDS_REVIEW, Status.REJECTED, Status.QUARANTINED]
START = datetime(2020, 1, 1, tzinfo=UTC)  # one document a second from here
CODES = [200, 202, 204, 205, 205, 205, 212, 212, 210, 213]


def generate(engine: Engine, rows: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    sellers = [f"{rng.randrange(10**8, 10**9)}" for _ in range(2000)]
    buyers = [f"Acheteur {n} {rng.choice(WORDS)}" for n in range(300)]
    batch = 5000
    for start in range(0, rows, batch):
        docs, index, fts, life = [], [], [], []
        for n in range(start, min(rows, start + batch)):
            siren = rng.choice(sellers)
            day = 1 + rng.randrange(6 * 365)
            issued = f"{2020 + day // 365}-{1 + day % 365 // 31 % 12:02d}-{1 + day % 28:02d}"
            fields = {
                "BT-1": f"F{n:07d}",
                "BT-2": issued,
                "BT-9": issued[:8] + "28",
                "BT-30": siren + f"{rng.randrange(10**5):05d}",
                "BT-31": f"FR{rng.randrange(100):02d}{siren}",
                "BT-44": rng.choice(buyers),
                "BT-112": f"{rng.lognormvariate(6, 1.5):.2f}",
            }
            doc = Document(
                id=f"b{n:09d}",
                sha256=f"{n:064x}",
                filename=f"facture-{n}.pdf",
                size=1000,
                received_at=(START + timedelta(seconds=n)).isoformat(timespec="microseconds"),
                status=rng.choice(STATUSES),
                tenant=f"siren:{siren}" if rng.random() < 0.8 else "org",
                fields=fields,
            )
            body = " ".join([*fields.values(), *rng.choices(WORDS, k=40)])
            docs.append(_document_row(doc))
            index.append(
                {
                    "id": doc.id,
                    "tenant": doc.tenant,
                    "received_at": doc.received_at,
                    "doc_type": "invoice",
                    "text_state": "capture",
                    "body": body,
                    **search.columns(fields),
                }
            )
            fts.append({"r": search.text_key(doc.received_at), "id": doc.id, "body": body})
            index[-1]["text_key"] = fts[-1]["r"]
            life.append(
                {
                    "document_id": doc.id,
                    "seq": 1,
                    "code": rng.choice(CODES),
                    "actor": "bench",
                    "at": doc.received_at,
                    "key": "k",
                    "sha256": "0" * 64,
                }
            )
        with engine.begin() as conn:
            conn.execute(insert(documents), docs)
            conn.execute(insert(lifecycle), life)
            if engine.dialect.name == "postgresql":
                tsv = func.to_tsvector("french", text(":body")).op("||")(
                    func.to_tsvector("simple", text(":body"))
                )
                conn.execute(insert(search_table).values(tsv=tsv), index)
            else:
                conn.execute(
                    insert(search_table), [{k: v for k, v in r.items() if k != "body"} for r in index]
                )
                conn.execute(text("INSERT INTO search_text (rowid, id, body) VALUES (:r, :id, :body)"), fts)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))


def _document_row(doc: Document) -> dict[str, object]:
    return {
        "id": doc.id,
        "sha256": doc.sha256,
        "tenant": doc.tenant,
        "owner": None,
        "filename": doc.filename,
        "received_at": doc.received_at,
        "updated_at": doc.received_at,
        "status": doc.status.value,
        "stage": "archive",
        "doc_type": "invoice",
        "reason": None,
        "record": json.dumps(doc.to_json(), ensure_ascii=False),
        "seller_key": None,
        "invoice_number": doc.fields["BT-1"],
        "issue_date": doc.fields["BT-2"],
        "total": doc.fields["BT-112"],
    }


def queries(engine: Engine, rng: random.Random) -> dict[str, Callable[[], Criteria]]:
    with engine.connect() as conn:
        sirens = [r[0] for r in conn.execute(text("SELECT DISTINCT seller_siren FROM search LIMIT 500"))]
        buyers = [r[0] for r in conn.execute(text("SELECT DISTINCT buyer FROM search LIMIT 300"))]
    return {
        "seller SIREN": lambda: Criteria(siren=rng.choice(sirens)),
        "invoice number": lambda: Criteria(invoice_number=f"F{rng.randrange(1000):07d}"),
        "buyer + issue dates": lambda: Criteria(
            buyer=rng.choice(buyers), issued_from="2023-01-01", issued_to="2023-12-31"
        ),
        "amount range": lambda: Criteria(min_amount=Decimal(5000), max_amount=Decimal(5100)),
        "status rejected": lambda: Criteria(status=Status.REJECTED),
        "lifecycle 213": lambda: Criteria(lifecycle=213),
        "tenant + status": lambda: Criteria(tenant=f"siren:{rng.choice(sirens)}", status=Status.ARCHIVED),
        "text, one word": lambda: Criteria(text=rng.choice(WORDS)),
        "text, two words": lambda: Criteria(text=" ".join(rng.sample(WORDS, 2))),
        "text + seller": lambda: Criteria(text=rng.choice(WORDS), siren=rng.choice(sirens)),
        "text + tenant": lambda: Criteria(text=rng.choice(WORDS), tenant=f"siren:{rng.choice(sirens)}"),
        "text + status": lambda: Criteria(text=rng.choice(WORDS), status=Status.REJECTED),
        "text, rare": lambda: Criteria(text=f"F{rng.randrange(200_000):07d}"),
    }


def measure(engine: Engine, runs: int) -> None:
    rng = random.Random(2)
    print(f"{'query':<22} {'p50 ms':>8} {'p95 ms':>8} {'found':>6}")
    for name, make in queries(engine, rng).items():
        times, found = [], 0
        for _ in range(runs):
            criteria = make()
            t0 = time.perf_counter()
            found = len(search.find(engine, criteria, limit=50))
            times.append((time.perf_counter() - t0) * 1000)
        p95 = statistics.quantiles(times, n=20)[-1]
        print(f"{name:<22} {statistics.median(times):8.1f} {p95:8.1f} {found:6d}")


@contextmanager
def database(kind: str, admin_url: str) -> Iterator[Engine]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
            yield engine
            engine.dispose()
        return
    name = f"dematflow_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        engine = make_engine(admin_url.rsplit("/", 1)[0] + f"/{name}")
        yield engine
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--pg-admin", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    for kind in ("sqlite", "postgresql") if args.db == "both" else (args.db,):
        with database(kind, args.pg_admin) as engine:
            t0 = time.perf_counter()
            generate(engine, args.rows)
            print(f"\n{kind}: {args.rows:,} rows generated in {time.perf_counter() - t0:.0f} s")
            measure(engine, args.runs)


if __name__ == "__main__":
    main()
