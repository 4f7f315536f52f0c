"""A supplier answers a suspended invoice (208) with files through a real `dematflow serve`: the files
become documents of its tenant linked both ways, 209 Complétée is recorded with a valid CDAR, and
the invoice is back in the agents' queue with the answer; what may not be answered is refused."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from cli.sample_invoices import demo_invoices
from cli.sample_render import invoice_pdf
from pipeline import journal
from pipeline.catalogue import Catalogue
from tests.api_server import Server, start_server
from validators.cdar import validate_cdar

SIREN, OTHER = "552100554", "732829320"


def order_form(number: str) -> bytes:
    """A one-page purchase order: the kind of supporting document an agent asks for."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.drawString(50, 800, f"BON DE COMMANDE {number}")
    c.drawString(50, 780, "Signé par le service acheteur le 02/03/2026")
    c.save()
    return buf.getvalue()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, dev_keys: Path) -> Iterator[Server]:
    env = {"DEMATFLOW_REVIEW_THRESHOLD": "1.5", "DEMATFLOW_ORG_SIREN": "130005481"}
    for s in start_server(tmp_path_factory.mktemp("answers"), dev_keys, **env):
        s.add_account("agent", "alice")
        s.add_account("supplier", "fournisseur", SIREN)
        s.add_account("supplier", "autre", OTHER)
        yield s


@pytest.fixture(scope="module")
def invoice(server: Server) -> str:
    """The supplier's invoice, in review."""
    with server.client("fournisseur") as supplier:
        sent = supplier.post(
            "/api/v1/documents", files={"file": ("f.pdf", invoice_pdf(demo_invoices(seed=7)[0]))}
        )
        assert sent.status_code == 202, sent.text
        assert server.wait_final(supplier, sent.json()["id"])["status"] == "needs_review"
        return str(sent.json()["id"])


def _suspend(server: Server, doc_id: str, message: str) -> None:
    with server.client("alice") as alice:
        version = alice.post(f"/api/v1/review/{doc_id}/claim").json()["version"]
        body = {"action": "suspend", "version": version, "message": message}
        done = alice.post(f"/api/v1/review/{doc_id}/decision", json=body)
        assert done.status_code == 200, done.text


def _answer(client: Any, doc_id: str, *names: str, comment: str = "") -> Any:
    files = [("file", (name, order_form(name), "application/pdf")) for name in names]
    return client.post(f"/api/v1/documents/{doc_id}/answer", files=files, data={"comment": comment})


def _events(server: Server, doc_id: str) -> list[tuple[str, str, dict[str, Any]]]:
    engine = Catalogue.open(f"sqlite:///{server.data_dir / 'catalogue.sqlite3'}").engine
    return [(e.stage, e.action, e.body["detail"]) for e in journal.entries(engine, document_id=doc_id)]


def test_an_invoice_not_suspended_cannot_be_answered(server: Server, invoice: str) -> None:
    with server.client("fournisseur") as supplier:
        early = _answer(supplier, invoice, "bc.pdf")
    assert early.status_code == 409
    assert "n'est pas suspendu (208)" in early.json()["detail"]


def test_the_supplier_answers_with_files_and_the_invoice_is_back_in_review(
    server: Server, invoice: str
) -> None:
    # Given the agent asks for the signed purchase order (208 JUSTIF_ABS)
    _suspend(server, invoice, "Merci de joindre le bon de commande signé.")
    with server.client("alice") as alice, server.client("fournisseur") as supplier:
        assert invoice not in {i["id"] for i in alice.get("/api/v1/review").json()["items"]}
        # When the supplier answers with two files and a comment
        done = _answer(supplier, invoice, "bc-1.pdf", "bc-2.pdf", comment="Voici le bon signé.")
        assert done.status_code == 201, done.text
        body = done.json()
        assert body["lifecycle"]["code"] == 209 and body["comment"] == "Voici le bon signé."
        new_ids = [f["document_id"] for f in body["files"]]
        assert len(set(new_ids)) == 2 and invoice not in new_ids
        # Then 209 Complétée is recorded with a valid CDAR
        last = supplier.get(f"/api/v1/documents/{invoice}/lifecycle").json()["items"][-1]
        assert (last["code"], last["actor"]) == (209, "supplier:fournisseur")
        xml = supplier.get(f"/api/v1/documents/{invoice}/lifecycle/{last['seq']}.xml")
        report = validate_cdar(xml.content)
        assert report.valid, [f.to_json() for f in report.findings]
        # And the files are documents of the supplier, linked to the invoice (metadata and journal)
        for doc_id in new_ids:
            doc = supplier.get(f"/api/v1/documents/{doc_id}").json()
            assert doc["meta"]["answer_to"] == invoice
            assert ("answer", "attached") in {(s, a) for s, a, _ in _events(server, doc_id)}
        received = [d for s, a, d in _events(server, invoice) if (s, a) == ("answer", "received")]
        assert [f["document_id"] for f in received[0]["files"]] == new_ids
        # And the invoice is back in the queue, the answer shown to the agent
        assert invoice in {i["id"] for i in alice.get("/api/v1/review").json()["items"]}
        review = alice.get(f"/api/v1/review/{invoice}").json()
        assert review["answers"][0]["comment"] == "Voici le bon signé."
        assert [f["filename"] for f in review["answers"][0]["files"]] == ["bc-1.pdf", "bc-2.pdf"]
        # A second answer is refused: the invoice is no longer suspended
        again = _answer(supplier, invoice, "bc-3.pdf")
        assert again.status_code == 409 and "208" in again.json()["detail"]


def test_only_the_invoice_supplier_may_answer(server: Server) -> None:
    with server.client("fournisseur") as supplier:
        sent = supplier.post(
            "/api/v1/documents", files={"file": ("g.pdf", invoice_pdf(demo_invoices(seed=8)[0]))}
        )
        doc_id = str(sent.json()["id"])
        server.wait_final(supplier, doc_id)
    _suspend(server, doc_id, "Le RIB, s'il vous plaît.")
    with server.client("autre") as other, server.client("alice") as alice:
        assert _answer(other, doc_id, "x.pdf").status_code == 404  # another tenant: no such document
        assert _answer(alice, doc_id, "x.pdf").status_code == 403  # the buyer does not answer itself
        empty = alice.post(f"/api/v1/documents/{doc_id}/answer", data={"comment": "rien"})
        assert empty.status_code == 422
    with server.client("fournisseur") as supplier:
        blank = supplier.post(f"/api/v1/documents/{doc_id}/answer", files=[("file", ("v.pdf", b""))])
        assert blank.status_code == 422 and "vide" in blank.json()["detail"]
        still = supplier.get(f"/api/v1/documents/{doc_id}/lifecycle").json()["items"][-1]
        assert still["code"] == 208
