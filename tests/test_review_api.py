"""The agent's desk through a real `dematflow serve`: queue, claims, stale edits, decisions with their
CDAR, data versions, page images, words and region OCR, and who may do what."""

from __future__ import annotations

import io
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from cli.sample_invoices import demo_invoices
from cli.sample_render import invoice_pdf
from cli.samples import Sample
from pipeline import journal
from pipeline.catalogue import Catalogue
from tests.api_server import DEMATFLOW, Server, start_server
from validators.cdar import validate_cdar

SIREN = "552100554"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, dev_keys: Path) -> Iterator[Server]:
    # Every key field is below a threshold above 1: every captured invoice lands in needs_review
    env = {
        "DEMATFLOW_REVIEW_THRESHOLD": "1.5",
        "DEMATFLOW_ORG_SIREN": "130005481",
        "DEMATFLOW_ORG_NAME": "Mairie de Test",
        "DEMATFLOW_OCR_JOBS": "1",
    }
    for s in start_server(tmp_path_factory.mktemp("review-api"), dev_keys, **env):
        for role, name in (("agent", "alice"), ("agent", "bob"), ("auditor", "audrey")):
            s.add_account(role, name)
        s.add_account("supplier", "fournisseur", SIREN)
        yield s


@pytest.fixture(scope="module")
def docs(server: Server, demo_set: list[Sample]) -> dict[str, str]:
    """Four invoices awaiting review: two digital PDFs of the demo, one more, and the demo's scan."""
    other = demo_invoices(seed=11)
    files = {
        "digital": ("facture.pdf", demo_set[1].path.read_bytes()),
        "refuse": ("autre.pdf", invoice_pdf(other[0])),
        "suspend": ("encore.pdf", invoice_pdf(other[1])),
        "scan": ("scan.png", demo_set[2].path.read_bytes()),
    }
    ids: dict[str, str] = {}
    with server.client("alice") as client:
        for name, file in files.items():
            answer = client.post("/api/v1/documents", files={"file": file})
            assert answer.status_code == 202, answer.text
            ids[name] = answer.json()["id"]
        for doc_id in ids.values():
            assert server.wait_final(client, doc_id)["status"] == "needs_review"
    return ids


def _entries(server: Server, doc_id: str) -> list[journal.Entry]:
    catalogue = Catalogue.open(f"sqlite:///{server.data_dir / 'catalogue.sqlite3'}")
    return list(journal.entries(catalogue.engine, document_id=doc_id))


def _decide(client: Any, doc_id: str, **body: Any) -> Any:
    return client.post(f"/api/v1/review/{doc_id}/decision", json=body)


def test_the_queue_lists_sorts_and_filters(server: Server, docs: dict[str, str]) -> None:
    with server.client("alice") as alice, server.client("fournisseur") as supplier:
        items = alice.get("/api/v1/review").json()["items"]
        assert set(docs.values()) <= {i["id"] for i in items}
        assert [i["received_at"] for i in items] == sorted(i["received_at"] for i in items)
        first = items[0]
        assert first["version"] > 0 and first["lock"] is None and "BT-1" in first["review"]
        by_conf = alice.get("/api/v1/review", params={"sort": "confidence"}).json()["items"]
        confidences = [i["min_confidence"] for i in by_conf]
        assert confidences == sorted(confidences, key=lambda c: 2.0 if c is None else c)
        # Filters: by seller name (BT-27), by class, by reason; pages by cursor
        seller = next(i["supplier"] for i in items if i["id"] == docs["digital"])
        found = alice.get("/api/v1/review", params={"supplier": seller[:6].lower()}).json()["items"]
        assert docs["digital"] in {i["id"] for i in found} and all(i["supplier"] for i in found)
        assert alice.get("/api/v1/review", params={"doc_type": "bank_details"}).json()["items"] == []
        assert len(alice.get("/api/v1/review", params={"reason": "BT-112"}).json()["items"]) >= 4
        one = alice.get("/api/v1/review", params={"limit": 1}).json()
        after = alice.get("/api/v1/review", params={"limit": 1, "cursor": one["next_cursor"]}).json()
        assert one["items"][0]["id"] != after["items"][0]["id"]
        assert alice.get("/api/v1/review", params={"cursor": "bad!"}).status_code == 422
        # A supplier is told the desk does not exist
        assert supplier.get("/api/v1/review").status_code == 404
        assert supplier.get(f"/api/v1/review/{docs['digital']}").status_code == 404


def test_a_claim_locks_out_others_and_a_stale_edit_is_refused(server: Server, docs: dict[str, str]) -> None:
    doc_id = docs["digital"]
    with server.client("alice") as alice, server.client("bob") as bob, server.client("audrey") as audrey:
        claimed = alice.post(f"/api/v1/review/{doc_id}/claim")
        assert claimed.status_code == 200, claimed.text
        assert claimed.json()["lock"]["by"] == "alice"
        version = claimed.json()["version"]
        # Bob sees the lock in the queue, cannot claim, cannot decide
        listed = {i["id"]: i for i in bob.get("/api/v1/review").json()["items"]}
        assert listed[doc_id]["lock"]["by"] == "alice"
        taken = bob.post(f"/api/v1/review/{doc_id}/claim")
        assert taken.status_code == 409 and taken.json()["held_by"]["by"] == "alice"
        assert taken.headers["content-type"] == "application/problem+json"
        assert _decide(bob, doc_id, action="confirm", version=version).status_code == 423
        # The auditor reads (journalled, the version unchanged) but cannot claim
        opened = audrey.get(f"/api/v1/review/{doc_id}")
        assert opened.status_code == 200 and opened.json()["version"] == version
        assert any(e.stage == "access" and e.action == "viewed" for e in _entries(server, doc_id))
        assert audrey.post(f"/api/v1/review/{doc_id}/claim").status_code == 403
        # An edit made on an older version is refused, with the current one
        stale = _decide(alice, doc_id, action="confirm", version=version - 1, fields={"BT-1": "X"})
        assert stale.status_code == 409 and stale.json()["current_version"] == version
        assert alice.get(f"/api/v1/review/{doc_id}").json()["fields"][0]["value"] != "X"
        # Claiming again renews; releasing lets Bob in
        assert alice.post(f"/api/v1/review/{doc_id}/claim").status_code == 200
        assert alice.delete(f"/api/v1/review/{doc_id}/claim").status_code == 204
        assert bob.post(f"/api/v1/review/{doc_id}/claim").status_code == 200
        assert bob.delete(f"/api/v1/review/{doc_id}/claim").status_code == 204


def test_confirm_keeps_the_first_reading_and_stores_a_new_version(
    server: Server, docs: dict[str, str]
) -> None:
    doc_id = docs["digital"]
    with server.client("alice") as alice:
        first_data = alice.get(f"/api/v1/documents/{doc_id}/files/data").content
        version = alice.post(f"/api/v1/review/{doc_id}/claim").json()["version"]
        screen = alice.get(f"/api/v1/review/{doc_id}").json()
        fields = {f["term"]: f for f in screen["fields"]}
        number = fields["BT-1"]
        assert number["label"] == "Numéro de facture" and number["page"] == 1
        assert number["box"] is not None and all(0 <= v <= 1 for v in number["box"])
        assert screen["totals"]["consistent"] is True and screen["supplier_memory"] is None
        assert "LOW-CONFIDENCE" in number["rules"]
        # When Alice corrects BT-1 and confirms with approval
        done = _decide(alice, doc_id, action="confirm", version=version, fields={"BT-1": "FA-CORRIGE-1"},
                       approve=True)  # fmt: skip
        assert done.status_code == 200, done.text
        assert done.json()["status"] == "archived" and done.json()["version"] > version
        assert done.json()["lifecycle"]["code"] == 205
        # Then the first reading is byte-identical and the correction is version 2
        assert alice.get(f"/api/v1/documents/{doc_id}/files/data").content == first_data
        second = alice.get(f"/api/v1/documents/{doc_id}/files/data-v2").json()
        assert second["fields"]["BT-1"] == "FA-CORRIGE-1" and second["version"] == 2
        doc = alice.get(f"/api/v1/documents/{doc_id}").json()
        assert doc["fields"]["BT-1"] == "FA-CORRIGE-1" and doc["review"] == []
        # And the journal says who changed what from what
        event = next(e for e in _entries(server, doc_id) if (e.stage, e.action) == ("review", "confirmed"))
        detail = event.body["detail"]
        assert detail["name"] == "alice" and detail["after"] == {"BT-1": "FA-CORRIGE-1"}
        assert detail["before"]["BT-1"] != "FA-CORRIGE-1"
        # It has left the queue; a second decision is refused
        assert doc_id not in {i["id"] for i in alice.get("/api/v1/review").json()["items"]}
        again = _decide(alice, doc_id, action="refuse", version=done.json()["version"], reason="DOUBLON")
        assert again.status_code == 409
    audit = subprocess.run([DEMATFLOW, "audit", "verify"], env=server.env, capture_output=True, text=True)
    assert audit.returncode == 0, audit.stdout + audit.stderr


@pytest.mark.parametrize(("name", "action", "reason", "code"), [
    ("refuse", "refuse", "MONTANTTOTAL_ERR", 210),
    ("suspend", "suspend", None, 208),
])  # fmt: skip
def test_refusal_and_suspension_emit_valid_cdar(
    server: Server, docs: dict[str, str], name: str, action: str, reason: str | None, code: int
) -> None:
    doc_id = docs[name]
    with server.client("alice") as alice:
        version = alice.post(f"/api/v1/review/{doc_id}/claim").json()["version"]
        if action == "refuse":  # 210 needs its reason code
            assert _decide(alice, doc_id, action=action, version=version).status_code == 422
        done = _decide(alice, doc_id, action=action, version=version, reason=reason, message="Voir pièce")
        assert done.status_code == 200, done.text
        last = done.json()["lifecycle"]
        assert last["code"] == code and last["reason_code"] == (reason or "JUSTIF_ABS")
        served = alice.get(last["cdar_url"])
        assert served.status_code == 200, served.text
        report = validate_cdar(served.content)
        assert report.valid, [f.to_json() for f in report.findings]
        assert doc_id not in {i["id"] for i in alice.get("/api/v1/review").json()["items"]}
        event = next(e for e in _entries(server, doc_id) if e.stage == "review")
        assert event.body["detail"]["after"]["lifecycle"] == code


def test_pages_render_from_the_kept_copy_and_are_cached(server: Server, docs: dict[str, str]) -> None:
    doc_id = docs["scan"]
    with server.client("alice") as alice, server.client("fournisseur") as supplier:
        page = alice.get(f"/api/v1/documents/{doc_id}/pages/1.png", params={"width": 600})
        assert page.status_code == 200 and page.headers["content-type"] == "image/png"
        assert page.headers["cache-control"] == "private, max-age=3600"
        assert Image.open(io.BytesIO(page.content)).width == 600
        cached = server.data_dir / "cache" / "pages" / doc_id / "1-600.png"
        assert cached.read_bytes() == page.content
        assert (
            alice.get(f"/api/v1/documents/{doc_id}/pages/1.png", params={"width": 600}).content
            == page.content
        )
        assert alice.get(f"/api/v1/documents/{doc_id}/pages/2.png").status_code == 404
        assert alice.get(f"/api/v1/documents/{doc_id}/pages/1.png", params={"width": 50}).status_code == 422
        assert supplier.get(f"/api/v1/documents/{doc_id}/pages/1.png").status_code == 404
        digital = alice.get(f"/api/v1/documents/{docs['digital']}/pages/1.png")
        assert Image.open(io.BytesIO(digital.content)).width == 1000


def test_words_and_region_ocr(server: Server, docs: dict[str, str]) -> None:
    with server.client("alice") as alice, server.client("audrey") as audrey:
        for name in ("scan", "suspend"):  # an OCR'd image, a text layer
            doc_id = docs[name]
            number = alice.get(f"/api/v1/documents/{doc_id}").json()["fields"]["BT-1"]
            words = alice.get(f"/api/v1/documents/{doc_id}/words", params={"page": 1}).json()
            assert words["page"] == 1 and len(words["words"]) > 20
            word = next(w for w in words["words"] if number in w["text"])
            x0, y0, x1, y1 = word["box"]
            assert 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1
            box = [max(0, x0 - 0.01), max(0, y0 - 0.005), min(1, x1 + 0.01), min(1, y1 + 0.005)]
            read = alice.post(f"/api/v1/documents/{doc_id}/pages/1/ocr", json={"box": box})
            assert read.status_code == 200, read.text
            assert number in read.json()["text"].replace(" ", "")
            assert (
                audrey.post(f"/api/v1/documents/{doc_id}/pages/1/ocr", json={"box": box}).status_code == 403
            )
        scan = alice.get(f"/api/v1/review/{docs['scan']}").json()
        located = [f for f in scan["fields"] if f["box"] is not None]
        assert located and all(0 <= v <= 1 for f in located for v in f["box"])
        bad = alice.post(f"/api/v1/documents/{docs['scan']}/pages/1/ocr", json={"box": [0.5, 0.5, 0.1, 0.1]})
        assert bad.status_code == 422
        assert alice.get(f"/api/v1/documents/{docs['scan']}/words", params={"page": 9}).status_code == 404


def _screen(server: Server, name: str) -> Any:
    """A portal session (signed in with the account's API token) to read the review screen's HTML; the
    session cookie is Secure, which httpx keeps off plain http: it is carried by hand."""
    import httpx

    client = httpx.Client(base_url=server.url, timeout=60)
    page = client.get("/portail/connexion")
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match
    cookie = {"Cookie": f"dematflow_session={page.cookies['dematflow_session']}"}
    form = {"secret": server.tokens[name], "csrf": match.group(1)}
    signed = client.post("/portail/connexion", data=form, headers=cookie)
    assert signed.status_code == 303, signed.text[:300]
    client.headers["Cookie"] = f"dematflow_session={signed.cookies['dematflow_session']}"
    client.cookies.clear()
    return client


def test_the_screen_says_what_the_memory_learnt_and_a_factur_x_is_made(server: Server) -> None:
    from facturx import get_xml_from_pdf

    from tests.test_memory import FIRST, SECOND

    with server.client("alice") as alice:
        sent = alice.post("/api/v1/documents", files={"file": ("odd-1.pdf", FIRST.pdf())})
        first = str(sent.json()["id"])
        assert server.wait_final(alice, first)["status"] == "needs_review"
        original = alice.get(f"/api/v1/documents/{first}/files/original").content
        # Given an invoice whose number and totals the generic reader cannot find
        version = alice.post(f"/api/v1/review/{first}/claim").json()["version"]
        fixes = {"BT-1": "PC-88213", "BT-112": "1 440,00", "BT-109": "1200", "BT-110": "240",
                 "BT-2": "2026-03-04", "BT-5": "EUR", "BT-115": "1 440,00"}  # fmt: skip
        # When the agent confirms the corrected fields, asking for a Factur-X too
        done = _decide(alice, first, action="confirm", version=version, fields=fixes, facturx=True)
        assert done.status_code == 200, done.text
        body = done.json()
        # Then the lesson is said, and the Factur-X is a new object beside the untouched original
        assert body["memory_taught"]["by"] == "alice" and "BT-1" in body["memory_taught"]["fields"]
        assert body["facturx"]["built"] is True, body["facturx"]
        pdf = alice.get(body["facturx"]["url"])
        assert pdf.status_code == 200 and pdf.content != original
        assert b"PC-88213" in get_xml_from_pdf(pdf.content, check_xsd=False)[1]
        assert alice.get(f"/api/v1/documents/{first}/files/original").content == original
        events = [(e.stage, e.action, e.body) for e in _entries(server, first)]
        convert = next(b for s, a, b in events if (s, a) == ("convert", "facturx"))
        assert convert["inputs"] == {"original": journal_sha(original)}
        # And the same supplier's next invoice is read with the memory, which the screen says
        sent = alice.post("/api/v1/documents", files={"file": ("odd-2.pdf", SECOND.pdf())})
        second = str(sent.json()["id"])
        server.wait_final(alice, second)
        assert alice.get(f"/api/v1/review/{second}").json()["memory_used"]["by"] == "alice"
    screen = _screen(server, "alice")
    try:
        taught = screen.get(f"/portail/revue/{first}").text
        read = screen.get(f"/portail/revue/{second}").text
        cachet = screen.get(f"/portail/revue/{first}/cachet").text  # loaded by htmx after the page
        inline = screen.get(f"/portail/revue/{first}?cachet=1").text  # the link's answer, without JavaScript
    finally:
        screen.close()
    assert "disposition apprise</p>" in taught and "Factur-X produite" in taught
    # The seal of the kept copy, validated for this page (a development seal, B-T: no DSS)
    assert 'hx-get="/portail/revue/' + first + '/cachet"' in taught and 'id="cachet">' not in taught
    for html in (cachet, inline):
        seal = " ".join(re.sub(r"<[^>]+>", " ", html.split('id="cachet">')[1].split("</div>")[0]).split())
        assert seal.startswith("Scellé : intact · approuvé · horodaté · validation à long terme incomplète")
    assert re.search(r"Lu avec la disposition apprise de ce fournisseur \(le \d\d/\d\d par alice\)", read)


def journal_sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()
