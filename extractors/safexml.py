"""The one safe XML parser: no entities, no DTD, no network, bounded size, tolerant of encodings."""

from __future__ import annotations

import codecs
import logging
import re
from dataclasses import dataclass

from lxml import etree

from dematflow.errors import CorruptInput, EmptyInput, HostileInput, OversizedInput

log = logging.getLogger(__name__)

_DECL = re.compile(rb"^\s*<\?xml[^>]*?\?>", re.DOTALL)
_DECL_ENCODING = re.compile(rb"""encoding\s*=\s*["']?([A-Za-z0-9._:/-]+)""")
_BOM = codecs.BOM_UTF8
_HOSTILE = "XML with a DOCTYPE declaring entities is refused (XXE / entity expansion)"
_ENTITY_ERRORS = ("amplification", "entity reference loop")
_SINGLE_BYTE = {
    "iso-8859-1",
    "iso8859-1",
    "latin-1",
    "latin1",
    "windows-1252",
    "cp1252",
    "us-ascii",
}


@dataclass(frozen=True)
class XmlDoc:
    """A parsed document and what had to be repaired to read it (empty when nothing)."""

    root: etree._Element
    repairs: tuple[str, ...] = ()


def _parser() -> etree.XMLParser:
    # A fresh parser per parse (cheap): parser objects must not be shared between threads.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        dtd_validation=False,
        remove_blank_text=False,
    )


def parse_xml(data: bytes, *, max_bytes: int = 20_000_000) -> etree._Element:
    """Parse untrusted XML safely and return its root element."""
    return read_xml(data, max_bytes=max_bytes).root


def read_xml(data: bytes, *, max_bytes: int = 20_000_000) -> XmlDoc:
    """Like :func:`parse_xml`, also saying what was repaired (e.g. a wrong encoding name)."""
    if not data:
        raise EmptyInput("empty XML document")
    if len(data) > max_bytes:
        raise OversizedInput(f"XML document of {len(data)} bytes exceeds the {max_bytes}-byte limit")
    _refuse_entities_raw(data)
    declared = _declared_encoding(data)
    if declared in _SINGLE_BYTE and _is_multibyte_utf8(data):
        doc = _reparse_as_text(data, declared, original=None)
    else:
        try:
            doc = XmlDoc(etree.fromstring(data, _parser()))
        except etree.XMLSyntaxError as exc:
            _refuse_entity_errors(exc)
            doc = _reparse_as_text(data, declared, original=exc)
    _refuse_entities_parsed(doc.root)
    return doc


def _refuse_entities_raw(data: bytes) -> None:
    if b"<!DOCTYPE" in data and b"<!ENTITY" in data:
        raise HostileInput(_HOSTILE)
    if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        text = data.decode("utf-16", errors="replace")
        if "<!DOCTYPE" in text and "<!ENTITY" in text:
            raise HostileInput(_HOSTILE)


def _refuse_entity_errors(exc: etree.XMLSyntaxError) -> None:
    # libxml2 stops entity bombs itself; say so instead of calling the input merely corrupt.
    if any(word in str(exc) for word in _ENTITY_ERRORS):
        raise HostileInput(f"{_HOSTILE}: {exc}") from exc


def _refuse_entities_parsed(root: etree._Element) -> None:
    # Catches encodings (UTF-16 …) that the byte scan above cannot see.
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise HostileInput("XML with a DOCTYPE declaring entities is refused (XXE / entity expansion)")


def _declared_encoding(data: bytes) -> str | None:
    decl = _DECL.match(data.lstrip(_BOM)[:400])
    if decl is None:
        return None
    enc = _DECL_ENCODING.search(decl.group(0))
    return enc.group(1).decode("ascii").lower() if enc else None


def _is_multibyte_utf8(data: bytes) -> bool:
    if data.isascii():
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _reparse_as_text(data: bytes, declared: str | None, *, original: Exception | None) -> XmlDoc:
    """Drop the XML declaration, decode by content (UTF-8, else Windows-1252) and parse again."""
    body = data[len(_BOM) :] if data.startswith(_BOM) else data
    decl = _DECL.match(body)
    if decl is not None:
        body = body[decl.end() :]
    try:
        text, actual = body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text, actual = body.decode("cp1252", errors="replace"), "windows-1252"
    try:
        root = etree.fromstring(text.encode("utf-8"), _parser())
    except etree.XMLSyntaxError as exc:
        _refuse_entity_errors(exc)
        cause = original or exc
        raise CorruptInput(f"not well-formed XML: {cause}") from cause
    named = f"names encoding {declared!r}" if declared else "is missing or names no encoding"
    note = f"the XML declaration {named} but the content is {actual}; read as {actual}"
    log.info("repaired XML encoding declaration: declared=%s actual=%s", declared, actual)
    return XmlDoc(root, (note,))
