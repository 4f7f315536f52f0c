"""Find the invoice XML embedded in a Factur-X / ZUGFeRD / XRechnung PDF, and its XMP profile."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass

from lxml import etree
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from dematflow.errors import CorruptInput, DematflowError, EncryptedInput
from extractors.safexml import parse_xml

log = logging.getLogger(__name__)

# In order of preference; matched case-insensitively.
INVOICE_FILENAMES = (
    "factur-x.xml",
    "zugferd-invoice.xml",
    "xrechnung.xml",
    "order-x.xml",
)


@dataclass(frozen=True)
class EmbeddedXml:
    """An XML file attached to a PDF: its attachment name and bytes."""

    filename: str
    xml: bytes


def find_embedded_xml(pdf: bytes) -> EmbeddedXml | None:
    """The invoice XML attached to ``pdf``, or None for a PDF without one."""
    reader = _open(pdf)
    # When several invoice XMLs are attached, the one the XMP names (fx:DocumentFileName) is it.
    named = _xmp_value(reader, "DocumentFileName")
    found = (
        (_via_attachments(reader, (named.lower(),)) if named else None)
        or _via_facturx_library(pdf)
        or _via_attachments(reader, INVOICE_FILENAMES)
    )
    if found is not None:
        log.info("embedded XML %s found (%d bytes)", found.filename, len(found.xml))
    return found


def xmp_profile(pdf: bytes) -> str | None:
    """The ``fx:ConformanceLevel`` declared in the PDF's XMP (e.g. ``"EN 16931"``), or None."""
    level = _xmp_value(_open(pdf), "ConformanceLevel")
    return level.upper() if level else None


def _xmp_value(reader: PdfReader, localname: str) -> str | None:
    """One property of the document's XMP (element or attribute form), or None."""
    try:
        meta = reader.root_object.get("/Metadata")
        raw = meta.get_object().get_data() if meta is not None else None
    except (PyPdfError, KeyError, AttributeError, ValueError) as exc:
        log.info("XMP metadata unreadable: %s", exc)
        return None
    if not raw:
        return None
    try:
        root = parse_xml(raw)
    except DematflowError as exc:
        log.info("XMP metadata not parseable: %s", exc.message)
        return None
    for el in root.iter():
        for name, value in el.attrib.items():
            if etree.QName(name).localname == localname and value.strip():
                return value.strip()
        if not isinstance(el.tag, str) or etree.QName(el).localname != localname:
            continue
        if el.text and el.text.strip():
            return el.text.strip()
    return None


def _open(pdf: bytes) -> PdfReader:
    try:
        reader = PdfReader(io.BytesIO(pdf), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise EncryptedInput("password-protected PDF: its attachments cannot be read")
        _ = len(reader.pages)
    except EncryptedInput:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise CorruptInput(f"unreadable PDF: {exc}") from exc
    return reader


def _via_facturx_library(pdf: bytes) -> EmbeddedXml | None:
    # The factur-x library raises bare Exceptions on odd PDFs; our own scan below is the fallback.
    from facturx import get_xml_from_pdf

    try:
        name, xml = get_xml_from_pdf(pdf, check_xsd=False, filenames=list(INVOICE_FILENAMES))
    except Exception as exc:
        log.info("factur-x library could not read attachments: %s", exc)
        return None
    if not name or not xml:
        return None
    return EmbeddedXml(filename=str(name), xml=bytes(xml))


def _via_attachments(reader: PdfReader, wanted_names: tuple[str, ...]) -> EmbeddedXml | None:
    candidates = {name.lower(): (name, data) for name, data in _attachments(reader)}
    for wanted in wanted_names:
        if wanted in candidates:
            name, data = candidates[wanted]
            return EmbeddedXml(filename=name, xml=data)
    return None


def _attachments(reader: PdfReader) -> Iterator[tuple[str, bytes]]:
    try:
        items = list(reader.attachment_list)
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError) as exc:
        log.info("PDF attachments unreadable: %s", exc)
        return
    for item in items:
        try:
            data = item.content
        except (PyPdfError, ValueError, KeyError, TypeError, AttributeError) as exc:
            log.info("attachment %s unreadable: %s", item.name, exc)
            continue
        if data:
            yield str(item.name), bytes(data)
