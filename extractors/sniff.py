"""Tell a file's type from its first bytes (magic numbers), never from its name."""

from __future__ import annotations

import re
from enum import StrEnum


class FileKind(StrEnum):
    PDF = "pdf"
    TIFF = "tiff"
    PNG = "png"
    JPEG = "jpeg"
    XML_CII = "xml_cii"
    XML_UBL = "xml_ubl"
    XML_OTHER = "xml_other"
    UNKNOWN = "unknown"

    @property
    def is_image(self) -> bool:
        return self in (FileKind.TIFF, FileKind.PNG, FileKind.JPEG)

    @property
    def is_xml(self) -> bool:
        return self in (FileKind.XML_CII, FileKind.XML_UBL, FileKind.XML_OTHER)


_UBL_NS = re.compile(rb"urn:oasis:names:specification:ubl:schema:xsd:(Invoice|CreditNote)-2")
_ROOT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)[\s>/]")


def sniff(head: bytes) -> FileKind:
    """Kind of a file from (at least) its first 4 KiB."""
    if head.startswith(b"%PDF-") or b"%PDF-" in head[:1024]:
        return FileKind.PDF
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return FileKind.TIFF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return FileKind.PNG
    if head.startswith(b"\xff\xd8\xff"):
        return FileKind.JPEG
    return _sniff_xml(head)


def _sniff_xml(head: bytes) -> FileKind:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with its byte-order mark
        head = head[: len(head) // 2 * 2].decode("utf-16", "ignore").encode("utf-8", "ignore")
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if not text.startswith(b"<"):
        return FileKind.UNKNOWN
    # Skip the declaration, comments and processing instructions to reach the root element.
    body = re.sub(rb"<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>", b"", text, flags=re.S)
    root = _ROOT.search(body)
    if root is None:
        return FileKind.UNKNOWN
    name = root.group(1)
    if name in (b"CrossIndustryInvoice", b"CrossIndustryDocument"):
        return FileKind.XML_CII
    if name in (b"Invoice", b"CreditNote") and _UBL_NS.search(body):
        return FileKind.XML_UBL
    return FileKind.XML_OTHER
