"""Lifecycle statuses through the HTTP door: agents decide, suppliers report payment, every CDAR
served is valid, an incoming CDAR is applied, and a supplier's webhook hears of each status."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from cli.samples import Sample
from pipeline.catalogue import Catalogue
from tests.api_server import Server, free_port, start_server
from tests.test_lifecycle import buyer_message
from validators.cdar import validate_cdar

SIREN = "552100554"


class Hook:
    """A supplier's system: records each webhook call it receives."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.heard = threading.Condition()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with hook.heard:
                    hook.calls.append(json.loads(body))
                    hook.heard.notify_all()
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, code: int, timeout: float = 30) -> dict[str, Any]:
        with self.heard:
            self.heard.wait_for(lambda: any(c["code"] == code for c in self.calls), timeout)
        return next(c for c in self.calls if c["code"] == code)


@pytest.fixture(scope="module")
def hook() -> Iterator[Hook]:
    h = Hook()
    yield h
    h.server.shutdown()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, dev_keys: Path, hook: Hook) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("lifecycle-api")
    for s in start_server(
        root, dev_keys, DEMATFLOW_ORG_SIREN="130005481", DEMATFLOW_ORG_NAME="Mairie de Test"
    ):
        token = s.add_account("agent", "agent")
        s.tokens["agent"] = token
        import subprocess

        from tests.api_server import DEMATFLOW

        done = subprocess.run(
            [
                DEMATFLOW,
                "accounts",
                "add",
                "--role",
                "supplier",
                "--name",
                "fournisseur",
                "--siren",
                SIREN,
                "--webhook",
                hook.url,
                "--json",
            ],
            env=s.env,
            capture_output=True,
            text=True,
            check=True,
        )
        s.tokens["fournisseur"] = json.loads(done.stdout)["token"]
        yield s


@pytest.fixture(scope="module")
def deposited(server: Server, demo_set: list[Sample]) -> str:
    with server.client("fournisseur") as client:
        doc_id = str(
            client.post("/api/v1/documents", files={"file": ("f.pdf", demo_set[0].path.read_bytes())}).json()[
                "id"
            ]
        )
        server.wait_final(client, doc_id)
    return doc_id


def test_agent_decides_supplier_reports_payment_and_each_cdar_is_valid(
    server: Server, deposited: str, hook: Hook
) -> None:
    with server.client("agent") as agent, server.client("fournisseur") as supplier:
        # A supplier cannot take a buyer's decision
        assert (
            supplier.post(f"/api/v1/documents/{deposited}/lifecycle", json={"code": 205}).status_code == 403
        )
        # A mandatory reason missing, or a reason not allowed for the code, is refused with a reason
        missing = agent.post(f"/api/v1/documents/{deposited}/lifecycle", json={"code": 207})
        wrong = agent.post(
            f"/api/v1/documents/{deposited}/lifecycle", json={"code": 210, "reason": "IRR_VIDE_F"}
        )
        assert missing.status_code == 422 and "motif" in missing.json()["detail"]
        assert wrong.status_code == 422
        for change in ({"code": 204}, {"code": 205}, {"code": 211}):
            answer = agent.post(f"/api/v1/documents/{deposited}/lifecycle", json=change)
            assert answer.status_code == 201, answer.text
        paid = supplier.post(
            f"/api/v1/documents/{deposited}/lifecycle",
            json={"code": 212, "amount": "120.00", "vat_rate": "20"},
        )
        assert paid.status_code == 201, paid.text
        history = supplier.get(f"/api/v1/documents/{deposited}/lifecycle").json()["items"]
        assert [t["code"] for t in history] == [200, 204, 205, 211, 212]
        for t in history:
            xml = supplier.get(f"/api/v1/documents/{deposited}/lifecycle/{t['seq']}.xml")
            assert xml.headers["content-type"].startswith("application/xml")
            report = validate_cdar(xml.content)
            assert report.valid, (t["code"], [f.to_json() for f in report.findings])
    assert hook.wait_for(212)["document_id"] == deposited
    assert {c["code"] for c in hook.calls} >= {200, 204, 205, 211, 212}


def test_an_incoming_cdar_is_validated_and_applied(server: Server, demo_set: list[Sample]) -> None:
    with server.client("fournisseur") as supplier, server.client("agent") as agent:
        # Given a supplier's invoice that was deposited (200)
        doc_id = supplier.post("/api/v1/documents", files={"file": ("g.pdf", demo_set[1].path.read_bytes())})
        first = doc_id.json()["id"]
        server.wait_final(supplier, first)
        # When the buyer's platform answers 204 Prise en charge with a CDAR message
        catalogue = Catalogue.open(f"sqlite:///{server.data_dir / 'catalogue.sqlite3'}")
        message = buyer_message(catalogue.get(first), 204)
        applied = agent.post(
            "/api/v1/lifecycle", content=message, headers={"content-type": "application/xml"}
        )
        # Then it is applied, and the message is kept byte for byte
        assert applied.status_code == 201, applied.text
        assert applied.json()["code"] == 204
        kept = agent.get(f"/api/v1/documents/{first}/lifecycle/{applied.json()['seq']}.xml")
        assert kept.content == message
        # And a message that is not a CDAR is refused with a problem body; a supplier may not send one
        bad = agent.post(
            "/api/v1/lifecycle", content=b"<not-cdar/>", headers={"content-type": "application/xml"}
        )
        assert 400 <= bad.status_code < 500 and bad.headers["content-type"] == "application/problem+json"
        assert supplier.post("/api/v1/lifecycle", content=b"<x/>").status_code == 403
