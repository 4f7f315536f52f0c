"""A private, restartable `rabbitmq-server` under a temporary directory, for the broker-restart fault test.

Everything it uses is its own: node name, AMQP and distribution ports, its own epmd on its own port,
an Erlang cookie in its own HOME, its own config, data and logs. The system RabbitMQ (5672, its epmd on
4369, /etc/rabbitmq's env file) is never touched.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pika

from tests.api_server import free_port

SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"  # the real script: /usr/sbin's wrapper su's to rabbitmq
BOOT_S = 90.0  # a cold boot takes ~20 s on a loaded 2-core machine; a restart ~8 s


def available() -> bool:
    return Path(SERVER).is_file() and shutil.which("epmd") is not None


class PrivateRabbitmq:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.port, self.dist_port, self.epmd_port = free_port(), free_port(), free_port()
        home = root / "home"
        home.mkdir(parents=True)
        (root / "env.conf").write_text("")  # instead of /etc/rabbitmq/rabbitmq-env.conf
        (root / "rabbitmq.conf").write_text(f"listeners.tcp.default = 127.0.0.1:{self.port}\n")
        (root / "enabled_plugins").write_text("[].\n")
        self.env = {
            **os.environ,
            "HOME": str(home),
            "RABBITMQ_CONF_ENV_FILE": str(root / "env.conf"),
            "RABBITMQ_CONFIG_FILE": str(root / "rabbitmq.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(root / "enabled_plugins"),
            "RABBITMQ_NODENAME": f"dematflow-test-{self.port}@localhost",
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "ERL_EPMD_PORT": str(self.epmd_port),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_MNESIA_BASE": str(root / "mnesia"),
            "RABBITMQ_LOG_BASE": str(root / "log"),
            "RABBITMQ_PID_FILE": str(root / "rabbitmq.pid"),
        }
        self.url = f"amqp://guest:guest@127.0.0.1:{self.port}/%2F"
        self.epmd: subprocess.Popen[bytes] | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> float:
        """Boot the node (and, the first time, its epmd); the seconds until it accepts AMQP logins."""
        if self.epmd is None:  # ours, in the foreground: erl finds it and starts no daemon of its own
            argv = ["epmd", "-port", str(self.epmd_port), "-address", "127.0.0.1"]
            self.epmd = subprocess.Popen(
                argv, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        self.starts += 1
        t0 = time.monotonic()
        with (self.root / f"server-{self.starts}.log").open("wb") as log:
            self.proc = subprocess.Popen([SERVER], env=self.env, cwd=self.root, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
        while not self.answers():
            assert self.proc.poll() is None, f"private rabbitmq-server exited:\n{self.log()}"
            assert time.monotonic() - t0 < BOOT_S, f"private rabbitmq-server did not start:\n{self.log()}"
            time.sleep(0.25)
        return time.monotonic() - t0

    def answers(self) -> bool:
        try:
            pika.BlockingConnection(pika.URLParameters(self.url + "?connection_attempts=1")).close()
        except pika.exceptions.AMQPError:
            return False
        return True

    def kill(self) -> None:
        """kill -9 of the node (the script and the Erlang VM: its session); epmd stays."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        for proc in (self.proc, self.epmd):
            if proc is not None and proc.poll() is None:
                if proc is self.proc:
                    os.killpg(proc.pid, signal.SIGTERM)
                else:
                    proc.terminate()
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL) if proc is self.proc else proc.kill()
                    proc.wait(timeout=30)

    def log(self) -> str:
        return (self.root / f"server-{self.starts}.log").read_text(errors="replace")[-3000:]
