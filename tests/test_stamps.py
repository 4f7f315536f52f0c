"""Batched timestamps at seal level B-B: anchor tokens, checked by audit verify and by openssl."""

from __future__ import annotations

import io
import logging
import os
import socket
import subprocess
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cli.samples import Sample
from pipeline import evidence, stamps
from pipeline.audit import verify
from pipeline.context import Services, open_services
from pipeline.run import process
from pipeline.settings import SealSettings
from signing.policy import SealLevel
from storage.keys import ANCHORS
from tests.conftest import make_settings, sample


def _services(tmp_path: Path, dev_keys: Path, **overrides: object) -> Services:
    return open_services(
        make_settings(tmp_path, dev_keys, seal=SealSettings(level=SealLevel.B_B), **overrides)
    )


def _anchors(services: Services) -> list[stamps.Anchor]:
    return [stamps.parse(k, services.store.get(k)) for k in services.store.keys(ANCHORS)]


def _run(services: Services, demo_set: list[Sample], *prefixes: str) -> list[str]:
    done = []
    for prefix in prefixes:
        s = sample(demo_set, prefix)
        done.append(process(services, filename=s.path.name, data=s.path.read_bytes()).document.id)
    return done


def test_at_b_b_each_anchor_carries_a_token_that_audit_verify_checks(
    tmp_path: Path, dev_keys: Path, demo_set: list[Sample]
) -> None:
    services = _services(tmp_path, dev_keys)
    _run(services, demo_set, "facture-FA", "facture-facturx")
    kept = _anchors(services)
    assert kept and all(a.token is not None for a in kept)
    result = verify(services)
    assert result.ok, result.problems
    assert result.stamps == len(kept)


def test_a_timed_anchor_stamps_the_head_between_two_blocks(
    tmp_path: Path, dev_keys: Path, demo_set: list[Sample]
) -> None:
    # Given a stamping period shorter than the time between two documents
    services = _services(tmp_path, dev_keys, stamp_every_s=0.001)
    # When two documents finish in the same block of rows
    _run(services, demo_set, "facture-FA", "facture-facturx")
    # Then the second one's end is anchored and stamped too, off the block
    kept = _anchors(services)
    assert len({a.seq for a in kept if a.token is not None}) >= 2
    assert verify(services).ok


def test_seals_at_b_t_leave_the_anchors_as_they_were(services: Services, demo_set: list[Sample]) -> None:
    _run(services, demo_set, "facture-FA")
    assert all(a.token is None for a in _anchors(services))
    assert all(b"token" not in services.store.get(k) for k in services.store.keys(ANCHORS))
    assert verify(services).stamps == 0


def test_a_tsa_that_cannot_be_reached_loses_no_document(
    tmp_path: Path, dev_keys: Path, demo_set: list[Sample], caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    services = _services(tmp_path, dev_keys, tsa_url=f"http://127.0.0.1:{port}/tsa")
    with caplog.at_level(logging.WARNING, logger="pipeline.stamps"):
        (doc_id,) = _run(services, demo_set, "facture-FA")
    assert services.catalogue.get(doc_id).status.value == "archived"
    kept = _anchors(services)
    assert kept and all(a.token is None for a in kept)  # anchored all the same, without a token
    assert "kept without a timestamp" in caplog.text
    assert verify(services).ok


def test_a_token_over_another_head_is_named(tmp_path: Path, dev_keys: Path, demo_set: list[Sample]) -> None:
    services = _services(tmp_path, dev_keys)
    _run(services, demo_set, "facture-FA")
    found = _anchors(services)[0]
    stamper = stamps.timestamper(services)
    assert stamper is not None
    other = stamps.token(stamper, found.seq + 1, found.hash)
    path = services.settings.archive_dir / found.key
    os.chmod(path, 0o600)
    path.write_bytes(stamps.body(found.seq, found.hash, other))
    problems = verify(services).problems
    assert [p.where for p in problems] == [found.key] and "imprint" in problems[0].what


def test_a_token_dated_before_its_rows_is_named(
    tmp_path: Path, dev_keys: Path, demo_set: list[Sample]
) -> None:
    services = _services(tmp_path, dev_keys)
    _run(services, demo_set, "facture-FA")
    found = _anchors(services)[0]
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert "before the rows" in str(stamps.problem(found, later))
    assert stamps.problem(found, None) is None


def test_the_bundle_carries_the_anchor_token_and_openssl_verifies_it(
    tmp_path: Path, dev_keys: Path, demo_set: list[Sample]
) -> None:
    services = _services(tmp_path, dev_keys)
    (doc_id,) = _run(services, demo_set, "facture-facturx")
    data = evidence.build(services, doc_id)
    assert evidence.verify(data).ok, evidence.verify(data).problems
    folder = tmp_path / "preuve"
    zipfile.ZipFile(io.BytesIO(data)).extractall(folder)
    (token,) = (folder / "horodatage").glob("*.tst")
    ts = subprocess.run(
        ["openssl", "ts", "-verify", "-token_in", "-in", str(token), "-data", str(token.with_suffix(".txt")),
         "-CAfile", "certificats/chaine-1.pem", "-untrusted", "certificats/horodatage.pem"],
        cwd=folder, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert "Verification: OK" in ts.stdout, ts.stdout + ts.stderr
    seq, digest = token.with_suffix(".txt").read_text().split(":")
    assert f'"hash":"{digest}"' in (folder / "journal" / "non-scelle.jsonl").read_text()
    assert int(seq) >= max(int(line.split('"seq":')[1].split(",")[0]) for line in
                           (folder / "journal" / "document.jsonl").read_text().splitlines())  # fmt: skip


def test_a_bundle_whose_token_was_swapped_is_named(
    tmp_path: Path, dev_keys: Path, demo_set: list[Sample]
) -> None:
    services = _services(tmp_path, dev_keys)
    (doc_id,) = _run(services, demo_set, "facture-facturx")
    source = zipfile.ZipFile(io.BytesIO(evidence.build(services, doc_id)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name in source.namelist():
            body = source.read(name)
            if name.endswith(".txt") and name.startswith(evidence.STAMPS):
                seq, digest = body.decode().split(":")
                body = f"{seq}:{'0' * len(digest)}".encode()
            z.writestr(name, body)
    problems = evidence.verify(out.getvalue()).problems
    assert any(p.startswith(evidence.STAMPS) and "imprint" in p for p in problems), problems


def test_stamp_every_s_is_read_from_the_environment(tmp_path: Path) -> None:
    from pipeline.settings import Settings

    settings = Settings.from_env({"DEMATFLOW_DATA_DIR": str(tmp_path), "DEMATFLOW_STAMP_EVERY_S": "60"})
    assert settings.stamp_every_s == 60
