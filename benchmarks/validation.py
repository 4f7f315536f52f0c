"""Benchmark: schematron compile vs warm validation time, and RSS over N validations in one process.

    .venv/bin/python benchmarks/validation.py [N] [--file INVOICE]

Default invoice: a typical EN 16931 Factur-X (French seller, so EN 16931 + BR-FR schematrons run),
``../shared/corpus/factur-x-python/pdf/invoice_EN16931.pdf``, or the demo Factur-X if the corpus is absent.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from extractors.facturx import find_embedded_xml
from validators.chain import validate_xml
from validators.schematron import probe

CORPUS_INVOICE = Path(__file__).resolve().parents[2] / "shared/corpus/factur-x-python/pdf/invoice_EN16931.pdf"
WARM_RUNS = 200


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=10_000, help="validations for the RSS run")
    parser.add_argument("--file", type=Path, help="a Factur-X PDF or CII/UBL XML")
    args = parser.parse_args()
    xml = _invoice_xml(args.file)
    print(f"{probe()}; invoice XML of {len(xml)} bytes; RSS at start {_rss_mib():.1f} MiB")

    t0 = time.perf_counter()
    report = validate_xml(xml)
    print(f"first validation (compiles the XSLTs): {1000 * (time.perf_counter() - t0):.0f} ms")
    print(f"  checked={list(report.checked)} not_checked={list(report.not_checked)} valid={report.valid}")
    for _ in range(10):
        validate_xml(xml)
    times = []
    for _ in range(WARM_RUNS):
        t = time.perf_counter()
        validate_xml(xml)
        times.append(1000 * (time.perf_counter() - t))
    times.sort()
    p95 = times[int(0.95 * len(times)) - 1]
    print(f"warm validation over {WARM_RUNS}: median {statistics.median(times):.1f} ms, p95 {p95:.1f} ms")

    _memory_run(xml, args.n)


def _memory_run(xml: bytes, n: int) -> None:
    print(f"RSS before {n} validations: {_rss_mib():.1f} MiB")
    start = time.perf_counter()
    tenth = max(1, n // 10)
    for i in range(1, n + 1):
        validate_xml(xml)
        if i == tenth:
            print(f"RSS after {i} validations (10%): {_rss_mib():.1f} MiB")
    elapsed = time.perf_counter() - start
    print(
        f"RSS after {n} validations: {_rss_mib():.1f} MiB ({elapsed:.0f} s, {1000 * elapsed / n:.1f} ms each)"
    )


def _invoice_xml(path: Path | None) -> bytes:
    if path is None and CORPUS_INVOICE.is_file():
        path = CORPUS_INVOICE
    if path is None:
        from cli.samples import make_demo_set  # the demo set holds a valid EN 16931 Factur-X

        with tempfile.TemporaryDirectory() as tmp:
            pdfs = [s.path for s in make_demo_set(Path(tmp)) if "facturx" in s.path.name]
            data = pdfs[0].read_bytes()
    else:
        data = path.read_bytes()
    embedded = find_embedded_xml(data) if data.lstrip()[:5] == b"%PDF-" else None
    return embedded.xml if embedded is not None else data


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


if __name__ == "__main__":
    main()
