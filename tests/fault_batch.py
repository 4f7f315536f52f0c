"""A batch of e-invoices taken through real `dematflow worker` subprocesses while faults are injected."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from cli.samples import cii_xml, demo_invoices
from pipeline import journal
from pipeline.context import Services
from pipeline.records import Status

CLI = [sys.executable, "-m", "cli.main"]
# a step's failure, dramatiq re-enqueueing it, or a consumer reconnecting to the broker
RETRY = re.compile(r"Retrying message|failed: |Consumer encountered a connection error")


def write_batch(directory: Path, n: int) -> list[Path]:
    """``n`` distinct small CII e-invoices (the fastest documents end to end: no OCR, no PDF parsing)."""
    directory.mkdir(parents=True, exist_ok=True)
    invoice = demo_invoices()[0]
    files = []
    for i in range(n):
        path = directory / f"FT-{i:04d}.xml"
        path.write_bytes(cii_xml(dataclasses.replace(invoice, number=f"FT-2026-{i:04d}")))
        files.append(path)
    return files


def submit(env: dict[str, str], files: list[Path]) -> list[str]:
    done = subprocess.run([*CLI, "submit", *map(str, files)], env=env, capture_output=True, text=True,
                          timeout=120, check=True)  # fmt: skip
    return [json.loads(line)["document_id"] for line in done.stdout.splitlines()]


@dataclass
class Workers:
    """`dematflow worker --processes 1` groups; a kill is SIGKILL of a whole group (supervisor and child)."""

    env: dict[str, str]
    logs: Path
    procs: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)
    started: int = 0

    def start(self, slot: int) -> None:
        self.started += 1
        log = (self.logs / f"worker-{self.started}.log").open("wb")
        self.procs[slot] = subprocess.Popen([*CLI, "worker", "--processes", "1"], env=self.env,
                                            stdout=log, stderr=log, start_new_session=True)  # fmt: skip

    def kill(self, slot: int) -> None:
        os.killpg(self.procs[slot].pid, signal.SIGKILL)
        self.procs[slot].wait(timeout=30)

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)

    def retries(self) -> int:
        """Retries the workers logged: steps retried and consumers reconnecting (``RETRY``)."""
        return sum(len(RETRY.findall(p.read_text(errors="replace"))) for p in self.logs.glob("worker-*.log"))


@dataclass
class Figures:
    documents: int
    kills: int = 0
    # per kill: (documents the killed workers held, seconds until all came back, ... until all final)
    stranded: list[tuple[int, float, float]] = field(default_factory=list)
    total_s: float = 0.0
    retries: int = 0
    statuses: dict[str, int] = field(default_factory=dict)

    def line(self, label: str) -> str:
        held = sum(n for n, _, _ in self.stranded)
        stranded = (f"{held} documents held by killed workers, their messages back in the queue after "
                    f"max {self.max_back_s:.1f} s, the documents final after max "
                    f"{max((f for _, _, f in self.stranded), default=0.0):.1f} s" if self.stranded
                    else "held messages not observable")  # fmt: skip
        return (
            f"{label}: {self.documents} documents, {self.kills} faults, {stranded}, total "
            f"{self.total_s:.1f} s, {self.retries} retries logged, statuses {self.statuses}"
        )

    @property
    def max_back_s(self) -> float:
        """The longest a document held by a killed worker waited for its message to be redelivered."""
        return max((b for _, b, _ in self.stranded), default=0.0)


class Probe(Protocol):
    """What the broker shows of a worker killed at ``kill_time`` (wall clock, seconds)."""

    def held(self, kill_time: float) -> set[str]:
        """The documents whose messages the killed worker had taken and not acknowledged."""

    def requeued(self, kill_time: float) -> bool:
        """True once those messages are back in their queues."""


@dataclass
class Stranded:
    """The documents a killed worker held, each with its place in the pipeline when it died."""

    killed_at: float
    wall: float
    at_kill: dict[str, tuple[str, Status]]
    requeued: Callable[[float], bool]
    back_at: float | None = None
    final_at: float | None = None

    @classmethod
    def of(cls, services: Services, killed_at: float, wall: float, probe: Probe) -> Stranded:
        docs = (services.catalogue.get(i) for i in probe.held(wall))
        return cls(killed_at, wall, {d.id: (d.stage, d.status) for d in docs}, probe.requeued)

    def update(self, services: Services, now: float) -> bool:
        """Note when the messages are back in their queues (they then wait their turn behind the rest
        of the batch), and when every document is final; True once they all are."""
        docs = [services.catalogue.get(i) for i in self.at_kill]
        if self.back_at is None and self.requeued(self.wall):
            self.back_at = now
        if all(d.status.final for d in docs):
            self.final_at = now
        return self.final_at is not None

    def figures(self) -> tuple[int, float, float]:
        back, final = self.back_at or self.killed_at, self.final_at or self.killed_at
        return len(self.at_kill), back - self.killed_at, final - self.killed_at


def statuses(services: Services) -> dict[str, Status]:
    return {d.id: d.status for d in services.catalogue.list(limit=100_000)}


def drive(
    services: Services,
    workers: Workers,
    ids: list[str],
    *,
    rng: random.Random,
    kills: int,
    timeout: float,
    probe: Probe | None = None,
    fault: Callable[[], None] | None = None,
) -> Figures:
    """Run until every document is final, killing a random worker group ``kills`` times at random
    points (and restarting it); the ``probe`` says which documents the killed group held, and when
    their messages came back. ``fault`` instead, if given, is called once mid-batch."""
    figures, t0 = Figures(len(ids)), time.monotonic()
    pending: list[Stranded] = []
    # Faults come at seeded points of the batch's progress, not of the clock: a faster pipeline must
    # meet as many as a slow one (a batch once ended before its second kill, another before its fault).
    points = sorted(rng.uniform(0.05, 0.75) for _ in range(kills))
    fault_at = rng.uniform(0.1, 0.4)
    while True:
        now = time.monotonic()
        current = statuses(services)
        if all(s.final for s in current.values()) and len(current) >= len(ids):
            break
        assert now - t0 < timeout, f"not final after {timeout}s: {Counter(s.value for s in current.values())}"
        for stranded in list(pending):
            if stranded.update(services, now):
                figures.stranded.append(stranded.figures())
                pending.remove(stranded)
        work_left = sum(not s.final for s in current.values()) > len(ids) // 10
        done = sum(s.final for s in current.values()) / len(ids)
        if fault is not None and done >= fault_at and work_left:
            fault()
            fault, figures.kills = None, figures.kills + 1
        elif fault is None and figures.kills < kills and done >= points[figures.kills] and work_left:
            slot, wall = rng.choice(sorted(workers.procs)), time.time()
            workers.kill(slot)
            figures.kills += 1
            time.sleep(rng.uniform(0.2, 2.0))
            workers.start(slot)
            if probe is not None:
                pending.append(Stranded.of(services, now, wall, probe))
        time.sleep(0.25)
    figures.total_s = time.monotonic() - t0
    figures.stranded += [p.figures() for p in pending if p.update(services, time.monotonic())]
    return figures


def check_batch(services: Services, files: list[Path], ids: list[str], env: dict[str, str]) -> dict[str, int]:
    """0 lost, 0 duplicated, all final, each archived once, the audit chain intact: the status counts."""
    docs = services.catalogue.list(limit=100_000)
    by_hash = Counter(d.sha256 for d in docs)
    wanted = {hashlib.sha256(f.read_bytes()).hexdigest() for f in files}
    assert len(set(ids)) == len(files) == len(docs), (len(set(ids)), len(files), len(docs))
    assert set(by_hash) == wanted and set(by_hash.values()) == {1}, "a file lost or kept twice"
    archived = Counter(
        e.document_id for e in journal.entries(services.catalogue.engine) if e.action == "archived"
    )
    assert not [d for d, n in archived.items() if n > 1], "a document archived twice"
    assert all(d.status.final for d in docs)
    assert all(archived[d.id] == 1 for d in docs if d.status is Status.ARCHIVED)
    audit = subprocess.run([*CLI, "audit", "verify"], env=env, capture_output=True, text=True, timeout=120)
    assert audit.returncode == 0, audit.stdout[-2000:] + audit.stderr[-2000:]
    return dict(Counter(d.status.value for d in docs))
