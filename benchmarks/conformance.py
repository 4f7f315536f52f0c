"""Conformance run over the shared corpus: verdict agreement per source, CEN rule unit tests, crashes.

Usage: .venv/bin/python benchmarks/conformance.py [--corpus DIR] [--cli] [--only PREFIX] [--strict] [-v]
  default: validators.chain.validate_document in-process on every PDF/XML of corpus/manifest.json;
  --cli:   `.venv/bin/dematflow validate FILE --json` per file; stdout must be exactly one JSON object
           whose "valid" agrees with the exit code (0 valid, 1 invalid, 2 not an invoice).
Known disagreements are read from the table in docs/conformance.md (one source for the doc and tests).
Exit 1 on any crash or non-JSON answer; with --strict also on a disagreement the doc does not explain.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree

from dematflow.errors import DematflowError, InputError
from extractors.safexml import parse_xml
from validators.chain import validate_document
from validators.report import BLOCKING, Report, Severity
from validators.schematron import schematron_file, schematrons_for

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus"
DOC = REPO / "docs" / "conformance.md"
VEFA = "{http://difi.no/xsd/vefa/validator/1.0}"
_ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|\s*(\w+)\s*\|\s*(\w+)\s*\|")


class Verdict(StrEnum):
    VALID = "VALID"
    INVALID = "INVALID"
    NOT_INVOICE = "NOT_INVOICE"  # exit 2: not readable as an e-invoice
    NOT_VALIDATED = "NOT_VALIDATED"  # a validator could not run (ToolUnavailable, ...)
    CRASH = "CRASH"  # an exception outside dematflow's error tree, or a dead CLI
    NON_JSON = "NON_JSON"  # the CLI did not print exactly one JSON object


@dataclass(frozen=True)
class Case:
    file: str  # path relative to the corpus root
    source: str  # first path component (zugferd-corpus, mustangproject, ...)
    expected: Verdict | None  # None: the source asserts no verdict (run only for crashes)


@dataclass(frozen=True)
class Outcome:
    verdict: Verdict
    rules: tuple[str, ...] = ()  # blocking finding rule ids, deduplicated, in order
    checked: tuple[str, ...] = ()
    seconds: float = 0.0
    detail: str = ""


# --- the manifest -----------------------------------------------------------------------------------


def expected_verdict(entry: Mapping[str, Any]) -> Verdict | None:
    """The upstream verdict of a manifest entry, as one of VALID / INVALID / NOT_INVOICE (or None)."""
    text: str = entry["expected"]
    if "overall VALID" in text or text.startswith("INVALID with XRechnung XSD check / VALID without"):
        return Verdict.VALID  # dematflow runs no XRechnung-specific XSD: the "without" verdict applies
    if text.startswith("INVALID"):
        return Verdict.INVALID
    if text.startswith("VALID"):
        return Verdict.VALID
    if text.startswith(("NOT AN INVOICE", "NO INVOICE XML", "TEXT PDF INPUT")):
        return Verdict.NOT_INVOICE
    if text.startswith("NOT PDF/A") and "att:" not in entry["format"]:
        return Verdict.NOT_INVOICE  # a PDF without any attachment cannot be an e-invoice
    if "NOT an invoice" in entry.get("notes", ""):
        return Verdict.NOT_INVOICE  # factur-x-python's order-x fixture
    return None  # PER-TEST, detection fixtures, READABLE, WARNINGS expected, ground truth


def load_manifest(corpus: Path) -> list[dict[str, Any]]:
    files: list[dict[str, Any]] = json.loads((corpus / "manifest.json").read_text("utf-8"))["files"]
    return files


def load_cases(corpus: Path) -> list[Case]:
    """Every PDF/XML of the manifest (CEN testSet files included: they must not crash either)."""
    return [
        Case(e["file"], e["file"].split("/")[0], expected_verdict(e))
        for e in load_manifest(corpus)
        if e["file"].lower().endswith((".pdf", ".xml"))
    ]


def known_disagreements(doc: Path = DOC) -> dict[str, Verdict]:
    """file → dematflow's verdict, from the rows of the disagreement table in docs/conformance.md."""
    rows = (_ROW.match(line) for line in doc.read_text("utf-8").splitlines())
    return {m[1]: Verdict(m[3]) for m in rows if m and m[2] in Verdict.__members__}


# --- running one file -------------------------------------------------------------------------------


def outcome_of(report: Report, seconds: float) -> Outcome:
    rules = tuple(dict.fromkeys(f.rule for f in report.findings if f.severity in BLOCKING))
    if report.not_checked and not any(f.severity in BLOCKING for f in report.findings):
        verdict = Verdict.NOT_VALIDATED
    else:
        verdict = Verdict.VALID if report.valid else Verdict.INVALID
    return Outcome(verdict, rules, report.checked, seconds)


def run_inprocess(path: Path) -> Outcome:
    start = time.perf_counter()
    try:
        report = validate_document(path.read_bytes())
    except InputError as exc:
        return Outcome(Verdict.NOT_INVOICE, ("INPUT",), (), time.perf_counter() - start, exc.message)
    except DematflowError as exc:
        return Outcome(Verdict.NOT_VALIDATED, (), (), time.perf_counter() - start, exc.message)
    except Exception as exc:  # the point of the run is to count these
        return Outcome(Verdict.CRASH, (), (), time.perf_counter() - start, f"{type(exc).__name__}: {exc}")
    return outcome_of(report, time.perf_counter() - start)


def run_cli(path: Path, *, dematflow: Path, timeout: float = 120.0) -> Outcome:
    """One `dematflow validate --json` subprocess; anything but one JSON object on stdout is NON_JSON."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp")}
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            [str(dematflow), "validate", str(path), "--json"],
            capture_output=True,
            env=env,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return Outcome(Verdict.CRASH, detail=f"timeout after {timeout} s")
    seconds = time.perf_counter() - start
    try:
        answer = json.loads(proc.stdout)
    except ValueError:
        tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["(no stderr)"]
        return Outcome(Verdict.NON_JSON, seconds=seconds, detail=f"exit {proc.returncode}: {tail[0]}")
    if not isinstance(answer, dict) or proc.returncode not in (0, 1, 2):
        return Outcome(Verdict.NON_JSON, seconds=seconds, detail=f"exit {proc.returncode}, not an object")
    if (proc.returncode == 0) != bool(answer.get("valid")):
        return Outcome(Verdict.NON_JSON, seconds=seconds, detail=f"exit {proc.returncode} vs valid flag")
    by_code = {0: Verdict.VALID, 1: Verdict.INVALID, 2: Verdict.NOT_INVOICE}
    rules = tuple(dict.fromkeys(f["rule"] for f in answer["findings"] if f["severity"] in BLOCKING))
    verdict = by_code[proc.returncode]
    if verdict is Verdict.INVALID and answer.get("not_checked") and not rules:
        verdict = Verdict.NOT_VALIDATED
    return Outcome(verdict, rules, tuple(answer.get("checked", ())), seconds)


# --- CEN rule unit tests (vefa testSets) ------------------------------------------------------------


@dataclass(frozen=True)
class CenTest:
    file: str
    index: int  # position of the <test> in its testSet, from 1
    rule: str  # the rule in scope
    expect: str  # "success" (must not fire), "error" or "warning" (must fire with that flag)
    document: bytes
    syntax: str  # "UBL" | "CII"


@dataclass(frozen=True)
class CenResult:
    test: CenTest
    covered: bool
    passed: bool
    fired: str | None  # severity the rule fired with, None if it did not


def load_cen_tests(corpus: Path) -> list[CenTest]:
    tests: list[CenTest] = []
    for entry in load_manifest(corpus):
        if not entry["vefa_tests"]:
            continue
        root = parse_xml((corpus / entry["file"]).read_bytes())
        for i, (node, expects) in enumerate(zip(root.iter(f"{VEFA}test"), entry["vefa_tests"], strict=True)):
            doc = next(c for c in node if isinstance(c.tag, str) and not c.tag.startswith(VEFA))
            syntax = "UBL" if "oasis" in etree.QName(doc).namespace else "CII"
            for expect in expects:
                kind, rule = expect.split(":", 1)
                tests.append(CenTest(entry["file"], i + 1, rule, kind, etree.tostring(doc), syntax))
    return tests


def fired_rules(document: bytes) -> dict[str, Severity]:
    """Every rule id the chain reports on a (partial) document, with its most severe flag."""
    try:
        report = validate_document(document)
    except InputError:
        return {}
    order = list(Severity)
    fired: dict[str, Severity] = {}
    for f in report.findings:
        if f.rule not in fired or order.index(f.severity) < order.index(fired[f.rule]):
            fired[f.rule] = f.severity
    return fired


def covered_rules(report: Report) -> frozenset[str]:
    """Rule ids the schematrons that ran on ``report`` (its ``checked``) can emit, read from their XSLT."""
    if report.syntax is None:
        return frozenset()
    ran = schematrons_for(
        syntax=report.syntax,
        flavor=report.flavor,
        profile=report.profile,
        french=bool(report.extra.get("french_rules")),
        guideline=report.extra.get("guideline_id"),
    )
    rules: set[str] = set()
    for sch in ran:
        if sch.name in report.checked and sch.path is not None:
            rules |= xslt_rule_ids(schematron_file(sch))
    return frozenset(rules)


@cache
def xslt_rule_ids(xslt: Path) -> frozenset[str]:
    text = xslt.read_text("utf-8")
    return frozenset(re.findall(r'<xsl:attribute name="id">([^<]+)</xsl:attribute>', text))


@cache
def reference_coverage(corpus: Path, syntax: str) -> frozenset[str]:
    """Coverage for a syntax = what the chain's schematrons can emit on a complete EN 16931 invoice."""
    sample = "ubl/examples/ubl-tc434-example1.xml" if syntax == "UBL" else "cii/examples/CII_example1.xml"
    return covered_rules(validate_document((corpus / "en16931-cen" / sample).read_bytes()))


def run_cen(corpus: Path, tests: list[CenTest]) -> list[CenResult]:
    results = []
    for t in tests:
        covered = t.rule in reference_coverage(corpus, t.syntax)
        fired = fired_rules(t.document).get(t.rule)
        if t.expect == "success":
            passed = fired is None or fired not in (*BLOCKING, Severity.WARNING)
        elif t.expect == "warning":
            passed = fired is Severity.WARNING
        else:
            passed = fired in BLOCKING
        results.append(CenResult(t, covered, passed, fired.value if fired else None))
    return results


def cen_summary(results: list[CenResult]) -> Iterator[str]:
    by_rule: dict[str, list[CenResult]] = defaultdict(list)
    for r in results:
        by_rule[r.test.rule].append(r)
    covered = {rule: rs for rule, rs in by_rule.items() if rs[0].covered}
    ok_rules = [rule for rule, rs in covered.items() if all(r.passed for r in rs)]
    cov_tests = [r for r in results if r.covered]
    yield (
        f"CEN rule unit tests: {len(results)} tests over {len(by_rule)} rules; covered by the chain's "
        f"schematron: {len(covered)} rules / {len(cov_tests)} tests"
    )
    if covered:
        pct = 100 * len(ok_rules) / len(covered)
        yield f"  rules fully passing: {len(ok_rules)}/{len(covered)} ({pct:.1f}%)"
        n_ok = sum(r.passed for r in cov_tests)
        yield f"  tests passing: {n_ok}/{len(cov_tests)} ({100 * n_ok / len(cov_tests):.1f}%)"
    for rule, rs in sorted(covered.items()):
        for r in rs:
            if not r.passed:
                t = r.test
                yield f"  FAIL {rule} {t.file}#{t.index}: expected {t.expect}, fired {r.fired or 'nothing'}"
    uncovered = sorted(set(by_rule) - set(covered))
    yield f"  not covered ({len(uncovered)}): {' '.join(uncovered) or '-'}"


# --- the run ----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    corpus: Path = args.corpus
    cases = [c for c in load_cases(corpus) if c.file.startswith(args.only)]
    dematflow = REPO / ".venv" / "bin" / "dematflow"
    start = time.perf_counter()
    outcomes = [
        run_cli(corpus / c.file, dematflow=dematflow) if args.cli else run_inprocess(corpus / c.file)
        for c in cases
    ]
    seconds = time.perf_counter() - start
    known = known_disagreements(args.doc)
    print(f"== corpus files ({'cli' if args.cli else 'in-process'}): {len(cases)} PDF/XML, {seconds:.1f} s")
    unexplained = _agreement(cases, outcomes, known, verbose=args.verbose)
    cen_lines: list[str] = []
    if not args.no_cen:
        cen_start = time.perf_counter()
        cen_lines = list(cen_summary(run_cen(corpus, load_cen_tests(corpus))))
        print(f"== CEN rule unit tests (in-process, {time.perf_counter() - cen_start:.1f} s)")
        print("\n".join(cen_lines))
    crashes = [
        (c, o) for c, o in zip(cases, outcomes, strict=True) if o.verdict in (Verdict.CRASH, Verdict.NON_JSON)
    ]
    scored = [(c, o) for c, o in zip(cases, outcomes, strict=True) if c.expected is not None]
    agree = sum(c.expected is o.verdict for c, o in scored)
    typical = Counter(o.checked for o in outcomes if o.checked).most_common(1)
    print("== summary")
    print(f"files run: {len(outcomes)}   crashes/non-JSON: {len(crashes)}   time: {seconds:.1f} s")
    print(f"verdict agreement: {agree}/{len(scored)} ({100 * agree / max(len(scored), 1):.1f}%)")
    disagree = len(scored) - agree
    print(
        f"disagreements: {disagree}   explained in {args.doc.name}: {disagree - len(unexplained)}"
        f"   unexplained: {len(unexplained)}"
    )
    if typical:
        print(f"most common checked: {json.dumps(list(typical[0][0]))}")
    print("\n".join(line for line in cen_lines if not line.startswith(("  FAIL", "  not covered"))))
    if crashes:
        return 1
    return 1 if args.strict and unexplained else 0


def _agreement(
    cases: list[Case], outcomes: list[Outcome], known: dict[str, Verdict], *, verbose: bool
) -> list[tuple[Case, Outcome]]:
    tally: dict[str, Counter[str]] = defaultdict(Counter)
    unexplained: list[tuple[Case, Outcome]] = []
    for case, out in zip(cases, outcomes, strict=True):
        t = tally[case.source]
        t["run"] += 1
        if out.verdict in (Verdict.CRASH, Verdict.NON_JSON):
            t["crash"] += 1
            print(f"CRASH {case.file}: {out.detail}")
        if case.expected is None:
            continue
        t["scored"] += 1
        if out.verdict is case.expected:
            t["agree"] += 1
            if case.file in known:
                print(f"STALE (agrees now, still in the table) {case.file}")
        elif known.get(case.file) is out.verdict:
            t["explained"] += 1
            if verbose:
                print(
                    f"explained {case.file}: expected {case.expected}, ours {out.verdict} {list(out.rules)}"
                )
        else:
            unexplained.append((case, out))
    print(
        f"{'source':<22}{'run':>5}{'scored':>7}{'agree':>7}{'%':>8}{'explained':>10}{'unexpl.':>8}{'crash':>6}"
    )
    for source, t in sorted(tally.items()):
        pct = 100 * t["agree"] / t["scored"] if t["scored"] else 100.0
        unexp = t["scored"] - t["agree"] - t["explained"]
        print(
            f"{source:<22}{t['run']:>5}{t['scored']:>7}{t['agree']:>7}{pct:>7.1f}%"
            f"{t['explained']:>10}{unexp:>8}{t['crash']:>6}"
        )
    for case, out in unexplained:
        print(
            f"UNEXPLAINED {case.file}: expected {case.expected}, ours {out.verdict} {list(out.rules)}"
            f" {out.detail}"
        )
    return unexplained


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="Conformance run over the shared corpus.")
    p.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    p.add_argument("--doc", type=Path, default=DOC, help="markdown file holding the disagreement table")
    p.add_argument("--cli", action="store_true", help="one `dematflow validate --json` subprocess per file")
    p.add_argument("--only", default="", help="only corpus files whose path starts with this")
    p.add_argument("--no-cen", action="store_true", help="skip the CEN rule unit tests")
    p.add_argument("--strict", action="store_true", help="exit 1 on a disagreement the doc does not explain")
    p.add_argument("--verbose", "-v", action="store_true", help="also list explained disagreements")
    return p


if __name__ == "__main__":
    sys.exit(main())
