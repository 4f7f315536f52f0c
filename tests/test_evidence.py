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


def _outside_chain_check(folder: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-I", "verifier_chaine.py", "."]
    return subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("seal_the_day", [True, False], ids=["sealed-day", "day-not-sealed"])
def test_a_bundle_reveals_nothing_of_another_document(
    services: Services, demo_set: list[Sample], tmp_path: Path, seal_the_day: bool
) -> None:
    # Given two suppliers' documents received the same day
    ours, theirs = sample(demo_set, "facture-facturx"), sample(demo_set, "facture-FA")
    doc = process(services, filename=ours.path.name, data=ours.path.read_bytes()).document
    other = process(services, filename=theirs.path.name, data=theirs.path.read_bytes()).document
    if seal_the_day:
        day = date.fromisoformat(next(entries(services.catalogue.engine)).at[:10])
        daybook.seal_through(services, day, today=day + timedelta(days=1))
    # When the first one's evidence is exported
    data = evidence.build(services, doc.id)
    # Then nothing in it names the other document, and the chain still checks out, with both tools
    z = zipfile.ZipFile(io.BytesIO(data))
    for name in z.namelist():
        content = z.read(name)
        assert other.id.encode() not in content and theirs.path.name.encode() not in content, name
    assert evidence.verify(data).ok
    z.extractall(tmp_path / "preuve")
    check = _outside_chain_check(tmp_path / "preuve")
    assert check.returncode == 0 and "chaîne intacte" in check.stdout, check.stdout


def test_a_day_sealed_in_the_first_format_still_verifies(
    services: Services, demo_set: list[Sample], tmp_path: Path
) -> None:
    # Given a day sealed by an earlier dematflow: full rows in the segment, no rows object
    from pipeline import audit, retention
    from signing.cms import seal_detached
    from storage import keys

    s = sample(demo_set, "facture-facturx")
    doc = process(services, filename=s.path.name, data=s.path.read_bytes()).document
    day = next(entries(services.catalogue.engine)).at[:10]
    rows = daybook.day_entries(services.catalogue.engine, day)
    header = daybook.Header(day, "", rows[0].prev_hash, rows[-1].hash, len(rows))
    segment = "".join(f"{line}\n" for line in [header.line(), *map(daybook.row_line, rows)]).encode()
    assert b'"format"' not in segment
    retention.keep(services, None, keys.day_segment(day), segment)
    seal = seal_detached(segment, signer=services.context.seal_signer(), tsa_url=None).data
    retention.keep(services, None, keys.day_seal(day), seal)
    # Then audit verify, the bundle check and the stand-alone script accept it
    result = audit.verify(services)
    assert result.ok and result.seals == 1, result.problems
    data = evidence.build(services, doc.id)
    assert evidence.verify(data).ok
    zipfile.ZipFile(io.BytesIO(data)).extractall(tmp_path / "preuve")
    assert _outside_chain_check(tmp_path / "preuve").returncode == 0
