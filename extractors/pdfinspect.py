"""Read-only facts about a PDF for Factur-X checks: XMP claims, attachments and active content."""

from __future__ import annotations

import io
import logging
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from pypdf import PdfReader
from pypdf.errors import PyPdfError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject, StreamObject

from dematflow.errors import CorruptInput, DematflowError, EncryptedInput, HostileInput, OversizedInput
from extractors.safexml import parse_xml

log = logging.getLogger(__name__)

MAX_OBJECTS = 50_000  # indirect objects followed by the active-content walk
MAX_NODES = 1_000_000  # values (direct or indirect) visited by that walk
MAX_XMP_BYTES = 4_000_000
MAX_EMBEDDED_FILES = 1_000

PDFAID_NS = "http://www.aiim.org/pdfa/ns/id/"
# Every Factur-X / ZUGFeRD 1-2 / XRechnung / Order-X XMP schema namespace contains this word.
FX_NS_MARK = "CrossIndustryDocument"
FX_PROPERTIES = ("ConformanceLevel", "DocumentFileName", "DocumentType", "Version")
EXTERNAL_ACTIONS = frozenset({"/GoToR", "/ImportData", "/SubmitForm"})

# What pypdf raises on damaged or hostile input besides its own errors.
PDF_ERRORS: tuple[type[BaseException], ...] = (
    PyPdfError,
    ValueError,
    KeyError,
    TypeError,
    AttributeError,
    IndexError,
    OSError,
    ArithmeticError,
    AssertionError,
    RecursionError,
    NotImplementedError,  # pypdf: an unknown stream filter
    zlib.error,
)
XMP_ERRORS: tuple[type[BaseException], ...] = (DematflowError, *PDF_ERRORS)


@dataclass(frozen=True)
class EmbeddedFile:
    """One attached file as its file specification describes it (its bytes are not read)."""

    name: str
    af_relationship: str | None  # "Data", "Source", "Alternative", ... without the leading slash
    subtype: str | None  # the MIME type, e.g. "text/xml"
    size: int | None  # /Params /Size when declared, else the stored stream length


@dataclass(frozen=True)
class PdfFacts:
    """What a PDF declares and contains, read without executing or resolving anything external."""

    pdfa_part: str | None
    pdfa_conformance: str | None
    xmp_fx_level: str | None
    xmp_fx_document_file_name: str | None
    xmp_fx_document_type: str | None
    xmp_fx_version: str | None
    embedded_files: tuple[EmbeddedFile, ...]
    catalog_af: tuple[str, ...]
    has_javascript: bool
    has_launch: bool
    has_external_refs: bool
    uri_count: int
    encrypted: bool
    xmp_status: str = "ok"  # "ok" | "missing" | "unparseable"
    xmp_fx_namespace: str | None = None
    has_xfa: bool = False
    walk_complete: bool = True  # False when the object walk hit MAX_OBJECTS / MAX_NODES


@dataclass
class _Scan:
    """Accumulator of one active-content walk (local to one call)."""

    javascript: bool = False
    launch: bool = False
    external: bool = False
    xfa: bool = False
    uri_count: int = 0
    complete: bool = True
    seen: set[tuple[int, int]] = field(default_factory=set)


def inspect_pdf(data: bytes, *, max_objects: int = MAX_OBJECTS) -> PdfFacts:
    """Facts about ``data``; CorruptInput if it is not a readable PDF, EncryptedInput if locked.

    At most ``max_objects`` indirect objects are followed when looking for actions; beyond that
    ``walk_complete`` is False (a hostile PDF can neither loop nor explode the walk)."""
    reader = _open(data)
    try:
        catalog = reader.root_object
        if not isinstance(catalog, DictionaryObject):
            raise CorruptInput("unreadable PDF: the document catalog is missing")
        xmp_status, xmp = _xmp(catalog)
        files = tuple(_embedded_files(catalog))
        catalog_af = tuple(name for name, _ in _filespecs_of_af(catalog))
        scan = _scan_active_content(reader.trailer.raw_get("/Root"), max_objects=max_objects)
    except (DematflowError, MemoryError):
        raise
    except PDF_ERRORS as exc:
        raise CorruptInput(f"unreadable PDF structure: {exc}") from exc
    if not scan.complete:
        log.warning("PDF object walk stopped at its limit after %d objects", len(scan.seen))
    return PdfFacts(
        pdfa_part=xmp.get("part"),
        pdfa_conformance=xmp.get("conformance"),
        xmp_fx_level=xmp.get("ConformanceLevel"),
        xmp_fx_document_file_name=xmp.get("DocumentFileName"),
        xmp_fx_document_type=xmp.get("DocumentType"),
        xmp_fx_version=xmp.get("Version"),
        embedded_files=files,
        catalog_af=catalog_af,
        has_javascript=scan.javascript,
        has_launch=scan.launch,
        has_external_refs=scan.external,
        uri_count=scan.uri_count,
        encrypted=bool(reader.is_encrypted),
        xmp_status=xmp_status,
        xmp_fx_namespace=xmp.get("fx-namespace"),
        has_xfa=scan.xfa,
        walk_complete=scan.complete,
    )


def _open(data: bytes) -> PdfReader:
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise EncryptedInput("password-protected PDF: its content cannot be inspected")
        _ = reader.root_object
    except DematflowError:
        raise
    except PDF_ERRORS as exc:
        raise CorruptInput(f"unreadable PDF: {exc}") from exc
    return reader


def _resolve(value: Any) -> Any:
    return value.get_object() if isinstance(value, IndirectObject) else value


def _name(value: Any) -> str | None:
    value = _resolve(value)
    return str(value)[1:] if isinstance(value, NameObject) else None


def _text(value: Any) -> str | None:
    value = _resolve(value)
    return str(value) if isinstance(value, str) and not isinstance(value, NameObject) else None


# --- XMP ------------------------------------------------------------------------------------------------


def _xmp(catalog: DictionaryObject) -> tuple[str, dict[str, str]]:
    stream = _resolve(catalog.raw_get("/Metadata")) if "/Metadata" in catalog else None
    if not isinstance(stream, StreamObject):
        return "missing", {}
    try:
        declared = _resolve(stream.get("/Length"))
        if isinstance(declared, int) and declared > MAX_XMP_BYTES:
            raise OversizedInput(f"XMP metadata of {declared} bytes exceeds {MAX_XMP_BYTES} bytes")
        root = parse_xml(stream.get_data(), max_bytes=MAX_XMP_BYTES)
    except HostileInput:
        raise  # entity declarations in XMP: the whole file is refused, not merely its XMP
    except XMP_ERRORS as exc:
        log.info("XMP metadata unreadable: %s", exc)
        return "unparseable", {}
    return "ok", _xmp_values(root)


def _xmp_values(root: etree._Element) -> dict[str, str]:
    """pdfaid and fx properties, in element (``<fx:Version>``) or attribute (``fx:Version="…"``) form."""
    found: dict[str, str] = {}
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        pairs = [(etree.QName(k), v) for k, v in el.attrib.items()]
        if el.text and el.text.strip() and len(el) == 0:
            pairs.append((etree.QName(el), el.text))
        for qname, value in pairs:
            _record(found, qname.namespace or "", qname.localname, value.strip())
    return found


def _record(found: dict[str, str], namespace: str, local: str, value: str) -> None:
    if not value:
        return
    if namespace == PDFAID_NS and local in ("part", "conformance"):
        found.setdefault(local, value)
    elif FX_NS_MARK in namespace and local in FX_PROPERTIES:
        found.setdefault(local, value)
        found.setdefault("fx-namespace", namespace)


# --- attachments ----------------------------------------------------------------------------------------


def _embedded_files(catalog: DictionaryObject) -> Iterator[EmbeddedFile]:
    """Files of the /EmbeddedFiles name tree, then those only listed in the catalog /AF array."""
    seen: set[int] = set()
    names = _resolve(catalog.get("/Names"))
    tree = _resolve(names.get("/EmbeddedFiles")) if isinstance(names, DictionaryObject) else None
    af = list(_filespecs_of_af(catalog))
    for key, spec in [*_name_tree(tree), *af]:
        if id(spec) in seen or len(seen) >= MAX_EMBEDDED_FILES:
            continue
        seen.add(id(spec))
        yield _embedded_file(key, spec)


def _name_tree(node: Any) -> Iterator[tuple[str, DictionaryObject]]:
    stack, visited = [node], 0
    while stack and visited < MAX_EMBEDDED_FILES:
        current = _resolve(stack.pop())
        visited += 1
        if not isinstance(current, DictionaryObject):
            continue
        pairs = _resolve(current.get("/Names"))
        if isinstance(pairs, ArrayObject):
            for i in range(0, len(pairs) - 1, 2):
                spec = _resolve(pairs[i + 1])
                if isinstance(spec, DictionaryObject):
                    yield _text(pairs[i]) or "", spec
        kids = _resolve(current.get("/Kids"))
        if isinstance(kids, ArrayObject):
            stack.extend(reversed(kids))


def _filespecs_of_af(catalog: DictionaryObject) -> Iterator[tuple[str, DictionaryObject]]:
    af = _resolve(catalog.get("/AF"))
    if not isinstance(af, ArrayObject):
        return
    for item in af[:MAX_EMBEDDED_FILES]:
        spec = _resolve(item)
        if isinstance(spec, DictionaryObject):
            yield _spec_name(spec) or "", spec


def _spec_name(spec: DictionaryObject) -> str | None:
    return _text(spec.get("/UF")) or _text(spec.get("/F"))


def _embedded_file(key: str, spec: DictionaryObject) -> EmbeddedFile:
    ef = _resolve(spec.get("/EF"))
    stream = _resolve(ef.get("/F") or ef.get("/UF")) if isinstance(ef, DictionaryObject) else None
    subtype = size = None
    if isinstance(stream, DictionaryObject):
        subtype = _name(stream.get("/Subtype"))
        params = _resolve(stream.get("/Params"))
        declared = _resolve(params.get("/Size")) if isinstance(params, DictionaryObject) else None
        length = _resolve(stream.get("/Length"))
        size = (
            int(declared) if isinstance(declared, int) else int(length) if isinstance(length, int) else None
        )
    return EmbeddedFile(
        name=_spec_name(spec) or key,
        af_relationship=_name(spec.get("/AFRelationship")),
        subtype=subtype,
        size=size,
    )


# --- active content -------------------------------------------------------------------------------------


def _scan_active_content(root: Any, *, max_objects: int) -> _Scan:
    """Walk every object reachable from the catalog once, noting JavaScript, Launch and remote actions.

    A generic walk rather than a list of places (OpenAction, /AA, annotations, fields, outlines, ...):
    an action hidden anywhere a viewer might reach is found. Stream data is never decoded.
    """
    scan = _Scan()
    stack: list[Any] = [root]
    nodes = 0
    while stack:
        node = stack.pop()
        nodes += 1
        if nodes > MAX_NODES or len(stack) > MAX_NODES:
            scan.complete = False
            break
        if isinstance(node, IndirectObject):
            ref = (node.idnum, node.generation)
            if ref in scan.seen:
                continue
            if len(scan.seen) >= max_objects:
                scan.complete = False
                break
            scan.seen.add(ref)
            try:
                node = node.get_object()
            except PDF_ERRORS as exc:
                log.info("PDF object %d %d unreadable: %s", ref[0], ref[1], exc)
                continue
        if isinstance(node, DictionaryObject):
            try:
                _note_action(node, scan)
            except PDF_ERRORS as exc:
                log.info("PDF action entry unreadable: %s", exc)
            stack.extend(node.values())
        elif isinstance(node, ArrayObject):
            stack.extend(node)
    return scan


def _note_action(d: DictionaryObject, scan: _Scan) -> None:
    kind = _name(d.get("/S"))
    if kind == "JavaScript" or "/JS" in d or "/JavaScript" in d:
        scan.javascript = True
    elif kind == "Launch":
        scan.launch = True
    elif kind == "URI":
        scan.uri_count += 1
    elif kind is not None and f"/{kind}" in EXTERNAL_ACTIONS:
        scan.external = True
    if "/XFA" in d:
        scan.xfa = True
