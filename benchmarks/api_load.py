"""Concurrent uploads against a real `dematflow serve`: latency of the deposit, end-to-end throughput,
and proof that no document is lost or duplicated.

Usage: .venv/bin/python -m benchmarks.api_load [--clients 20] [--per-client 10] [--workers 1]
                                               [--broker redis://127.0.0.1:6379/N] [--queue-workers 2]

Each client is a supplier of its own (one account, one SIREN, an httpx client in a thread) depositing
distinct digital PDF invoices one after the other; then it polls the status URLs of its documents
until each is final. The service runs on a free loopback port on embedded defaults in a temp dir,
processing in-process (``--workers`` threads, DEMATFLOW_API_WORKERS) or, with ``--broker``, through
``dematflow worker`` processes (the Redis DB N is flushed before and after; no other DB is touched).

Checked after the run: every upload answered 202 with a distinct id, every id reached a final status,
the listing paged by cursor as an agent holds exactly those ids, and `dematflow audit verify` passes.
The deposit must not wait for processing: its latency is printed beside the per-document processing
time read from the journal.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from cli.samples import demo_invoices, invoice_pdf
from tests.api_server import DEMATFLOW, Server, start_server

FINAL = frozenset({"archived", "needs_review", "rejected", "quarantined"})
POLL_S = 0.5
TIMEOUT_S = 900.0


@dataclass
class ClientRun:
    """What one client saw: an upload latency and answer per invoice, when each id was seen final."""

    name: str
    latencies: list[float] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    final_at: dict[str, float] = field(default_factory=dict)
    verdicts: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LoadResult:
    clients: int
    per_client: int
    mode: str
    uploads: int
    accepted: int  # answered 202
    distinct_ids: int
    final: int
    listed: int
    listed_distinct: int
    listing_matches: bool
    audit_ok: bool
    upload_latency: list[float]
    processing: list[float]  # journal: first stage after the deposit to the final stage event
    in_system: list[float]  # journal: received to the final stage event (waiting included)
    elapsed: float  # first upload sent to last document seen final
    verdicts: dict[str, int]

    @property
    def lost(self) -> int:
        return self.uploads - self.final

    @property
    def duplicated(self) -> int:
        return (self.accepted - self.distinct_ids) + (self.listed - self.listed_distinct)

    @property
    def ok(self) -> bool:
        return (
            self.accepted == self.uploads
            and self.lost == 0
            and self.duplicated == 0
            and self.listing_matches
            and self.audit_ok
        )


def make_invoices(clients: int, per_client: int) -> list[tuple[str, list[bytes]]]:
    """For each client its seller's SIREN and ``per_client`` distinct digital PDF invoices of it."""
    out = []
    for c in range(clients):
        base = demo_invoices(seed=5000 + c)[1]  # the digital PDF invoice, a seller of its own
        assert base.seller.siret is not None
        pdfs = [
            invoice_pdf(dataclasses.replace(base, number=f"LOAD-{c:03d}-{i:04d}")) for i in range(per_client)
        ]
        out.append((base.seller.siret[:9], pdfs))
    return out


def run_client(server: Server, run: ClientRun, pdfs: list[bytes], start: threading.Barrier) -> None:
    with server.client(run.name) as client:
        start.wait()
        for i, pdf in enumerate(pdfs):
            began = time.perf_counter()
            answer = client.post(
                "/api/v1/documents", files={"file": (f"facture-{i}.pdf", pdf, "application/pdf")}
            )
            run.latencies.append(time.perf_counter() - began)
            run.statuses.append(answer.status_code)
            if answer.status_code == 202:
                run.ids.append(str(answer.json()["id"]))
        pending = list(run.ids)
        deadline = time.monotonic() + TIMEOUT_S
        while pending and time.monotonic() < deadline:
            # documents are taken in order, so the oldest pending one is the one to ask about
            while pending:
                doc = client.get(f"/api/v1/documents/{pending[0]}").json()
                if doc.get("status") not in FINAL or doc.get("lifecycle") is None:
                    break
                run.final_at[pending[0]], run.verdicts[pending[0]] = time.perf_counter(), str(doc["status"])
                pending.pop(0)
            if pending:
                time.sleep(POLL_S)


def listing_ids(server: Server, agent: str) -> list[str]:
    """Every id of GET /api/v1/documents, paged by cursor."""
    ids: list[str] = []
    with server.client(agent) as client:
        cursor: str | None = None
        while True:
            page = client.get(
                "/api/v1/documents", params={"limit": 50, **({"cursor": cursor} if cursor else {})}
            )
            page.raise_for_status()
            body = page.json()
            ids += [str(item["id"]) for item in body["items"]]
            cursor = body.get("next_cursor")
            if not cursor:
                return ids


def journal_times(server: Server, ids: set[str]) -> tuple[list[float], list[float]]:
    """Per document, from the journal: its first stage after the deposit to its final stage event, and
    the deposit (``received``) to that final event, queue waiting included (seconds)."""
    from pipeline import journal
    from pipeline.catalogue import Catalogue
    from pipeline.settings import Settings

    engine = Catalogue.open(Settings.from_env(server.env).database_url).engine
    received: dict[str, datetime] = {}
    started: dict[str, datetime] = {}
    last: dict[str, datetime] = {}
    for e in journal.entries(engine):
        if e.document_id not in ids or e.stage in ("access", "lifecycle"):
            continue
        at = datetime.fromisoformat(e.at)
        if e.action == "received":
            received[e.document_id] = at
        else:
            started.setdefault(e.document_id, at)
        last[e.document_id] = at
    processing = [(last[d] - started[d]).total_seconds() for d in started]
    in_system = [(last[d] - received[d]).total_seconds() for d in received]
    return processing, in_system


@contextmanager
def queue_workers(server: Server, broker: str, processes: int) -> Iterator[None]:
    """`dematflow worker` processes on the same data dir and broker, stopped after."""
    log = (server.data_dir.parent / "worker.log").open("wb")
    proc = subprocess.Popen(
        [DEMATFLOW, "worker", "--processes", str(processes)],
        env=server.env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def flush_db(broker: str) -> None:
    """Empty the benchmark's own Redis DB (the URL names it), nothing else."""
    import redis

    client = redis.Redis.from_url(broker)
    try:
        client.flushdb()
    finally:
        client.close()


def run_load(
    root: Path,
    dev_keys: Path,
    *,
    clients: int,
    per_client: int,
    workers: int = 1,
    broker: str | None = None,
    queue_processes: int = 2,
) -> LoadResult:
    invoices = make_invoices(clients, per_client)
    env = {"DEMATFLOW_API_WORKERS": str(workers)}
    if broker:
        flush_db(broker)
        env["DEMATFLOW_BROKER_URL"] = broker
    servers = start_server(root, dev_keys, **env)
    server = next(servers)
    try:
        runs = []
        for c, (siren, _) in enumerate(invoices):
            runs.append(ClientRun(f"Fournisseur {c:03d}"))
            server.add_account("supplier", runs[-1].name, siren)
        server.add_account("agent", "Agent de charge")
        with queue_workers(server, broker, queue_processes) if broker else _nothing():
            result = _drive(server, runs, invoices, clients=clients, per_client=per_client)
        listed = listing_ids(server, "Agent de charge")
        audit = subprocess.run([DEMATFLOW, "audit", "verify"], env=server.env, capture_output=True, text=True)
    finally:
        next(servers, None)  # stops the service
        if broker:
            flush_db(broker)
    ids = [i for r in runs for i in r.ids]
    processing, in_system = journal_times(server, set(ids))
    mode = f"queue ({queue_processes} worker processes)" if broker else f"in-process ({workers} threads)"
    return dataclasses.replace(
        result,
        mode=mode,
        listed=len(listed),
        listed_distinct=len(set(listed)),
        listing_matches=set(listed) == set(ids),
        audit_ok=audit.returncode == 0,
        processing=processing,
        in_system=in_system,
    )


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def _drive(
    server: Server,
    runs: list[ClientRun],
    invoices: list[tuple[str, list[bytes]]],
    *,
    clients: int,
    per_client: int,
) -> LoadResult:
    start = threading.Barrier(len(runs) + 1)
    threads = [
        threading.Thread(target=run_client, args=(server, run, pdfs, start), daemon=True)
        for run, (_, pdfs) in zip(runs, invoices, strict=True)
    ]
    for t in threads:
        t.start()
    start.wait()
    began = time.perf_counter()
    for t in threads:
        t.join(TIMEOUT_S + 60)
    ids = [i for r in runs for i in r.ids]
    finals = [t for r in runs for t in r.final_at.values()]
    return LoadResult(
        clients=clients,
        per_client=per_client,
        mode="",
        uploads=clients * per_client,
        accepted=sum(s == 202 for r in runs for s in r.statuses),
        distinct_ids=len(set(ids)),
        final=len({i for r in runs for i in r.final_at}),
        listed=0,
        listed_distinct=0,
        listing_matches=False,
        audit_ok=False,
        upload_latency=[x for r in runs for x in r.latencies],
        processing=[],
        in_system=[],
        elapsed=(max(finals) - began) if finals else float("nan"),
        verdicts=dict(Counter(v for r in runs for v in r.verdicts.values())),
    )


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def report(r: LoadResult) -> str:
    def row(name: str, values: list[float]) -> str:
        return (
            f"{name:<38} {pct(values, 0.5) * 1000:>9.0f} {pct(values, 0.95) * 1000:>9.0f} "
            f"{max(values, default=float('nan')) * 1000:>9.0f}"
        )

    med_proc = statistics.median(r.processing) if r.processing else float("nan")
    lines = [
        f"api_load: {r.clients} clients × {r.per_client} digital PDF invoices, {r.mode}",
        "",
        f"{'ms':<38} {'p50':>9} {'p95':>9} {'max':>9}",
        row("upload (POST /api/v1/documents, 202)", r.upload_latency),
        row("processing a document (journal)", r.processing),
        row("received to final (waiting included)", r.in_system),
        "",
        f"upload p95 / median processing      : {pct(r.upload_latency, 0.95) / med_proc:.3f}",
        f"end to end (first upload → last final): {r.elapsed:.1f} s, {r.final / r.elapsed:.2f} documents/s",
        f"one worker at the median pace       : {1 / med_proc:.2f} documents/s",
        f"verdicts                            : {r.verdicts}",
        *(
            ["(queue: each stage is its own message, so the journal row counts the waits between stages)"]
            if r.mode.startswith("queue")
            else []
        ),
        "",
        f"uploads {r.uploads}, answered 202 {r.accepted}, distinct ids {r.distinct_ids}, final {r.final}",
        f"listing as agent: {r.listed} rows, {r.listed_distinct} distinct, "
        f"same ids as uploaded: {r.listing_matches}",
        f"lost {r.lost}, duplicated {r.duplicated}, audit verify {'OK' if r.audit_ok else 'FAILED'}",
        f"verdict: {'PASS' if r.ok else 'FAIL'}",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--per-client", type=int, default=10)
    parser.add_argument("--workers", type=int, default=1, help="DEMATFLOW_API_WORKERS (in-process threads)")
    parser.add_argument("--broker", default=None, help="redis://127.0.0.1:6379/N: queue mode on Redis DB N")
    parser.add_argument(
        "--queue-workers", type=int, default=2, help="`dematflow worker` processes (queue mode)"
    )
    args = parser.parse_args()
    if args.broker and not args.broker.startswith("redis://127.0.0.1:"):
        parser.error("--broker must be a loopback Redis URL with its own DB number")
    from signing.credentials import ensure_dev_credentials

    with tempfile.TemporaryDirectory(prefix="dematflow-load-") as tmp:
        root = Path(tmp)
        ensure_dev_credentials(root / "keys")
        result = run_load(
            root / "run",
            root / "keys",
            clients=args.clients,
            per_client=args.per_client,
            workers=args.workers,
            broker=args.broker,
            queue_processes=args.queue_workers,
        )
    print(report(result))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
