"""Split and merge at the review desk: a scan that held two documents, or one document in two scans.

The originals are never changed. Each new document is a PDF derived from their pages (pikepdf copies
the page objects as they are, nothing is re-rendered or re-compressed), received like any deposit, of
the same tenant and depositor, and processed from the start. Provenance is journalled both ways: each
new document's ``derive/split`` or ``derive/merged`` event names its sources' originals (hash) and
pages; each source's ``review/split`` or ``review/merged`` event names the new documents and takes it
out of the queue (``archived``: it stays in the archive as received, with its seal).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath

from builders import pages
from dematflow.errors import InvalidRequest, InvalidTransition
from pipeline import batches, review_decide, review_locks
from pipeline.accounts import Account
from pipeline.context import Services, versions
from pipeline.intake import Receipt, receive
from pipeline.records import Document, Event, Status

log = logging.getLogger(__name__)

MAX_PARTS = 50
MAX_SOURCES = 10


@dataclass(frozen=True)
class Derived:
    """What a split or a merge made: the new documents, to be processed like deposits."""

    receipts: tuple[Receipt, ...]
    sources: tuple[str, ...]


def split(
    services: Services, account: Account, document_id: str, parts: Sequence[Sequence[int]], version: int
) -> Derived:
    """One new document per part (pages numbered from 1, in the order given); pages in no part are
    left out (separator sheets). The caller must hold the claim; ``version`` is the stale-edit check."""
    doc = _waiting(services, account, document_id, version)
    pdf = batches.pdf_of(services, doc)
    count = pages.count(pdf)
    _check_parts(parts, count)
    children = [(p.receipt, p.pages, p.filename) for p in batches.derive(services, doc, pdf, parts)]
    who = _who(account)
    left_out = sorted(set(range(1, count + 1)) - {p for part in parts for p in part})
    detail = {
        **who,
        "parts": [{"document_id": r.document_id, "pages": list(p), "filename": n} for r, p, n in children],
        "left_out": left_out,
        "status": {"before": doc.status.value, "after": Status.ARCHIVED.value},
    }
    reason = f"découpé en {len(children)} documents à la revue"
    _close(services, account, doc, version, Event("review", "split", doc.id, detail=detail), reason)
    for receipt, part, _ in children:
        inputs = {doc.objects["original"].key: doc.sha256}
        child = {**who, "from": doc.id, "pages": list(part)}
        tools = versions("pikepdf")
        services.catalogue.record(Event("derive", "split", receipt.document_id, inputs, {}, tools, child))
    log.info("review: %s split %s into %d document(s)", account.name, doc.id, len(children))
    return Derived(tuple(r for r, _, _ in children), (doc.id,))


def merge(services: Services, account: Account, document_ids: Sequence[str], seen: Sequence[int]) -> Derived:
    """One new document of every page of the sources, in the order given. The caller holds each
    source's claim; ``seen`` are their versions as the agent saw them, in the same order."""
    if not 2 <= len(document_ids) <= MAX_SOURCES or len(set(document_ids)) != len(document_ids):
        raise InvalidRequest(f"fusionnez de 2 à {MAX_SOURCES} documents distincts")
    if len(seen) != len(document_ids):
        raise InvalidRequest("donnez la version de chaque document fusionné")
    docs = [_waiting(services, account, d, v) for d, v in zip(document_ids, seen, strict=True)]
    if len({(d.tenant, d.owner) for d in docs}) != 1:
        raise InvalidRequest("seuls des documents d'un même déposant se fusionnent")
    pdfs = [batches.pdf_of(services, d) for d in docs]
    data = pages.select([(pdf, list(range(1, pages.count(pdf) + 1))) for pdf in pdfs])
    first = docs[0]
    name = f"{PurePath(first.filename).stem}-fusion.pdf"
    receipt = receive(services, filename=name, data=data, tenant=first.tenant, owner=first.owner,
                      meta={"derived_from": ",".join(d.id for d in docs)})  # fmt: skip
    who = _who(account)
    for doc, version in zip(docs, seen, strict=True):
        detail = {**who, "into": receipt.document_id, "with": [d.id for d in docs if d is not doc],
                  "status": {"before": doc.status.value, "after": Status.ARCHIVED.value}}  # fmt: skip
        event = Event("review", "merged", doc.id, detail=detail)
        _close(services, account, doc, version, event, f"fusionné dans {receipt.document_id} à la revue")
    inputs = {d.objects["original"].key: d.sha256 for d in docs}
    detail = {**who, "from": [d.id for d in docs]}
    tools = versions("pikepdf")
    services.catalogue.record(Event("derive", "merged", receipt.document_id, inputs, {}, tools, detail))
    log.info("review: %s merged %s into %s", account.name, ", ".join(document_ids), receipt.document_id)
    return Derived((receipt,), tuple(d.id for d in docs))


def _waiting(services: Services, account: Account, document_id: str, version: int) -> Document:
    """The document, if it awaits review, the caller holds its claim and it is as the caller saw it
    (checked again when it is closed, in the same transaction as its event)."""
    doc = services.catalogue.get(document_id)
    if doc.status is not Status.NEEDS_REVIEW:
        raise InvalidTransition("ce document n'attend plus de décision : il ne se découpe ni ne se fusionne")
    with services.catalogue.engine.connect() as conn:
        review_decide.check(conn, doc.id, account, version)
    return doc


def _check_parts(parts: Sequence[Sequence[int]], count: int) -> None:
    if not 1 <= len(parts) <= MAX_PARTS or any(not part for part in parts):
        raise InvalidRequest(f"indiquez de 1 à {MAX_PARTS} parties, chacune d'au moins une page")
    pages = [p for part in parts for p in part]
    if any(not 1 <= p <= count for p in pages):
        raise InvalidRequest(f"le document a {count} page(s) : les pages vont de 1 à {count}")
    if len(set(pages)) != len(pages):
        raise InvalidRequest("une page ne peut aller que dans une seule partie")
    if len(parts) == 1 and len(pages) == count:
        raise InvalidRequest("une seule partie avec toutes les pages : rien à découper")


def _who(account: Account) -> dict[str, str]:
    return {"account": account.id, "name": account.name, "role": account.role.value}


def _close(
    services: Services, account: Account, doc: Document, version: int, event: Event, reason: str
) -> None:
    """The source leaves the queue, archived as received; its claim and version are checked in the
    same transaction as the event (a change by someone else since the page was opened is refused)."""
    review_decide.commit(services, account, doc.evolve(status=Status.ARCHIVED, reason=reason), event, version)
    review_locks.release(services.catalogue.engine, doc.id, account)
