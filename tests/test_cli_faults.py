"""The command line when things go wrong: exit codes, a vanished file, hostile names, `retry`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cli.render import exit_code, safe
from cli.samples import Sample
from dematflow.errors import ToolFailed
from pipeline import lifecycle
from pipeline.context import Services
from pipeline.records import Status
from pipeline.run import STAGE_FUNCTIONS, process
from tests.conftest import sample


def dematflow(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "250"}
    env.pop("DEMATFLOW_BROKER_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )


def test_exit_codes_follow_the_most_severe_outcome() -> None:
    assert exit_code(["archived", "archived"]) == 0 and exit_code([]) == 0
    assert exit_code(["archived", "needs_review"]) == 11
    assert exit_code(["needs_review", "rejected"]) == 10
    assert exit_code(["rejected", "quarantined", "needs_review"]) == 2
    assert exit_code(["quarantined", "unread"]) == 5


def test_process_exits_2_when_a_document_is_quarantined(
    tmp_path: Path, dev_keys: Path, demo_set: list[Sample]
) -> None:
    shutil.copytree(dev_keys, tmp_path / "data" / "keys")
    good, bad = sample(demo_set, "rib-").path, sample(demo_set, "document-corrompu").path
    assert dematflow(tmp_path / "data", "process", "--json", str(good)).returncode == 0
    mixed = dematflow(tmp_path / "data", "process", str(good), str(bad))
    assert mixed.returncode == 2, mixed.stderr
    assert "1 archived, 1 quarantined" in mixed.stdout


def test_a_file_that_vanishes_is_reported_and_the_batch_goes_on(
    services: Services, tmp_path: Path, demo_set: list[Sample]
) -> None:
    from cli.commands import process_files

    gone = tmp_path / "gone.pdf"  # listed, then removed before it was read
    good = sample(demo_set, "rib-").path
    unread: list[tuple[Path, str]] = []
    results = process_files(services, [gone, good], quiet=True, on_unread=lambda p, r: unread.append((p, r)))
    assert unread == [(gone, "No such file or directory")]
    assert [(p, d.status) for p, d, _ in results] == [(good, Status.ARCHIVED)]


def test_names_with_escapes_and_markup_are_printed_as_written(
    tmp_path: Path, dev_keys: Path, demo_set: list[Sample]
) -> None:
    assert safe("\x1b[31m[bold]x\x07.pdf") == "[31m\\[bold]x.pdf"
    shutil.copytree(dev_keys, tmp_path / "data" / "keys")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    hostile = inbox / "\x1b]0;owned\x07[bold red]facture.pdf"
    shutil.copy(sample(demo_set, "rib-").path, hostile)
    processed = dematflow(tmp_path / "data", "process", str(inbox))
    listed = dematflow(tmp_path / "data", "archive", "list")
    for result in (processed, listed):
        assert result.returncode == 0, result.stderr
        assert "\x1b" not in result.stdout and "\x07" not in result.stdout
        assert "[bold red]facture.pdf" in result.stdout  # markup shown, not interpreted


@pytest.fixture
def cli_services(tmp_path: Path, dev_keys: Path) -> Services:
    from pipeline.context import open_services
    from tests.conftest import make_settings

    return open_services(make_settings(tmp_path, dev_keys))


def test_retry_takes_a_quarantined_document_through_again(
    cli_services: Services, tmp_path: Path, demo_set: list[Sample], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a document quarantined because the TSA was down, and a file whose bytes are empty...
    s = sample(demo_set, "rib-")

    def tsa_down(*_: object) -> object:
        raise ToolFailed("time-stamping authority unreachable")

    with monkeypatch.context() as patch:
        patch.setitem(STAGE_FUNCTIONS, "seal", tsa_down)
        failed = process(cli_services, filename=s.path.name, data=s.path.read_bytes()).document
    empty = process(cli_services, filename="empty.pdf", data=b"").document
    assert failed.status is Status.QUARANTINED and empty.status is Status.QUARANTINED
    data_dir = tmp_path / "data"
    # ...the same bytes sent again are still the same (quarantined) document...
    again = dematflow(data_dir, "process", "--json", str(s.path))
    assert json.loads(again.stdout)["duplicate_of"] == failed.id and again.returncode == 2
    # ...when the TSA is back and the operator retries every quarantined document...
    retried = dematflow(data_dir, "retry", "--quarantined", "--json", "--by", "ops", "--reason", "TSA back")
    # ...then the document is sealed and archived; the empty file is left alone (it would fail again)
    assert retried.returncode == 0, retried.stderr
    lines = [json.loads(x) for x in retried.stdout.splitlines()]
    assert [(x["document_id"], x["status"]) for x in lines] == [(failed.id, "archived")]
    assert "--force" in retried.stderr and empty.id in retried.stderr
    refused = dematflow(data_dir, "retry", empty.id)
    assert refused.returncode == 7 and "Traceback" not in refused.stderr
    forced = dematflow(data_dir, "retry", empty.id, "--force", "--json")
    assert forced.returncode == 2 and json.loads(forced.stdout)["status"] == "quarantined"
    assert [t.code for t in lifecycle.history(cli_services.catalogue.engine, empty.id)] == [501]
    assert dematflow(data_dir, "audit", "verify").returncode == 0
