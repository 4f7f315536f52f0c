"""The write-once archive contract, for every store shipped in the package."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from dematflow.errors import ArchiveConflict, ArchiveRefused, NotFound
from storage.base import ObjectStore, put_once, sha256_hex
from storage.filesystem import FilesystemStore
from storage.memory import MemoryStore


@pytest.fixture(params=["filesystem", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    return FilesystemStore(tmp_path / "archive") if request.param == "filesystem" else MemoryStore()


def test_put_returns_fingerprint_and_get_returns_same_bytes(store: ObjectStore) -> None:
    obj = store.put("originals/a", b"\x00\x01pdf")
    assert (obj.key, obj.sha256, obj.size) == ("originals/a", sha256_hex(b"\x00\x01pdf"), 5)
    assert store.get("originals/a") == b"\x00\x01pdf"
    assert list(store.keys("originals/")) == ["originals/a"]


def test_same_bytes_again_is_a_no_op_but_other_bytes_are_refused(store: ObjectStore) -> None:
    store.put("k/1", b"first")
    store.put("k/1", b"first")
    with pytest.raises(ArchiveConflict):
        store.put("k/1", b"second")
    assert store.get("k/1") == b"first"


def test_nothing_can_be_deleted(store: ObjectStore) -> None:
    store.put("k/1", b"x")
    with pytest.raises(ArchiveRefused):
        store.delete("k/1")  # type: ignore[attr-defined]
    assert store.exists("k/1")


def test_missing_key_is_not_found(store: ObjectStore) -> None:
    with pytest.raises(NotFound):
        store.get("nope")
    with pytest.raises(NotFound):
        store.digest("nope")


def test_digest_hashes_the_bytes_as_a_stream(store: ObjectStore) -> None:
    data = bytes(range(256)) * 9000  # a little over two chunks
    store.put("big/1", data)
    assert store.digest("big/1") == sha256_hex(data)


def test_put_once_keeps_the_first_output(store: ObjectStore) -> None:
    first = put_once(store, "sealed/x", lambda: b"one")
    again = put_once(store, "sealed/x", lambda: b"two")
    assert first == again and store.get("sealed/x") == b"one"


def test_filesystem_objects_are_read_only_and_keys_cannot_escape(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path / "archive")
    store.put("a/b", b"x")
    mode = (tmp_path / "archive" / "a" / "b").stat().st_mode
    assert not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    for bad in ("../escape", "/abs", "a//b", ""):
        with pytest.raises(ArchiveRefused):
            store.put(bad, b"x")


def test_recent_objects_stay_within_their_budget() -> None:
    from storage.recent import RecentObjects

    recent = RecentObjects(budget=10, largest=4)
    for key in "abc":
        recent.add(key, b"xxxx")
    recent.add("big", b"x" * 5)  # larger than any kept object: never kept
    kept = [recent.get(k) for k in ("a", "b", "c", "big")]
    assert kept == [None, b"xxxx", b"xxxx", None]  # the oldest went first
    assert recent.size == 8
    recent.drop("b")
    assert recent.get("b") is None and recent.size == 4
