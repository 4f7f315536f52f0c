"""Batched timestamps: at seal level B-B the PDFs carry no timestamp, so the anchors that copy the
journal's head into the archive carry one RFC 3161 token each, over ``seq:hash`` of that head.

A document's time is then proven by the journal to within one batch (``ANCHOR_EVERY`` rows, or
``DEMATFLOW_STAMP_EVERY_S`` seconds while documents flow), for one token a batch instead of one a
document. A TSA that cannot be reached never holds a document back: the anchor is kept without its
token, a warning is logged, and the next anchor asks again.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from dematflow.errors import ConfigError
from signing.policy import SealLevel
from storage.keys import ANCHORS

if TYPE_CHECKING:
    from pyhanko.sign.timestamps import TimeStamper

    from pipeline.context import Services
    from storage.base import ObjectStore

log = logging.getLogger(__name__)

STAMP_TIMEOUT_S = 10  # an anchor waits no longer than this for the TSA (a document is waiting)


@dataclass
class StampClock:
    """When this process last asked the TSA for an anchor token (``time.time()``); None: not yet known
    (read from the current block's anchor on first use, so a short-lived process does not ask again)."""

    asked_at: float | None = None


@dataclass(frozen=True)
class Anchor:
    key: str
    seq: int
    hash: str
    token: bytes | None  # the RFC 3161 timestamp token (DER ContentInfo), None: anchored without one

    @property
    def imprint(self) -> bytes:
        """The bytes the token timestamps (its message imprint is their SHA-256)."""
        return imprint(self.seq, self.hash)


def imprint(seq: int, digest: str) -> bytes:
    return f"{seq}:{digest}".encode()


def body(seq: int, digest: str, token: bytes | None) -> bytes:
    """An anchor's bytes; without a token, exactly the format anchors had before tokens."""
    fields: dict[str, object] = {"seq": seq, "hash": digest}
    if token is not None:
        fields["token"] = base64.b64encode(token).decode()
    return json.dumps(fields, sort_keys=True).encode()


def parse(key: str, data: bytes) -> Anchor:
    """An anchor from its bytes; ValueError/KeyError/TypeError when it is not one."""
    found = json.loads(data)
    token = found.get("token")
    return Anchor(key, int(found["seq"]), str(found["hash"]), base64.b64decode(token) if token else None)


def batched(services: Services) -> bool:
    """True when the seals carry no timestamp of their own (B-B): time comes from anchor tokens."""
    return services.settings.seal.level is SealLevel.B_B


def timestamper(services: Services) -> TimeStamper | None:
    """``DEMATFLOW_TSA_URL``, else the development TSA of a development seal; None: no TSA at hand."""
    if services.settings.tsa_url:
        from pyhanko.sign.timestamps import HTTPTimeStamper

        return HTTPTimeStamper(services.settings.tsa_url, timeout=STAMP_TIMEOUT_S)
    try:
        return services.context.seal_signer().dev_timestamper
    except ConfigError:
        return None


def token(stamper: TimeStamper, seq: int, digest: str) -> bytes | None:
    """A token over ``seq:digest``; None (with a warning) when the TSA fails, whatever the reason:
    the anchor is kept without it and the next one asks again."""
    try:
        found = asyncio.run(stamper.async_timestamp(hashlib.sha256(imprint(seq, digest)).digest(), "sha256"))
    except Exception as exc:  # unreachable, refused, a bad answer: never lose or block the document
        log.warning("anchor at journal seq %d kept without a timestamp: the TSA failed (%r)", seq, exc)
        return None
    return bytes(found.dump())


def due(services: Services, block_key: str) -> bool:
    """Whether this process should anchor (and stamp) the head now although its block is anchored:
    ``DEMATFLOW_STAMP_EVERY_S`` have passed since it last asked, or the block's anchor has no token."""
    clock = services.clock
    if clock.asked_at is None:
        clock.asked_at = _stamped_at(services.store, block_key)
    return time.time() - clock.asked_at >= services.settings.stamp_every_s


def _stamped_at(store: ObjectStore, key: str) -> float:
    try:
        found = parse(key, store.get(key))
    except (ValueError, KeyError, TypeError):
        return 0.0
    when = generated_at(found.token) if found.token is not None else None
    return when.timestamp() if when is not None else 0.0  # no token: ask at once (a retry)


def generated_at(token: bytes) -> datetime | None:
    """The TSA's time in a token; None when unreadable."""
    from asn1crypto import cms, tsp

    try:
        tst = cms.ContentInfo.load(token)["content"]["encap_content_info"]["content"].parsed
        return tst["gen_time"].native if isinstance(tst, tsp.TSTInfo) else None
    except (ValueError, KeyError, TypeError):
        return None


def problem(found: Anchor, written_at: str | None) -> str | None:
    """What is wrong with an anchor's token (None: intact, signed by its TSA, and not dated before
    ``written_at``, when the last row it covers was written). Trust in the TSA is the auditor's call."""
    from asn1crypto import cms
    from pyhanko.sign.validation.errors import SignatureValidationError
    from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
    from pyhanko_certvalidator import ValidationContext

    assert found.token is not None
    data = found.imprint
    try:
        signed = cms.ContentInfo.load(found.token)["content"]
        context = ValidationContext(trust_roots=[], allow_fetching=False)
        status = asyncio.run(
            validate_tst_signed_data(signed, context, lambda algo: hashlib.new(algo, data).digest())
        )
    except (ValueError, KeyError, TypeError, SignatureValidationError):
        return "the anchor's timestamp token is unreadable"
    if not status.get("intact"):
        return "the anchor's timestamp token is not over this anchor (seq:hash differs from its imprint)"
    if not status.get("valid"):
        return "the anchor's timestamp token: the TSA's signature is not valid"
    when = status.get("timestamp")
    if written_at and isinstance(when, datetime) and when < datetime.fromisoformat(written_at):
        return f"timestamped {when.isoformat()}, before the rows it covers were written"
    return None


def first_stamped(store: ObjectStore, seq: int) -> Anchor | None:
    """The first anchor with a token at or after journal row ``seq`` (what proves that row's time)."""
    best: Anchor | None = None
    for key in store.keys(ANCHORS):
        try:
            found = parse(key, store.get(key))
        except (ValueError, KeyError, TypeError):
            continue
        if found.token is not None and found.seq >= seq and (best is None or found.seq < best.seq):
            best = found
    return best
