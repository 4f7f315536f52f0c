"""A private, restartable PostgreSQL (Debian's binaries) on a free port, for the fault tests: the shared
one on 5432 is never stopped."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

USER = "postgres"  # initdb refuses root: the cluster belongs to the system's postgres account


def pg_bin() -> Path | None:
    """The newest /usr/lib/postgresql/*/bin holding pg_ctl, or None."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]))
    return found[-1].parent if found else None


def _user() -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam(USER)
    except KeyError:
        return None


def available() -> bool:
    return pg_bin() is not None and (os.geteuid() != 0 or _user() is not None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PrivatePostgres:
    """One cluster in a temporary directory; ``stop`` is ``pg_ctl stop -m immediate`` (a crash: no
    checkpoint, recovery from the WAL at the next start), ``start`` brings it back on the same port."""

    root: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str, timeout: float = 60) -> None:
        bin_dir = pg_bin()
        assert bin_dir is not None
        argv = [str(bin_dir / tool), *args]
        if os.geteuid() == 0:
            argv = ["runuser", "-u", USER, "--", *argv]
        subprocess.run(argv, check=True, capture_output=True, timeout=timeout, cwd=self.root)

    def init(self) -> None:
        self._run("initdb", "-D", str(self.root / "data"), "-A", "trust", "-U", USER, "--no-sync")

    def start(self) -> None:
        # fsync off: only the server process dies in these tests, never the machine, so what it
        # wrote is in the page cache either way; the crash recovery from the WAL is the same.
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c max_connections=100")  # fmt: skip
        self._run("pg_ctl", "-D", str(self.root / "data"), "-l", str(self.root / "pg.log"), "-o", options,
                  "-w", "-t", "60", "start", timeout=90)  # fmt: skip

    def stop(self, mode: str = "immediate") -> None:
        self._run("pg_ctl", "-D", str(self.root / "data"), "-m", mode, "-w", "-t", "60", "stop", timeout=90)

    def log(self) -> str:
        path = self.root / "pg.log"
        return path.read_text(errors="replace") if path.exists() else ""


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """A fresh cluster, started; stopped and removed after."""
    # Not under pytest's tmp_path: root's temporary directories are closed to the postgres account.
    root = Path(tempfile.mkdtemp(prefix="dematflow-pg-"))
    user = _user()
    if os.geteuid() == 0 and user is not None:
        os.chown(root, user.pw_uid, user.pw_gid)
    server = PrivatePostgres(root, _free_port())
    try:
        server.init()
        server.start()
        yield server
    finally:
        with suppress(subprocess.CalledProcessError):  # stopped already (a test failed while down)
            server.stop()
        shutil.rmtree(root, ignore_errors=True)
