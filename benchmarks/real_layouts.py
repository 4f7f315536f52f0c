"""Real-layout capture benchmark: the corpus's Factur-X/ZUGFeRD PDFs read without their XML.

Usage (from the repository root):
    nice -n 10 .venv/bin/python -m benchmarks.real_layouts [--readings text,scan,degraded] [--jobs 2]
        [--synth 4] [--levels digital,clean,office,hard] [--json-out FILE] [--misses 6]
Truth is the embedded XML (parsed by extractors.einvoice); each PDF is read three ways: `text`
(re-drawn by pdftocairo, text layer), `scan` (300-dpi grey pages, OCR) and `degraded` (the scan
skewed, noisy, JPEG q40). Captures are cached under ~/.cache/dematflow/real_layouts/. The
generator's held-out layouts and the invoice2data samples are read alongside for comparison.

The API another tool imports (a ranking model's training, for one):
    documents() -> list[RealDoc]; pages(doc, reading) -> list[PageText]; score(doc, found, threshold)
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from benchmarks.real import report, tables
from benchmarks.real.dataset import EXTRA, SCORED, RealDoc, documents, non_invoices, skipped, unprinted
from benchmarks.real.readings import READINGS, pages
from benchmarks.real.runs import Result, read_corpus, read_others, warm_cache
from benchmarks.real.scoring import RULE_BASED, FieldScore, Reader, Verdict, held_out_ranker, score

__all__ = ["READINGS", "FieldScore", "Reader", "RealDoc", "Verdict", "documents", "main", "pages", "score"]


def run(args: argparse.Namespace, reader: Reader = RULE_BASED) -> dict[str, object]:
    """Read, score and print everything; returns the figures written by --json-out."""
    from pipeline.settings import Settings

    threshold = Settings.from_env({}).review_threshold if args.threshold is None else args.threshold
    readings = [r for r in args.readings.split(",") if r]
    docs, others = documents(), non_invoices()
    start = time.perf_counter()
    warm_cache([*docs, *others], readings, jobs=args.jobs)
    corpus = read_corpus(docs, readings, reader, threshold=threshold, held_out=False)
    typed = corpus + read_corpus(others, readings, reader, threshold=threshold, held_out=False)
    loso = (
        corpus
        if not reader.trained
        else read_corpus(docs, readings, reader, threshold=threshold, held_out=True)
    )
    with tempfile.TemporaryDirectory(prefix="dematflow-real-") as tmp:
        levels = [lv for lv in args.levels.split(",") if lv]
        compared = read_others(
            n=args.synth, seed=args.seed, levels=levels, threshold=threshold, jobs=args.jobs, work=Path(tmp)
        )
    elapsed = time.perf_counter() - start
    everything = corpus + compared
    cols = report.columns(everything)
    _print(args, reader, threshold, readings, corpus, compared, typed, loso, cols, elapsed)
    return {
        "args": {k: str(v) for k, v in vars(args).items()},
        "reader": reader.name,
        "provenance": reader.provenance,
        "threshold": threshold,
        "elapsed_s": round(elapsed, 1),
        "skipped": [{"file": str(s.path), "reason": s.reason} for s in skipped()],
        "not_printed": {str(p): list(terms) for p, terms in unprinted().items()},
        "groups": {
            k: {
                "docs": len(rs),
                "layouts": len({r.layout for r in rs}),
                "scored": tables.stats(rs, SCORED).as_dict(),
                "layout_mean_accuracy": tables.layout_mean(rs, SCORED),
                "per_field": {t: s.as_dict() for t, s in tables.by_field(rs, (*SCORED, *EXTRA)).items()},
                "reliability": tables.reliability(rs, SCORED),
                "doc_type_accuracy": tables.doc_type_accuracy(rs)[0],
            }
            for k, rs in cols.items()
        },
        "per_layout": {
            layout: {reading: s.as_dict() for reading, s in row.items()}
            for layout, row in tables.per_layout(corpus, SCORED).items()
        },
        "leave_one_source_out": {
            f"{source} {reading}": {
                **tables.stats([r for r in rs if r.reading == reading], SCORED).as_dict(),
                "held_out": reader.trained,
            }
            for source, rs in tables.group(loso, lambda r: r.source).items()
            for reading in readings
        },
        "files": [{**asdict(r), "scores": {t: asdict(s) for t, s in r.scores.items()}} for r in everything],
        "misses": tables.misses(everything, (*SCORED, *EXTRA)),
    }


def _print(
    args: argparse.Namespace,
    reader: Reader,
    threshold: float,
    readings: list[str],
    corpus: list[Result],
    compared: list[Result],
    typed: list[Result],
    loso: list[Result],
    cols: dict[str, list[Result]],
    elapsed: float,
) -> None:
    print(
        f"real-layout capture benchmark: reader={reader.name} review_threshold={threshold:.2f} "
        f"readings={','.join(readings)} synth={args.synth}/level (held-out layouts) seed={args.seed} "
        f"elapsed={elapsed:.0f}s"
    )
    print(f"reader: {reader.provenance}\n")
    report.skipped(skipped())
    report.unprinted(unprinted())
    print(f"\n== summary over the scored fields {', '.join(SCORED)} ==")
    report.summary(cols, threshold)
    for reading in readings:
        keys = [
            k for k in cols if k.endswith(f" {reading}") and not k.startswith(("generator", "invoice2data-"))
        ]
        print(f"\n== per field, reading '{reading}' ==")
        report.per_field(cols, keys, (*SCORED, *EXTRA))
    keys = [k for k in cols if k.startswith(("generator", "invoice2data-"))]
    if keys:
        print("\n== per field, generator (held-out layouts) and invoice2data samples ==")
        report.per_field(cols, keys, (*SCORED, *EXTRA))
    print("\n== per layout: share of the scored fields right ==")
    report.layouts(corpus, readings)
    print(f"\n== misses of the first file of each layout ('!': wrong with confidence ≥ {threshold:.2f}) ==")
    report.miss_table(corpus, per_layout=args.misses)
    print("\n== reliability: values found per confidence bucket, and the share right ==")
    report.reliability(cols, [k for k in cols if k.startswith("corpus ")] + keys[:4])
    print("\n== leave one source out ==")
    report.held_out(loso, reader, readings)
    print("\n== doc type (corpus: from the XML type code; Order-X labelled not an invoice) ==")
    report.doc_types(typed + compared)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--readings", default=",".join(READINGS))
    parser.add_argument("--jobs", type=int, default=2, help="processes for capture (OCR) and synthetic reads")
    parser.add_argument("--synth", type=int, default=4, help="generator documents per level (0: none)")
    parser.add_argument("--levels", default="digital,clean,office,hard", help="generator levels")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threshold", type=float, help="review threshold (default: the pipeline setting)")
    parser.add_argument("--misses", type=int, default=6, help="misses shown per layout")
    parser.add_argument("--json-out", type=Path, help="write all figures, files and misses here")
    parser.add_argument(
        "--reader", choices=("ranker", "rules"), default="ranker",
        help="ranker: the shipped model, and per source one trained without it; rules: hand-set confidences",
    )  # fmt: skip
    args = parser.parse_args(argv)
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # the corpus has odd xref tables; pypdf copes
    figures = run(args, held_out_ranker() if args.reader == "ranker" else RULE_BASED)
    if args.json_out:
        args.json_out.write_text(json.dumps(figures, indent=1, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
