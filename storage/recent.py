"""The objects a process wrote or read last, kept in memory: archived objects never change, so the
stages of one document need not fetch its original from S3 again and again."""

from __future__ import annotations

import threading
from collections import OrderedDict


class RecentObjects:
    """The last objects read or written, up to ``budget`` bytes (small ones only), thread-safe."""

    def __init__(self, budget: int = 64 << 20, largest: int = 8 << 20) -> None:
        self.budget, self.largest, self.size = budget, largest, 0
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            data = self._items.get(key)
            if data is not None:
                self._items.move_to_end(key)
            return data

    def add(self, key: str, data: bytes) -> None:
        if len(data) > self.largest:
            return
        with self._lock:
            if key in self._items:
                return
            self._items[key] = data
            self.size += len(data)
            while self.size > self.budget:
                _, old = self._items.popitem(last=False)
                self.size -= len(old)

    def drop(self, key: str) -> None:
        with self._lock:
            if (old := self._items.pop(key, None)) is not None:
                self.size -= len(old)
