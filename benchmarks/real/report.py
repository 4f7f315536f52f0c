"""Print the real-layout figures: summary, per field, per layout, misses, reliability, held-out."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from benchmarks.real import tables
from benchmarks.real.dataset import SCORED, Skipped
from benchmarks.real.runs import Result
from benchmarks.real.scoring import Reader, held_out_note
from benchmarks.real.tables import Stats


def _pct(x: float | None) -> str:
    return "  n/a" if x is None else f"{100 * x:5.1f}"


def _cell(s: Stats) -> str:
    """right% / absent% / confidently-wrong%, or '-' when no document had the field."""
    if not s.n:
        return "-"
    return f"{100 * s.right / s.n:3.0f}/{100 * s.absent / s.n:3.0f}/{100 * s.confidently_wrong / s.n:3.0f}"


def columns(results: Sequence[Result]) -> dict[str, list[Result]]:
    """Report columns: per reading, all corpus sources then each; the generator and invoice2data."""
    out: dict[str, list[Result]] = {}
    corpus = [r for r in results if r.source not in ("generator", "invoice2data-samples")]
    for reading, rs in tables.group(corpus, lambda r: r.reading).items():
        out[f"corpus {reading}"] = rs
        for source, items in sorted(tables.group(rs, lambda r: r.source).items()):
            out[f"{source} {reading}"] = items
    others = [r for r in results if r.source in ("generator", "invoice2data-samples")]
    for key, rs in tables.group(others, lambda r: f"{r.source} {r.reading}").items():
        out[key] = rs
    return out


def summary(cols: dict[str, list[Result]], threshold: float) -> None:
    print(
        f"{'group':<32}{'docs':>5}{'fields':>7}{'right%':>8}{'absent%':>8}{f'wrong≥{threshold:.2f}%':>12}"
        f"{'layouts':>8}{'layout-mean%':>13}{'doc type%':>10}"
    )
    for key, rs in cols.items():
        s = tables.stats(rs, SCORED)
        acc, _, _ = tables.doc_type_accuracy(rs)
        layouts = len({r.layout for r in rs})
        print(
            f"{key:<32}{len(rs):>5}{s.n:>7}{_pct(s.accuracy):>8}{_pct(s.absent / s.n if s.n else None):>8}"
            f"{_pct(s.confidently_wrong / s.n if s.n else None):>12}{layouts:>8}"
            f"{_pct(tables.layout_mean(rs, SCORED)):>13}{_pct(acc):>10}"
        )


def per_field(cols: dict[str, list[Result]], keys: Sequence[str], terms: Sequence[str]) -> None:
    print("cell = right% / absent% / wrong-with-confidence-above-threshold%")
    width = max(14, *(len(k) + 2 for k in keys))
    print(f"{'field':<8}" + "".join(f"{k:>{width}}" for k in keys))
    for term in terms:
        print(f"{term:<8}" + "".join(f"{_cell(tables.stats(cols[k], (term,))):>{width}}" for k in keys))


def layouts(results: Sequence[Result], readings: Sequence[str]) -> None:
    print(f"{'layout':<48}{'files':>6}" + "".join(f"{r:>10}" for r in readings) + "   source")
    per = tables.per_layout(results, SCORED)
    for layout, row in per.items():
        files = len({r.file for r in results if r.layout == layout})
        source = ",".join(sorted({r.source for r in results if r.layout == layout}))
        cells = "".join(f"{_pct(row[r].accuracy) if r in row else '-':>10}" for r in readings)
        print(f"{layout[:47]:<48}{files:>6}{cells}   {source}")


def miss_table(results: Sequence[Result], *, per_layout: int) -> None:
    """The misses of the first file of each layout (the others mostly repeat them), capped."""
    print(f"{'file':<44}{'reading':<9}{'field':<7}{'expected':<26}{'found':<26}{'conf':>5}")
    first: dict[str, str] = {}
    for r in results:
        first.setdefault(r.layout, r.file)
    for layout, file in sorted(first.items()):
        rows = tables.misses([r for r in results if r.file == file and r.layout == layout], SCORED)
        for m in rows[:per_layout]:
            conf = "" if m["confidence"] is None else f"{m['confidence']:.2f}"
            flag = " !" if m["confidently_wrong"] else ""
            found = "—" if m["found"] is None else str(m["found"])
            print(
                f"{file[:43]:<44}{m['reading']!s:<9}{m['field']!s:<7}{str(m['expected'])[:25]:<26}"
                f"{found[:25]:<26}{conf:>5}{flag}"
            )
        if len(rows) > per_layout:
            print(f"{'':<44}… {len(rows) - per_layout} more (see --json-out)")


def reliability(cols: dict[str, list[Result]], keys: Sequence[str]) -> None:
    print(f"{'confidence':<12}" + "".join(f"{k:>26}" for k in keys))
    rows = {k: tables.reliability(cols[k], SCORED) for k in keys}
    for i, b in enumerate(tables.reliability([], SCORED)):
        cells = []
        for k in keys:
            cell = rows[k][i]
            right = cell["right"]
            cells.append(
                f"{cell['count']:>6} found, {_pct(right if isinstance(right, float) else None)}% right"
            )
        print(f"{b['bucket']:<12}" + "".join(f"{c:>26}" for c in cells))


def held_out(results: Sequence[Result], reader: Reader, readings: Sequence[str]) -> None:
    print(f"{'source':<18}{'reading':<10}{'docs':>5}{'right%':>8}{'wrong≥thr%':>11}   what the figure is")
    for source, rs in sorted(tables.group(results, lambda r: r.source).items()):
        for reading in readings:
            items = [r for r in rs if r.reading == reading]
            s = tables.stats(items, SCORED)
            cw = s.confidently_wrong / s.n if s.n else None
            print(
                f"{source:<18}{reading:<10}{len(items):>5}{_pct(s.accuracy):>8}{_pct(cw):>11}   "
                f"{held_out_note(reader, source)}"
            )


def doc_types(results: Sequence[Result]) -> None:
    for reading, rs in tables.group(results, lambda r: f"{r.source} {r.reading}").items():
        acc, n, wrong = tables.doc_type_accuracy(rs)
        listed = ", ".join(f"{r.file}: {r.expected_doc_type}→{r.doc_type}" for r in wrong[:6])
        print(f"  {reading:<30}{_pct(acc)}% of {n}" + (f"   misses: {listed}" if listed else ""))


def skipped(items: Sequence[Skipped]) -> None:
    print(f"{len(items)} PDF(s) with an attached XML left out:")
    for s in items:
        print(f"  {s.path.name}: {s.reason}")


def unprinted(items: dict[Path, tuple[str, ...]]) -> None:
    print(f"{len(items)} file(s) with XML fields left out of the truth because the page does not print them:")
    for path, terms in items.items():
        print(f"  {path.name}: {', '.join(terms)}")
