"""Split and merge at the review desk, through a real `dematflow serve`: the sources stay as received,
the new documents are derived from their pages, processed, and linked both ways in the journal."""

from __future__ import annotations

import io
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pikepdf
import pytest

from cli.sample_invoices import demo_invoices
from cli.sample_render import invoice_pdf
from pipeline import journal
from pipeline.catalogue import Catalogue
from storage.base import sha256_hex
from tests.api_server import DEMATFLOW, Server, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, dev_keys: Path) -> Iterator[Server]:
    env = {"DEMATFLOW_REVIEW_THRESHOLD": "1.5", "DEMATFLOW_OCR_JOBS": "1"}  # everything goes to review
    for s in start_server(tmp_path_factory.mktemp("review-split"), dev_keys, **env):
        s.add_account("agent", "alice")
        s.add_account("agent", "bob")
        s.add_account("supplier", "fournisseur", "552100554")
        yield s


def _joined(*pdfs: bytes) -> bytes:
    out = pikepdf.new()
    for data in pdfs:
        out.pages.extend(pikepdf.open(io.BytesIO(data)).pages)
    buffer = io.BytesIO()
    out.save(buffer)
    return buffer.getvalue()


def _pages(data: bytes) -> int:
    with pikepdf.open(io.BytesIO(data)) as pdf:
        return len(pdf.pages)


def _deposit(server: Server, client: Any, name: str, data: bytes) -> str:
    answer = client.post("/api/v1/documents", files={"file": (name, data)})
    assert answer.status_code == 202, answer.text
    doc_id = str(answer.json()["id"])
    assert server.wait_final(client, doc_id)["status"] == "needs_review"
    return doc_id


def _claim(client: Any, doc_id: str) -> int:
    claimed = client.post(f"/api/v1/review/{doc_id}/claim")
    assert claimed.status_code == 200, claimed.text
    return int(claimed.json()["version"])


def _journal(server: Server, doc_id: str) -> list[journal.Entry]:
    catalogue = Catalogue.open(f"sqlite:///{server.data_dir / 'catalogue.sqlite3'}")
    return list(journal.entries(catalogue.engine, document_id=doc_id))


def test_a_scan_of_two_invoices_is_split_into_two_documents(server: Server) -> None:
    first, second = (invoice_pdf(i) for i in demo_invoices(seed=21)[:2])
    scan = _joined(first, second, first)  # the third page: a sheet to leave out
    with server.client("alice") as alice, server.client("bob") as bob:
        source = _deposit(server, alice, "lot.pdf", scan)
        version = _claim(alice, source)
        url = f"/api/v1/review/{source}/split"
        # Refused: by someone without the claim, on a stale version, with pages out of range or twice
        assert bob.post(url, json={"version": version, "parts": [[1], [2]]}).status_code == 423
        stale = alice.post(url, json={"version": version - 1, "parts": [[1], [2]]})
        assert stale.status_code == 409 and stale.json()["current_version"] == version
        assert alice.post(url, json={"version": version, "parts": [[1], [4]]}).status_code == 422
        assert alice.post(url, json={"version": version, "parts": [[1, 2], [2]]}).status_code == 422
        # Split into pages 1 and 2, page 3 left out
        made = alice.post(url, json={"version": version, "parts": [[1], [2]]})
        assert made.status_code == 201, made.text
        children = made.json()["documents"]
        assert len(children) == 2 and made.json()["sources"] == [source]
        for child in children:
            assert server.wait_final(alice, child)["status"] in ("needs_review", "archived")
            kept = alice.get(f"/api/v1/documents/{child}/files/original")
            assert kept.status_code == 200 and _pages(kept.content) == 1
        # The source is out of the queue, kept as received, and the journal links both ways
        queue = {i["id"] for i in alice.get("/api/v1/review").json()["items"]}
        assert source not in queue and set(children) <= queue
        original = alice.get(f"/api/v1/documents/{source}/files/original").content
        assert original == scan and alice.get(f"/api/v1/documents/{source}").json()["status"] == "archived"
        closed = next(e for e in _journal(server, source) if (e.stage, e.action) == ("review", "split"))
        detail = closed.body["detail"]
        assert [p["document_id"] for p in detail["parts"]] == children and detail["left_out"] == [3]
        assert detail["name"] == "alice"
        for child, pages in zip(children, ([1], [2]), strict=True):
            derived = next(e for e in _journal(server, child) if e.stage == "derive")
            assert derived.body["detail"]["from"] == source and derived.body["detail"]["pages"] == pages
            assert list(derived.body["inputs"].values()) == [sha256_hex(scan)]
        # Splitting it again is refused: it no longer awaits review
        assert alice.post(url, json={"version": version, "parts": [[1], [2]]}).status_code == 409
    verify = subprocess.run([DEMATFLOW, "audit", "verify"], env=server.env, capture_output=True, text=True)
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_one_document_in_two_scans_is_merged(server: Server) -> None:
    invoices = demo_invoices(seed=22)
    front, back = invoice_pdf(invoices[0]), invoice_pdf(invoices[1])
    with server.client("alice") as alice, server.client("bob") as bob, server.client("fournisseur") as sup:
        a, b = _deposit(server, alice, "recto.pdf", front), _deposit(server, alice, "verso.pdf", back)
        va = _claim(alice, a)
        url = f"/api/v1/review/{a}/merge"
        # Bob holds the second one: the merge waits for him
        vb = _claim(bob, b)
        held = alice.post(url, json={"version": va, "others": [{"id": b, "version": vb}]})
        assert held.status_code == 409 and held.json()["held_by"]["by"] == "bob"
        assert bob.delete(f"/api/v1/review/{b}/claim").status_code == 204
        # A supplier does not see the desk
        assert sup.post(url, json={"version": va, "others": [{"id": b, "version": vb}]}).status_code == 404
        made = alice.post(url, json={"version": va, "others": [{"id": b, "version": vb}]})
        assert made.status_code == 201, made.text
        (merged,) = made.json()["documents"]
        assert made.json()["sources"] == [a, b]
        server.wait_final(alice, merged)
        kept = alice.get(f"/api/v1/documents/{merged}/files/original").content
        assert _pages(kept) == 2
        for source, data in ((a, front), (b, back)):
            assert alice.get(f"/api/v1/documents/{source}/files/original").content == data
            closed = next(e for e in _journal(server, source) if e.action == "merged")
            assert closed.body["detail"]["into"] == merged
        derived = next(e for e in _journal(server, merged) if e.stage == "derive")
        assert derived.body["detail"]["from"] == [a, b]
    verify = subprocess.run([DEMATFLOW, "audit", "verify"], env=server.env, capture_output=True, text=True)
    assert verify.returncode == 0, verify.stdout + verify.stderr
