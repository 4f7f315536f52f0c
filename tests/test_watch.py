"""The hot folder: stability, station conventions, metadata, .done/.failed, bursts, kill -9, in-process."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePath

import pytest

from cli.samples import Sample
from pipeline import journal
from pipeline.context import Services, open_services
from pipeline.intake import Receipt, receive
from pipeline.records import Document, Status
from pipeline.settings import Limits, Settings
from tests.conftest import make_settings, port_open, require, sample
from workers import watcher as watcher_module
from workers.watch_rules import Seen, lock_names, metadata, observe, settled, skipped
from workers.watcher import Watcher, WatchSettings, queued

CLI = [sys.executable, "-m", "cli.main"]


def wait_for(condition: Callable[[], bool], timeout: float = 30, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not after {timeout}s")
        time.sleep(0.02)


def files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def documents(services: Services) -> list[Document]:
    return services.catalogue.list(limit=100_000)


@contextmanager
def watching(
    services: Services, root: Path, handoff: Callable[[Receipt], None] | None = None, **options: object
) -> Iterator[list[Receipt]]:
    """A watcher on ``root`` in a thread; yields the receipts it handed on."""
    handed: list[Receipt] = []
    options = {"settle": 0.2, "rescan": 60.0, **options}
    config = WatchSettings(dirs=(root.resolve(),), **options)  # type: ignore[arg-type]
    stop = threading.Event()
    thread = threading.Thread(target=Watcher(services, config, handoff or handed.append).run, args=(stop,))
    thread.start()
    try:
        yield handed
    finally:
        stop.set()
        thread.join(30)
        assert not thread.is_alive()


# --- the rules, as pure functions --------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["scan.pdf.part", "scan.TMP", "f.pdf.crdownload", "scan.pdf~", ".hidden.pdf", "~$lettre.docx",
     "scan.pdf.lock", "Thumbs.db", ".done/scan.pdf", "site/.failed/x.pdf"],
)  # fmt: skip
def test_names_a_station_has_not_finished_are_skipped(name: str) -> None:
    assert skipped(PurePath(name))


@pytest.mark.parametrize("name", ["scan.pdf", "site/service/lot 3/facture.xml", "a~b.png", "x.partial"])
def test_finished_names_are_taken(name: str) -> None:
    assert not skipped(PurePath(name))


def test_lock_files_are_named_after_the_file() -> None:
    assert lock_names("scan.pdf") == ("scan.pdf.lock", "scan.lock")
    assert lock_names("scan") == ("scan.lock",)


def test_subfolders_map_to_site_service_batch() -> None:
    assert metadata(PurePath("f.pdf")) == {}
    assert metadata(PurePath("Mairie/f.pdf")) == {"site": "Mairie"}
    assert metadata(PurePath("Mairie/Compta/f.pdf")) == {"site": "Mairie", "service": "Compta"}
    assert metadata(PurePath("Mairie/Compta/2026-05/lot 3/f.pdf")) == {
        "site": "Mairie",
        "service": "Compta",
        "batch": "2026-05/lot 3",
    }


def test_the_stability_clock_restarts_when_size_or_mtime_change() -> None:
    first = observe(None, 10, 1, now=100.0)
    assert not settled(first, 101.0, settle=2)
    assert observe(first, 10, 1, now=102.5) is first and settled(first, 102.5, settle=2)
    grown = observe(first, 20, 1, now=102.5)
    assert grown == Seen(20, 1, 102.5) and not settled(grown, 103.0, settle=2)
    assert observe(grown, 20, 2, now=103.0).since == 103.0  # rewritten at the same size


def test_settle_comes_from_the_environment_unless_given(tmp_path: Path) -> None:
    env = {"DEMATFLOW_WATCH_SETTLE": "5"}
    assert WatchSettings.from_env(env, (tmp_path,)).settle == 5
    assert WatchSettings.from_env(env, (tmp_path,), settle=0.5).settle == 0.5
    assert WatchSettings.from_env({}, (tmp_path,), settle=None).settle == 2


# --- the watcher on a real folder ---------------------------------------------------------------------


def test_a_file_written_slowly_is_taken_only_once_stable(services: Services, tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    chunks = [f"<lot>{i}</lot>\n".encode() * 50 for i in range(6)]
    writing = threading.Event()

    def station() -> None:  # writes the file in chunks, as a slow scanner does
        with (inbox / "scan.xml").open("wb") as f:
            for chunk in chunks:
                f.write(chunk)
                f.flush()
                writing.set()
                time.sleep(0.25)

    with watching(services, inbox, settle=0.6) as handed:
        writer = threading.Thread(target=station)
        writer.start()
        writing.wait(5)
        while writer.is_alive():
            assert not handed and not (inbox / ".done").exists(), "taken while still being written"
            time.sleep(0.05)
        wait_for(lambda: (inbox / ".done" / "scan.xml").exists(), what="moved to .done")
    [doc] = documents(services)
    assert services.store.get(doc.objects["original"].key) == b"".join(chunks)


def test_station_conventions_hold_files_back(services: Services, tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    held = ["a.xml.part", "b.tmp", ".c.xml", "~$d.docx", "e.crdownload", "f.xml~", "Thumbs.db"]
    for i, name in enumerate(held):
        (inbox / name).write_text(f"<x>{i}</x>")
    (inbox / "g.xml").write_text("<g/>")
    (inbox / "g.xml.lock").write_text("")
    with watching(services, inbox) as handed:
        time.sleep(1.2)  # six settle times
        assert handed == [] and files(inbox / ".done") == []
        # When the station renames its part file and removes its lock...
        (inbox / "a.xml.part").rename(inbox / "a.xml")
        (inbox / "g.xml.lock").unlink()
        # ...then both files are taken.
        wait_for(lambda: len(handed) == 2, what="renamed and unlocked files taken")
    assert [p.name for p in files(inbox / ".done")] == ["a.xml", "g.xml"]
    assert sorted(d.filename for d in documents(services)) == ["a.xml", "g.xml"]


def test_subfolders_become_document_metadata(services: Services, tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    (inbox / "Mairie" / "Compta" / "lot 7").mkdir(parents=True)
    (inbox / "Mairie" / "Compta" / "lot 7" / "f.xml").write_text("<f/>")
    (inbox / "top.xml").write_text("<top/>")
    with watching(services, inbox) as handed:
        wait_for(lambda: len(handed) == 2, what="both files taken")
    meta = {d.filename: d.meta for d in documents(services)}
    assert meta == {"f.xml": {"site": "Mairie", "service": "Compta", "batch": "lot 7"}, "top.xml": {}}
    assert (inbox / ".done" / "Mairie" / "Compta" / "lot 7" / "f.xml").read_text() == "<f/>"


def test_unreadable_files_go_to_failed_with_a_reason(
    tmp_path: Path, dev_keys: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = open_services(make_settings(tmp_path, dev_keys, limits=Limits(max_bytes=100)))
    real_read = watcher_module.read_limited

    def read(path: Path, limit: int) -> bytes:  # fault injection: the share refuses this one file
        if path.name == "refused.xml":
            raise PermissionError(13, "Permission denied", str(path))
        return real_read(path, limit)

    monkeypatch.setattr(watcher_module, "read_limited", read)
    inbox = tmp_path / "in"
    (inbox / "site").mkdir(parents=True)
    (inbox / "site" / "refused.xml").write_text("<r/>")
    (inbox / "big.xml").write_bytes(b"<b>" + b"0" * 200 + b"</b>")
    (inbox / "ok.xml").write_text("<ok/>")
    with watching(services, inbox) as handed:
        wait_for(lambda: len(files(inbox / ".failed")) == 4 and len(handed) == 1, what="sorted out")
    failed = inbox / ".failed"
    assert (failed / "site" / "refused.xml").read_text() == "<r/>"
    assert "droits insuffisants" in (failed / "site" / "refused.xml.reason.txt").read_text()
    reason = (failed / "big.xml.reason.txt").read_text(encoding="utf-8")
    assert "taille maximale" in reason and "big.xml" in reason
    assert [d.filename for d in documents(services)] == ["ok.xml"]  # nothing refused reached the archive


def test_a_name_clash_in_done_never_overwrites(services: Services, tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    with watching(services, inbox):
        for n in range(3):  # the next drop once the last has left the folder, as a station would
            (inbox / "scan.xml").write_text(f"<scan>{n}</scan>")
            wait_for(lambda n=n: len(files(inbox / ".done")) == n + 1, what=f"drop {n}")  # type: ignore[misc]
    done = inbox / ".done"
    assert [p.read_text() for p in (done / "scan.xml", done / "scan (2).xml", done / "scan (3).xml")] == [
        f"<scan>{n}</scan>" for n in range(3)
    ]


def test_a_file_written_again_while_it_is_taken_is_taken_again(services: Services, tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    scan = inbox / "scan.xml"
    handed: list[Receipt] = []

    def station_writes_again(receipt: Receipt) -> None:  # the same name, rewritten in place, mid-take
        handed.append(receipt)
        if len(handed) == 1:
            with scan.open("r+") as f:
                f.write("<scan>2</scan>")
            os.utime(scan, ns=(time.time_ns(), time.time_ns() + 10**9))

    scan.write_text("<scan>1</scan>")
    with watching(services, inbox, station_writes_again):
        wait_for(lambda: len(handed) == 2 and not scan.exists(), what="taken twice")
    assert [p.read_text() for p in files(inbox / ".done")] == ["<scan>2</scan>"]
    kept = sorted(services.store.get(d.objects["original"].key).decode() for d in documents(services))
    assert kept == ["<scan>1</scan>", "<scan>2</scan>"]  # both versions kept, none lost


def test_a_file_left_by_an_interruption_is_taken_again_without_a_duplicate(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "scan.xml").write_text("<scan/>")
    real_move, calls = watcher_module.move_aside, []

    def interrupted(src: Path, target: Path) -> Path:  # the first move never happens, as after a kill
        calls.append(src)
        if len(calls) == 1:
            raise OSError("killed before the move")
        return real_move(src, target)

    monkeypatch.setattr(watcher_module, "move_aside", interrupted)
    with watching(services, inbox, rescan=0.3) as handed:
        wait_for(lambda: (inbox / ".done" / "scan.xml").exists(), what="taken again")
    [doc] = documents(services)
    assert [r.document_id for r in handed] == [doc.id, doc.id]
    actions = [e.action for e in journal.entries(services.catalogue.engine, document_id=doc.id)]
    assert actions == ["received"]  # no "duplicate" receipt for the same file taken twice


def test_queue_mode_sends_new_and_interrupted_documents_only(services: Services) -> None:
    sent: list[tuple[str, str]] = []
    handoff = queued(services, lambda stage, doc_id: sent.append((stage, doc_id)))
    first = receive(services, filename="a.xml", data=b"<a/>")
    handoff(first)
    handoff(receive(services, filename="b.xml", data=b"<a/>"))  # the same bytes: not processed twice
    assert sent == [("ingest", first.document_id)]


def test_a_burst_of_files_is_received_one_at_a_time(services: Services, tmp_path: Path) -> None:
    inbox, count = tmp_path / "in", 300
    inbox.mkdir()
    with watching(services, inbox) as handed:
        started = time.monotonic()
        for i in range(count):  # the station drops them while the watcher runs
            folder = inbox / f"site{i % 3}" if i % 2 else inbox
            folder.mkdir(exist_ok=True)
            (folder / f"scan-{i:04}.xml").write_text(f"<scan n='{i}'/>")
        wait_for(lambda: len(handed) == count, timeout=60, what="burst received")
        elapsed = time.monotonic() - started
    assert len(files(inbox / ".done")) == count and len(documents(services)) == count
    assert [p for p in files(inbox) if ".done" not in p.parts] == []
    print(
        f"\nwatch burst: {count} files received and moved in {elapsed:.1f} s, {count / elapsed:.0f} files/s"
    )


# --- the command, as a real process -----------------------------------------------------------------


def command_env(tmp_path: Path, dev_keys: Path, **extra: str) -> dict[str, str]:
    shutil.copytree(dev_keys, tmp_path / "data" / "keys")
    env = {k: v for k, v in os.environ.items() if k != "DEMATFLOW_BROKER_URL"}
    return {**env, "DEMATFLOW_DATA_DIR": str(tmp_path / "data"), **extra}


def test_kill_9_mid_burst_loses_and_duplicates_nothing(tmp_path: Path, dev_keys: Path) -> None:
    require(port_open("127.0.0.1", 6379), "Redis on 127.0.0.1:6379")
    import redis

    url = "redis://127.0.0.1:6379/12"  # a database of its own: the queued messages are thrown away
    redis.Redis.from_url(url).flushdb()
    env = command_env(tmp_path, dev_keys, DEMATFLOW_BROKER_URL=url)
    inbox, count = tmp_path / "in", 200
    contents = {}
    for i in range(count):
        folder = inbox / "Mairie" / "Compta" if i % 4 == 0 else inbox
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"scan-{i:04}.xml").write_text(f"<scan n='{i}'/>")
        contents[hashlib.sha256(f"<scan n='{i}'/>".encode()).hexdigest()] = i
    done = inbox / ".done"
    argv = [*CLI, "watch", str(inbox), "--settle", "0.2"]
    # Given a watcher killed with SIGKILL in the middle of a burst...
    first = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_for(lambda: len(files(done)) >= count // 4, timeout=60, what="first files moved")
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    at_kill = len(files(done))
    assert at_kill < count, "the burst was over before the kill"
    # ...when it is started again and stopped with SIGTERM once the folder is empty...
    second = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: len(files(done)) >= count, timeout=60, what="every file moved")
    finally:
        second.send_signal(signal.SIGTERM)
        _, stderr = second.communicate(timeout=30)
    assert second.returncode == 0, stderr.decode()[-2000:]
    # ...then every file is in .done exactly once, every document in the catalogue once, the journal holds.
    moved = [hashlib.sha256(p.read_bytes()).hexdigest() for p in files(done)]
    assert sorted(moved) == sorted(contents) and [p for p in files(inbox) if ".done" not in p.parts] == []
    services = open_services(Settings.from_env({"DEMATFLOW_DATA_DIR": str(tmp_path / "data")}))
    assert sorted(d.sha256 for d in documents(services)) == sorted(contents)
    actions = [e.action for e in journal.entries(services.catalogue.engine)]
    assert actions.count("received") == count and "duplicate" not in actions
    verified = subprocess.run([*CLI, "audit", "verify"], env=env, capture_output=True, text=True, timeout=120)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    redis.Redis.from_url(url).flushdb()
    again = stderr.decode().count("again, after an interruption")
    print(f"\nwatch kill -9: killed after {at_kill} of {count} files moved; {again} taken again on restart")


def test_watch_alone_archives_a_demo_invoice(tmp_path: Path, dev_keys: Path, demo_set: list[Sample]) -> None:
    env = command_env(tmp_path, dev_keys)
    inbox = tmp_path / "in"
    (inbox / "Mairie").mkdir(parents=True)
    watcher = subprocess.Popen(
        [*CLI, "watch", str(inbox), "--settle", "0.3"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        invoice = sample(demo_set, "facture-FA")
        shutil.copy(invoice.path, inbox / "Mairie" / invoice.path.name)
        wait_for(lambda: bool(files(inbox / ".done")), timeout=180, what="invoice processed")
    finally:
        watcher.send_signal(signal.SIGTERM)
        _, stderr = watcher.communicate(timeout=60)
    assert watcher.returncode == 0, stderr.decode()[-2000:]
    services = open_services(Settings.from_env({"DEMATFLOW_DATA_DIR": str(tmp_path / "data")}))
    [doc] = documents(services)
    assert (doc.status, doc.meta) == (Status.ARCHIVED, {"site": "Mairie"}), doc.reason
    assert "received 'Mairie/" in stderr.decode()
