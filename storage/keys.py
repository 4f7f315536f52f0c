"""Every archive key is built here, and every key says its role (retention attaches to roles).

The strings are exactly those earlier versions wrote: existing archives must keep verifying.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ORIGINAL = "original"  # the bytes received, byte-exact
    EINVOICE = "einvoice"  # the e-invoice XML found inside a Factur-X/ZUGFeRD PDF
    CAPTURE = "capture"  # text and words read from the pages
    RENDITION = "rendition"  # a searchable copy of a scanned PDF
    SEALED = "sealed"  # the PAdES-sealed PDF or the detached CMS of an XML
    DATA = "data"  # the extracted fields
    REPORT = "report"  # the validation report
    FACTURX = "facturx"  # a Factur-X made from a captured paper invoice
    LIFECYCLE = "lifecycle"  # a CDAR lifecycle message
    ANCHOR = "anchor"  # a copy of the journal's head
    JOURNAL_DAY = "journal-day"  # a day's journal rows (.jsonl) and their CAdES seal (.p7s)


ANCHORS = "journal/anchors/"
DAYS = "journal/days/"
PREFIXES: dict[str, Role] = {
    "originals/": Role.ORIGINAL,
    "einvoices/": Role.EINVOICE,
    "captures/": Role.CAPTURE,
    "renditions/": Role.RENDITION,
    "sealed/": Role.SEALED,
    "data/": Role.DATA,
    "reports/": Role.REPORT,
    "facturx/": Role.FACTURX,
    "lifecycle/": Role.LIFECYCLE,
    ANCHORS: Role.ANCHOR,
    DAYS: Role.JOURNAL_DAY,
}
CONTENT_TYPES = {
    ".pdf": "application/pdf",
    ".p7s": "application/pkcs7-signature",
    ".xml": "application/xml",
    ".json": "application/json",
    ".jsonl": "application/jsonl",
}


def original(sha256: str) -> str:
    return f"originals/{sha256}"


def einvoice(document_id: str) -> str:
    return f"einvoices/{document_id}.xml"


def capture(document_id: str) -> str:
    return f"captures/{document_id}.json"


def searchable(document_id: str) -> str:
    return f"renditions/{document_id}-searchable.pdf"


def sealed(document_id: str, *, xml: bool) -> str:
    """The sealed PDF, or for an XML original its detached CMS seal."""
    return f"sealed/{document_id}.p7s" if xml else f"sealed/{document_id}.pdf"


def sealed_renewal(document_id: str, renewal: int) -> str:
    """A B-LTA sealed PDF with ``renewal`` archive timestamps added since the seal (1, 2, ...);
    the seal itself stays ``sealed(document_id, xml=False)``, every version kept as it was."""
    if renewal < 1:
        raise ValueError("renewal 0 is the seal itself: sealed(document_id, xml=False)")
    return f"sealed/{document_id}.r{renewal}.pdf"


def data(document_id: str) -> str:
    return f"data/{document_id}.json"


def data_version(document_id: str, version: int) -> str:
    """A corrected reading of the fields (2, 3, ...); version 1 is ``data()``, kept as it was."""
    if version < 2:
        raise ValueError("version 1 of the data is data(document_id)")
    return f"data/{document_id}.v{version}.json"


def report(document_id: str) -> str:
    return f"reports/{document_id}.json"


def facturx(document_id: str) -> str:
    return f"facturx/{document_id}.pdf"


def lifecycle(document_id: str, seq: int, code: int) -> str:
    return f"lifecycle/{document_id}/{seq:03d}-{code}.xml"


def anchor(seq: int) -> str:
    return f"{ANCHORS}{seq:012d}.json"


def day_segment(day: str) -> str:
    """A day's journal rows (``day`` is YYYY-MM-DD, UTC), closed by ``dematflow journal seal``."""
    return f"{DAYS}{day}.jsonl"


def day_rows(day: str) -> str:
    """The day's rows in full; the segment seals their hashes (segment format 2)."""
    return f"{DAYS}{day}.rows.jsonl"


def day_seal(day: str) -> str:
    return f"{DAYS}{day}.p7s"


def role_of(key: str) -> Role:
    """The role of a key built by this module; an unknown key is refused (never guessed)."""
    for prefix, role in PREFIXES.items():
        if key.startswith(prefix):
            return role
    raise ValueError(f"{key!r} is not an archive key dematflow builds")


def content_type(key: str) -> str:
    """What the object holds, from its name; originals are sniffed later, so they stay generic."""
    if role_of(key) is Role.ORIGINAL:
        return "application/octet-stream"
    dot = key.rfind(".")
    return CONTENT_TYPES.get(key[dot:], "application/octet-stream") if dot > 0 else "application/octet-stream"
