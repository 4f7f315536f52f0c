"""What ``audit verify --signatures`` prints: each seal that failed or was not verified, then how many
seals reached each bottom line."""

from __future__ import annotations

from cli.app import out
from cli.render import safe
from pipeline.audit_seals import SealAudit
from signing.seal_status import BottomLine

BOTTOM = {
    BottomLine.LTV_COMPLETE: "LTV-complete",
    BottomLine.TIMESTAMPED: "timestamped",
    BottomLine.TRUSTED: "trusted",
    BottomLine.INTACT: "intact only",
    BottomLine.NOT_INTACT: "NOT INTACT",
    BottomLine.NOT_VERIFIED: "NOT VERIFIED",
}


def print_seals(result: SealAudit) -> None:
    counts = result.counts
    summary = ", ".join(f"{counts.get(line, 0)} {word}" for line, word in BOTTOM.items())
    if result.ok:
        out.print(f"[green]seals: OK[/] — {len(result.seals)} seal(s) validated: {summary}")
        return
    out.print(f"[red]seals: {len(result.failed)} problem(s)[/] in {len(result.seals)} seal(s) — {summary}")
    for kept in result.failed:  # one line each, never wrapped: an id stays whole for grep
        report = kept.report
        what = [*report.problems, *(f"({n})" for n in report.notes)]
        words = "; ".join(w.replace("_", " ") for w in what) or "-"
        line = f"{kept.document_id} {safe(kept.key or '-')}: {BOTTOM[report.bottom_line]} — {words}"
        out.print(line, soft_wrap=True)
