"""Archive: the extracted data and the validation report join the original and its seal; verdict."""

from __future__ import annotations

import json
from typing import Any

from pipeline import retention
from pipeline.context import Context
from pipeline.records import Document, Event, StageResult, Status
from pipeline.replay import fields_digest
from pipeline.stages.extract import INVOICES
from pipeline.stages.validate import SUSPECT
from storage import keys
from validators import business, signatures
from validators.report import BLOCKING, Severity

# checks beyond the standard, and the supplier's own signatures: their warnings go to review
REVIEWED = business.RULES | {SUSPECT} | signatures.RULES


def archive(ctx: Context, doc: Document) -> StageResult:
    status, reason = verdict(doc)
    data = {
        "document_id": doc.id,
        "filename": doc.filename,
        "sha256": doc.sha256,
        "doc_type": doc.doc_type.value if doc.doc_type else None,
        "source": doc.source.value if doc.source else None,
        "fields": doc.fields,
        "confidence": doc.confidence,
        "einvoice": doc.einvoice,
        "review": list(doc.review),
    }
    report = {
        "document_id": doc.id,
        "status": status.value,
        "reason": reason,
        "checked": list(doc.checked),
        "not_checked": list(doc.not_checked),
        "findings": [f.to_json() for f in doc.findings],
        "rule_files": doc.rule_files,  # sha256 of every XSD/XSLT (and code list) the verdict rests on
        "signatures": [s.to_json() for s in doc.signatures],  # those the deposited PDF carried
    }
    stored = {
        "data": retention.keep(ctx, doc, keys.data(doc.id), _json(data)),
        "report": retention.keep(ctx, doc, keys.report(doc.id), _json(report)),
    }
    for role, obj in stored.items():
        doc = doc.with_object(role, obj)
    event = Event(
        "archive",
        "archived",
        doc.id,
        outputs={o.key: o.sha256 for o in stored.values()},
        detail={
            "status": status.value,
            "reason": reason,
            "fields_sha256": fields_digest(doc.fields),  # audit verify compares the catalogue with it
            "objects": {r: o.key for r, o in sorted(doc.objects.items())},
        },
    )
    return StageResult(doc.evolve(status=status, reason=reason, stage="archive"), event)


def verdict(doc: Document) -> tuple[Status, str | None]:
    """Archived, needs_review or rejected, with a reason a person understands. An e-invoice is rejected
    for non-conformance only; warnings of the checks beyond the standard send it to the buyer's review
    (a schematron's or the PDF checks' own warnings, "should" rules of the standard, are only reported);
    a broken, modified or unreadable signature of the supplier sends any document to review."""
    blocking = sorted({f.rule for f in doc.findings if f.severity in BLOCKING})
    warnings = sorted({f.rule for f in doc.findings if f.severity is Severity.WARNING and f.rule in REVIEWED})
    if doc.einvoice:
        if blocking:
            return Status.REJECTED, f"the e-invoice does not conform: {', '.join(blocking)}"
        if doc.not_checked:
            return Status.NEEDS_REVIEW, f"not validated: {', '.join(doc.not_checked)} could not run"
        if warnings:
            return Status.NEEDS_REVIEW, f"conforms, but check: {', '.join(warnings)}"
        return Status.ARCHIVED, None
    if doc.doc_type in INVOICES and blocking:  # a duplicate, active content: as the lifecycle says (213)
        return Status.REJECTED, f"the invoice cannot be accepted: {', '.join(blocking)}"
    broken = [w for w in warnings if w in signatures.RULES]  # a broken signature, on any document
    doubts = [*doc.review, *warnings] if doc.doc_type in INVOICES else [*blocking, *broken]
    if doubts:
        return Status.NEEDS_REVIEW, f"check: {', '.join(doubts)}"
    return Status.ARCHIVED, None


def _json(value: dict[str, Any]) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, indent=1).encode()
