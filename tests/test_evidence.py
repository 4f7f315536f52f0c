"""Evidence bundle: checked by dematflow evidence verify and by tools that are not dematflow."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from datetime import date, timedelta
from pathlib import Path

import pytest

from cli.samples import Sample
from pipeline import daybook, evidence
from pipeline.context import Services
from pipeline.journal import entries
from pipeline.run import process
from tests.conftest import sample


@pytest.fixture
def bundle(services: Services, demo_set: list[Sample], tmp_path: Path) -> tuple[bytes, Path]:
    s = sample(demo_set, "facture-facturx")
    doc = process(services, filename=s.path.name, data=s.path.read_bytes()).document
    day = date.fromisoformat(next(entries(services.catalogue.engine)).at[:10])
    daybook.seal_through(services, day, today=day + timedelta(days=1))
    data = evidence.build(services, doc.id)
    folder = tmp_path / "preuve"
    zipfile.ZipFile(io.BytesIO(data)).extractall(folder)
    return data, folder


def test_a_bundle_verifies_with_dematflow(bundle: tuple[bytes, Path]) -> None:
    result = evidence.verify(bundle[0])
    assert result.ok, result.problems


def test_a_bundle_verifies_with_outside_tools(bundle: tuple[bytes, Path]) -> None:
    folder = bundle[1]
    run = lambda *args: subprocess.run(args, cwd=folder, capture_output=True, text=True, timeout=60)  # noqa: E731
    assert run("sha256sum", "-c", "--quiet", "SHA256SUMS").returncode == 0
    chain = run(sys.executable, "-I", "verifier_chaine.py", ".")
    assert chain.returncode == 0 and "chaîne intacte" in chain.stdout, chain.stdout
    sealed = next((folder / "archive" / "sealed").glob("*.pdf"))
    assert "Signature is Valid" in run("pdfsig", str(sealed)).stdout
    seal = next((folder / "journal" / "jours").glob("*.p7s"))
    segment = seal.with_suffix(".jsonl")
    cms = run(
        "openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(seal), "-content", str(segment),
        "-CAfile", "certificats/chaine-1.pem", "-purpose", "any", "-out", "/dev/null",
    )  # fmt: skip
    assert cms.returncode == 0, cms.stderr
    ts = run(
        "openssl", "ts", "-verify", "-token_in", "-in", str(seal.with_suffix(".tst")),
        "-data", str(seal.with_suffix(".signature.bin")), "-CAfile", "certificats/chaine-1.pem",
        "-untrusted", "certificats/horodatage.pem",
    )  # fmt: skip
    assert "Verification: OK" in ts.stdout, ts.stdout + ts.stderr


def test_one_changed_byte_of_the_original_is_named(bundle: tuple[bytes, Path]) -> None:
    source = zipfile.ZipFile(io.BytesIO(bundle[0]))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name in source.namelist():
            data = source.read(name)
            if name.startswith("archive/originals/"):
                original, data = name, bytes([data[0] ^ 1]) + data[1:]
            z.writestr(name, data)
    problems = evidence.verify(out.getvalue()).problems
    assert any(p.startswith(original) for p in problems), problems
