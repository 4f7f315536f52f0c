"""PDF-level Factur-X checks and hostile-PDF detection on real corpus files and PDFs built here."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Callable
from functools import cache

import pytest
from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NumberObject,
    PdfObject,
    TextStringObject,
)
from reportlab.pdfgen import canvas

from cli.samples import demo_invoices, facturx_pdf
from dematflow.errors import CorruptInput, EncryptedInput, HostileInput
from extractors.pdfinspect import PdfFacts, inspect_pdf
from tests.corpus import CORPUS, needs_corpus
from validators.pdfchecks import CHECK_NAMES, check_facturx_pdf, normalise_profile
from validators.report import BLOCKING, Finding, Severity

FNFE_EN16931 = "mustangproject/validator-test/Facture_F20180027.pdf"
ZUGFERD_2 = "zugferd-corpus/ZUGFeRDv2/correct/intarsys/EN16931/zugferd_2p0_EN16931_Einfach.pdf"
XRECHNUNG_UNDER_EN16931 = (
    "zugferd-corpus/ZUGFeRDv2/correct/symtrax/Beispiele/EN16931/"
    "zugferd_2p1_EN16931_Betriebskostenabrechnung_XRechnung_embedded.pdf"
)
PDFA4 = "mustangproject/library-test/EXTENDED_Fremdwaehrung_wdis_fx-pdfa4.pdf"
BAD_XMP_LEVEL = "mustangproject/validator-test/invalidXMP.pdf"


@cache
def demo_facturx() -> bytes:
    return facturx_pdf(demo_invoices()[0])


def corpus(relative: str) -> bytes:
    return (CORPUS / relative).read_bytes()


def run(facts: PdfFacts, *, name: str = "factur-x.xml", profile: str | None = "EN16931") -> list[Finding]:
    findings, checked = check_facturx_pdf(facts, xml_filename=name, xml_profile=profile)
    assert checked == CHECK_NAMES
    return findings


def blocking(findings: list[Finding]) -> set[str]:
    return {f.rule for f in findings if f.severity in BLOCKING}


def tampered(pdf: bytes, change: Callable[[PdfWriter], None]) -> bytes:
    writer = PdfWriter(clone_from=io.BytesIO(pdf))
    change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def plain_pdf() -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, "Facture 2026-001")
    page.showPage()
    page.save()
    return buffer.getvalue()


def register(writer: PdfWriter, obj: PdfObject) -> IndirectObject:
    # pypdf has no public way to add a free-standing indirect object (streams, cycles) to a writer.
    return writer._add_object(obj)


def action(kind: str, **entries: str) -> DictionaryObject:
    d = DictionaryObject({NameObject("/S"): NameObject(f"/{kind}")})
    for key, value in entries.items():
        d[NameObject(f"/{key}")] = TextStringObject(value)
    return d


def link_annotation(writer: PdfWriter, act: DictionaryObject, *, key: str = "/A") -> None:
    annot = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/Link"),
            NameObject("/Rect"): ArrayObject([NumberObject(0), NumberObject(0)] * 2),
            NameObject(key): act if key == "/A" else DictionaryObject({NameObject("/U"): act}),
        }
    )
    writer.pages[0][NameObject("/Annots")] = ArrayObject([register(writer, annot)])


# --- the demo and real corpus files -------------------------------------------------------------------


def test_demo_facturx_passes_every_check() -> None:
    facts = inspect_pdf(demo_facturx())
    assert facts.pdfa_part == "3" and facts.xmp_fx_level == "EN 16931"
    assert run(facts) == []


@needs_corpus
@pytest.mark.parametrize("relative", [FNFE_EN16931, ZUGFERD_2])
def test_real_factur_x_and_zugferd_2_pass(relative: str) -> None:
    # Given a Factur-X 1.0 (FNFE) and a ZUGFeRD 2.0 file whose XMP uses the attribute syntax
    facts = inspect_pdf(corpus(relative))
    name = "factur-x.xml" if relative == FNFE_EN16931 else "zugferd-invoice.xml"
    # Then every fact is read and no check complains
    assert facts.xmp_fx_level is not None and normalise_profile(facts.xmp_fx_level) == "EN16931"
    assert facts.xmp_fx_document_file_name == name
    assert not [f for f in run(facts, name=name) if f.severity is not Severity.INFO]


@needs_corpus
def test_xrechnung_xml_under_en16931_xmp_is_a_warning() -> None:
    findings = run(inspect_pdf(corpus(XRECHNUNG_UNDER_EN16931)), profile="XRECHNUNG")
    mismatch = [f for f in findings if f.rule == "FX-XMP-PROFILE"]
    assert [f.severity for f in mismatch] == [Severity.WARNING]
    assert "'EN 16931'" in mismatch[0].message and "'XRECHNUNG'" in mismatch[0].message


@needs_corpus
def test_pdfa4_is_accepted_with_an_info() -> None:
    facts = inspect_pdf(corpus(PDFA4))
    findings = run(facts, profile="EXTENDED")
    assert (facts.pdfa_part, facts.pdfa_conformance) == ("4", "F")
    assert blocking(findings) == set()
    assert Finding("PDFA-PART", Severity.INFO, findings[0].message, "XMP pdfaid:part") in findings


@needs_corpus
def test_unknown_xmp_level_is_an_error() -> None:
    findings = run(inspect_pdf(corpus(BAD_XMP_LEVEL)))
    assert "FX-XMP-PROFILE" in blocking(findings)
    assert any("'no thing'" in f.message for f in findings)


def test_xmp_profile_differing_from_the_xml_is_an_error() -> None:
    facts = dataclasses.replace(inspect_pdf(demo_facturx()), xmp_fx_level="BASIC WL")
    [finding] = run(facts)
    assert (finding.rule, finding.severity) == ("FX-XMP-PROFILE", Severity.ERROR)
    assert "'BASIC WL'" in finding.message and "'EN16931'" in finding.message


@pytest.mark.parametrize(
    ("spelling", "level"),
    [("EN 16931", "EN16931"), ("comfort", "EN16931"), ("BASIC-WL", "BASIC WL"), ("Extended", "EXTENDED")],
)
def test_profile_spellings_are_normalised(spelling: str, level: str) -> None:
    assert normalise_profile(spelling) == level


# --- attachments and XMP built here -------------------------------------------------------------------


def test_xml_attached_without_af_array() -> None:
    pdf = tampered(demo_facturx(), lambda w: w.root_object.pop("/AF"))
    facts = inspect_pdf(pdf)
    assert facts.catalog_af == () and [f.name for f in facts.embedded_files] == ["factur-x.xml"]
    assert blocking(run(facts)) == {"FX-AF-ARRAY"}


def test_xml_attached_by_plain_pypdf_has_no_relationship() -> None:
    def attach(writer: PdfWriter) -> None:
        writer.add_attachment("factur-x.xml", b"<rsm:CrossIndustryInvoice/>")

    facts = inspect_pdf(tampered(plain_pdf(), attach))
    assert facts.embedded_files[0].af_relationship is None
    assert {"FX-AF-RELATIONSHIP", "FX-AF-ARRAY", "PDFA-PART"} <= blocking(run(facts))


def test_plain_pdf_fails_pdfa_and_attachment_and_warns_on_xmp() -> None:
    findings = run(inspect_pdf(plain_pdf()))
    assert blocking(findings) == {"PDFA-PART", "FX-AF-RELATIONSHIP"}
    assert {(f.rule, f.severity) for f in findings} >= {("FX-XMP-MISSING", Severity.WARNING)}


def test_xmp_with_an_entity_declaration_is_refused() -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'

    def set_xmp(writer: PdfWriter) -> None:
        stream = DecodedStreamObject()
        stream.set_data(bomb)
        writer.root_object[NameObject("/Metadata")] = register(writer, stream)

    with pytest.raises(HostileInput):
        inspect_pdf(tampered(plain_pdf(), set_xmp))


# --- active content -----------------------------------------------------------------------------------


def test_open_action_javascript_is_an_error() -> None:
    def add(writer: PdfWriter) -> None:
        writer.root_object[NameObject("/OpenAction")] = action("JavaScript", JS="app.alert(1)")

    findings = run(inspect_pdf(tampered(demo_facturx(), add)))
    assert blocking(findings) == {"PDF-JAVASCRIPT"}


@pytest.mark.parametrize("place", ["names", "field"])
def test_document_and_form_field_javascript_is_found(place: str) -> None:
    script = action("JavaScript", JS="app.alert(2)")

    def add(writer: PdfWriter) -> None:
        if place == "names":  # the document-level /Names /JavaScript tree, run on open
            tree = DictionaryObject({NameObject("/Names"): ArrayObject([TextStringObject("x"), script])})
            writer.root_object[NameObject("/Names")] = DictionaryObject({NameObject("/JavaScript"): tree})
        else:  # a keystroke action on a form field
            aa = DictionaryObject({NameObject("/K"): script})
            field = DictionaryObject({NameObject("/FT"): NameObject("/Tx"), NameObject("/AA"): aa})
            form = DictionaryObject({NameObject("/Fields"): ArrayObject([register(writer, field)])})
            writer.root_object[NameObject("/AcroForm")] = form

    assert inspect_pdf(tampered(plain_pdf(), add)).has_javascript


def test_launch_action_in_an_annotation_is_fatal() -> None:
    pdf = tampered(demo_facturx(), lambda w: link_annotation(w, action("Launch", F="cmd.exe")))
    [finding] = run(inspect_pdf(pdf))
    assert (finding.rule, finding.severity) == ("PDF-LAUNCH", Severity.FATAL)


def test_remote_actions_warn_and_links_are_counted() -> None:
    def add(writer: PdfWriter) -> None:
        submit = action("SubmitForm", F="https://example.invalid/collect")
        submit[NameObject("/Next")] = action("URI", URI="https://example.invalid/")
        link_annotation(writer, submit, key="/AA")

    facts = inspect_pdf(tampered(plain_pdf(), add))
    assert (facts.has_external_refs, facts.uri_count, facts.has_javascript) == (True, 1, False)
    rules = {(f.rule, f.severity) for f in check_active(facts)}
    assert rules == {("PDF-EXTERNAL", Severity.WARNING), ("PDF-URI", Severity.INFO)}


def check_active(facts: PdfFacts) -> list[Finding]:
    return [f for f in run(facts) if f.rule.startswith("PDF-") and f.rule != "PDF-ENCRYPTED"]


def test_cyclic_actions_terminate_and_the_object_cap_holds() -> None:
    # Given an action chain whose /Next points back to itself
    def add(writer: PdfWriter) -> None:
        loop = action("URI", URI="https://example.invalid/")
        ref = register(writer, loop)
        loop[NameObject("/Next")] = ref
        writer.root_object[NameObject("/OpenAction")] = ref

    pdf = tampered(plain_pdf(), add)
    assert inspect_pdf(pdf).uri_count == 1
    # When the walk is capped below the object count, the file cannot be accepted
    capped = inspect_pdf(pdf, max_objects=2)
    assert not capped.walk_complete
    assert "PDF-TOO-COMPLEX" in blocking(check_active(capped))


# --- unreadable input ---------------------------------------------------------------------------------


def test_password_protected_pdf_is_encrypted_input() -> None:
    pdf = tampered(plain_pdf(), lambda w: w.encrypt(user_password="secret", algorithm="AES-128"))
    with pytest.raises(EncryptedInput):
        inspect_pdf(pdf)


def test_empty_password_encryption_is_read_but_flagged() -> None:
    pdf = tampered(demo_facturx(), lambda w: w.encrypt(user_password="", owner_password="o"))
    facts = inspect_pdf(pdf)
    assert facts.encrypted and facts.xmp_fx_level == "EN 16931"
    assert "PDF-ENCRYPTED" in blocking(run(facts))


@pytest.mark.parametrize("data", [b"%PDF-1.7\n garbage", b"not a pdf at all", b""])
def test_garbage_is_corrupt_input(data: bytes) -> None:
    with pytest.raises(CorruptInput):
        inspect_pdf(data)


def test_truncated_facturx_is_corrupt_input() -> None:
    with pytest.raises(CorruptInput):
        inspect_pdf(demo_facturx()[:400])
