"""The hot folder: files a scanning station drops are received once stable, handed on, then moved aside.

A door like the actors: ``receive`` keeps the bytes, a handoff queues the document or runs its stages.
"""

from __future__ import annotations

import logging
import os
import queue
import stat
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Protocol

from dematflow.errors import ConfigError, DematflowError
from pipeline.context import Services
from pipeline.intake import Receipt, receive
from storage.base import sha256_hex
from workers.watch_rules import (
    DONE,
    FAILED,
    Seen,
    lock_names,
    metadata,
    move_aside,
    observe,
    read_limited,
    reason_text,
    settled,
    skipped,
)

log = logging.getLogger(__name__)

Handoff = Callable[[Receipt], None]  # what becomes of a received document: queued, or run in-process


class Observer(Protocol):
    def stop(self) -> None: ...
    def join(self, timeout: float | None = None) -> None: ...


@dataclass(frozen=True)
class WatchSettings:
    dirs: tuple[Path, ...]
    settle: float = 2.0  # seconds a file's size and mtime must stay unchanged before it is taken
    poll: bool = False  # poll instead of native events (network shares)
    delete: bool = False  # delete received files instead of moving them to DIR/.done/
    rescan: float = 60.0  # seconds between full scans: events missed, receipts to retry
    report_every: float = 60.0  # seconds between progress counts in the log

    @classmethod
    def from_env(cls, env: Mapping[str, str], dirs: tuple[Path, ...], **given: object) -> WatchSettings:
        """``given`` (command-line options) wins over DEMATFLOW_WATCH_SETTLE; None means not given."""
        options = {k: v for k, v in given.items() if v is not None}
        if "settle" not in options and env.get("DEMATFLOW_WATCH_SETTLE"):
            try:
                options["settle"] = float(env["DEMATFLOW_WATCH_SETTLE"])
            except ValueError:
                raise ConfigError("DEMATFLOW_WATCH_SETTLE is not a number of seconds") from None
        made = cls(dirs=tuple(d.resolve() for d in dirs), **options)  # type: ignore[arg-type]
        if made.settle < 0 or made.rescan <= 0:
            raise ConfigError("the settle time must be >= 0 and the rescan interval > 0 seconds")
        return made


class Candidates:
    """Files seen in the folders, waiting to be stable; thread-safe (events arrive on other threads)."""

    def __init__(self, settle: float) -> None:
        self.settle = settle
        self._lock = threading.Lock()
        self._waiting: dict[Path, tuple[Path, Seen | None]] = {}  # path -> (its watched folder, clock)
        self._busy: set[Path] = set()  # taken, not yet released
        self._again: set[Path] = set()  # busy paths written to again meanwhile (a new file, same name)

    def offer(self, root: Path, path: Path) -> None:
        if skipped(path.relative_to(root)):
            return
        with self._lock:
            if path in self._busy:
                self._again.add(path)
            else:
                self._waiting.setdefault(path, (root, None))

    def ripe(self, now: float) -> list[tuple[Path, Path]]:
        """The (folder, path) of files now stable, marked busy; vanished files are forgotten."""
        with self._lock:
            waiting = list(self._waiting.items())
        clocks: dict[Path, Seen | None] = {}
        for path, (_, seen) in waiting:
            try:
                st = path.lstat()
            except OSError:
                continue  # vanished (renamed: its new name comes as an event, or at the next scan)
            if not stat.S_ISREG(st.st_mode):
                continue  # symbolic links are not followed, devices and sockets not read
            locked = any((path.parent / lock).exists() for lock in lock_names(path.name))
            clocks[path] = None if locked else observe(seen, st.st_size, st.st_mtime_ns, now)
        ripe = []
        with self._lock:
            for path, (root, _) in waiting:
                clock = clocks.get(path)
                if path not in clocks:
                    self._waiting.pop(path, None)
                elif clock is not None and settled(clock, now, self.settle):
                    self._waiting.pop(path, None)
                    self._busy.add(path)
                    ripe.append((root, path))
                else:
                    self._waiting[path] = (root, clock)
        return ripe

    def release(self, root: Path, path: Path) -> None:
        with self._lock:
            self._busy.discard(path)
            if path in self._again:
                self._again.discard(path)
                self._waiting.setdefault(path, (root, None))

    def __len__(self) -> int:
        return len(self._waiting)


@dataclass
class Counts:
    received: int = 0
    failed: int = 0
    started: float = field(default_factory=time.monotonic)


class Watcher:
    """Watch folders, receive each stable file (one at a time), hand it on, then move it aside."""

    def __init__(
        self, services: Services, settings: WatchSettings, handoff: Handoff, *, workers: int = 1
    ) -> None:
        self.services, self.settings, self.handoff, self.workers = services, settings, handoff, workers
        self.candidates = Candidates(settings.settle)
        self.ready: queue.Queue[tuple[Path, Path]] = queue.Queue()
        self.counts = Counts()
        self.fatal: DematflowError | None = None  # an error no retry fixes: the watcher stops
        self._receiving = threading.Lock()  # one file's bytes in memory at a time

    def run(self, stop: threading.Event) -> Counts:
        """Until ``stop`` is set; the files in hand are finished first, the others stay in place."""
        observer = start_observer(self.settings, self.offer)
        threads = [
            threading.Thread(target=self._work, args=(stop,), name=f"dematflow-watch-{i}", daemon=True)
            for i in range(self.workers)
        ]
        for t in threads:
            t.start()
        tick = min(0.5, max(0.05, self.settings.settle / 4))
        scanned, reported = -float("inf"), time.monotonic()
        try:
            while not stop.is_set():
                now = time.monotonic()
                if now - scanned >= self.settings.rescan:
                    self.scan()
                    scanned = now
                for item in self.candidates.ripe(now):
                    self.ready.put(item)
                if now - reported >= self.settings.report_every:
                    self._report()
                    reported = now
                stop.wait(tick)
        finally:
            stop.set()
            for t in threads:
                t.join()
            observer.stop()
            observer.join(timeout=10)
            self._report()
        return self.counts

    def offer(self, path: Path) -> None:
        for root in self.settings.dirs:
            if path.is_relative_to(root):
                self.candidates.offer(root, path)
                return

    def scan(self) -> None:
        """Every file already there (a restarted watcher picks up what arrived while it was down)."""
        for root in self.settings.dirs:
            for folder, dirs, files in os.walk(root):
                dirs[:] = [d for d in dirs if not d.startswith(".")]
                for name in files:
                    self.candidates.offer(root, Path(folder, name))

    def _work(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                root, path = self.ready.get(timeout=0.2)
            except queue.Empty:
                continue
            try:
                self.take(root, path)
            except DematflowError as err:
                if not err.retryable:
                    log.error("watch stops: %s", err.message)
                    self.fatal = err
                    stop.set()
                else:  # the archive or the catalogue is away: the file stays, the next scan retries
                    log.error("%r stays for a later try: %s", str(path), err.message)
            except Exception as err:
                log.error("%r stays for a later try: %r", str(path), err)
            finally:
                self.candidates.release(root, path)

    def take(self, root: Path, path: Path) -> None:
        """Receive one file, hand its document on, then (and only then) move it out of the folder."""
        relative = path.relative_to(root)
        limit = self.services.settings.limits.max_bytes
        with self._receiving:
            try:
                before = fingerprint(path)
                data = read_limited(path, limit)
            except FileNotFoundError:
                log.warning("%r vanished before it was read", relative.as_posix())
                return
            except OSError as err:
                self._fail(root, relative, reason_text(relative, err, limit))
                return
            receipt, how = self._receive(relative, data)
            del data
        log.info("received %r: document %s%s", relative.as_posix(), receipt.document_id, how)
        self.handoff(receipt)
        if fingerprint(path) != before:  # written again in place meanwhile: those bytes are not kept yet
            log.warning("%r changed while it was taken: taken again", relative.as_posix())
            self.candidates.offer(root, path)  # busy, so it waits again once released
            return
        if self.settings.delete:
            path.unlink()
        else:
            move_aside(path, root / DONE / relative)
        self.counts.received += 1

    def _receive(self, relative: PurePath, data: bytes) -> tuple[Receipt, str]:
        meta = metadata(relative)
        first = self.services.catalogue.find_by_sha256(sha256_hex(data))
        if first is not None and (first.filename, first.meta) == (relative.name, meta):
            # The same file from the same folder: taken before an interruption, not a new fact.
            return Receipt(first.id), " (again, after an interruption)"
        receipt = receive(self.services, filename=relative.name, data=data, meta=meta)
        return receipt, f" (same bytes as {receipt.duplicate_of})" if receipt.duplicate_of else ""

    def _fail(self, root: Path, relative: PurePath, reason: str) -> None:
        moved = move_aside(root / relative, root / FAILED / relative)
        moved.with_name(moved.name + ".reason.txt").write_text(reason, encoding="utf-8")
        log.warning("%r not received, moved to %s", relative.as_posix(), moved)
        self.counts.failed += 1

    def _report(self) -> None:
        c = self.counts
        log.info("watch: %d received, %d failed, %d waiting", c.received, c.failed, len(self.candidates))


def fingerprint(path: Path) -> tuple[int, int, int] | None:
    """What tells a file written again in place from the one read: inode, size, mtime."""
    try:
        st = path.lstat()
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


def start_observer(settings: WatchSettings, offer: Callable[[Path], None]) -> Observer:
    """Native file events (inotify...), or polling when asked (network shares) or when they fail."""
    from watchdog.events import FileSystemEvent, FileSystemEventHandler
    from watchdog.observers import Observer as NativeObserver
    from watchdog.observers.api import BaseObserver
    from watchdog.observers.polling import PollingObserver

    class Events(FileSystemEventHandler):
        def on_any_event(self, event: FileSystemEvent) -> None:
            if event.event_type in ("deleted", "opened", "closed_no_write"):
                return
            path = Path(os.fsdecode(event.dest_path or event.src_path))
            if not event.is_directory:
                offer(path)
                return
            for folder, _, files in os.walk(path):  # a whole folder moved in at once
                for name in files:
                    offer(Path(folder, name))

    def started(observer: BaseObserver) -> BaseObserver:
        for folder in settings.dirs:
            observer.schedule(Events(), str(folder), recursive=True)
        observer.start()
        return observer

    if not settings.poll:
        try:
            return started(NativeObserver())
        except OSError as err:  # e.g. the inotify watch limit
            log.warning("native file events unavailable (%s): polling the folders instead", err)
    return started(PollingObserver(timeout=max(1.0, settings.settle)))


def inline(services: Services) -> Handoff:
    """Embedded mode: the stages run here, in the watcher's worker thread."""
    from pipeline.run import run_stages

    def handoff(receipt: Receipt) -> None:
        run_stages(services, receipt)

    return handoff


def queued(services: Services, send: Callable[[str, str], None]) -> Handoff:
    """Queue mode: the next step goes to the workers (``Actors.send``); a duplicate is not sent again."""
    from pipeline.run import next_stage

    def handoff(receipt: Receipt) -> None:
        if receipt.duplicate_of is None:
            stage = next_stage(services.catalogue.get(receipt.document_id))
            if stage is not None:  # "ingest" for a new document; later if a crash came mid-way
                send(stage, receipt.document_id)

    return handoff
