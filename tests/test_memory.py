"""The supplier memory: taught once (by `dematflow learn` or a confirm), it reads the supplier's next
invoices at the places it learnt, per tenant, journalled, without touching the archive."""

from __future__ import annotations

import io
import json
import random
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from cli.sample_invoices import fake_siret
from extractors.fields import extract_fields
from extractors.memory import Layout, learn, merge, recall
from extractors.results import PageText
from pipeline import audit, journal, memory
from pipeline.context import Context, Services
from pipeline.inspect import read_document
from pipeline.records import Status
from pipeline.run import process
from pipeline.settings import Settings
from pipeline.stages.classify import load_capture
from pipeline.stages.extract import extract
from storage.base import sha256_hex
from tests.conftest import make_settings

SIRET = fake_siret(random.Random("memory-test"))


@dataclass(frozen=True)
class Odd:
    """An invoice of a supplier whose wordings the generic reader does not know."""

    number: str
    date: str  # as printed, dd/mm/yyyy
    ht: str
    tva: str
    ttc: str
    buyer: str = "Mairie de Testville"

    def pdf(self) -> bytes:
        buf = io.BytesIO()
        c = canvas.Canvas(buf, pagesize=A4)
        c.setFont("Helvetica-Bold", 14)
        c.drawString(50, 800, "Atelier Dupuis SARL")
        c.setFont("Helvetica", 10)
        c.drawString(50, 784, "12 rue des Lilas 35000 Rennes")
        c.drawString(50, 770, f"SIRET {SIRET[:3]} {SIRET[3:6]} {SIRET[6:9]} {SIRET[9:]}")
        c.drawString(360, 800, "FACTURE")
        c.drawString(360, 784, "Pièce comptable")
        c.drawString(470, 784, self.number)
        c.drawString(360, 770, "Date")
        c.drawString(470, 770, self.date)
        c.drawString(50, 720, "Destinataire")
        c.drawString(50, 706, self.buyer)
        c.drawString(50, 640, "Intervention sur site")
        c.drawRightString(540, 640, self.ht)
        c.drawString(360, 560, "Base")
        c.drawRightString(540, 560, self.ht)
        c.drawString(360, 546, "Taxe 20 %")
        c.drawRightString(540, 546, self.tva)
        c.drawString(360, 532, "Somme finale")
        c.drawRightString(540, 532, self.ttc)
        c.drawString(50, 480, "Paiement par virement sous 30 jours")
        c.save()
        return buf.getvalue()


FIRST = Odd("PC-88213", "04/03/2026", "1 200,00", "240,00", "1 440,00")
SECOND = Odd("PC-90077", "19/05/2026", "2 350,50", "470,10", "2 820,60", buyer="Collège Jules Ferry")


def _pages(services: Services, doc_id: str) -> Sequence[PageText]:
    doc = services.catalogue.get(doc_id)
    return load_capture(services.store.get(doc.objects["capture"].key)).pages


def _dematflow(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "--data-dir", str(settings.data_dir), *args],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def _archived(services: Services, doc_id: str) -> dict[str, str]:
    doc = services.catalogue.get(doc_id)
    return {
        role: sha256_hex(services.store.get(o.key)) for role, o in doc.objects.items() if role != "data-v2"
    }


def test_a_correction_teaches_the_layout_and_the_next_invoice_is_read_right(
    services: Services, settings: Settings
) -> None:
    # Given an invoice whose number and total the generic reader cannot find
    first = process(services, filename="a.pdf", data=FIRST.pdf()).document
    assert first.fields.get("BT-1") != "PC-88213" and first.status is Status.NEEDS_REVIEW
    before = _archived(services, first.id)
    # When a person corrects it once through `dematflow learn`
    done = _dematflow(settings, "learn", first.id, "BT-1=PC-88213", "BT-112=1 440,00", "BT-109=1200",
                      "BT-110=240", "BT-2=2026-03-04", "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["memory"]["supplier_key"] == f"siren:{SIRET[:9]}" and "BT-1" in answer["memory"]["fields"]
    # Then the archive is untouched, the correction is a new data version, the lesson is journalled
    assert _archived(services, first.id) == before
    corrected = services.catalogue.get(first.id)
    assert "data-v2" in corrected.objects and corrected.fields["BT-1"] == "PC-88213"
    entries = journal.entries(services.catalogue.engine, document_id=first.id)
    events = [(e.stage, e.action, e.body["detail"]) for e in entries]
    lesson = next(d for s, a, d in events if (s, a) == ("memory", "taught"))
    assert lesson["supplier_key"] == f"siren:{SIRET[:9]}" and lesson["actor"].startswith("cli:")
    assert "BT-1" in lesson["corrected"]
    assert audit.verify(services).ok
    # And the same supplier's next invoice, other values, is read right, more surely than before
    second = process(services, filename="b.pdf", data=SECOND.pdf()).document
    assert second.fields["BT-1"] == "PC-90077" and second.fields["BT-112"] == "2820.60"
    assert second.fields["BT-2"] == "2026-05-19" and second.fields["BT-44"] == "Collège Jules Ferry"
    assert second.confidence["BT-1"] > first.confidence.get("BT-1", 0.0)
    assert second.confidence["BT-112"] >= settings.review_threshold
    extract = next(e for e in journal.entries(services.catalogue.engine, document_id=second.id)
                   if e.stage == "extract")  # fmt: skip
    assert extract.body["detail"]["memory"]["used"] is True
    assert extract.body["detail"]["memory"]["supplier_key"] == f"siren:{SIRET[:9]}"
    # `extract --json` on the data directory reads with the same memory
    path = settings.data_dir / "c.pdf"
    path.write_bytes(SECOND.pdf())
    dry = _dematflow(settings, "extract", "--json", str(path))
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["fields"]["BT-1"] == "PC-90077"


def test_the_memory_is_per_tenant(services: Services, settings: Settings) -> None:
    first = process(services, filename="a.pdf", data=FIRST.pdf()).document
    fields = {**first.fields, "BT-1": "PC-88213", "BT-112": "1440.00"}
    assert memory.teach(services, first.id, fields, "test") is not None
    mine = read_document(settings, filename="b.pdf", data=SECOND.pdf(), until="extract")
    other = read_document(settings, filename="b.pdf", data=SECOND.pdf(), until="extract", tenant="supplier:x")
    assert mine.fields["BT-1"] == "PC-90077"
    assert other.fields.get("BT-1") != "PC-90077"  # another tenant's reader knows nothing of it
    assert memory.export_memory(services.catalogue.engine, "supplier:x")["suppliers"] == []


def test_export_then_import_gives_a_new_site_what_was_learnt(
    services: Services, settings: Settings, tmp_path: Path, dev_keys: Path
) -> None:
    first = process(services, filename="a.pdf", data=FIRST.pdf()).document
    assert _dematflow(settings, "learn", first.id, "BT-1=PC-88213", "BT-112=1440.00").returncode == 0
    exported = tmp_path / "memory.json"
    done = _dematflow(settings, "learn", "--export", str(exported))
    assert done.returncode == 0, done.stderr
    data = json.loads(exported.read_text())
    assert [s["supplier_key"] for s in data["suppliers"]] == [f"siren:{SIRET[:9]}"]
    # A new site (another data directory) imports it and reads the supplier's invoices right at once
    site = make_settings(tmp_path / "site", dev_keys)
    imported = _dematflow(site, "learn", "--import", str(exported))
    assert imported.returncode == 0, imported.stderr
    site_memory = memory.memory_of(site)
    assert site_memory is not None
    assert (
        memory.export_memory(site_memory.engine, "org")["suppliers"][0]["layout"]
        == data["suppliers"][0]["layout"]
    )
    assert any(e.action == "imported" for e in journal.entries(site_memory.engine))
    assert (
        read_document(site, filename="b.pdf", data=SECOND.pdf(), until="extract").fields["BT-1"] == "PC-90077"
    )
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "autre"}')
    refused = _dematflow(site, "learn", "--import", str(bad))
    assert refused.returncode == 7 and "export" in refused.stderr


class _Remembers:
    """A memory that knows one layout (the Context's look-up protocol, without a catalogue)."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout

    def layout_for(self, tenant: str, pages: Sequence[PageText]) -> Layout | None:
        return self.layout


def test_a_disagreement_sends_the_document_to_review(services: Services, settings: Settings) -> None:
    first = process(services, filename="a.pdf", data=FIRST.pdf()).document
    pages = _pages(services, first.id)
    generic = extract_fields(pages)
    assert generic.values["BT-27"] == "Atelier Dupuis SARL"
    # Given a memory that learnt a wrong place for the seller's name, and did not learn it by a
    # correction of the generic reader (so it is not trusted over it)
    taught = learn(pages, {"BT-27": "Paiement par virement sous 30 jours", "BT-44": "Mairie de Testville"})
    wrong = Layout(taught.key, tuple(replace(x, corrected=False) for x in taught.lessons), taught.fingerprint)
    remembered = recall(wrong, pages)
    merged, doubts = merge(generic, remembered, trusted=wrong.trusted)
    assert doubts == ("BT-27",) and merged.confidence["BT-27"] < settings.review_threshold
    assert merged.confidence["BT-44"] >= 0.97  # agreement raises the confidence
    # When the extract stage reads with it, the field is in doubt and the journal says why
    doc = services.catalogue.get(first.id)
    result = extract(Context(settings, services.store, memory=_Remembers(wrong)), doc)
    assert "BT-27" in result.document.review
    assert result.document.confidence["BT-27"] < settings.review_threshold
    assert result.event.detail["memory"] == {
        "used": True, "supplier_key": wrong.key, "fields": ["BT-27", "BT-44"], "disagreements": ["BT-27"],
    }  # fmt: skip


def test_learn_refuses_what_it_cannot_teach(services: Services, settings: Settings) -> None:
    first = process(services, filename="a.pdf", data=FIRST.pdf()).document
    assert _dematflow(settings, "learn", first.id).returncode == 7  # neither corrections nor --confirm
    assert _dematflow(settings, "learn", first.id, "BT-1").returncode == 7
    assert _dematflow(settings, "learn", "nope", "--confirm").returncode == 5
    confirmed = _dematflow(settings, "learn", "--confirm", first.id, "--json")
    assert confirmed.returncode == 0, confirmed.stderr
    assert services.catalogue.get(first.id).status is not Status.NEEDS_REVIEW
