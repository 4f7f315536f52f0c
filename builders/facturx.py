"""Embed a built CII XML into a PDF as a Factur-X PDF/A-3 with the factur-x library."""

from __future__ import annotations

import hashlib
import logging

from builders.cii import BASIC_WL, EN16931, MINIMUM, Built
from dematflow.errors import (
    CorruptInput,
    EmptyInput,
    ToolFailed,
    ToolUnavailable,
    UnsupportedInput,
)

log = logging.getLogger(__name__)

LEVELS = {MINIMUM: "minimum", BASIC_WL: "basicwl", EN16931: "en16931"}


def probe() -> str:
    """The factur-x library's version; ToolUnavailable if it cannot be imported."""
    try:
        from importlib.metadata import version

        import facturx  # noqa: F401
    except ImportError as exc:
        raise ToolUnavailable(f"the factur-x library is not installed: {exc}") from exc
    return version("factur-x")


def to_facturx(pdf: bytes, built: Built) -> bytes:
    """The PDF with ``built.xml`` attached as factur-x.xml, its XMP declaring the profile.

    Every page of ``pdf`` is kept as it is; images must be wrapped into a PDF first
    (:func:`signing.wrap.wrap_images_as_pdf`). The XML is checked against the profile's XSD.
    """
    if not pdf:
        raise EmptyInput("no PDF to turn into a Factur-X invoice")
    if b"%PDF-" not in pdf[:1024]:
        raise CorruptInput("not a PDF: wrap images into a PDF before building a Factur-X invoice")
    level = LEVELS.get(built.profile)
    if level is None:
        raise UnsupportedInput(f"no Factur-X level for profile {built.profile!r}")
    probe()
    from facturx import generate_from_binary

    try:
        out = generate_from_binary(pdf, built.xml, flavor="factur-x", level=level, check_xsd=True)
    except Exception as exc:  # the factur-x library raises bare Exception (XSD, PDF parsing)
        raise ToolFailed(f"factur-x could not build the {built.profile} PDF: {exc}") from exc
    log.info(
        "Factur-X %s built: pdf sha256=%s, xml sha256=%s",
        built.profile,
        hashlib.sha256(pdf).hexdigest()[:16],
        hashlib.sha256(built.xml).hexdigest()[:16],
    )
    return bytes(out)
