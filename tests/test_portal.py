"""The supplier portal in a real browser (Debian's chromium, driven by playwright) against a real
`dematflow serve`: sign in, drop files, follow them, read why, download; tenancy, English, rate limit.
axe-core checks every page against WCAG 2.1 A/AA; each page is saved under docs/screens/."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cli.samples import Sample
from tests.api_server import Server, start_server
from tests.conftest import require

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[1]
NODE_MODULES = REPO / "api" / "static" / "node_modules"
AXE = NODE_MODULES / "axe-core" / "axe.min.js"
HTMX = NODE_MODULES / "htmx.org" / "dist" / "htmx.min.js"
SCREENS = REPO / "docs" / "screens"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--lang=fr-FR",  # the browser's own controls (the file picker button) in French too
]
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PASSWORD = "mot de passe solide"
ATTEMPTS = 3  # failed sign-ins allowed per name and address before 429
SLOW = 180_000  # ms: processing a document (OCR-free here) takes seconds; leave room on a busy machine

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require(CHROMIUM.exists(), "chromium (apt-get install chromium)")
    require(AXE.exists() and HTMX.exists(), "the portal's npm assets (npm ci in api/static)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "playwright (pip install -e .[test])")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, dev_keys: Path) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("portal")
    yield from start_server(root, dev_keys, DEMATFLOW_API_LOGIN_ATTEMPTS=str(ATTEMPTS))


@pytest.fixture(scope="module")
def suppliers(server: Server) -> tuple[str, str]:
    server.add_account("supplier", "fournisseur-a", "552100554", password=PASSWORD)
    server.add_account("supplier", "fournisseur-b", "732829320", password=PASSWORD)
    return "fournisseur-a", "fournisseur-b"


class Tab:
    """One browser context and page, with what the page logged (CSP violations show up there)."""

    def __init__(self, browser: Any, server: Server, **options: Any) -> None:
        self.browser, self.server, self.scripts = browser, server, options.get("java_script_enabled", True)
        self.context = browser.new_context(
            base_url=server.url, locale="fr-FR", viewport={"width": 1200, "height": 900}, **options
        )
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: self._console(m.type, f"{m.text} {m.location}"))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def _console(self, kind: str, text: str) -> None:
        if kind == "error":
            self.errors.append(text)

    def sign_in(self, name: str, password: str = PASSWORD) -> Any:
        page = self.page
        page.goto("/portail/connexion")
        page.fill("#name", name)
        page.fill("#secret", password)
        page.click("button[type=submit] >> text=/Se connecter|Sign in/")
        return page

    def check(self, screen: str | None = None) -> None:
        """No accessibility violation, no script or CSP error; the page saved as docs/screens/<screen>."""
        if not self.scripts:  # axe needs scripts: the same page and session, in a tab that runs them
            twin = Tab(self.browser, self.server, storage_state=self.context.storage_state())
            try:
                twin.page.goto(self.page.url)
                twin.check(screen)
            finally:
                twin.close()
            return
        page = self.page
        page.mouse.move(0, 0)  # no hover state in the screenshots
        page.evaluate(_axe_source())  # evaluated by the driver: the page's CSP still holds for the page
        result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG)
        problems = [
            f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"]
        ]
        assert not problems, f"{page.url}:\n" + "\n".join(problems)
        assert not self.errors, self.errors
        if screen and os.environ.get("DEMATFLOW_SCREENS", "1") != "0":
            SCREENS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENS / screen), full_page=True, animations="disabled")

    def close(self) -> None:
        self.context.close()


_AXE: list[str] = []


def _axe_source() -> str:
    if not _AXE:
        _AXE.append(AXE.read_text())
    return _AXE[0]


@pytest.fixture(scope="module")
def tab_a(browser: Any, server: Server, suppliers: tuple[str, str]) -> Iterator[Tab]:
    tab = Tab(browser, server)
    tab.page.goto("/portail/connexion")
    tab.check("connexion.png")
    tab.sign_in(suppliers[0]).wait_for_url("**/portail/documents")
    yield tab
    tab.close()


def test_supplier_drops_files_follows_them_and_downloads_the_sealed_copy(
    tab_a: Tab, demo_set: list[Sample]
) -> None:
    from playwright.sync_api import expect

    page = tab_a.page
    invoice, corrupt = demo_set[0], demo_set[4]  # the Factur-X invoice, the truncated PDF
    # Given the drop page
    page.click("nav >> text=Déposer des factures")
    page.wait_for_url("**/portail/depot")
    tab_a.check()
    # When two files are dropped at once with an order number
    page.set_input_files("#fichiers", [str(invoice.path), str(corrupt.path)])
    page.fill("#order_number", "PO-2026-17")
    page.click("button >> text=Déposer")
    # Then each file gets its progress bar, then a link to its document
    results = page.locator("#resultats li")
    expect(results).to_have_count(2)
    expect(page.locator("#resultats a")).to_have_count(2, timeout=30_000)
    assert page.locator("#resultats progress").evaluate_all("bars => bars.map(b => b.value)") == [100, 100]
    expect(results.first).to_contain_text("déposé")
    tab_a.check("depot.png")

    # When the invoice's page is opened, it refreshes itself until the verdict
    page.click(f"#resultats li:has-text('{invoice.path.name}') >> a")
    page.wait_for_url(re.compile(r"/portail/documents/[0-9a-f]+$"))
    expect(page.locator("#detail .status-line .badge")).to_have_text("200 · Déposée", timeout=SLOW)
    expect(page.locator("#detail .next-step")).to_contain_text("l'acheteur traite votre facture")
    expect(page.locator("#detail")).to_contain_text("PO-2026-17")
    expect(page.locator("#detail table")).to_contain_text("Déposée")
    tab_a.check("document.png")
    # And the sealed copy downloads as a PDF beginning with the bytes deposited
    with page.expect_download() as download:
        page.click("text=Ma copie scellée")
    sealed = Path(download.value.path()).read_bytes()
    assert sealed.startswith(invoice.path.read_bytes())

    # And my documents list both, with their lifecycle badges; the status filter works through htmx
    page.click("nav >> text=Mes documents")
    row = page.locator("tr", has_text=corrupt.path.name)
    expect(row.locator(".badge")).to_have_text("501 · Irrecevable", timeout=SLOW)
    expect(page.locator("tr", has_text=invoice.path.name).locator(".badge")).to_have_text("200 · Déposée")
    tab_a.check("documents.png")
    page.select_option("#statut", "quarantined")
    page.click("button >> text=Filtrer")
    page.wait_for_url("**/portail/documents?statut=quarantined")
    expect(page.locator("#tableau tbody tr")).to_have_count(1)
    expect(page.locator("#tableau tbody tr")).to_contain_text(corrupt.path.name)

    # And the unreadable file's page says what to send instead
    page.click(f"text={corrupt.path.name}")
    expect(page.locator("#detail .next-step")).to_contain_text("Envoyez un PDF lisible")
    expect(page.locator("#detail")).to_contain_text("IRR_")
    tab_a.check("document-irrecevable.png")


def test_a_second_copy_of_an_invoice_is_rejected_with_its_reasons(
    browser: Any, server: Server, suppliers: tuple[str, str], demo_set: list[Sample]
) -> None:
    from playwright.sync_api import expect

    # Given a supplier whose invoice was deposited, then deposited again with other bytes (no JavaScript)
    tab = Tab(browser, server, java_script_enabled=False)
    try:
        tab.sign_in(suppliers[1]).wait_for_url("**/portail/documents")
        page = tab.page
        invoice = demo_set[1].path.read_bytes()  # the digital PDF invoice
        ids = []
        for name, data in (("facture.pdf", invoice), ("facture-bis.pdf", invoice + b"\n% sent again\n")):
            page.goto("/portail/depot")
            page.set_input_files("#fichiers", {"name": name, "mimeType": "application/pdf", "buffer": data})
            page.click("button >> text=Déposer")
            expect(page.locator("#resultats a")).to_have_count(1)
            ids.append(str(page.locator("#resultats a").get_attribute("href")).rsplit("/", 1)[-1])
            with server.client(suppliers[1]) as api:
                server.wait_final(api, ids[-1])
        # When the second one's page is opened once processed
        page.goto(f"/portail/documents/{ids[1]}")
        # Then it says 213 Rejetée, why in plain words with the rule id, and what to do
        expect(page.locator(".status-line .badge")).to_have_text("213 · Rejetée")
        expect(page.locator(".lifecycle-message")).to_contain_text("Facture en doublon")
        expect(page.locator(".findings")).to_contain_text("Une facture de même numéro a déjà été déposée")
        expect(page.locator(".findings")).to_contain_text("règle DOUBLON")
        expect(page.locator(".next-step")).to_contain_text("ne la déposez pas une seconde fois")
        tab.check("document-rejete.png")
    finally:
        tab.close()


def test_a_supplier_sees_only_its_own_documents(
    browser: Any, server: Server, suppliers: tuple[str, str], tab_a: Tab
) -> None:
    from playwright.sync_api import expect

    with server.client(suppliers[0]) as a:
        mine = a.get("/api/v1/documents").json()["items"]
    assert mine, "the first test deposits documents for supplier A"
    tab = Tab(browser, server)
    try:
        page = tab.sign_in(suppliers[1])
        page.wait_for_url("**/portail/documents")
        names = page.locator("#tableau tbody th").all_inner_texts()
        assert names and not {d["filename"] for d in mine} & set(names)
        page.goto(f"/portail/documents/{mine[0]['id']}")
        expect(page.locator("h1")).to_have_text("Page introuvable")
        tab.errors.clear()  # the 404 itself is logged by the browser
        tab.check()
    finally:
        tab.close()


def test_the_english_switch_is_remembered(tab_a: Tab) -> None:
    from playwright.sync_api import expect

    page = tab_a.page
    page.goto("/portail/documents")
    page.click("a.lang-switch")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("My documents")
    page.click("#tableau tbody tr:first-child th a")
    expect(page.locator("#etat-titre")).to_have_text("Where this document stands")
    tab_a.check("document-en.png")
    page.click("a.lang-switch")
    expect(page.locator("html")).to_have_attribute("lang", "fr")


def test_a_wrong_password_is_said_and_repeated_failures_get_429(
    browser: Any, server: Server, suppliers: tuple[str, str]
) -> None:
    """Last in the module: the limiter also counts per address, and every test signs in from 127.0.0.1."""
    from playwright.sync_api import expect

    tab = Tab(browser, server)
    try:
        page = tab.sign_in(suppliers[0], "not the password")
        alert = page.locator("[role=alert]")
        expect(alert).to_contain_text("Identifiant ou mot de passe incorrect")
        expect(page.locator("#secret")).to_have_attribute("aria-invalid", "true")
        tab.errors.clear()  # the browser logs the 401 answer
        tab.check("connexion-erreur.png")
        statuses = []
        page.on("response", lambda r: statuses.append(r.status) if r.request.method == "POST" else None)
        for _ in range(ATTEMPTS):
            tab.sign_in(suppliers[0], "still not the password")
        expect(alert).to_contain_text("Trop de tentatives")
        assert statuses[-1] == 429 and 401 in statuses[:-1]
        tab.sign_in(suppliers[0])  # even the right password is refused until the window passes
        expect(alert).to_contain_text("Trop de tentatives")
        assert statuses[-1] == 429
    finally:
        tab.close()
