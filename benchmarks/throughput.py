"""Seconds per document through `process` (embedded mode), beside raw tesseract on the same scans.

Usage: .venv/bin/python benchmarks/throughput.py [N]   (N digital PDFs and N scanned pages, default 6)
Prints figures and the ratio pipeline/raw for scans, both measured here, in one run, one process each.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from cli.samples import demo_invoices, invoice_pdf, scan_of
from extractors import tesseract
from pipeline.context import open_services
from pipeline.run import process
from pipeline.settings import Settings


def main(n: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="dematflow-bench-"))
    pdfs, scans = [], []
    for i in range(n):
        inv = demo_invoices(seed=1000 + i)[1]
        pdfs.append(invoice_pdf(inv))
        scans.append(scan_of(invoice_pdf(demo_invoices(seed=2000 + i)[2]), seed=i, skew_degrees=2.0))
    services = open_services(Settings.from_env({"DEMATFLOW_DATA_DIR": str(work / "data")}))
    process(services, filename="warm-up.pdf", data=invoice_pdf(demo_invoices(seed=1)[0]))

    def timed(batch: list[bytes], ext: str) -> tuple[float, list[str]]:
        start, statuses = time.perf_counter(), []
        for i, data in enumerate(batch):
            doc = process(services, filename=f"{ext}-{i}.{ext}", data=data).document
            statuses.append(doc.status.value)
        return (time.perf_counter() - start) / len(batch), statuses

    pdf_s, pdf_status = timed(pdfs, "pdf")
    scan_s, scan_status = timed(scans, "png")
    raw_s = raw_tesseract(scans, work)
    print(
        f"digital PDF through process: {pdf_s:.3f} s/document  ({pdf_status.count('archived')}/{n} archived)"
    )
    print(
        f"scanned page through process: {scan_s:.3f} s/page  ({scan_status.count('archived')}/{n} archived)"
    )
    print(f"raw tesseract (fra+eng, OMP_THREAD_LIMIT=1) on the same pages: {raw_s:.3f} s/page")
    print(f"ratio pipeline throughput / raw tesseract throughput on scans: {raw_s / scan_s:.2f}")


def raw_tesseract(scans: list[bytes], work: Path) -> float:
    """The bare tool on the same pages, through the project's one tesseract wrapper (one thread)."""
    paths = []
    for i, data in enumerate(scans):
        path = work / f"raw-{i}.png"
        path.write_bytes(data)
        paths.append(path)
    start = time.perf_counter()
    for path in paths:
        tesseract.run([str(path), "stdout", "-l", "fra+eng", "--psm", "3", "tsv"], timeout=300)
    return (time.perf_counter() - start) / len(paths)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 6)
