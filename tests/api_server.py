"""A real `dematflow serve` on a free port for the API, tenancy, schemathesis and browser tests."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

DEMATFLOW = str(Path(sys.executable).with_name("dematflow"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    data_dir: Path
    env: dict[str, str]
    log: Path
    tokens: dict[str, str] = field(default_factory=dict)  # account name -> API token

    def add_account(self, role: str, name: str, *ids: str, password: str | None = None) -> str:
        """Create an account with the CLI, as an admin would; returns its token."""
        args = [DEMATFLOW, "accounts", "add", "--role", role, "--name", name, "--json"]
        for i in ids:
            args += ["--siren", i]
        if password is not None:
            args.append("--password")
        done = subprocess.run(
            args, env=self.env, input=f"{password}\n" if password else None, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        token = str(json.loads(done.stdout)["token"])
        self.tokens[name] = token
        return token

    def client(self, name: str | None = None, **kwargs: object) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[name]}"} if name else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60, **kwargs)  # type: ignore[arg-type]

    def wait_final(
        self, client: httpx.Client, document_id: str, *, lifecycle: bool = True, timeout: float = 240
    ) -> dict[str, object]:
        """Poll the status URL until the document has left `received` (and has its lifecycle status)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            doc = client.get(f"/api/v1/documents/{document_id}").json()
            if doc["status"] != "received" and (not lifecycle or doc.get("lifecycle") is not None):
                return dict(doc)
            time.sleep(0.2)
        raise AssertionError(f"document {document_id} still in progress after {timeout} s")


def start_server(root: Path, dev_keys: Path, **env_overrides: str) -> Iterator[Server]:
    """Start the service in its own process on embedded defaults under ``root``; stop it after."""
    data = root / "data"
    shutil.copytree(dev_keys, data / "keys", dirs_exist_ok=True)
    port = free_port()
    env = {**os.environ, "DEMATFLOW_DATA_DIR": str(data), **env_overrides}
    if "DEMATFLOW_BROKER_URL" not in env_overrides:
        env.pop("DEMATFLOW_BROKER_URL", None)
    log = root / "server.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [DEMATFLOW, "serve", "--port", str(port)], env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"dematflow serve did not start:\n{log.read_text()}")
            time.sleep(0.2)
        yield Server(url, data, env, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
