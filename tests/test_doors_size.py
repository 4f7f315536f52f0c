"""Every door sizes a file before a byte of it reaches the write-once archive (DEMATFLOW_MAX_BYTES)."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from pipeline.settings import Limits
from tests.conftest import make_settings, port_open, require
from workers import watcher as watcher_module
from workers.watch_rules import read_limited

LIMIT = 1 << 20
REDIS_URL = "redis://127.0.0.1:6379/11"
pytestmark = pytest.mark.timeout(120)


def sparse(path: Path, size: int = 1 << 30) -> Path:
    """A file of ``size`` bytes that uses no disk: reading it all would show in the test's time."""
    with path.open("wb") as handle:
        handle.write(b"%PDF-1.7\n")
        handle.truncate(size)
    return path


def archived(data_dir: Path) -> list[Path]:
    root = data_dir / "archive"
    return [p for p in root.rglob("*") if p.is_file() and ".meta" not in p.parts] if root.exists() else []


def dematflow(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "DEMATFLOW_MAX_BYTES": str(LIMIT), **env}
    cmd = [sys.executable, "-m", "cli.main", "--data-dir", str(data_dir), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=full)


@pytest.fixture
def data_dir(tmp_path: Path, dev_keys: Path) -> Path:
    shutil.copytree(dev_keys, tmp_path / "data" / "keys")
    return tmp_path / "data"


def test_process_refuses_a_file_over_the_limit_and_goes_on(tmp_path: Path, data_dir: Path) -> None:
    # Given a 1 GiB file (sparse) and an empty one, with a 1 MiB limit...
    big, empty = sparse(tmp_path / "big.pdf"), tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    # ...When both are processed...
    proc = dematflow(data_dir, "process", "--json", str(big), str(empty))
    # ...Then the big one is refused before it is read (exit 13, a French reason), nothing of it is
    # kept, and the empty one goes through (quarantined, its original kept).
    assert proc.returncode == 13, proc.stdout + proc.stderr
    lines = {Path(line["file"]).name: line for line in map(json.loads, proc.stdout.splitlines())}
    assert lines["big.pdf"]["status"] == "refused" and lines["big.pdf"]["document_id"] is None
    assert "DEMATFLOW_MAX_BYTES" in lines["big.pdf"]["reason"] and "refusé" in proc.stderr
    assert lines["empty.pdf"]["status"] == "quarantined"
    assert [p.name for p in archived(data_dir) if p.parent.name != "anchors"] != []
    assert all(p.stat().st_size < LIMIT for p in archived(data_dir))


def test_process_table_counts_the_refused(tmp_path: Path, data_dir: Path) -> None:
    proc = dematflow(data_dir, "process", str(sparse(tmp_path / "big.pdf")))
    assert proc.returncode == 13, proc.stdout + proc.stderr
    assert "1 refused" in proc.stdout and "Traceback" not in proc.stderr
    assert archived(data_dir) == []


def test_submit_refuses_a_file_over_the_limit_before_the_archive(tmp_path: Path, data_dir: Path) -> None:
    require(port_open("127.0.0.1", 6379), "Redis on 127.0.0.1:6379")
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    try:
        proc = dematflow(
            data_dir, "submit", str(sparse(tmp_path / "big.pdf")), DEMATFLOW_BROKER_URL=REDIS_URL
        )
        assert proc.returncode == 13, proc.stdout + proc.stderr
        assert json.loads(proc.stdout)["status"] == "refused"
        assert archived(data_dir) == [] and client.dbsize() == 0  # nothing kept, nothing queued
    finally:
        client.flushdb()


def test_the_bounded_read_looks_at_the_size_first(tmp_path: Path) -> None:
    big = sparse(tmp_path / "big.pdf")
    with pytest.raises(OSError) as caught:
        read_limited(big, LIMIT)
    assert caught.value.errno == errno.EFBIG
    assert read_limited(sparse(tmp_path / "small.pdf", LIMIT), LIMIT)[:4] == b"%PDF"


def test_the_hot_folder_moves_a_file_over_the_limit_to_failed_and_keeps_nothing(
    tmp_path: Path, dev_keys: Path
) -> None:
    from pipeline.context import open_services
    from tests.test_watch import files, wait_for, watching

    services = open_services(make_settings(tmp_path, dev_keys, limits=Limits(max_bytes=LIMIT)))
    inbox = tmp_path / "in"
    inbox.mkdir()
    sparse(inbox / "big.pdf")
    with watching(services, inbox):
        wait_for(lambda: len(files(inbox / ".failed")) == 2, what="moved aside")
    assert "DEMATFLOW_MAX_BYTES" in (inbox / ".failed" / "big.pdf.reason.txt").read_text(encoding="utf-8")
    assert list(services.store.keys("originals/")) == []
    assert watcher_module.read_limited is read_limited  # the watcher reads through the bounded read
