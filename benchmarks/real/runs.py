"""Read documents (corpus readings, generator levels, invoice2data samples) into scored results."""

from __future__ import annotations

import logging
import multiprocessing
import sys
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from benchmarks.real.dataset import RealDoc
from benchmarks.real.readings import pages
from benchmarks.real.scoring import FieldScore, Reader, score, score_truth
from extractors.results import PageText

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Result:
    """One document read one way, scored."""

    file: str
    source: str  # corpus top folder, "generator" or "invoice2data"
    layout: str
    reading: str  # text/scan/degraded; a generator level; pdf/png for invoice2data
    scores: dict[str, FieldScore]
    doc_type: str  # as classified from the captured text
    expected_doc_type: str | None  # None: not labelled
    held_out: bool = False  # read with the source left out of the reader's training


def _warm(doc: RealDoc, reading: str) -> int:
    return len(pages(doc, reading))


def warm_cache(docs: Sequence[RealDoc], readings: Sequence[str], *, jobs: int) -> None:
    """Capture every (document, reading) not cached yet, over ``jobs`` processes, with a progress line."""
    work = [(d, r) for r in readings for d in docs]
    context = multiprocessing.get_context("forkserver")  # see benchmarks.capture_accuracy.run_all
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        done = pool.map(_warm, [d for d, _ in work], [r for _, r in work])
        for i, _ in enumerate(done, start=1):
            print(f"\rcapture {i}/{len(work)} ({work[i - 1][1]})", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)


def expected_type(doc: RealDoc) -> str:
    """The class the pipeline should give ``doc``: its XML type code says invoice or credit note."""
    if not doc.truth:
        return "other"
    return "credit_note" if doc.truth.get("BT-3") == "381" else "invoice"


def doc_type_of(captured: Sequence[PageText]) -> str:
    from extractors.classify import classify

    return classify("\n\n".join(p.text for p in captured))[0].value


def read_corpus(
    docs: Iterable[RealDoc], readings: Sequence[str], reader: Reader, *, threshold: float, held_out: bool
) -> list[Result]:
    """Each document in each reading through ``reader`` (from the cache); ``held_out``: each
    document is read with its own source excluded from the reader's training."""
    out = []
    for reading in readings:
        for doc in docs:
            captured = pages(doc, reading)
            found = reader.read(captured, exclude_source=doc.source if held_out else None)
            out.append(
                Result(
                    doc.path.name,
                    doc.source,
                    doc.layout,
                    reading,
                    score(doc, found, threshold),
                    doc_type_of(captured),
                    expected_type(doc),
                    held_out and reader.trained,
                )
            )
    return out


def read_others(
    *, n: int, seed: int, levels: Sequence[str], threshold: float, jobs: int, work: Path
) -> list[Result]:
    """The generator's held-out layouts at ``levels`` (n each) and the invoice2data samples, read
    by `read_document` like `benchmarks.capture_accuracy`, confidences kept."""
    from benchmarks.capture_accuracy import synthetic_jobs
    from benchmarks.synth.corpus import corpus_jobs

    jobs_ = synthetic_jobs(work / "docs", n=n, seed=seed, levels=list(levels), heldout=True) if n else []
    jobs_ += [j for j in corpus_jobs() if j.level == "invoice2data"]
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        answers = list(pool.map(_read_job, [j.path for j in jobs_], [str(work / "data")] * len(jobs_)))
    out = []
    for job, (doc_type, fields, confidence) in zip(jobs_, answers, strict=True):
        from extractors.results import FieldSet

        found = FieldSet(fields, confidence)
        source = "invoice2data-samples" if job.level == "invoice2data" else "generator"
        reading = job.layout.split("/")[-1] if job.level == "invoice2data" else job.level
        out.append(
            Result(
                Path(job.path).name,
                source,
                job.layout,
                reading,
                score_truth(job.expected, found, threshold),
                doc_type,
                job.doc_type,
            )
        )
    return out


def _read_job(path: str, data_dir: str) -> tuple[str, dict[str, str], dict[str, float]]:
    """`benchmarks.capture_accuracy.read_job` in-process, keeping the confidences it drops."""
    from pipeline.inspect import read_document
    from pipeline.settings import Settings

    settings = Settings.from_env({"DEMATFLOW_DATA_DIR": data_dir, "DEMATFLOW_OCR_JOBS": "1"})
    try:
        doc = read_document(settings, filename=Path(path).name, data=Path(path).read_bytes(), until="extract")
    except Exception as exc:  # a benchmark scores a crash as every field absent, and goes on
        log.warning("%s: %s: %s", Path(path).name, type(exc).__name__, exc)
        return "crash", {}, {}
    return (doc.doc_type.value if doc.doc_type else "other"), dict(doc.fields), dict(doc.confidence)
