"""Where a deposited document goes next: the workers' queue when a broker is set, else a small pool of
threads in this process running the very same pipeline. The pipeline (OCR, pyHanko) is imported on the
first document, not at start-up."""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from pipeline.context import Services
from pipeline.intake import Receipt

log = logging.getLogger(__name__)


class Runner:
    def __init__(self, services: Services, *, broker_url: str | None, workers: int = 1) -> None:
        self.services = services
        self.broker_url = broker_url
        self._actors: Any = None
        self._pool = None if broker_url else ThreadPoolExecutor(workers, thread_name_prefix="dematflow-api")
        self._pending: set[Future[None]] = set()

    @property
    def mode(self) -> str:
        return "queue" if self.broker_url else "in-process"

    def start(self, receipt: Receipt) -> None:
        """Send a new document on its way; a duplicate (same bytes, same tenant) needs nothing."""
        if receipt.duplicate_of is not None:
            return
        if self._pool is None:
            self._queue().send("ingest", receipt.document_id)
            return
        future = self._pool.submit(self._run, receipt)
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)

    def busy(self) -> int:
        return len(self._pending)

    def _run(self, receipt: Receipt) -> None:
        from pipeline.run import run_stages

        try:
            run_stages(self.services, receipt)
        except Exception:  # the document stays `received` with its bytes kept; the log says why
            log.exception("processing of %s stopped", receipt.document_id)

    def _queue(self) -> Any:
        if self._actors is None:
            from workers.actors import Actors
            from workers.broker import make_broker

            self._actors = Actors(make_broker(self.broker_url), lambda: self.services)
        return self._actors

    def ping(self) -> str:
        """What the queue answers (for /readyz); the in-process pool is always there."""
        if self._pool is not None:
            return f"in-process ({self.busy()} in progress)"
        broker = self._queue().steps["ingest"].broker
        client = getattr(broker, "client", None)
        if client is not None:
            client.ping()
        return f"queue {self.broker_url.split('://', 1)[0]}" if self.broker_url else "queue"

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=False)
