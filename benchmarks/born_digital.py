"""Born-digital invoices: documents per CPU-second end to end, worker scaling and memory, a hot folder.

Usage: .venv/bin/python -m benchmarks.born_digital [--docs 60] [--worker-docs 40] [--files 1000]
       [--profile] [--only cpu,workers,watch] [--watch-mode embedded|queued]

(a) The same generated digital invoices (benchmarks/synth) go end to end through the embedded
pipeline in this process, warm data dir, at seal level B-B with batched anchor tokens and at B-T
(one token a PDF), side by side: documents per CPU-second (this process's CPU time and its waited-for
children's; target >= 25), wall rate, and the RFC 3161 tokens each level asked for. ``--profile``
prints where the CPU goes (cProfile, top entries by own time) for the B-B run.
(b), (c) dramatiq workers on Redis (127.0.0.1:6379, db 6, flushed before and after), 1 then 2
processes (one thread each), warmed up first; the documents are received before the clock starts,
then all their first steps are sent at once: documents per second and the 2/1 ratio (target >= 1.8),
the load average around each run (the machine is shared), and each worker's peak RSS (VmHWM).
(d) ``dematflow watch`` as a subprocess on a temporary folder: ``--files`` small digital invoices
moved into it at once; all received (``.done/``), none lost (catalogue), files per second.
``embedded`` processes each file in the watcher; ``queued`` (DEMATFLOW_BROKER_URL) only receives.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import os
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks import synth
from pipeline.context import Services, open_services
from pipeline.intake import receive
from pipeline.run import run_stages
from pipeline.settings import SealSettings, Settings
from signing.policy import SealLevel
from storage.keys import ANCHORS

REDIS = "redis://127.0.0.1:6379/6"  # no test or other benchmark uses db 6
ROOT = Path(__file__).resolve().parents[1]


def documents(count: int, tag: str) -> list[tuple[str, bytes]]:
    layouts = sorted(synth.LAYOUTS)
    made = (synth.invoice_doc(seed=f"{tag}-{i}", layout=layouts[i % len(layouts)]) for i in range(count))
    return [(f"{d.name}-{tag}-{i}.pdf", d.pdf) for i, d in enumerate(made)]


def cpu() -> float:
    """This process's CPU seconds, its waited-for children's, and those of its live children with
    what they waited for (the sandbox's forkserver reaps the extraction children, not us)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime + live_children_cpu()


def live_children_cpu() -> float:
    tick, total = os.sysconf("SC_CLK_TCK"), 0.0
    for task in Path("/proc/self/task").iterdir():
        for pid in (task / "children").read_text().split():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += sum(int(f) for f in fields[11:15]) / tick  # utime, stime, cutime, cstime
    return total


def load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


# (a) documents per CPU-second ------------------------------------------------------------------


def level_services(work: Path, level: SealLevel, keys: Path) -> Services:
    data = work / level.value
    shutil.copytree(keys, data / "keys")
    base = Settings.from_env({"DEMATFLOW_DATA_DIR": str(data)})
    return open_services(dataclasses.replace(base, ocr_jobs=1, seal=SealSettings(level=level)))


def one_level(
    services: Services, docs: list[tuple[str, bytes]], profile: cProfile.Profile | None
) -> dict[str, float]:
    for name, pdf in documents(3, f"warm-{services.settings.seal.level}"):  # imports, key, caches
        run_stages(services, receive(services, filename=name, data=pdf))
    anchors = len(list(services.store.keys(ANCHORS)))
    start_cpu, start, own = cpu(), time.perf_counter(), time.process_time()
    if profile is not None:
        profile.enable()
    statuses = [
        run_stages(services, receive(services, filename=n, data=d)).document.status.value for n, d in docs
    ]
    if profile is not None:
        profile.disable()
    used, wall, own = cpu() - start_cpu, time.perf_counter() - start, time.process_time() - own
    kept = [services.store.get(k) for k in services.store.keys(ANCHORS)][anchors:]
    level = services.settings.seal.level
    tokens = sum(b'"token"' in k for k in kept) if level is SealLevel.B_B else len(docs)
    archived = statuses.count("archived")
    return {"cpu": used, "own": own, "wall": wall, "tokens": tokens, "archived": archived}


def cpu_rate(work: Path, keys: Path, count: int, profile: bool) -> None:
    docs = documents(count, "cpu")
    prof = cProfile.Profile() if profile else None
    bb, bt = level_services(work, SealLevel.B_B, keys), level_services(work, SealLevel.B_T, keys)
    print(f"(a) {count} born-digital invoices end to end, embedded, warm data dir; load {load()}")
    results = {"B-B + batched tokens": one_level(bb, docs, prof), "B-T": one_level(bt, docs, None)}
    for name, r in results.items():
        print(
            f"    {name:22s} {count / r['cpu']:6.1f} documents/CPU-s "
            f"({r['cpu'] / count * 1000:.0f} ms CPU each, {(r['cpu'] - r['own']) / count * 1000:.0f} of it "
            f"in child processes), "
            f"{count / r['wall']:5.1f} documents/s wall, {r['archived']:.0f} archived, "
            f"{r['tokens']:.0f} RFC 3161 token(s)"
        )
    a, b = results.values()
    print(f"    CPU a document, B-B / B-T: {a['cpu'] / b['cpu']:.2f}; load after {load()}")
    if prof is not None:
        print("    where the CPU goes at B-B (cProfile, top by own time):")
        stats = pstats.Stats(prof, stream=sys.stdout)
        stats.sort_stats("tottime").print_stats(15)
        stats.sort_stats("cumulative").print_stats(25)


# (b), (c) dramatiq workers -----------------------------------------------------------------------


def children(pid: int) -> list[int]:
    try:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [int(p) for p in found]


def vm_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def wait_final(services: Services, ids: list[str], timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = [i for i in ids if not services.catalogue.get(i).status.final]
        if not left:
            return 0
        ids = left
        time.sleep(0.2)
    return len(ids)


def worker_run(
    work: Path, keys: Path, processes: int, docs: list[tuple[str, bytes]]
) -> tuple[float, list[float]]:
    from dramatiq.brokers.redis import RedisBroker

    from workers.actors import Actors

    data = work / f"workers-{processes}"
    shutil.copytree(keys, data / "keys")
    env = {**os.environ, "DEMATFLOW_DATA_DIR": str(data), "DEMATFLOW_BROKER_URL": REDIS,
           "DEMATFLOW_SEAL_LEVEL": "B-B", "PYTHONPATH": str(ROOT)}  # fmt: skip
    flush = RedisBroker(url=REDIS)
    flush.flush_all()
    services = open_services(Settings.from_env(env))
    actors = Actors(flush, lambda: services)
    worker = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "worker", "--processes", str(processes)],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        warming = documents(2 * processes, f"warm-w{processes}")
        warm = [actors.submit(filename=n, data=d).document_id for n, d in warming]
        if wait_final(services, warm, 300):
            raise SystemExit("the workers did not finish their warm-up documents")
        ids = [receive(services, filename=n, data=d).document_id for n, d in docs]
        before = load()
        start = time.perf_counter()
        for i in ids:
            actors.send("ingest", i)
        lost = wait_final(services, ids, 900)
        took = time.perf_counter() - start
        peaks = [vm_hwm_mb(p) for p in children(worker.pid)]
        archived = sum(services.catalogue.get(i).status.value == "archived" for i in ids)
        print(
            f"    {processes} worker process(es): {len(docs) / took:5.2f} documents/s ({took:.1f} s, "
            f"{archived}/{len(ids)} archived, {lost} unfinished); load {before} -> {load()}; "
            f"peak RSS (VmHWM) {', '.join(f'{p:.0f}' for p in peaks)} MB, "
            f"dramatiq parent {vm_hwm_mb(worker.pid):.0f} MB"
        )
        return took, peaks
    finally:
        worker.terminate()
        worker.wait(60)
        flush.flush_all()
        flush.close()


def worker_scaling(work: Path, keys: Path, count: int) -> None:
    docs = documents(count, "workers")
    print(
        f"(b, c) dramatiq workers on Redis ({REDIS}), {count} born-digital invoices at B-B, "
        f"{os.cpu_count()} cores"
    )
    one, peaks1 = worker_run(work, keys, 1, docs)
    two, peaks2 = worker_run(work, keys, 2, docs)
    print(f"    throughput ratio 2 / 1 worker processes: {one / two:.2f} (target >= 1.8)")
    print(f"    worker peak RSS: max {max(peaks1 + peaks2, default=0):.0f} MB (target <= 400 MB)")


# (d) hot folder ----------------------------------------------------------------------------------


def hot_folder(work: Path, keys: Path, count: int, mode: str) -> None:
    from dramatiq.brokers.redis import RedisBroker

    data, inbox, staging = work / "watch-data", work / "inbox", work / "staging"
    shutil.copytree(keys, data / "keys")
    inbox.mkdir()
    staging.mkdir()
    for name, pdf in documents(count, "watch"):
        (staging / name).write_bytes(pdf)
    env = {
        **os.environ,
        "DEMATFLOW_DATA_DIR": str(data),
        "DEMATFLOW_SEAL_LEVEL": "B-B",
        "PYTHONPATH": str(ROOT),
    }
    if mode == "queued":
        env["DEMATFLOW_BROKER_URL"] = REDIS
        RedisBroker(url=REDIS).flush_all()
    log = (work / "watch.log").open("w")
    watcher = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "watch", str(inbox), "--settle", "1"],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        _wait_for(lambda: "watching" in (work / "watch.log").read_text(), 120)
        print(f"(d) hot folder, {mode}: {count} files moved into {inbox} at once; load {load()}")
        start = time.perf_counter()
        for path in staging.iterdir():
            path.rename(inbox / path.name)
        done, failed = inbox / ".done", inbox / ".failed"
        moved = lambda: sum(1 for _ in done.rglob("*.pdf")) + sum(1 for _ in failed.rglob("*.pdf"))  # noqa: E731
        _wait_for(lambda: moved() >= count, 1800)
        took = time.perf_counter() - start
    finally:
        watcher.terminate()
        watcher.wait(120)
        log.close()
    services = open_services(Settings.from_env(env))
    kept = sum(services.catalogue.count().values())
    received = sum(1 for _ in (inbox / ".done").rglob("*.pdf"))
    left = sum(1 for p in inbox.iterdir() if p.is_file())
    tail = (work / "watch.log").read_text().strip().splitlines()[-1:]
    print(
        f"    {received}/{count} received (.done), {left} left in the folder, catalogue {kept}; "
        f"{count / took:.1f} files/s ({took:.1f} s); load after {load()}; watcher: {' '.join(tail)}"
    )
    if mode == "queued":
        RedisBroker(url=REDIS).flush_all()


def _wait_for(ready: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise SystemExit("timed out")
        time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=60)
    parser.add_argument("--worker-docs", type=int, default=40)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--only", default="cpu,workers,watch")
    parser.add_argument("--watch-mode", choices=("embedded", "queued"), default="embedded")
    args = parser.parse_args()
    parts = set(args.only.split(","))
    with tempfile.TemporaryDirectory(prefix="dematflow-born-") as tmp:
        work = Path(tmp)
        keys = work / "keys"
        from signing.credentials import ensure_dev_credentials

        ensure_dev_credentials(keys)
        if "cpu" in parts:
            cpu_rate(work / "cpu", keys, args.docs, args.profile)
        if "workers" in parts:
            worker_scaling(work, keys, args.worker_docs)
        if "watch" in parts:
            hot_folder(work, keys, args.files, args.watch_mode)


if __name__ == "__main__":
    main()
