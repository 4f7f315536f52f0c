"""The kept seals validated against the configured trust roots (DEMATFLOW_SEAL_TRUST_ROOTS, by default the
roots of our seal chain): one document's, for the pages that show it, or every one, for ``audit verify
--signatures``. Each gives a ``SealReport`` with its bottom line; what could not run is « not verified »."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dematflow.errors import ConfigError, DematflowError, NotFound
from pipeline.batches import SEPARATED
from pipeline.catalogue import Query
from pipeline.records import Document, Status
from signing.seal_status import BottomLine, SealReport

if TYPE_CHECKING:
    from asn1crypto import x509

    from pipeline.context import Services

log = logging.getLogger(__name__)
PAGE = 200
UNSEALED = (Status.RECEIVED, Status.QUARANTINED)  # no seal is owed yet, or ever


@dataclass(frozen=True)
class TrustRoots:
    roots: tuple[x509.Certificate, ...]
    others: tuple[x509.Certificate, ...] = ()  # our seal certificate and chain, to build paths with


@dataclass(frozen=True)
class KeptSeal:
    document_id: str
    key: str  # the sealed object's key ("" when it is missing from the record)
    report: SealReport


@dataclass
class SealAudit:
    seals: list[KeptSeal] = field(default_factory=list)

    @property
    def counts(self) -> Counter[BottomLine]:
        return Counter(s.report.bottom_line for s in self.seals)

    @property
    def failed(self) -> list[KeptSeal]:
        """Seals with a problem, or not verified: never counted as fine."""
        return [s for s in self.seals if not s.report.ok]

    @property
    def ok(self) -> bool:
        return not self.failed


def trust_roots(services: Services) -> TrustRoots:
    """The configured roots, else our seal chain's self-signed certificates; ConfigError if unreadable."""
    ours = services.context.seal_certificates()
    others = () if ours is None else (ours.certificate, *ours.chain, *((ours.tsa,) if ours.tsa else ()))
    configured = services.settings.seal_trust_roots
    if configured:
        from signing import softkey

        return TrustRoots(softkey.load_certificates(configured), others)
    return TrustRoots(tuple(c for c in ours.chain if c.self_signed) if ours else (), others)


def check(services: Services, doc: Document, trust: TrustRoots | None = None) -> KeptSeal | None:
    """The seal of ``doc``'s kept copy; None when it has none and is owed none (received, quarantined)."""
    obj = doc.objects.get("sealed")
    if obj is None:
        if doc.status in UNSEALED or doc.reason_code == SEPARATED:  # a batch: its documents are sealed
            return None
        return KeptSeal(doc.id, "", SealReport.broken("PAdES", "seal_missing"))
    form = "CAdES" if obj.key.endswith(".p7s") else "PAdES"
    try:
        trust = trust or trust_roots(services)
    except ConfigError as exc:
        log.warning("trust roots unreadable: %s", exc.message)
        return KeptSeal(doc.id, obj.key, SealReport.not_verified(form, "trust_roots_unreadable"))
    return KeptSeal(doc.id, obj.key, _report(services, doc, obj.key, form, trust))


def _report(services: Services, doc: Document, key: str, form: str, trust: TrustRoots) -> SealReport:
    try:
        sealed = services.store.get(key)
        original = services.store.get(doc.objects["original"].key) if form == "CAdES" else b""
    except NotFound:
        return SealReport.broken(form, "missing")
    except KeyError:
        return SealReport.broken(form, "original_missing")
    except DematflowError as exc:  # the archive does not answer: nothing was validated
        log.warning("seal of %s not verified: %s", doc.id, exc.message)
        return SealReport.not_verified(form, "archive_unavailable")
    try:
        from signing import seal_status  # pyHanko, only once a seal is checked
    except ImportError:
        return SealReport.not_verified(form, "tool_unavailable")
    if form == "CAdES":
        return seal_status.check_detached(original, sealed, trust_roots=trust.roots, other_certs=trust.others)
    return seal_status.check_pdf(sealed, trust_roots=trust.roots, other_certs=trust.others)


def walk(services: Services, *, progress: Callable[[int, int], None] | None = None) -> SealAudit:
    """Validate every kept seal, oldest document first (``progress(done, total)`` after each)."""
    total = sum(services.catalogue.count().values())
    trust: TrustRoots | None
    try:
        trust = trust_roots(services)
    except ConfigError:
        trust = None  # check() then says « not verified » for each
    result = SealAudit()
    for n, doc in enumerate(_documents(services), start=1):
        kept = check(services, doc, trust)
        if kept is not None:
            result.seals.append(kept)
        if progress is not None:
            progress(n, total)
    return result


def _documents(services: Services) -> Iterator[Document]:
    after: tuple[str, str] | None = None
    while True:
        page = services.catalogue.list(limit=PAGE, query=Query(after=after))
        yield from page
        if len(page) < PAGE:
            return
        after = (page[-1].received_at, page[-1].id)
