"""Records that cross modules: the document as it moves through the stages, and journal events."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from extractors.results import DocType, Source
from extractors.sniff import FileKind
from signing.incoming import SignatureReport
from storage.base import StoredObject
from validators.report import Finding

STAGES = ("ingest", "classify", "extract", "validate", "seal", "archive")
BUYER_TENANT = "org"  # the buyer organisation: documents from the hot folder and the CLI belong to it


class Status(StrEnum):
    RECEIVED = "received"  # in the pipeline
    ARCHIVED = "archived"  # sealed and archived, nothing in doubt
    NEEDS_REVIEW = "needs_review"  # archived, but a person must check fields or findings
    REJECTED = "rejected"  # archived as evidence; the e-invoice does not conform
    QUARANTINED = "quarantined"  # could not be processed; original kept with the reason

    @property
    def final(self) -> bool:
        return self is not Status.RECEIVED


def utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class Document:
    """Everything dematflow knows about one received document; fields use EN 16931 terms."""

    id: str
    sha256: str
    filename: str
    size: int
    received_at: str
    status: Status = Status.RECEIVED
    stage: str = "ingest"  # last stage completed
    reason: str | None = None
    reason_code: str | None = None  # the lifecycle reason (IRR_*, REJ_*, DOUBLON...) behind ``reason``
    tenant: str = BUYER_TENANT  # who the document belongs to: a supplier's tenant, or the buyer's
    owner: str | None = None  # the account that deposited it (None: the CLI or the hot folder)
    meta: dict[str, str] = field(default_factory=dict)  # what the depositor said: BT-13, reference, comment
    kind: FileKind | None = None
    pages: int | None = None
    doc_type: DocType | None = None
    source: Source | None = None
    fields: dict[str, str] = field(default_factory=dict)
    confidence: dict[str, float] = field(default_factory=dict)
    findings: tuple[Finding, ...] = ()
    checked: tuple[str, ...] = ()
    not_checked: tuple[str, ...] = ()
    einvoice: dict[str, str | None] = field(default_factory=dict)  # syntax, flavor, profile
    rule_files: dict[str, str] = field(default_factory=dict)  # sha256 of each XSD/XSLT the verdict used
    review: tuple[str, ...] = ()  # fields or rules a person must look at
    signatures: tuple[SignatureReport, ...] = ()  # the signatures the deposited PDF already carried
    objects: dict[str, StoredObject] = field(default_factory=dict)  # role -> object

    def evolve(self, **changes: Any) -> Document:
        return dataclasses.replace(self, **changes)

    def with_object(self, role: str, obj: StoredObject) -> Document:
        return self.evolve(objects={**self.objects, role: obj})

    def to_json(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["status"] = self.status.value
        d["kind"] = self.kind.value if self.kind else None
        d["doc_type"] = self.doc_type.value if self.doc_type else None
        d["source"] = self.source.value if self.source else None
        d["findings"] = [f.to_json() for f in self.findings]
        d["signatures"] = [s.to_json() for s in self.signatures]
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Document:
        d = dict(d)
        d["status"] = Status(d["status"])
        d["kind"] = FileKind(d["kind"]) if d.get("kind") else None
        d["doc_type"] = DocType(d["doc_type"]) if d.get("doc_type") else None
        d["source"] = Source(d["source"]) if d.get("source") else None
        d["findings"] = tuple(Finding.from_json(f) for f in d.get("findings", ()))
        d["checked"] = tuple(d.get("checked", ()))
        d["not_checked"] = tuple(d.get("not_checked", ()))
        d["review"] = tuple(d.get("review", ()))
        d["signatures"] = tuple(SignatureReport.from_json(s) for s in d.get("signatures", ()))
        d["objects"] = {k: StoredObject(**v) for k, v in d.get("objects", {}).items()}
        return cls(**d)


@dataclass(frozen=True)
class Event:
    """One journal entry as a stage describes it; the journal adds sequence, time and chain hashes."""

    stage: str
    action: str
    document_id: str | None = None
    inputs: dict[str, str] = field(default_factory=dict)  # name or key -> sha256
    outputs: dict[str, str] = field(default_factory=dict)  # archived key -> sha256
    tools: dict[str, str] = field(default_factory=dict)  # tool -> version
    detail: dict[str, Any] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        return {
            "inputs": self.inputs,
            "outputs": self.outputs,
            "tools": self.tools,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class StageResult:
    """What a stage returns: the new state of the document and the event that records the change."""

    document: Document
    event: Event
