"""Tenancy: supplier B cannot list, read, download or guess supplier A's documents, even when it sends
the very same bytes; the buyer's staff see both."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cli.samples import Sample
from tests.api_server import Server, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, dev_keys: Path) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("tenancy")
    for s in start_server(root, dev_keys):
        s.add_account("supplier", "A", "552100554")
        s.add_account("supplier", "B", "FR40303265045")
        s.add_account("agent", "agent")
        yield s


def test_b_cannot_see_a_s_document_even_with_the_same_bytes(server: Server, demo_set: list[Sample]) -> None:
    data = demo_set[1].path.read_bytes()
    with server.client("A") as a, server.client("B") as b, server.client("agent") as agent:
        # Given A deposited an invoice
        a_id = a.post("/api/v1/documents", files={"file": ("a.pdf", data)}).json()["id"]
        # When B deposits the very same bytes
        b_answer = b.post("/api/v1/documents", files={"file": ("b.pdf", data)}).json()
        # Then B gets a document of its own: no shared duplicate id
        assert b_answer["id"] != a_id and b_answer["duplicate"] is False
        server.wait_final(a, a_id)
        server.wait_final(b, b_answer["id"])
        # And B can neither read, download, nor list A's document: 404, as for an unknown id
        for path in (
            f"/api/v1/documents/{a_id}",
            f"/api/v1/documents/{a_id}/files/original",
            f"/api/v1/documents/{a_id}/files/sealed",
            f"/api/v1/documents/{a_id}/files/capture",
            f"/api/v1/documents/{a_id}/lifecycle",
            f"/api/v1/documents/{a_id}/lifecycle/1.xml",
            f"/api/v1/documents/{a_id}/evidence",
        ):
            answer = b.get(path)
            assert answer.status_code == 404, (path, answer.status_code)
            assert a_id in answer.json()["detail"] or "aucun" in answer.json()["detail"]
        unknown = b.get("/api/v1/documents/0123456789abcdef0123456789abcdef")
        assert (
            unknown.status_code == 404
            and unknown.json()["title"] == b.get(f"/api/v1/documents/{a_id}").json()["title"]
        )
        assert b.post(f"/api/v1/documents/{a_id}/lifecycle", json={"code": 212}).status_code == 404
        listed_b = {d["id"] for d in b.get("/api/v1/documents").json()["items"]}
        listed_a = {d["id"] for d in a.get("/api/v1/documents").json()["items"]}
        assert a_id not in listed_b and b_answer["id"] in listed_b
        assert b_answer["id"] not in listed_a
        # And B's copy is not reported as a duplicate of A's invoice: nothing leaks through verdicts
        b_doc = b.get(f"/api/v1/documents/{b_answer['id']}").json()
        assert not any(f["rule"] in ("DOUBLON", "DUPLICATE") for f in b_doc["findings"])
        # A's own evidence bundle is a zip A can take away
        bundle = a.get(f"/api/v1/documents/{a_id}/evidence")
        assert bundle.status_code == 200 and bundle.content[:2] == b"PK"
        # While the buyer's agent sees both
        listed = {d["id"] for d in agent.get("/api/v1/documents", params={"limit": 200}).json()["items"]}
        assert {a_id, b_answer["id"]} <= listed


def test_listing_pages_by_cursor_without_repeating_or_skipping(server: Server) -> None:
    with server.client("A") as a:
        ids = [
            a.post("/api/v1/documents", files={"file": (f"{i}.xml", f"<x>{i}</x>".encode())}).json()["id"]
            for i in range(5)
        ]
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, str | int] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = a.get("/api/v1/documents", params=params).json()
            seen += [d["id"] for d in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
    assert len(seen) == len(set(seen)) and set(ids) <= set(seen)
