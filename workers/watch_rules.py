"""The hot folder's rules, as small functions: which names wait, what a folder means, how files move."""

from __future__ import annotations

import errno
import itertools
import os
from dataclasses import dataclass
from pathlib import Path, PurePath

from pipeline.records import utcnow

DONE, FAILED = ".done", ".failed"
SKIP_SUFFIXES = (".part", ".tmp", ".crdownload", "~", ".lock")  # still being written, or a lock itself
SKIP_PREFIXES = (".", "~$")  # hidden files, office owner files
SYSTEM_FILES = frozenset({"thumbs.db", "desktop.ini"})  # what Windows shares leave in every folder


def skipped(relative: PurePath) -> bool:
    """Names a station gives files it has not finished, and everything under hidden folders
    (``.done`` and ``.failed`` among them)."""
    if any(part.startswith(".") for part in relative.parts[:-1]):
        return True
    name = relative.name
    lower = name.lower()
    return lower.endswith(SKIP_SUFFIXES) or name.startswith(SKIP_PREFIXES) or lower in SYSTEM_FILES


def lock_names(name: str) -> tuple[str, ...]:
    """The sibling lock files that hold ``name`` back: ``scan.pdf.lock`` or ``scan.lock``."""
    stem = PurePath(name).stem
    return (f"{name}.lock",) if stem == name else (f"{name}.lock", f"{stem}.lock")


def metadata(relative: PurePath) -> dict[str, str]:
    """The folders above a file, as document metadata: ``SITE/SERVICE/BATCH.../name``."""
    folders = relative.parts[:-1]
    meta = dict(zip(("site", "service"), folders[:2], strict=False))
    if len(folders) > 2:
        meta["batch"] = "/".join(folders[2:])
    return meta


@dataclass(frozen=True)
class Seen:
    size: int
    mtime_ns: int
    since: float  # monotonic time since which the size and mtime are these


def observe(previous: Seen | None, size: int, mtime_ns: int, now: float) -> Seen:
    """The stability clock restarts whenever the size or the mtime changed."""
    if previous is not None and (previous.size, previous.mtime_ns) == (size, mtime_ns):
        return previous
    return Seen(size, mtime_ns, now)


def settled(seen: Seen, now: float, settle: float) -> bool:
    return now - seen.since >= settle


def read_limited(path: Path, limit: int) -> bytes:
    """The file's bytes, refused (EFBIG) past ``limit`` without reading them: its size is looked at
    first, then at most ``limit + 1`` bytes are read (it may grow in between)."""
    with path.open("rb") as f:
        if os.fstat(f.fileno()).st_size > limit:
            raise OSError(errno.EFBIG, f"plus de {limit} octets (DEMATFLOW_MAX_BYTES)")
        data = f.read(limit + 1)
    if len(data) > limit:
        raise OSError(errno.EFBIG, f"plus de {limit} octets (DEMATFLOW_MAX_BYTES)")
    return data


def move_aside(src: Path, target: Path) -> Path:
    """Move ``src`` to ``target``, or ``name (2).ext``... if taken: never overwrites. A hard link
    then an unlink, so a crash between the two leaves one file that a rerun recognises."""
    target.parent.mkdir(parents=True, exist_ok=True)
    for n in itertools.count(1):
        candidate = target if n == 1 else target.with_name(f"{target.stem} ({n}){target.suffix}")
        try:
            os.link(src, candidate)
        except FileExistsError:
            if os.path.samefile(src, candidate):
                break  # linked before a crash: only the unlink is left to do
            continue
        except OSError:  # no hard links here (some network shares): look, then rename
            if candidate.exists():
                continue
            os.rename(src, candidate)
            return candidate
        break
    os.unlink(src)
    return candidate


def reason_text(relative: PurePath, err: OSError, limit: int) -> str:
    """Why a file was not received, for the mailroom agent who finds it in ``.failed/``."""
    if err.errno == errno.EFBIG:
        why = f"le fichier dépasse la taille maximale acceptée ({limit} octets, DEMATFLOW_MAX_BYTES)"
    elif isinstance(err, PermissionError):
        why = "la lecture du fichier est refusée (droits insuffisants)"
    else:
        why = f"le fichier n'a pas pu être lu ({err.strerror or err})"
    return (
        f"Fichier : {relative.as_posix()}\n"
        f"Date : {utcnow()}\n"
        f"Motif : {why}.\n"
        f"Détail technique : {type(err).__name__}: {err}\n\n"
        "Le fichier n'a pas été archivé. Corrigez la cause, puis déposez-le de nouveau dans le dossier.\n"
    )
