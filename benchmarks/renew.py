"""Renewal of N B-LTA seals (`dematflow archive renew`): seconds, ms per seal, peak memory.

    nice -n 10 .venv/bin/python benchmarks/renew.py [--docs 1000] [--no-tracemalloc]

The test PKI (certomancer: two TSAs, OCSP, CRLs) runs in a child process. N small PDFs are received and
sealed at B-LTA by the first TSA, whose certificate ends in 200 days (the sealing is timed apart, and
the documents are marked archived directly: extraction is not what is measured). Then every seal is
renewed through pipeline.renew, as the CLI and the actor do: each sealed PDF is read from the archive,
its last timestamp checked, the first TSA's revocation information fetched and put in the DSS, a new
timestamp asked of the second TSA, the new version archived and journalled. tracemalloc (on by
default during the renewal) slows Python down; --no-tracemalloc times it without.
"""

from __future__ import annotations

import argparse
import functools
import io
import multiprocessing as mp
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline import retention
from pipeline.context import Services, open_services
from pipeline.records import Event, StageResult, Status
from pipeline.renew import Outcome, default_before, renew_seals
from pipeline.run import receive
from pipeline.settings import Settings
from signing.pades import seal_pdf
from signing.policy import SealLevel
from signing.signer import SealSigner
from storage import keys

TSA_DAYS = 200


def _serve(root: str, ready: Any, stop: Any) -> None:  # multiprocessing Queue and Event
    import logging

    from tests.pki import serve_pki

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server, pki = serve_pki(Path(root), tsa_days=TSA_DAYS)
    ready.put(pki.url)
    stop.wait()
    server.shutdown()


def _pdf(n: int) -> bytes:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    page = canvas.Canvas(buf)
    page.drawString(72, 760, f"Facture 2024-{n:05d}")
    for i in range(10):
        page.drawString(72, 730 - 18 * i, f"Ligne {i}, montant {i * 12.5:.2f} EUR")
    page.save()
    return buf.getvalue()


def _seal_all(services: Services, docs: int) -> None:
    """Receive and seal ``docs`` PDFs at B-LTA, each recorded as the seal stage records it."""
    signer, tsa = services.context.seal_signer(), services.settings.tsa_url
    for n in range(docs):
        receipt = receive(services, filename=f"facture-{n:05d}.pdf", data=_pdf(n))
        doc = services.catalogue.get(receipt.document_id)
        original = services.store.get(doc.objects["original"].key)
        key = keys.sealed(doc.id, xml=False)
        sealed = retention.keep_once(
            services.context, doc, key, functools.partial(_seal, original, signer, tsa)
        )
        done = doc.with_object("sealed", sealed).evolve(stage="archive", status=Status.ARCHIVED)
        event = Event(
            "seal", "sealed", doc.id, outputs={sealed.key: sealed.sha256}, detail={"level": "B-LTA"}
        )
        services.catalogue.amend(StageResult(done, event))
        if (n + 1) % 100 == 0:
            print(f"  sealed {n + 1}/{docs}", flush=True)


def _seal(pdf: bytes, signer: SealSigner, tsa: str | None) -> bytes:
    return seal_pdf(pdf, signer=signer, tsa_url=tsa, level=SealLevel.B_LTA).data


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--no-tracemalloc", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dematflow-renew-bench-") as tmp:
        root = Path(tmp)
        (root / "pki").mkdir()
        ready: Any = mp.Queue()
        stop = mp.Event()
        child = mp.Process(target=_serve, args=(str(root / "pki"), ready, stop), daemon=True)
        child.start()
        url = ready.get(timeout=60)
        pki = root / "pki"
        env = {
            "DEMATFLOW_DATA_DIR": str(root / "data"),
            "DEMATFLOW_SEAL_KEY": str(pki / "signer.key.pem"),
            "DEMATFLOW_SEAL_CERT": str(pki / "signer.pem"),
            "DEMATFLOW_SEAL_CHAIN": str(pki / "root.pem"),
            "DEMATFLOW_SEAL_LEVEL": "B-LTA",
            "DEMATFLOW_TSA_URL": f"{url}/dematflow-test/tsa/tsa",
        }
        started = time.perf_counter()
        _seal_all(open_services(Settings.from_env(env)), args.docs)
        sealing = time.perf_counter() - started
        rss_sealed = _rss_mib()
        print(
            f"sealed {args.docs} PDFs at B-LTA in {sealing:.1f} s ({sealing / args.docs * 1000:.0f} ms each)"
        )

        renewing = open_services(
            Settings.from_env({**env, "DEMATFLOW_TSA_URL": f"{url}/dematflow-test/tsa/tsa2"})
        )
        if not args.no_tracemalloc:
            tracemalloc.start()
        started = time.perf_counter()
        report = renew_seals(renewing, default_before())
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] / 2**20 if tracemalloc.is_tracing() else None
        tracemalloc.stop()
        renewed = len(report.of(Outcome.RENEWED))
        print(
            f"renewed {renewed} of {args.docs} B-LTA seals in {seconds:.1f} s "
            f"({seconds / max(renewed, 1) * 1000:.0f} ms per seal); failed {len(report.of(Outcome.FAILED))}"
        )
        print(f"peak RSS {_rss_mib():.0f} MiB (after sealing: {rss_sealed:.0f} MiB)", end="")
        print(f"; tracemalloc peak during renewal {peak:.1f} MiB" if peak is not None else "")
        again = renew_seals(renewing, default_before())
        print(
            f"second run: {len(again.of(Outcome.RENEWED))} renewed, {len(again.of(Outcome.NOT_DUE))} not due"
        )
        stop.set()
        child.join(10)


if __name__ == "__main__":
    main()
