"""The auditor's pages: search the archive, one document with its complete journal, « Vérifier » (OK on an
intact document, ÉCHEC once an archived object's bytes are changed on disk), the evidence bundle, who may
see them, and the trail of who looked at what. One real-browser run checks them against WCAG 2.1 A/AA."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api import audit_pages
from api.app import create_app
from api.settings import ApiSettings
from cli.samples import Sample
from pipeline import access, accounts, daybook, journal, verify_document
from pipeline.accounts import Role
from pipeline.context import Services, open_services
from pipeline.records import Document
from pipeline.run import process, run_stages
from tests.api_server import Server, start_server
from tests.conftest import make_settings, sample
from tests.test_portal import PASSWORD, Tab, browser  # noqa: F401 (the module's browser fixture)

pytestmark = pytest.mark.timeout(300)
SIREN = "552100554"


@dataclass(frozen=True)
class Archive:
    services: Services
    app: Any
    facturx: Document  # left intact
    plain: Document  # its original is tampered with by one test
    other: Document  # another tenant's (a supplier's) document


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory, dev_keys: Path, demo_set: list[Sample]) -> Archive:
    settings = make_settings(tmp_path_factory.mktemp("audit"), dev_keys)
    services = open_services(settings)
    engine = services.catalogue.engine
    for role, name, ids in (
        (Role.AUDITOR, "audrey", ()),
        (Role.AGENT, "alice", ()),
        (Role.SUPPLIER, "fournisseur", (SIREN,)),
    ):
        accounts.add(engine, role=role, name=name, identifiers=ids, password=PASSWORD)
    docs = [
        process(services, filename=s.path.name, data=s.path.read_bytes()).document
        for s in (sample(demo_set, "facture-facturx"), sample(demo_set, "facture-FA"))
    ]
    supplier = accounts.find(engine, "fournisseur")
    deposit = access.deposit(services, filename="autre.pdf", data=_other_bytes(demo_set), account=supplier)
    other = run_stages(services, deposit.receipt).document
    app = create_app(settings, ApiSettings.from_env({}))
    return Archive(services, app, docs[0], docs[1], other)


def _other_bytes(demo_set: list[Sample]) -> bytes:
    return sample(demo_set, "facture-FA").path.read_bytes() + b"\n% another copy\n"  # its own original


@pytest.fixture
def client(archive: Archive) -> Iterator[TestClient]:
    with TestClient(archive.app, base_url="https://testserver") as c:
        yield c


def sign_in(client: TestClient, name: str) -> str:
    """Sign in through the portal's form; the session's CSRF token."""
    page = client.get("/portail/connexion")
    csrf = _csrf(page.text)
    done = client.post(
        "/portail/connexion", data={"name": name, "secret": PASSWORD, "csrf": csrf}, follow_redirects=False
    )
    assert done.status_code == 303, done.text
    return _csrf(client.get("/portail/audit").text) if name != "fournisseur" else csrf


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


def _trail(archive: Archive, action: str, document_id: str | None = None) -> list[journal.Entry]:
    return [
        e
        for e in journal.entries(archive.services.catalogue.engine, document_id=document_id)
        if (e.stage, e.action) == ("access", action) or (e.stage, action) == ("evidence", e.action)
    ]


def test_search_form_results_and_cursor(archive: Archive, client: TestClient, monkeypatch: Any) -> None:
    sign_in(client, "audrey")
    page = client.get("/portail/audit")
    assert page.status_code == 200
    for label in ("SIREN du vendeur", "Numéro de facture (BT-1)", "Émise à partir du", "Montant TTC minimum",
                  "Statut du cycle de vie", "Classe du document", "Locataire", "Texte lu"):  # fmt: skip
        assert label in page.text
    assert 'href="/portail/audit"' in page.text and 'aria-current="page"' in page.text  # the nav link
    # An auditor sees every tenant's documents
    assert {archive.facturx.id, archive.plain.id, archive.other.id} <= set(
        re.findall(r"documents/([0-9a-f]{32})", page.text)
    )
    number = archive.facturx.fields["BT-1"]
    found = client.get("/portail/audit", params={"numero": number, "min": "1", "siren": "12"})
    assert re.findall(r"/portail/audit/documents/([0-9a-f]{32})", found.text) == [archive.facturx.id]
    assert "Critère ignoré, valeur invalide : siren" in found.text  # the rest still applies
    fragment = client.get("/portail/audit", params={"numero": number}, headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<div id="tableau"') and "<html" not in fragment.text
    none = client.get("/portail/audit", params={"texte": "introuvablexyz"})
    assert "Aucun document ne répond à ces critères." in none.text
    # Cursor paging: « Page suivante » carries the criteria on
    monkeypatch.setattr(audit_pages, "PAGE", 1)
    first = client.get("/portail/audit", params={"classe": "invoice"})
    following = re.search(r'href="(/portail/audit\?[^"]*curseur=[^"]+)">Page suivante', first.text)
    assert following, first.text
    second = client.get(following.group(1).replace("&amp;", "&"))
    ids = [re.findall(r"/portail/audit/documents/([0-9a-f]{32})", p.text) for p in (first, second)]
    assert len(ids[0]) == len(ids[1]) == 1 and ids[0] != ids[1]
    assert "classe=invoice" in following.group(1)


def test_document_page_shows_pages_fields_objects_and_the_timeline(
    archive: Archive, client: TestClient
) -> None:
    sign_in(client, "audrey")
    doc = archive.facturx
    page = client.get(f"/portail/audit/documents/{doc.id}")
    assert page.status_code == 200
    html = unescape(page.text)
    assert f"/api/v1/documents/{doc.id}/pages/1.png?width=" in html
    assert "Invoice number" in html and "Numéro de facture" in html and doc.fields["BT-1"] in html
    for role, obj in doc.objects.items():
        assert obj.key in html and f'title="{obj.sha256}"' in html
        assert f"/api/v1/documents/{doc.id}/files/{role}" in html
    assert "Conservé jusqu'au" in html and "Gel juridique" in html
    for words in ("Fichier reçu et conservé tel quel", "Copie scellée (cachet électronique horodaté)",
                  "Archivé avec sa durée de conservation", "Statut du cycle de vie émis",
                  "dematflow (traitement automatique)"):  # fmt: skip
        assert words in html, words
    sealed = next(e for e in journal.entries(archive.services.catalogue.engine, document_id=doc.id)
                  if e.stage == "seal")  # fmt: skip
    assert f'title="{sealed.hash}"' in html and f"{sealed.hash[:12]}…" in html
    assert f"/api/v1/documents/{doc.id}/evidence" in html
    # The seal's status, validated for this page: in words, a B-T development seal has no DSS
    assert _text(html).count(
        "Scellé : intact · approuvé · horodaté · validation à long terme incomplète"
    ) == 1, _text(html)  # fmt: skip
    assert "aucune donnée de validation (DSS) dans le PDF" in html
    # Read-only: no decision of the review desk here
    assert "/decision" not in html and "/claim" not in html
    # In English too
    english = client.get(f"/portail/audit/documents/{doc.id}", params={"lang": "en"}).text
    assert "Full history (journal)" in english and "File received and kept as is" in english
    assert "Sealed : intact · trusted · timestamped · long-term validation incomplete" in _text(english)


def _text(html: str) -> str:
    """The page's words as read aloud: tags dropped, spaces squeezed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_verify_is_ok_on_an_intact_document_and_journalled(archive: Archive, client: TestClient) -> None:
    csrf = sign_in(client, "audrey")
    doc = archive.facturx
    url = f"/portail/audit/documents/{doc.id}/verifier"
    assert client.post(url, data={"csrf": "faux"}).status_code == 403
    # Without JavaScript: the whole page, with the result
    page = client.post(url, data={"csrf": csrf})
    assert page.status_code == 200 and "<h1>" in page.text
    checks = re.findall(r'<tr class="check-([a-z_]+)">\s*<th scope="row">([^<]+)</th>', page.text)
    assert [(outcome, unescape(name)) for outcome, name in checks] == [
        ("ok", "Empreintes des objets archivés"),
        ("ok", "Chaîne du journal"),
        ("not_checked", "Scellements quotidiens du journal"),  # today is not sealed yet: never « OK »
        ("ok", "Cachet de la copie scellée"),
    ]
    assert "ÉCHEC" not in page.text
    assert "jour pas encore scellé" in page.text
    # With htmx: the result alone
    fragment = client.post(url, data={"csrf": csrf}, headers={"HX-Request": "true"})
    assert (
        fragment.status_code == 200
        and "<h1>" not in fragment.text
        and "Empreintes des objets" in fragment.text
    )
    verified = _trail(archive, "verified", doc.id)
    audrey = accounts.find(archive.services.catalogue.engine, "audrey")
    assert len(verified) == 2 and verified[-1].body["detail"]["account"] == audrey.id
    assert verified[-1].body["detail"]["checks"] == {
        "objects": "ok", "journal": "ok", "days": "not_checked", "seal": "ok"
    }  # fmt: skip


def test_verify_fails_once_an_archived_object_is_changed_on_disk(
    archive: Archive, client: TestClient
) -> None:
    csrf = sign_in(client, "audrey")
    doc = archive.plain
    # Given the kept original's bytes changed in the filesystem archive (one byte, outside dematflow)
    path = archive.services.settings.data_dir / "archive" / doc.objects["original"].key
    assert path.is_file(), path
    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    # When the auditor verifies it
    page = client.post(f"/portail/audit/documents/{doc.id}/verifier", data={"csrf": csrf})
    # Then the objects and the seal fail, with their reasons; the journal chain still holds
    html = unescape(page.text)
    assert "ÉCHEC : au moins un contrôle a échoué." in html
    assert "contenu modifié : l'empreinte recalculée diffère de celle du journal" in html
    assert doc.objects["original"].key in html
    assert "la copie scellée ne commence pas par le fichier reçu" in html
    result = verify_document.verify(archive.services, doc.id)
    outcomes = {c.name: c.outcome.value for c in result.checks}
    assert outcomes == {"objects": "failed", "journal": "ok", "days": "not_checked", "seal": "failed"}
    assert _trail(archive, "verified", doc.id)[-1].body["detail"]["outcome"] == "failed"
    # And once a byte of the sealed copy changes too, the page says the seal is broken, in words
    sealed = archive.services.settings.data_dir / "archive" / doc.objects["sealed"].key
    os.chmod(sealed, stat.S_IRUSR | stat.S_IWUSR)
    data = bytearray(sealed.read_bytes())
    data[len(data) // 2] ^= 0x01
    sealed.write_bytes(bytes(data))
    text = _text(client.get(f"/portail/audit/documents/{doc.id}").text)
    assert "Scellé : altéré" in text and "approuvé" not in text.split("Scellé : altéré")[1][:40]


def test_a_supplier_is_told_the_pages_do_not_exist(archive: Archive, client: TestClient) -> None:
    csrf = sign_in(client, "fournisseur")
    assert client.get("/portail/audit").status_code == 404
    for doc in (archive.facturx, archive.other):  # not even its own document
        assert client.get(f"/portail/audit/documents/{doc.id}").status_code == 404
        assert (
            client.post(f"/portail/audit/documents/{doc.id}/verifier", data={"csrf": csrf}).status_code == 404
        )
    assert "/portail/audit" not in client.get("/portail/documents").text  # no nav link
    anonymous = TestClient(archive.app, base_url="https://testserver")
    assert anonymous.get("/portail/audit", follow_redirects=False).status_code == 303


def test_the_auditor_cannot_post_decisions(archive: Archive, client: TestClient) -> None:
    csrf = sign_in(client, "audrey")
    doc = archive.facturx
    headers = {"X-CSRF-Token": csrf}
    assert client.post(f"/api/v1/review/{doc.id}/claim", headers=headers).status_code == 403
    for action in ("confirm", "refuse", "dispute", "suspend"):
        decision = {"action": action, "version": 1, "reason": "AUTRE", "message": "non"}
        answer = client.post(f"/api/v1/review/{doc.id}/decision", json=decision, headers=headers)
        assert answer.status_code == 403, (action, answer.text)
    rows = journal.entries(archive.services.catalogue.engine, document_id=doc.id)
    assert all(e.stage != "review" for e in rows)  # nothing was claimed nor decided
    assert client.post("/portail/depot", data={"csrf": csrf}).status_code == 403


def test_every_search_view_and_download_is_journalled(archive: Archive, client: TestClient) -> None:
    sign_in(client, "alice")  # an agent may use the auditor's pages too
    alice = accounts.find(archive.services.catalogue.engine, "alice").id
    doc = archive.facturx
    client.get("/portail/audit", params={"numero": doc.fields["BT-1"]})
    searched = [e for e in _trail(archive, "searched") if e.body["detail"]["account"] == alice]
    assert searched[-1].body["detail"]["shown"] == [doc.id]
    assert searched[-1].body["detail"]["criteria"] == {"invoice_number": doc.fields["BT-1"]}
    client.get(f"/portail/audit/documents/{doc.id}")
    viewed = _trail(archive, "viewed", doc.id)[-1].body["detail"]
    assert viewed == {"account": alice, "role": "agent", "screen": "audit"}
    original = client.get(f"/api/v1/documents/{doc.id}/files/original")
    assert original.status_code == 200
    downloaded = _trail(archive, "downloaded", doc.id)[-1].body["detail"]
    assert downloaded["account"] == alice and downloaded["object"] == "original"
    bundle = client.get(f"/api/v1/documents/{doc.id}/evidence")
    assert bundle.status_code == 200 and bundle.content.startswith(b"PK")
    assert _trail(archive, "exported", doc.id)[-1].body["detail"]["account"] == alice
    # And the timeline shows who did it
    assert "alice (agent)" in client.get(f"/portail/audit/documents/{doc.id}").text


def test_the_day_seals_cover_the_documents_rows(services: Services, demo_set: list[Sample]) -> None:
    # Given a document whose day is sealed
    s = sample(demo_set, "facture-FA")
    doc = process(services, filename=s.path.name, data=s.path.read_bytes()).document
    day = date.fromisoformat(next(journal.entries(services.catalogue.engine)).at[:10])
    daybook.seal_through(services, day, today=day + timedelta(days=1))
    # Then the day check runs and holds
    days = {c.name: c for c in verify_document.verify(services, doc.id).checks}["days"]
    assert days.outcome.value == "ok" and days.count == 1
    # And a row of that day written after its seal is caught (the day was sealed before it ended here)
    auditor, _ = accounts.add(services.catalogue.engine, role=Role.AUDITOR, name="a")
    verify_document.record(services, auditor, verify_document.verify(services, doc.id))
    days = {c.name: c for c in verify_document.verify(services, doc.id).checks}["days"]
    assert days.outcome.value == "failed" and [p.code for p in days.problems] == ["not_in_day_seal"]


# --- in a real browser ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, dev_keys: Path) -> Iterator[Server]:
    yield from start_server(tmp_path_factory.mktemp("audit-web"), dev_keys)


def test_an_auditor_searches_opens_and_verifies_in_a_browser(
    browser: Any,  # noqa: F811
    server: Server,
    demo_set: list[Sample],
) -> None:
    from playwright.sync_api import expect

    server.add_account("agent", "agent-depot")
    server.add_account("auditor", "auditrice", password=PASSWORD)
    invoice = sample(demo_set, "facture-facturx")
    with server.client("agent-depot") as api:
        answer = api.post("/api/v1/documents", files={"file": (invoice.path.name, invoice.path.read_bytes())})
        assert answer.status_code == 202, answer.text
        server.wait_final(api, answer.json()["id"])
    tab = Tab(browser, server)
    try:
        page = tab.sign_in("auditrice")
        page.wait_for_url("**/portail/documents")
        # Given the auditor's search, reached from the menu
        page.click("nav >> text=Contrôle de l'archive")
        page.wait_for_url("**/portail/audit")
        # When searching by invoice number (htmx swaps the results in)
        page.fill("#f-numero", "FA-2026-0142")
        page.click("button >> text=Rechercher")
        page.wait_for_url("**/portail/audit?**numero=FA-2026-0142**")
        expect(page.locator("#tableau tbody tr")).to_have_count(1)
        tab.check("audit-recherche.png")
        # Then the document opens with its timeline
        page.click(f"#tableau tbody a >> text={invoice.path.name}")
        page.wait_for_url(re.compile(r"/portail/audit/documents/[0-9a-f]+$"))
        expect(page.locator("table.timeline")).to_contain_text("Fichier reçu et conservé tel quel")
        # And « Vérifier » shows each check's result in the live region
        page.click("#verifier")
        result = page.locator("#verification")
        expect(result.locator(".verification-summary")).to_be_visible(timeout=30_000)
        expect(result).to_contain_text("Empreintes des objets archivés")
        expect(result.locator("tr.check-ok")).to_have_count(3)
        expect(result).not_to_contain_text("ÉCHEC")
        tab.check("audit-document.png")
        # And the evidence bundle downloads, and checks out
        with page.expect_download() as download:
            page.click("#preuve")
        assert download.value.suggested_filename.startswith("preuve-")
        bundle = Path(download.value.path()).read_bytes()
        from pipeline import evidence

        checked = evidence.verify(bundle)
        assert checked.ok and "journal chain" in checked.checked, checked.problems
    finally:
        tab.close()
