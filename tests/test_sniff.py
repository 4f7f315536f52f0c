"""File type comes from the content, never from the name."""

from __future__ import annotations

import pytest

from extractors.sniff import FileKind, sniff

UBL = (
    b'<?xml version="1.0"?>\n<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:'
    b'Invoice-2"><cbc:ID/></Invoice>'
)
CII = (
    b'\xef\xbb\xbf<?xml version="1.0"?><!-- x --><rsm:CrossIndustryInvoice '
    b'xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"/>'
)


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"%PDF-1.7\n...", FileKind.PDF),
        (b"\x89PNG\r\n\x1a\n....", FileKind.PNG),
        (b"\xff\xd8\xff\xe0..JFIF", FileKind.JPEG),
        (b"II*\x00....", FileKind.TIFF),
        (b"MM\x00*....", FileKind.TIFF),
        (UBL, FileKind.XML_UBL),
        (CII, FileKind.XML_CII),
        (b"<html><body>hello</body></html>", FileKind.XML_OTHER),
        (b"\xff\xfe" + UBL.decode().encode("utf-16-le"), FileKind.XML_UBL),
        (b"PK\x03\x04 a zip", FileKind.UNKNOWN),
        (b"", FileKind.UNKNOWN),
    ],
)
def test_kind_from_magic_bytes(head: bytes, kind: FileKind) -> None:
    assert sniff(head) is kind
