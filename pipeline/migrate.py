"""Move an archive to another store (the filesystem archive to S3), checking every hash; resumable."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from pipeline import retention
from pipeline.context import Services
from pipeline.records import Document, Event
from storage import keys
from storage.base import ObjectStore, sha256_hex


@dataclass
class Migration:
    copied: int = 0
    skipped: int = 0  # already in the target with the same sha256 (an earlier, interrupted run)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def migrate(
    services: Services, target: ObjectStore, *, progress: Callable[[int, int], None] | None = None
) -> Migration:
    """Copy every object of ``services.store`` into ``target`` with the retention its role and class
    call for. The source bytes must match the fingerprint the catalogue recorded; each copy is read
    back from the target and re-hashed. The run is journalled; the source is left as it was."""
    result = Migration()
    recorded = {row.obj.key: (row.obj.sha256, row.document_id) for row in services.catalogue.objects()}
    docs: dict[str, Document] = {}
    todo = list(services.store.keys())
    for done, key in enumerate(todo, 1):
        data = services.store.get(key)
        digest = sha256_hex(data)
        expected, document_id = recorded.get(key, (digest, None))
        if digest != expected:
            result.problems.append(f"{key}: the source differs from its recorded sha256, not copied")
        elif target.exists(key) and target.stat(key).sha256 == digest:
            result.skipped += 1
        else:
            if document_id is not None and document_id not in docs:
                docs[document_id] = services.catalogue.get(document_id)
            until, kind = _retention(services, docs.get(document_id or ""), key)
            target.put(key, data, retain_until=until, content_type=kind)
            if sha256_hex(target.get(key)) != digest:
                result.problems.append(f"{key}: read back from the target with another sha256")
            else:
                result.copied += 1
        if progress is not None:
            progress(done, len(todo))
    detail = {"from": services.store.describe(), "to": target.describe(), "copied": result.copied,
              "skipped": result.skipped, "problems": result.problems[:50]}  # fmt: skip
    services.catalogue.record(Event("archive", "migrated", None, detail=detail))
    return result


def _retention(services: Services, doc: Document | None, key: str) -> tuple[datetime, str]:
    try:
        kind = keys.content_type(key)
    except ValueError:  # not a key dematflow builds: keep it, as long as anything
        return retention.longest(services.settings.retention), "application/octet-stream"
    return retention.until(services.settings.retention, doc, key), kind
