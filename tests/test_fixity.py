"""Fixity: a random sample of archived objects re-hashed, the result journalled, a tampered one named."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from pipeline import fixity, journal
from pipeline.context import Services
from pipeline.records import Document, Event, StageResult

DOCUMENTS = 10  # two objects each


@pytest.fixture
def archived(services: Services) -> Services:
    for n in range(DOCUMENTS):
        doc = Document(
            id=f"doc{n}", sha256=f"{n:064d}", filename=f"{n}.pdf", size=1, received_at=f"2026-06-{n + 1:02d}"
        )
        for role in ("original", "data"):
            doc = doc.with_object(role, services.store.put(f"{role}s/doc{n}", f"{role} {n}".encode()))
        services.catalogue.create(StageResult(doc, Event("ingest", "received", doc.id)))
    return services


def tamper(services: Services, key: str) -> None:
    path = services.settings.archive_dir / key
    os.chmod(path, 0o600)
    path.write_bytes(b"forged")


def last_fixity(services: Services) -> dict[str, object]:
    entries = [
        e for e in journal.entries(services.catalogue.engine) if (e.stage, e.action) == ("audit", "fixity")
    ]
    return dict(entries[-1].body["detail"])


def test_an_untouched_sample_passes_and_is_journalled(archived: Services) -> None:
    report = fixity.sample(archived, rate=0.1, seed=7)
    assert report.ok and report.archived == 2 * DOCUMENTS and report.checked == 2
    detail = last_fixity(archived)
    assert detail["checked"] == 2 and detail["mismatches"] == [] and detail["seed"] == 7


def test_the_same_seed_draws_the_same_sample(archived: Services) -> None:
    # Given an object tampered with, when the same seeded sample is drawn twice, the verdicts agree.
    tamper(archived, "originals/doc3")
    verdicts = {fixity.sample(archived, rate=0.3, seed=42).ok for _ in range(2)}
    assert len(verdicts) == 1


def test_a_tampered_object_in_the_sample_is_named(archived: Services) -> None:
    # Given one archived object whose bytes were replaced, when every object is sampled,
    tamper(archived, "datas/doc4")
    report = fixity.sample(archived, rate=1.0)
    # then that object, and only it, is named, in the report and in the journal.
    assert not report.ok and report.checked == 2 * DOCUMENTS
    assert [(m.key, m.document_id) for m in report.mismatches] == [("datas/doc4", "doc4")]
    mismatches = last_fixity(archived)["mismatches"]
    assert isinstance(mismatches, list) and mismatches[0]["key"] == "datas/doc4"


def test_a_missing_object_is_named(archived: Services) -> None:
    (archived.settings.archive_dir / "originals/doc0").unlink()
    report = fixity.sample(archived, rate=1.0)
    assert [(m.key, m.what) for m in report.mismatches] == [("originals/doc0", "missing")]


def test_a_rate_outside_zero_to_one_is_refused(archived: Services) -> None:
    from dematflow.errors import InvalidRequest

    with pytest.raises(InvalidRequest):
        fixity.sample(archived, rate=0)


def test_the_command_exits_non_zero_on_a_mismatch(archived: Services) -> None:
    data_dir = str(archived.settings.data_dir)
    cmd = [sys.executable, "-m", "cli.main", "--data-dir", data_dir, "audit", "sample"]
    ok = subprocess.run([*cmd, "--rate", "1", "--json"], capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["checked"] == 2 * DOCUMENTS
    tamper(archived, "originals/doc9")
    bad = subprocess.run([*cmd, "--rate", "1", "--seed", "1"], capture_output=True, text=True, timeout=300)
    assert bad.returncode == 1 and "originals/doc9" in bad.stdout
