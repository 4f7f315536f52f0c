"""Seal time per document at each level (B-B … B-LTA), software key vs SoftHSM, wall and CPU ms.

    nice -n 10 .venv/bin/python benchmarks/seal_levels.py [--docs 20]

The test PKI (certomancer: TSA, OCSP, CRLs) runs in a child process, so the CPU figures are this
process's own: building and signing the seal, asking the TSA and the PKI over local HTTP.
"""

from __future__ import annotations

import argparse
import io
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from signing.pades import seal_pdf
from signing.policy import SealLevel
from signing.signer import SealSigner, file_signer


def _serve(root: str, ready: Any, stop: Any) -> None:  # multiprocessing Queue and Event
    import logging

    from tests.test_seal_levels import serve_pki

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server, pki = serve_pki(Path(root))
    ready.put(pki.url)
    stop.wait()
    server.shutdown()


def _pdf() -> bytes:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    page = canvas.Canvas(buf)
    for i in range(40):
        page.drawString(72, 760 - 18 * i, f"Ligne {i} de la facture 2024-042, montant {i * 12.5:.2f} EUR")
    page.save()
    return buf.getvalue()


def _measure(seal: Callable[[], object], docs: int) -> tuple[float, float]:
    seal()  # warm: caches, TLS-free HTTP connection, token objects
    walls, cpus = [], []
    for _ in range(docs):
        wall, cpu = time.perf_counter(), time.process_time()
        seal()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls) * 1000, statistics.median(cpus) * 1000


def _softhsm(root: Path) -> SealSigner | None:
    from tests.test_hsm import LABEL, MODULE, TOKEN, make_token

    if not MODULE.is_file():
        return None
    token, conf = make_token(root)
    os.environ["SOFTHSM2_CONF"] = str(conf)  # read by the library when it is first loaded, just below
    from signing.pkcs11 import pkcs11_signer

    return pkcs11_signer(
        module=MODULE, token=TOKEN, key_label=LABEL, pin_file=token.pin_file, chain=(token.ca_pem,)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", type=int, default=20)
    args = parser.parse_args()
    pdf = _pdf()
    with tempfile.TemporaryDirectory(prefix="dematflow-seal-bench-") as tmp:
        root = Path(tmp)
        (root / "pki").mkdir()
        ready: Any = mp.Queue()
        stop = mp.Event()
        child = mp.Process(target=_serve, args=(str(root / "pki"), ready, stop), daemon=True)
        child.start()
        url = ready.get(timeout=60)
        tsa = f"{url}/dematflow-test/tsa/tsa"
        pki = root / "pki"
        software = file_signer(pki / "signer.key.pem", pki / "signer.pem", (pki / "root.pem",))
        (root / "hsm").mkdir()
        hsm = _softhsm(root / "hsm")
        print(f"{'signer':<10} {'level':<6} {'wall ms':>8} {'CPU ms':>8}  ({args.docs} documents, median)")
        rows: list[tuple[str, SealSigner, SealLevel]] = [("software", software, level) for level in SealLevel]
        if hsm is not None:
            rows += [("softhsm", hsm, SealLevel.B_B), ("softhsm", hsm, SealLevel.B_T)]
        for name, signer, level in rows:
            url_for_level = tsa if level.timestamped else None

            def seal(
                signer: SealSigner = signer, level: SealLevel = level, url: str | None = url_for_level
            ) -> object:
                return seal_pdf(pdf, signer=signer, tsa_url=url, level=level)

            wall, cpu = _measure(seal, args.docs)
            print(f"{name:<10} {level.value:<6} {wall:8.1f} {cpu:8.1f}")
        stop.set()
        child.join(10)


if __name__ == "__main__":
    main()
