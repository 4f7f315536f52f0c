"""Reading e-invoices: safe XML parsing, PDF attachments, CII/UBL fields on real corpus files."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from reportlab.pdfgen import canvas

from dematflow.errors import (
    CorruptInput,
    EmptyInput,
    HostileInput,
    OversizedInput,
    UnsupportedInput,
)
from extractors.einvoice import flavor_and_profile, parse_invoice_xml, sniff_syntax
from extractors.facturx import find_embedded_xml, xmp_profile
from extractors.safexml import parse_xml, read_xml
from tests.corpus import CORPUS, needs_corpus


def corpus(relative: str) -> bytes:
    return (CORPUS / relative).read_bytes()


def embedded(relative: str) -> bytes:
    found = find_embedded_xml(corpus(relative))
    assert found is not None
    return found.xml


def plain_pdf() -> bytes:
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf)
    pdf.drawString(72, 720, "Facture 42 - total 120,00 EUR")
    pdf.save()
    return buf.getvalue()


# --- safe XML ----------------------------------------------------------------


def test_xxe_is_refused_and_nothing_is_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    payload = (f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret}">]><r>&x;</r>').encode()
    with pytest.raises(HostileInput) as err:
        parse_xml(payload)
    assert "TOP-SECRET" not in err.value.message


def test_billion_laughs_is_refused_in_utf8_and_utf16() -> None:
    lol = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    text = f'<!DOCTYPE r [<!ENTITY l0 "lol">{lol}]><r>&l9;</r>'
    with pytest.raises(HostileInput):
        parse_xml(('<?xml version="1.0"?>' + text).encode())
    with pytest.raises(HostileInput):
        parse_xml(('<?xml version="1.0" encoding="UTF-16"?>' + text).encode("utf-16"))


def test_external_dtd_is_not_loaded() -> None:
    root = parse_xml(b'<!DOCTYPE r SYSTEM "http://127.0.0.1:9/evil.dtd"><r>ok</r>')
    assert root.text == "ok"


def test_bom_and_wrong_encoding_declarations_are_coped_with() -> None:
    assert parse_xml(b'\xef\xbb\xbf<?xml version="1.0" encoding="UTF-8"?><r>\xc3\xa9</r>').text == "é"
    unknown = read_xml(b'<?xml version="1.0" encoding="UTF-8-W/O-BOM"?><r>\xc3\xa9</r>')
    assert unknown.root.text == "é" and "utf-8-w/o-bom" in unknown.repairs[0]
    latin1_said_utf8 = read_xml(b'<?xml version="1.0" encoding="UTF-8"?><r>caf\xe9</r>')
    assert latin1_said_utf8.root.text == "café" and latin1_said_utf8.repairs
    utf8_said_latin1 = read_xml(b'<?xml version="1.0" encoding="ISO-8859-1"?><r>\xc3\xa9</r>')
    assert utf8_said_latin1.root.text == "é"


def test_bad_xml_inputs_raise_input_errors() -> None:
    with pytest.raises(EmptyInput):
        parse_xml(b"")
    with pytest.raises(OversizedInput):
        parse_xml(b"<r>" + b"x" * 100 + b"</r>", max_bytes=50)
    with pytest.raises(CorruptInput):
        parse_xml(b"<r><a></r>")


# --- PDF attachments ----------------------------------------------------------------


def test_plain_pdf_has_no_embedded_xml_and_garbage_is_corrupt() -> None:
    assert find_embedded_xml(plain_pdf()) is None
    with pytest.raises(CorruptInput):
        find_embedded_xml(b"%PDF-1.7\nthis is not a PDF at all")


@needs_corpus
def test_embedded_xml_and_xmp_profile() -> None:
    pdf = corpus("zugferd-corpus/ZUGFeRDv2/correct/FNFE-factur-x-examples/Facture_FR_BASICWL.pdf")
    found = find_embedded_xml(pdf)
    assert found is not None and found.filename == "factur-x.xml"
    assert found.xml.lstrip().startswith(b"<?xml")
    assert xmp_profile(pdf) == "BASIC WL"
    zf1 = corpus("zugferd-corpus/ZUGFeRDv1/correct/Intarsys/ZUGFeRD_1p0_BASIC_Einfach.pdf")
    found_zf1 = find_embedded_xml(zf1)
    assert found_zf1 is not None and found_zf1.filename == "ZUGFeRD-invoice.xml"


@needs_corpus
def test_unparseable_attachment_is_still_found_by_the_fallback_scan() -> None:
    # The factur-x library skips it (bad encoding declaration); our scan of attachments does not.
    pdf = corpus("zugferd-corpus/ZUGFeRDv2/fail/Mustangproject/factur-x-invalid-xml-encoding-attribute.pdf")
    found = find_embedded_xml(pdf)
    assert found is not None and found.filename == "factur-x.xml"


# --- fields ----------------------------------------------------------------


@needs_corpus
def test_facturx_en16931_pdf_with_bom() -> None:
    inv = parse_invoice_xml(embedded("factur-x-python/pdf/invoice_EN16931.pdf"))
    assert (inv.syntax, inv.flavor, inv.profile) == ("CII", "factur-x", "EN16931")
    assert inv.guideline_id == "urn:cen.eu:en16931:2017"
    v = inv.fields.values
    assert v["BT-1"] == "F20260023" and v["BT-2"] == "2026-01-31" and v["BT-9"] == "2026-03-02"
    assert (v["BT-3"], v["BT-5"], v["BT-27"], v["BT-44"]) == (
        "380",
        "EUR",
        "LE FOURNISSEUR",
        "LE CLIENT",
    )
    assert (v["BT-30"], v["BT-31"]) == ("123456782", "FR11123456782")
    assert v["BT-84"] == "FR2012542547256985425874698"
    assert (v["BT-106"], v["BT-109"], v["BT-110"], v["BT-112"], v["BT-115"]) == (
        "95.00",
        "100.00",
        "4.90",
        "104.90",
        "104.90",
    )
    assert inv.line_net_amounts == ("60.00", "28.00", "7.00")
    assert set(inv.fields.confidence.values()) == {1.0}


@needs_corpus
def test_basic_wl_and_minimum() -> None:
    base = "zugferd-corpus/ZUGFeRDv2/correct/FNFE-factur-x-examples/"
    wl = parse_invoice_xml(embedded(base + "Facture_FR_BASICWL.pdf"))
    assert (wl.flavor, wl.profile) == ("factur-x", "BASIC WL")
    assert wl.fields.values["BT-30"] == "99999999800010"
    assert wl.fields.values["BT-113"] == "201.00" and wl.line_net_amounts == ()
    mini = parse_invoice_xml(embedded(base + "Facture_FR_MINIMUM.pdf"))
    assert (mini.flavor, mini.profile) == ("factur-x", "MINIMUM")
    assert mini.fields.values["BT-112"] == "671.15" and "BT-106" not in mini.fields.values


@needs_corpus
def test_zugferd_2_and_1_pdfs() -> None:
    zf2 = parse_invoice_xml(
        embedded("zugferd-corpus/ZUGFeRDv2/correct/intarsys/BASIC/zugferd_2p0_BASIC_Einfach.pdf")
    )
    assert (zf2.syntax, zf2.flavor, zf2.profile) == ("CII", "zugferd", "BASIC")
    assert zf2.fields.values["BT-31"].startswith("DE")
    zf1 = parse_invoice_xml(corpus("factur-x-python/xml/zugferd-comfort.xml"))
    assert (zf1.syntax, zf1.flavor, zf1.profile) == ("CII", "zugferd", "EN16931")
    assert zf1.fields.values["BT-2"] == "2013-03-05" and zf1.fields.values["BT-112"] == "529.87"
    assert zf1.line_net_amounts == ("198.00", "275.00")


@needs_corpus
def test_cii_xml() -> None:
    inv = parse_invoice_xml(corpus("en16931-cen/cii/examples/CII_example1.xml"))
    v = inv.fields.values
    assert (inv.syntax, v["BT-1"], v["BT-40"], v["BT-30"]) == ("CII", "12115118", "NL", "57151520")
    assert v["BT-84"] == "NL57RABO0107307510" and len(inv.line_net_amounts) == 20


@needs_corpus
def test_ubl_invoice_and_credit_note() -> None:
    inv = parse_invoice_xml(corpus("en16931-cen/ubl/examples/ubl-tc434-example1.xml"))
    assert (inv.syntax, inv.flavor, inv.profile) == ("UBL", "ubl", "EN16931")
    v = inv.fields.values
    assert (v["BT-1"], v["BT-2"], v["BT-9"], v["BT-3"]) == (
        "12115118",
        "2015-01-09",
        "2015-01-09",
        "380",
    )
    assert (v["BT-109"], v["BT-110"], v["BT-112"]) == ("229.60", "20.73", "250.33")
    cn = parse_invoice_xml(corpus("en16931-cen/ubl/examples/ubl-tc434-creditnote1.xml"))
    assert cn.fields.values["BT-3"] == "381" and cn.fields.values["BT-31"] == "BE0000000196"
    assert cn.line_net_amounts == ("100.11",)
    xr = parse_invoice_xml(corpus("xrechnung-testsuite/business-cases/standard/01.01a-INVOICE_ubl.xml"))
    assert (xr.syntax, xr.flavor, xr.profile) == ("UBL", "xrechnung", "XRECHNUNG")


@needs_corpus
def test_sniff_and_non_invoices() -> None:
    assert sniff_syntax(corpus("en16931-cen/cii/examples/CII_example1.xml")) == "CII"
    assert sniff_syntax(corpus("factur-x-python/xml/zugferd-basic.xml")) == "CII"
    assert sniff_syntax(corpus("en16931-cen/ubl/examples/ubl-tc434-creditnote1.xml")) == "UBL"
    assert sniff_syntax(corpus("factur-x-python/xml/order-x-basic.xml")) is None
    assert sniff_syntax(b"not xml") is None
    with pytest.raises(UnsupportedInput):
        parse_invoice_xml(corpus("factur-x-python/xml/order-x-basic.xml"))


@pytest.mark.parametrize(
    ("guideline", "syntax", "expected"),
    [
        (
            "urn:cen.eu:en16931:2017#compliant#urn:factur-x.eu:1p0:basic",
            "CII",
            ("factur-x", "BASIC"),
        ),
        ("urn:cen.eu:en16931:2017", "CII", ("factur-x", "EN16931")),
        (
            "urn:cen.eu:en16931:2017#conformant#urn:factur-x.eu:1p0:extended",
            "CII",
            ("factur-x", "EXTENDED"),
        ),
        ("urn:factur-x.eu:1p0:minimum", "CII", ("factur-x", "MINIMUM")),
        ("urn:factur-x.eu:1p0:basicwl", "CII", ("factur-x", "BASIC WL")),
        ("urn:zugferd.de:2p0:minimum", "CII", ("zugferd", "MINIMUM")),
        (
            "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0",
            "CII",
            ("xrechnung", "XRECHNUNG"),
        ),
        (
            "urn:cen.eu:en16931:2017#conformant#urn.cpro.gouv.fr:1p0:extended-ctc-fr",
            "UBL",
            ("ubl", "EXTENDED-CTC-FR"),
        ),
        (
            "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0",
            "UBL",
            ("ubl", "EN16931"),
        ),
        ("urn:ferd:CrossIndustryDocument:invoice:1p0:extended", "CII", ("zugferd", "EXTENDED")),
        (None, "CII", ("cii", None)),
    ],
)
def test_flavor_and_profile(guideline: str | None, syntax: str, expected: tuple[str, str]) -> None:
    assert flavor_and_profile(guideline, syntax=syntax) == expected


@needs_corpus
def test_several_payment_terms_give_the_earliest_due_date() -> None:
    # EXTENDED lists "Zahlbar mit 2% Skonto bis 14.12." after "ohne Abschlag bis 31.12."
    xml = embedded("mustangproject/library-test/EXTENDED_Fremdwaehrung_wdis_fx-pdfa4.pdf")
    assert parse_invoice_xml(xml).fields.values["BT-9"] == "2025-12-14"
