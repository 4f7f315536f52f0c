"""Scan bytes with ClamAV's clamd over its socket (INSTREAM): clean, infected (the signature) or error.

Stdlib sockets only. The bytes are streamed in bounded chunks (views, not copies). A clamd that
cannot be reached or does not answer is a ToolFailed: a retry may help, and "not scanned" is never
"clean".
"""

from __future__ import annotations

import enum
import logging
import socket
import struct
from dataclasses import dataclass

from dematflow.errors import ConfigError, ToolFailed

log = logging.getLogger(__name__)

CHUNK = 64 * 1024  # bytes per INSTREAM chunk
_ANSWER_LIMIT = 4096  # clamd's answers are one short line


@dataclass(frozen=True)
class ClamdAddress:
    """Where clamd listens: a UNIX socket path, or a TCP host and port."""

    path: str | None = None
    host: str | None = None
    port: int | None = None

    @classmethod
    def parse(cls, text: str, name: str = "DEMATFLOW_CLAMD") -> ClamdAddress:
        """``unix:/run/clamav/clamd.ctl`` or ``tcp:host:port``; ConfigError otherwise."""
        scheme, _, rest = text.strip().partition(":")
        if scheme == "unix" and rest.startswith("/"):
            return cls(path=rest)
        host, _, port = rest.rpartition(":")
        if scheme == "tcp" and host and port.isdigit() and 0 < int(port) < 65536:
            return cls(host=host.strip("[]"), port=int(port))
        raise ConfigError(f"{name}={text!r} is not unix:/path/to/clamd.ctl or tcp:host:port")

    def __str__(self) -> str:
        return f"unix:{self.path}" if self.path else f"tcp:{self.host}:{self.port}"


class Verdict(enum.Enum):
    CLEAN = "clean"
    INFECTED = "infected"
    ERROR = "error"  # clamd answered, but could not scan (a size limit, a read error)


@dataclass(frozen=True)
class ScanResult:
    verdict: Verdict
    answer: str  # clamd's answer line, e.g. "stream: Eicar-Signature FOUND"
    signature: str | None = None  # the signature's name when infected


def probe(*, address: ClamdAddress, timeout: float = 10.0) -> str:
    """clamd's VERSION answer (engine/database/date); ToolFailed if it does not answer."""
    return _command(address, b"zVERSION\0", timeout)


def ping(*, address: ClamdAddress, timeout: float = 5.0) -> bool:
    """Whether clamd answers PONG to PING."""
    try:
        return _command(address, b"zPING\0", timeout) == "PONG"
    except ToolFailed:
        return False


def scan(data: bytes, *, address: ClamdAddress, timeout: float = 60.0, chunk: int = CHUNK) -> ScanResult:
    """Stream ``data`` to clamd (zINSTREAM) and read its verdict; ToolFailed when clamd is unreachable,
    times out or closes the connection without a verdict."""
    view = memoryview(data)
    with _connect(address, timeout) as conn:
        try:
            conn.sendall(b"zINSTREAM\0")
            for start in range(0, len(view), chunk):
                piece = view[start : start + chunk]
                conn.sendall(struct.pack(">I", len(piece)))
                conn.sendall(piece)
            conn.sendall(struct.pack(">I", 0))
        except (BrokenPipeError, ConnectionResetError):
            pass  # clamd stops reading past its StreamMaxLength and says so: read why below
        except OSError as exc:
            raise ToolFailed(f"clamd ({address}) failed during the scan: {exc}") from exc
        answer = _read_answer(conn, address)
    return parse_answer(answer)


def parse_answer(answer: str) -> ScanResult:
    """``stream: OK``, ``stream: <signature> FOUND`` or ``<why> ERROR``."""
    body = answer.removeprefix("stream:").strip()
    if body == "OK":
        return ScanResult(Verdict.CLEAN, answer)
    if body.endswith(" FOUND"):
        return ScanResult(Verdict.INFECTED, answer, body.removesuffix(" FOUND").strip())
    return ScanResult(Verdict.ERROR, answer)


def _command(address: ClamdAddress, command: bytes, timeout: float) -> str:
    with _connect(address, timeout) as conn:
        try:
            conn.sendall(command)
        except OSError as exc:
            raise ToolFailed(f"clamd ({address}) failed: {exc}") from exc
        return _read_answer(conn, address)


def _connect(address: ClamdAddress, timeout: float) -> socket.socket:
    try:
        if address.path is not None:
            conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            conn.settimeout(timeout)
            try:
                conn.connect(address.path)
            except BaseException:
                conn.close()
                raise
            return conn
        return socket.create_connection((address.host, address.port), timeout=timeout)
    except OSError as exc:
        raise ToolFailed(f"clamd is unreachable at {address}: {exc}") from exc


def _read_answer(conn: socket.socket, address: ClamdAddress) -> str:
    """One answer, terminated by NUL (the z-prefixed commands) or by clamd closing the connection."""
    received = bytearray()
    try:
        while b"\0" not in received and len(received) < _ANSWER_LIMIT:
            part = conn.recv(_ANSWER_LIMIT)
            if not part:
                break
            received += part
    except OSError as exc:  # a timeout included
        raise ToolFailed(f"clamd ({address}) did not answer: {exc}") from exc
    answer = bytes(received).split(b"\0", 1)[0].decode("utf-8", "replace").strip()
    if not answer:
        raise ToolFailed(f"clamd ({address}) closed the connection without an answer")
    return answer
