"""Real-layout capture benchmark: corpus PDFs with embedded e-invoices, read without their XML."""

from benchmarks.real.dataset import EXTRA, SCORED, SOURCES, RealDoc, Skipped, documents, skipped
from benchmarks.real.readings import READINGS, capture, pages, rendered
from benchmarks.real.scoring import RULE_BASED, FieldScore, Reader, Verdict, score

__all__ = [
    "EXTRA",
    "READINGS",
    "RULE_BASED",
    "SCORED",
    "SOURCES",
    "FieldScore",
    "Reader",
    "RealDoc",
    "Skipped",
    "Verdict",
    "capture",
    "documents",
    "pages",
    "rendered",
    "score",
    "skipped",
]
