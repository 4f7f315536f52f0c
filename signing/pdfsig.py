"""Independent check of PDF seals with poppler's ``pdfsig``."""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from dematflow.errors import ToolFailed, ToolUnavailable

log = logging.getLogger(__name__)

_VALID = "Signature is Valid."
_SIGNATURE_HEADER = re.compile(r"^Signature #\d+:", re.MULTILINE)
_VALIDATION = re.compile(r"^\s*-\s*Signature Validation:\s*(.+?)\s*$", re.MULTILINE)
_NO_SIGNATURES = "does not contain any signatures"
# poppler names a document timestamp's type ETSI.RFC3161, or "unknown" in older versions (22.x)
_DOC_TIMESTAMP = re.compile(r"^\s*-\s*Signature Type:\s*(ETSI\.RFC3161|unknown)\s*$", re.MULTILINE)
_NOT_VERIFIED = "Signature has not yet been verified."
_OUTPUT_LIMIT = 20_000


@dataclass(frozen=True)
class PdfsigResult:
    """What pdfsig says: how many signatures, and whether each one is cryptographically valid.

    Certificate trust is not part of ``all_valid`` (a development seal is untrusted by
    design); ``all_valid`` is False when there are no signatures at all.
    """

    signatures: int  # signatures proper (a document timestamp is counted in ``timestamps``)
    all_valid: bool
    output: str
    timestamps: int = 0  # RFC 3161 document timestamps (B-LTA): poppler lists them but cannot verify them


def probe() -> str:
    """Return pdfsig's version line; ToolUnavailable if it is missing or broken."""
    exe = _executable()
    with tempfile.TemporaryDirectory(prefix="dematflow-pdfsig-") as home:
        try:
            proc = subprocess.run([exe, "-v"], capture_output=True, env=_env(home), timeout=10, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ToolUnavailable(f"pdfsig does not run: {exc}") from exc
    text = (proc.stdout + proc.stderr).decode("utf-8", "replace")
    match = re.search(r"pdfsig version (\S+)", text)
    if match is None:
        raise ToolUnavailable(f"pdfsig -v gave no version: {text[:200]!r}")
    return match.group(1)


def check(pdf: bytes, *, timeout: float = 60) -> PdfsigResult:
    """Run pdfsig on ``pdf`` (without certificate checks) and parse each signature's validation.

    Raises ToolUnavailable if pdfsig is missing, ToolFailed if it crashes or times out.
    """
    exe = _executable()
    with tempfile.TemporaryDirectory(prefix="dematflow-pdfsig-") as work:
        path = Path(work) / "document.pdf"
        path.write_bytes(pdf)
        try:
            proc = subprocess.run(
                [exe, "-nocert", "-no-ocsp", str(path)],
                capture_output=True,
                env=_env(work),
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise ToolFailed(f"pdfsig timed out after {timeout:g} s") from exc
        except OSError as exc:
            raise ToolUnavailable(f"pdfsig does not run: {exc}") from exc
    output = (proc.stdout + proc.stderr).decode("utf-8", "replace")[:_OUTPUT_LIMIT]
    return _parse(output, proc.returncode)


def _parse(output: str, returncode: int) -> PdfsigResult:
    count = len(_SIGNATURE_HEADER.findall(output))
    if count == 0:
        if _NO_SIGNATURES in output:
            return PdfsigResult(signatures=0, all_valid=False, output=output)
        # pdfsig exits non-zero both for "no signatures" and for unreadable files.
        if returncode != 0:
            log.warning("pdfsig failed with exit code %d", returncode)
            raise ToolFailed(f"pdfsig failed (exit {returncode}): {output[:300]}")
    blocks = _SIGNATURE_HEADER.split(output)[1:]
    stamps = sum(1 for b in blocks if _DOC_TIMESTAMP.search(b) and _NOT_VERIFIED in b)
    verdicts = [
        v
        for b in blocks
        if not (_DOC_TIMESTAMP.search(b) and _NOT_VERIFIED in b)
        for v in _VALIDATION.findall(b)
    ]
    regular = count - stamps
    all_valid = regular > 0 and len(verdicts) == regular and all(v == _VALID for v in verdicts)
    return PdfsigResult(signatures=regular, all_valid=all_valid, output=output, timestamps=stamps)


def _executable() -> str:
    exe = shutil.which("pdfsig")
    if exe is None:
        raise ToolUnavailable("pdfsig not found: install poppler-utils")
    return exe


def _env(home: str) -> dict[str, str]:
    # A private HOME keeps pdfsig away from the user's NSS database; C locale keeps the
    # output in English for the parser.
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home, "LC_ALL": "C"}
