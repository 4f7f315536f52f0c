"""Read untrusted content in a child process that can be stopped: an address-space cap and a wall clock.

A PDF whose content stream inflates to gigabytes, or an image that decodes to more than it admits, must
cost the batch one quarantined document, not a hung or swapped-out process. The reading function runs in
a child started from a forkserver (no lock of this multi-threaded process is inherited), under
``RLIMIT_AS``; past the budget the child is killed and the document is refused with ``OverBudget``.
"""

from __future__ import annotations

import logging
import multiprocessing
import resource
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from dematflow.errors import CorruptInput, DematflowError, OverBudget

log = logging.getLogger(__name__)

T = TypeVar("T")

START_METHOD = "forkserver"
PRELOAD = ["extractors.pdftext", "extractors.pdfinspect", "extractors.images", "pdfplumber", "pypdfium2"]
_STARTING = threading.Lock()  # the main module is swapped while a child starts (see _without_main)


@dataclass(frozen=True)
class Budget:
    """What the reading of one document may take."""

    seconds: float = 60.0
    memory_mb: int = 1024


def run(fn: Callable[..., T], *args: Any, budget: Budget, what: str) -> T:
    """``fn(*args)`` in a bounded child; its return value, or the dematflow error it raised.

    ``fn`` must be a module-level function of an importable module (not ``__main__``), its arguments
    and result picklable. ``what`` names the work in the refusal ("the PDF's text")."""
    ctx = multiprocessing.get_context(START_METHOD)
    if START_METHOD == "forkserver":
        ctx.set_forkserver_preload(PRELOAD)  # only heeded before the forkserver's first start
    receiver, sender = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child, args=(sender, budget.memory_mb, fn, args), daemon=True)  # type: ignore[attr-defined]
    start = time.monotonic()
    with _without_main():
        child.start()
    sender.close()
    try:
        if not receiver.poll(budget.seconds):
            raise OverBudget(
                f"reading {what} took over {budget.seconds:g} s, the limit per document "
                "(DEMATFLOW_STAGE_TIMEOUT): a decompression bomb or a pathological file"
            )
        ok, value, peak_kb = receiver.recv()
    except EOFError:  # the child died without answering: the memory cap, or a library's crash
        child.join(5)
        raise OverBudget(
            f"reading {what} needed more than {budget.memory_mb} MB of memory, the limit per document "
            f"(DEMATFLOW_STAGE_MEMORY), and was stopped (exit {child.exitcode})"
        ) from None
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        receiver.close()
    log.debug("%s read in a child: %.2f s, peak %.0f MB", what, time.monotonic() - start, peak_kb / 1024)
    if ok:
        return value
    if value == "memory":
        raise OverBudget(
            f"reading {what} needed more than {budget.memory_mb} MB of memory, the limit per document "
            "(DEMATFLOW_STAGE_MEMORY)"
        )
    raise value


@contextmanager
def _without_main() -> Iterator[None]:
    """Start the child without the main module. multiprocessing re-runs the main script in every child
    it starts (the CLI's, a worker's or a benchmark's imports: 0.2-0.7 s, twice per PDF), and the
    forkserver cannot preload it (Python 3.11 never passes it the path). The child runs a function
    of an importable module, so an empty ``__main__`` is all it needs."""
    with _STARTING:
        main = sys.modules["__main__"]
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            sys.modules["__main__"] = main


def _child(sender: Connection, memory_mb: int, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    cap = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash leaves no core file behind
    try:
        reply: tuple[bool, Any] = (True, fn(*args))
    except MemoryError:
        reply = (False, "memory")
    except DematflowError as exc:
        reply = (False, type(exc)(exc.message))  # without its traceback and cause: may not pickle
    except Exception as exc:  # a library's surprise on hostile bytes: the input cannot be read
        reply = (False, CorruptInput(f"the file cannot be read ({type(exc).__name__})"))
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        sender.send((*reply, peak_kb))
    except MemoryError:
        sender.send((False, "memory", peak_kb))
    finally:
        sender.close()
