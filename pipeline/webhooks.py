"""Webhooks: tell a supplier's own system of each lifecycle status of its documents.

Best effort, off the caller's path: a thread posts the JSON, three tries (0, 2 and 10 s apart), and
the journal says whether it was delivered. The status itself is recorded whatever the webhook does;
the supplier can always read it back from the status URL.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from typing import Any

from pipeline import accounts
from pipeline.context import Services
from pipeline.records import Event

log = logging.getLogger(__name__)

DELAYS_S = (0.0, 2.0, 10.0)
TIMEOUT_S = 5.0


def notify(services: Services, document_id: str, status: dict[str, Any]) -> threading.Thread | None:
    """Post ``status`` to the webhook of the account that deposited the document, if it has one."""
    doc = services.catalogue.get(document_id)
    if doc.owner is None:
        return None
    account = accounts.get(services.catalogue.engine, doc.owner)
    if not account.webhook_url or not account.active:
        return None
    payload = {"event": "lifecycle", "document_id": doc.id, "filename": doc.filename, **status}
    thread = threading.Thread(
        target=_deliver, args=(services, account.webhook_url, payload), name="dematflow-webhook", daemon=True
    )
    thread.start()
    return thread


def _deliver(services: Services, url: str, payload: dict[str, Any]) -> None:
    body = json.dumps(payload, ensure_ascii=False).encode()
    last = "not tried"
    for tries, delay in enumerate(DELAYS_S, start=1):
        time.sleep(delay)
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "User-Agent": "dematflow-webhook"},
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as answer:
                if 200 <= answer.status < 300:
                    _journal(services, payload, "webhook-delivered", tries=tries, http_status=answer.status)
                    return
                last = f"HTTP {answer.status}"
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError, ValueError) as exc:
            last = str(getattr(exc, "reason", exc))
    log.warning("webhook for %s not delivered: %s", payload["document_id"], last)
    _journal(services, payload, "webhook-failed", tries=len(DELAYS_S), error=last)


def _journal(services: Services, payload: dict[str, Any], action: str, **detail: Any) -> None:
    try:
        services.catalogue.record(
            Event("lifecycle", action, payload["document_id"], detail={"code": payload.get("code"), **detail})
        )
    except Exception:  # the database may be gone at shutdown: the log above still says it
        log.exception("could not journal %s", action)
