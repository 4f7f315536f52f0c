"""Capture accuracy: synthetic documents at four quality levels plus the corpus, through `extract`.

Usage (from the repository root):
    .venv/bin/python -m benchmarks.capture_accuracy --n 10 --seed 1 --jobs 2
        [--levels digital,clean,office,hard] [--cli] [--no-corpus] [--json-out FILE] [--heldout]
Prints field accuracy per level and per field, doc-type accuracy, seconds per page, and the targets.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import resource
import subprocess
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from benchmarks import synth
from benchmarks.synth.corpus import Job, corpus_jobs

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"digital": 0.99, "clean": 0.97, "office": 0.93, "hard": 0.85}
DOC_TYPE_TARGET = 0.97


@dataclass(frozen=True)
class Outcome:
    job: Job
    doc_type: str
    fields: dict[str, str]
    wall: float
    cpu: float  # this process and its children (tesseract)
    error: str | None = None  # a crash while reading counts every field of the file as wrong


def run_job(job: Job, data_dir: str, use_cli: bool) -> Outcome:
    """`read_job`, with a crash recorded (and scored as a miss) rather than ending the run."""
    start = time.perf_counter()
    try:
        return read_job(job, data_dir, use_cli)
    except Exception as exc:  # a benchmark reports every failure, whatever its class
        return Outcome(job, "crash", {}, time.perf_counter() - start, 0.0, f"{type(exc).__name__}: {exc}")


def _cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def read_job(job: Job, data_dir: str, use_cli: bool) -> Outcome:
    """Read one file the way `dematflow extract --json` does (in-process, or through the CLI)."""
    start, cpu0 = time.perf_counter(), _cpu()
    if use_cli:
        env = {"PATH": os.environ.get("PATH", ""), "DEMATFLOW_DATA_DIR": data_dir, "DEMATFLOW_OCR_JOBS": "1"}
        done = subprocess.run(
            [str(ROOT / ".venv/bin/dematflow"), "extract", job.path, "--json"],
            capture_output=True,
            env=env,
            timeout=600,
            check=False,
        )
        answer = json.loads(done.stdout or b"{}")
        doc_type, fields = answer.get("doc_type", "other"), answer.get("fields", {})
    else:
        from pipeline.inspect import read_document
        from pipeline.settings import Settings

        settings = Settings.from_env({"DEMATFLOW_DATA_DIR": data_dir, "DEMATFLOW_OCR_JOBS": "1"})
        path = Path(job.path)
        doc = read_document(settings, filename=path.name, data=path.read_bytes(), until="extract")
        doc_type = doc.doc_type.value if doc.doc_type else "other"
        fields = dict(doc.fields)
    return Outcome(job, doc_type, fields, time.perf_counter() - start, _cpu() - cpu0)


def heldout_document(*, seed: int, index: int) -> synth.SynthDoc:
    """The ``index``-th held-out document: layouts in turn, one credit note in seven."""
    layout = sorted(synth.HELDOUT_LAYOUTS)[index % len(synth.HELDOUT_LAYOUTS)]
    return synth.heldout_doc(seed=f"{seed}-{index}", layout=layout, credit=index % 7 == 6)


def synthetic_jobs(work: Path, *, n: int, seed: int, levels: list[str], heldout: bool = False) -> list[Job]:
    """Write n documents per level (different documents per level) and describe them."""
    make = heldout_document if heldout else synth.document
    scanner = synth.scan_pages if heldout else synth.scan  # held-out layouts have a two-page one
    jobs = []
    for li, level in enumerate(levels):
        folder = work / level
        folder.mkdir(parents=True)
        for i in range(n):
            doc = make(seed=seed * 1000 + li, index=i)
            if level == "digital":
                data, ext, upside_down = doc.pdf, "pdf", False
            else:
                scanned = scanner(doc.pdf, level=level, rng=random.Random(f"{seed}:{level}:{i}"))
                data, ext, upside_down = scanned.data, scanned.extension, scanned.upside_down
            path = folder / f"{i:03d}-{doc.name}.{ext}"
            path.write_bytes(data)
            layout = doc.layout + ("/180°" if upside_down else "")
            jobs.append(Job(str(path), level, doc.doc_type, doc.expected, layout))
        (folder / "truth.json").write_text(
            json.dumps([asdict(j) for j in jobs if j.level == level], indent=1)
        )
    return jobs


def run_all(jobs: list[Job], *, data_dir: str, use_cli: bool, workers: int) -> tuple[list[Outcome], float]:
    start = time.perf_counter()
    # Documents are spread over the workers, so each reads its pages in-process (OCR_JOBS=1); the
    # workers come from a forkserver: a child forked while this pool's threads run could inherit a
    # held lock (a multi-page document once hung its own page pool that way).
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        outcomes = list(pool.map(run_job, jobs, [data_dir] * len(jobs), [use_cli] * len(jobs)))
    return outcomes, time.perf_counter() - start


def score(outcomes: list[Outcome]) -> dict[str, object]:
    """Field accuracy (exact match, missing = wrong), per field, doc-type accuracy, timings, failures."""
    per_field: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    per_layout: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    failures = []
    for o in outcomes:
        for key, want in o.job.expected.items():
            got = o.fields.get(key)
            per_field[key][0] += got == want
            per_field[key][1] += 1
            per_layout[o.job.layout][0] += got == want
            per_layout[o.job.layout][1] += 1
            if got != want:
                failures.append({"file": Path(o.job.path).name, "field": key, "expected": want, "got": got})
    right = sum(v[0] for v in per_field.values())
    total = sum(v[1] for v in per_field.values())
    typed = [o for o in outcomes if o.job.doc_type]
    type_misses = [
        {"file": Path(o.job.path).name, "expected": o.job.doc_type, "got": o.doc_type}
        for o in typed
        if o.doc_type != o.job.doc_type
    ]
    return {
        "documents": len(outcomes),
        "field_accuracy": right / total if total else None,
        "fields_scored": total,
        "per_field": {k: v[0] / v[1] for k, v in sorted(per_field.items())},
        "per_layout": {k: f"{v[0]}/{v[1]}" for k, v in sorted(per_layout.items())},
        "doc_type_accuracy": 1 - len(type_misses) / len(typed) if typed else None,
        "wall_per_page": sum(o.wall for o in outcomes) / max(1, len(outcomes)),
        "cpu_per_page": sum(o.cpu for o in outcomes) / max(1, len(outcomes)),
        "failures": failures,
        "crashes": [f"{Path(o.job.path).name}: {o.error}" for o in outcomes if o.error],
        "doc_type_failures": type_misses,
    }


def _pct(value: object) -> str:
    return f"{100 * float(value):6.1f}%" if isinstance(value, float) else "    n/a"


def report(results: dict[str, dict[str, object]], elapsed: dict[str, float], *, examples: int) -> None:
    print(
        f"{'level':<13}{'docs':>5}{'fields':>8}{'accuracy':>10}{'target':>8}{'doc type':>10}"
        f"{'wall s/page':>13}{'CPU s/page':>12}{'elapsed s':>11}"
    )
    for level, r in results.items():
        tuned = level.removesuffix("*")
        target = f"{100 * TARGETS[tuned]:.0f}%" if tuned in TARGETS else "-"
        print(
            f"{level:<13}{r['documents']:>5}{r['fields_scored']:>8}{_pct(r['field_accuracy']):>10}{target:>8}"
            f"{_pct(r['doc_type_accuracy']):>10}{float(str(r['wall_per_page'])):>13.2f}"
            f"{float(str(r['cpu_per_page'])):>12.2f}{elapsed[level]:>11.1f}"
        )
    print(f"doc-type target: {100 * DOC_TYPE_TARGET:.0f}%\n")
    keys = sorted({k for r in results.values() for k in r["per_field"]}, key=lambda k: int(k[3:]))  # type: ignore[attr-defined]
    print("per-field accuracy\n" + f"{'field':<8}" + "".join(f"{lvl:>13}" for lvl in results))
    for key in keys:
        row = "".join(f"{_pct(r['per_field'].get(key)):>13}" for r in results.values())  # type: ignore[attr-defined]
        print(f"{key:<8}{row}")
    print("\nfields right per layout (a '/180°' suffix: page scanned upside down)")
    for level, r in results.items():
        print(f"  {level}: " + ", ".join(f"{k} {v}" for k, v in r["per_layout"].items()))  # type: ignore[attr-defined]
    for level, r in results.items():
        for crash in r["crashes"][:examples]:  # type: ignore[index]
            print(f"  CRASH {level} {crash}")
        fails = r["failures"][:examples] + r["doc_type_failures"][:examples]  # type: ignore[index]
        if fails:
            print(f"\nexample failures ({level}):")
            for f in fails:
                print(
                    f"  {f['file']}: {f.get('field', 'doc_type')} expected {f['expected']!r} got {f['got']!r}"
                )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=20, help="documents per quality level")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--levels", default=",".join(synth.LEVELS))
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--cli", action="store_true", help="call .venv/bin/dematflow extract --json per file")
    parser.add_argument("--no-corpus", action="store_true", help="skip invoice2data and Mustang files")
    parser.add_argument("--examples", type=int, default=8, help="failures shown per level")
    parser.add_argument("--json-out", type=Path, help="write all figures and failures here")
    parser.add_argument(
        "--heldout",
        action="store_true",
        help="synthetic levels use the held-out layouts and wordings (invoices and credit notes only)",
    )
    args = parser.parse_args(argv)
    levels = [lvl for lvl in args.levels.split(",") if lvl]
    with tempfile.TemporaryDirectory(prefix="dematflow-accuracy-") as tmp:
        work = Path(tmp)
        jobs = synthetic_jobs(work / "docs", n=args.n, seed=args.seed, levels=levels, heldout=args.heldout)
        if not args.no_corpus:
            jobs += corpus_jobs()
        results: dict[str, dict[str, object]] = {}
        elapsed: dict[str, float] = {}
        for level in [*levels, "invoice2data", "mustang"]:
            batch = [j for j in jobs if j.level == level]
            if batch:
                # '*': held-out layouts, so the row is not read against the tuned figures
                key = f"{level}*" if args.heldout and level in levels else level
                outcomes, elapsed[key] = run_all(
                    batch, data_dir=str(work / "data"), use_cli=args.cli, workers=args.jobs
                )
                results[key] = score(outcomes)
    print(
        f"capture accuracy: n={args.n}/level seed={args.seed} jobs={args.jobs} "
        f"mode={'cli' if args.cli else 'in-process'}"
        + (f"\n* held-out layouts: {', '.join(sorted(synth.HELDOUT_LAYOUTS))}" if args.heldout else "")
        + "\n"
    )
    report(results, elapsed, examples=args.examples)
    if args.json_out:
        args.json_out.write_text(
            json.dumps(
                {"args": {k: str(v) for k, v in vars(args).items()}, "elapsed": elapsed, "results": results},
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
