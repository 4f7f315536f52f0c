"""The agent's review screen in a real browser (Debian's chromium, driven by playwright) against a real
`dematflow serve` that sends every captured invoice to review: queue, correct by clicking a word,
Enter confirms and opens the next, locks, stale edits, refusal and suspension with valid CDAR.
axe-core checks each page against WCAG 2.1 A/AA; the pages are saved under docs/screens/revue-*.png."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cli.samples import demo_invoices, invoice_pdf
from tests.api_server import DEMATFLOW, Server, start_server
from tests.test_portal import PASSWORD, Tab, browser  # noqa: F401 (the module's browser fixture)
from validators.cdar import validate_cdar

ORG_SIREN = "130005481"
SEEDS = (101, 102, 103, 104)  # four digital invoices, four different numbers and suppliers
REVIEW = re.compile(r"/portail/revue/([0-9a-f]+)")

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, dev_keys: Path) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("revue")
    yield from start_server(root, dev_keys, DEMATFLOW_REVIEW_THRESHOLD="0.999", DEMATFLOW_ORG_SIREN=ORG_SIREN)


@pytest.fixture(scope="module")
def queue(server: Server) -> list[tuple[str, str]]:
    """Four invoices awaiting review, oldest first: (document id, invoice number)."""
    server.add_account("agent", "agent-a", password=PASSWORD)
    server.add_account("agent", "agent-b", password=PASSWORD)
    out = []
    with server.client("agent-a") as api:
        for seed in SEEDS:
            invoice = dataclasses.replace(demo_invoices(seed=seed)[1], number=f"FA-2026-{seed:04d}")
            files = {"file": (f"facture-{invoice.number}.pdf", invoice_pdf(invoice), "application/pdf")}
            answer = api.post("/api/v1/documents", files=files)
            assert answer.status_code == 202, answer.text
            doc = server.wait_final(api, answer.json()["id"], lifecycle=False)
            assert doc["status"] == "needs_review", doc
            out.append((str(doc["id"]), invoice.number))
    return out


@pytest.fixture(scope="module")
def agent_a(browser: Any, server: Server, queue: list[tuple[str, str]]) -> Iterator[Tab]:  # noqa: F811
    tab = Tab(browser, server)
    tab.sign_in("agent-a").wait_for_url("**/portail/documents")
    yield tab
    tab.close()


def _opened(page: Any) -> str:
    """The id of the document the review page shows, once it is claimed (fields editable)."""
    from playwright.sync_api import expect

    page.wait_for_url(REVIEW)
    expect(page.locator("#annonce")).to_contain_text("réservé")
    match = REVIEW.search(page.url)
    assert match
    return match.group(1)


def _version(server: Server, document_id: str) -> int:
    with server.client("agent-a") as api:
        return int(api.get(f"/api/v1/review/{document_id}").json()["version"])


def test_an_agent_corrects_bt1_by_clicking_the_word_and_enter_opens_the_next(
    agent_a: Tab, server: Server, queue: list[tuple[str, str]]
) -> None:
    from playwright.sync_api import expect

    page = agent_a.page
    (first, number), (second, _) = queue[0], queue[1]
    # Given the queue, every document free
    page.click("nav >> text=File de revue")
    page.wait_for_url("**/portail/revue")
    expect(page.locator("#file tbody tr")).to_have_count(len(queue))
    agent_a.check("revue-file.png")
    # When the agent opens the oldest one, it is claimed and its page is drawn with the word boxes
    page.click(f"#file a[href^='/portail/revue/{first}']")
    assert _opened(page) == first
    expect(page.locator("#f-BT-1")).to_be_editable()
    agent_a.check("revue-document.png")
    # And BT-1, spoilt, is corrected by clicking the invoice number on the page
    page.fill("#f-BT-1", "FAUX")
    page.focus("#f-BT-1")
    page.locator(f"#mots-calque rect.word[data-text='{number}']").first.click()
    expect(page.locator("#f-BT-1")).to_have_value(number)
    expect(page.locator("#annonce")).to_contain_text(number)
    # Then Enter confirms and opens the next document
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(f"/portail/revue/{second}"))
    assert _opened(page) == second
    with server.client("agent-a") as api:
        done = api.get(f"/api/v1/documents/{first}").json()
    assert done["status"] == "archived", done
    assert done["fields"]["BT-1"] == number


def test_a_second_agent_sees_who_holds_the_lock(
    browser: Any,  # noqa: F811
    server: Server,
    queue: list[tuple[str, str]],
    agent_a: Tab,
) -> None:
    from playwright.sync_api import expect

    held = queue[1][0]  # opened (so claimed) by agent A at the end of the first test
    assert REVIEW.search(agent_a.page.url) and held in agent_a.page.url
    tab = Tab(browser, server)
    try:
        page = tab.sign_in("agent-b")
        page.goto("/portail/revue")
        row = page.locator(f"#file tbody tr:has(a[href^='/portail/revue/{held}'])")
        expect(row).to_contain_text("Détenu par agent-a")
        page.goto(f"/portail/revue/{held}")
        expect(page.locator("#verrou")).to_contain_text("détenu par agent-a")
        expect(page.locator("#f-BT-1")).not_to_be_editable()
        expect(page.locator("#confirmer")).to_have_count(0)
        tab.check("revue-verrou.png")
    finally:
        tab.close()


def test_a_stale_edit_is_refused_with_a_reload_button(
    agent_a: Tab, server: Server, queue: list[tuple[str, str]]
) -> None:
    from playwright.sync_api import expect

    page = agent_a.page
    document_id, number = queue[1]
    # Given the page open with its version, the document is changed elsewhere (the API, same version)
    with server.client("agent-a") as api:
        changed = api.post(
            f"/api/v1/review/{document_id}/decision",
            json={"action": "confirm", "version": _version(server, document_id), "fields": {"BT-1": number}},
        )
        assert changed.status_code == 200, changed.text
    # When the agent confirms from the page with the version it was opened at
    page.focus("#f-BT-1")
    page.keyboard.press("Enter")
    # Then nothing is overwritten: a clear French message and a reload button
    expect(page.locator("#alerte")).to_contain_text("modifié par quelqu'un d'autre")
    expect(page.locator("#recharger")).to_be_focused()
    assert REVIEW.search(page.url) and document_id in page.url
    agent_a.errors.clear()  # the browser logs the 409 answer
    agent_a.check()


def test_refusal_and_suspension_emit_valid_cdar(
    agent_a: Tab, server: Server, queue: list[tuple[str, str]]
) -> None:
    from playwright.sync_api import expect

    page = agent_a.page
    (refused, _), (suspended, _) = queue[2], queue[3]
    # Given the third document open
    page.goto(f"/portail/revue/{refused}")
    assert _opened(page) == refused
    # When the agent refuses it for a calculation error
    page.select_option("#motif", "CALCUL_ERR")
    page.fill("#message", "Le total TTC ne correspond pas aux lignes.")
    page.click("#refuser")
    # Then the next one opens, and is asked for supporting documents
    expect(page).to_have_url(re.compile(f"/portail/revue/{suspended}"))
    assert _opened(page) == suspended
    page.fill("#message", "Merci de joindre le bon de commande signé.")
    page.click("#suspendre")
    expect(page).to_have_url(re.compile(r"/portail/revue(\?.*)?$"))
    with server.client("agent-a") as api:
        problems: list[tuple[object, ...]] = []
        for document_id, code, reason in ((refused, 210, "CALCUL_ERR"), (suspended, 208, "JUSTIF_ABS")):
            last = api.get(f"/api/v1/documents/{document_id}/lifecycle").json()["items"][-1]
            assert (last["code"], last["reason_code"]) == (code, reason), last
            xml = api.get(f"/api/v1/documents/{document_id}/lifecycle/{last['seq']}.xml")
            if xml.status_code != 200:
                problems.append((code, xml.status_code, xml.text[:300]))
                continue
            report = validate_cdar(xml.content)
            if not report.valid:
                problems.append((code, [f.to_json() for f in report.findings]))
    assert not problems, problems


def test_the_supplier_answers_a_suspension_and_the_agent_sees_it(
    browser: Any,  # noqa: F811
    agent_a: Tab,
    server: Server,
) -> None:
    from playwright.sync_api import expect

    from tests.test_answers import order_form

    # Given the supplier's invoice, suspended by an agent who asks for the signed purchase order
    server.add_account("supplier", "fournisseur-r", "552100554", password=PASSWORD)
    invoice = dataclasses.replace(demo_invoices(seed=105)[1], number="FA-2026-0105")
    with server.client("fournisseur-r") as supplier, server.client("agent-a") as api:
        sent = supplier.post("/api/v1/documents", files={"file": ("facture-105.pdf", invoice_pdf(invoice))})
        doc_id = str(sent.json()["id"])
        server.wait_final(supplier, doc_id)
        version = api.post(f"/api/v1/review/{doc_id}/claim").json()["version"]
        asked = {"action": "suspend", "version": version, "message": "Merci de joindre le bon de commande."}
        assert api.post(f"/api/v1/review/{doc_id}/decision", json=asked).status_code == 200
    tab = Tab(browser, server)
    try:
        # When the supplier opens its document: what is asked, by whom, and a form to answer
        page = tab.sign_in("fournisseur-r")
        page.goto(f"/portail/documents/{doc_id}")
        expect(page.locator("#demande")).to_contain_text("Merci de joindre le bon de commande.")
        expect(page.locator("#demande")).to_contain_text("agent-a")
        tab.check("portail-reponse.png")
        page.set_input_files("#reponse-fichiers", [
            {"name": "bon-de-commande.pdf", "mimeType": "application/pdf", "buffer": order_form("BC-105")}
        ])  # fmt: skip
        page.fill("#reponse-commentaire", "Voici le bon de commande signé.")
        page.click("#reponse button[type=submit]")
        # Then the invoice is completed (209) and the answer listed
        expect(page.locator("#reponse-envoyee")).to_contain_text("complétée (209)")
        expect(page.locator("#reponses")).to_contain_text("bon-de-commande.pdf")
        expect(page.locator("#demande")).to_have_count(0)
        tab.check()
    finally:
        tab.close()
    # And the agent finds it back in the queue, the answer shown on the review screen
    page = agent_a.page
    page.goto("/portail/revue")
    expect(page.locator(f"#file a[href^='/portail/revue/{doc_id}']")).to_have_count(1)
    page.goto(f"/portail/revue/{doc_id}")
    expect(page.locator("#reponses")).to_contain_text("Voici le bon de commande signé.")
    expect(page.locator("#reponses a")).to_have_text("bon-de-commande.pdf")
    agent_a.check("revue-reponse.png")


def test_an_agent_splits_a_scan_that_held_two_invoices(agent_a: Tab, server: Server) -> None:
    from playwright.sync_api import expect

    from tests.test_review_split import _joined, _pages

    # Given one file that holds two invoices, awaiting review
    invoices = [dataclasses.replace(demo_invoices(seed=s)[1], number=f"FA-2026-{s:04d}") for s in (106, 107)]
    batch = _joined(*map(invoice_pdf, invoices))
    with server.client("agent-a") as api:
        file = ("lot-deux-factures.pdf", batch, "application/pdf")
        sent = api.post("/api/v1/documents", files={"file": file})
        doc_id = str(sent.json()["id"])
        assert server.wait_final(api, doc_id, lifecycle=False)["status"] == "needs_review"
    page = agent_a.page
    page.goto(f"/portail/revue/{doc_id}")
    assert _opened(page) == doc_id
    assert "lot-deux-factures.pdf" in page.title()  # the file's name, not its id
    # When the agent says "page 1, then page 2" and splits
    page.fill("#decoupe", "x")
    page.click("#decouper")
    expect(page.locator("#alerte")).to_contain_text("1-2 ; 3")  # not understood: told how to write it
    agent_a.check("revue-decoupe.png")
    page.fill("#decoupe", "1 ; 2")
    page.click("#decouper")
    # Then the queue opens, and two new one-page documents are derived, the file kept as received
    expect(page).to_have_url(re.compile(r"/portail/revue(\?.*)?$"))
    with server.client("agent-a") as api:
        source = api.get(f"/api/v1/documents/{doc_id}").json()
        assert source["status"] == "archived", source
        assert api.get(f"/api/v1/documents/{doc_id}/files/original").content == batch
        listed = api.get("/api/v1/documents", params={"limit": 50}).json()["items"]
        derived = [d for d in listed if d["filename"].startswith("lot-deux-factures-p")]
        names = sorted(d["filename"] for d in derived)
        assert names == ["lot-deux-factures-p1.pdf", "lot-deux-factures-p2.pdf"]
        for d in derived:
            server.wait_final(api, d["id"], lifecycle=False)
            assert _pages(api.get(f"/api/v1/documents/{d['id']}/files/original").content) == 1


def test_the_demo_agent_clears_the_demo_queue_from_the_keyboard(
    browser: Any,  # noqa: F811
    tmp_path: Path,
    dev_keys: Path,
) -> None:
    from playwright.sync_api import expect

    # Given `dematflow demo`, which prints the demo agent's sign-in once
    data = tmp_path / "data"
    shutil.copytree(dev_keys, data / "keys")
    env = {k: v for k, v in os.environ.items() if k != "DEMATFLOW_BROKER_URL"}
    env["DEMATFLOW_DATA_DIR"] = str(data)
    demo = subprocess.run([DEMATFLOW, "demo"], env=env, capture_output=True, text=True, timeout=240)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    name = re.search(r"demo agent \(review desk[^)]*\): (\S+)", demo.stdout)
    password = re.search(r"demo agent password: (\S+)", demo.stdout)
    assert name and password, demo.stdout
    # When `dematflow serve` runs and the agent signs in with it, then opens the queue from the keyboard
    for server in start_server(tmp_path, dev_keys):
        tab = Tab(browser, server)
        try:
            page = tab.sign_in(name.group(1), password.group(1))
            page.wait_for_url("**/portail/documents")
            page.goto("/portail/revue")
            page.focus("#commencer")
            page.keyboard.press("Enter")
            # Then Enter alone confirms each document and opens the next, until the queue is empty
            for _ in range(10):
                shown = _opened(page)
                page.keyboard.press("Enter")
                page.wait_for_url(lambda url, shown=shown: shown not in url)
                if not REVIEW.search(page.url):
                    break
            expect(page).to_have_url(re.compile(r"/portail/revue(\?.*)?$"))
            expect(page.locator("#commencer")).to_have_count(0)
            token = server.add_account("auditor", "controle")
            with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as api:
                assert api.get("/api/v1/review").json()["items"] == []
        finally:
            tab.close()
