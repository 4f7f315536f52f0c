"""The HTTP door against a real `dematflow serve`: deposit answers at once, status, downloads,
idempotency, limits, problem bodies, security headers, roles, and what the service reports of itself."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cli.samples import Sample
from tests.api_server import Server, start_server

SELLER_SIREN = "552100554"  # any valid SIREN: the supplier's tenant


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, dev_keys: Path) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("api")
    yield from start_server(root, dev_keys, DEMATFLOW_MAX_BYTES=str(2 * 1024 * 1024))


@pytest.fixture(scope="module")
def supplier(server: Server) -> str:
    server.add_account("supplier", "Fournisseur A", SELLER_SIREN, password="mot de passe solide")
    server.add_account("agent", "Agent comptable")
    server.add_account("auditor", "Auditeur")
    return "Fournisseur A"


def test_deposit_answers_202_at_once_then_the_status_url_tells_the_verdict(
    server: Server, supplier: str, demo_set: list[Sample]
) -> None:
    # Given a supplier's Factur-X invoice
    invoice = demo_set[0]  # the Factur-X invoice
    with server.client(supplier) as client:
        # When it is deposited with metadata
        started = time.perf_counter()
        answer = client.post(
            "/api/v1/documents",
            files={"file": (invoice.path.name, invoice.path.read_bytes(), "application/pdf")},
            data={"order_number": "PO-2026-17", "comment": "livraison de novembre"},
        )
        elapsed = time.perf_counter() - started
        # Then the answer is 202 with the document id and its status URL, before any processing
        assert answer.status_code == 202, answer.text
        body = answer.json()
        assert body["status"] == "received" and body["status_url"].endswith(body["id"])
        assert answer.headers["location"] == body["status_url"]
        assert elapsed < 10  # generous: processing (seconds) must not be waited for
        doc = server.wait_final(client, body["id"])
    assert doc["status"] in ("archived", "needs_review")
    assert doc["meta"] == {"BT-13": "PO-2026-17", "comment": "livraison de novembre"}
    assert doc["fields"]["BT-1"] == invoice.expected_fields["BT-1"]
    lifecycle = doc["lifecycle"]
    assert isinstance(lifecycle, dict) and lifecycle["code"] == 200 and lifecycle["label"] == "Déposée"
    assert all("rule" in f for f in doc["findings"])  # type: ignore[union-attr]
    assert {"sealed", "report", "original"} <= set(doc["links"])  # type: ignore[arg-type]


def test_sealed_copy_and_report_download_and_are_journalled(
    server: Server, supplier: str, demo_set: list[Sample]
) -> None:
    invoice = demo_set[1]  # the digital PDF invoice
    with server.client(supplier) as client:
        doc_id = client.post(
            "/api/v1/documents", files={"file": ("f.pdf", invoice.path.read_bytes())}
        ).json()["id"]
        server.wait_final(client, doc_id)
        sealed = client.get(f"/api/v1/documents/{doc_id}/files/sealed")
        report = client.get(f"/api/v1/documents/{doc_id}/files/report")
        original = client.get(f"/api/v1/documents/{doc_id}/files/original")
        internal = client.get(f"/api/v1/documents/{doc_id}/files/capture")
        me = client.get("/api/v1/me").json()["id"]
    assert sealed.status_code == 200 and sealed.content.startswith(b"%PDF")
    assert sealed.content.startswith(invoice.path.read_bytes())  # the seal is an incremental update
    assert report.json()["document_id"] == doc_id
    assert original.content == invoice.path.read_bytes()
    assert internal.status_code == 403  # the supplier downloads its copies, not the internals
    log = subprocess.run(
        [sys.executable, "-m", "cli.main", "audit", "log", "--document", doc_id, "--json"],
        env=server.env,
        capture_output=True,
        text=True,
    )
    downloads = [e for e in map(json.loads, log.stdout.splitlines()) if e["action"] == "downloaded"]
    assert [e["body"]["detail"]["object"] for e in downloads] == ["sealed", "report", "original"]
    assert {e["body"]["detail"]["account"] for e in downloads} == {me}


def test_idempotency_key_makes_a_retried_upload_create_nothing(server: Server, supplier: str) -> None:
    data = b"%PDF-1.4 not really a pdf " + str(time.time()).encode()
    headers = {"Idempotency-Key": "upload-42"}
    with server.client(supplier) as client:
        first = client.post("/api/v1/documents", files={"file": ("a.pdf", data)}, headers=headers).json()
        again = client.post("/api/v1/documents", files={"file": ("a.pdf", data)}, headers=headers).json()
        other = client.post("/api/v1/documents", files={"file": ("b.pdf", data + b"x")}, headers=headers)
    assert again["id"] == first["id"] and again["replayed"] is True
    assert other.status_code == 422 and other.headers["content-type"] == "application/problem+json"


def test_unreadable_and_empty_files_are_irrecevable_with_an_irr_reason(server: Server, supplier: str) -> None:
    with server.client(supplier) as client:
        empty = client.post("/api/v1/documents", files={"file": ("vide.pdf", b"")}).json()
        junk = client.post("/api/v1/documents", files={"file": ("x.docx", b"PK\x03\x04 not ours")}).json()
        docs = [server.wait_final(client, d["id"]) for d in (empty, junk)]
    for doc in docs:
        assert doc["status"] == "quarantined"
        lifecycle = doc["lifecycle"]
        assert isinstance(lifecycle, dict) and lifecycle["code"] == 501
        assert str(lifecycle["reason_code"]).startswith("IRR_")


def test_oversized_upload_is_refused_with_413_while_read_and_nothing_is_kept(
    server: Server, supplier: str
) -> None:
    big = b"%PDF-1.7\n" + b"0" * (3 * 1024 * 1024)
    before = sorted((server.data_dir / "archive" / "originals").glob("*"))
    with server.client(supplier) as client:
        answer = client.post("/api/v1/documents", files={"file": ("big.pdf", big)})
    assert answer.status_code == 413
    assert answer.headers["content-type"] == "application/problem+json"
    assert "IRR_TAILLE_F" in answer.json()["detail"]
    assert sorted((server.data_dir / "archive" / "originals").glob("*")) == before


def test_malformed_requests_get_a_problem_body_never_a_500(server: Server, supplier: str) -> None:
    with server.client(supplier) as client:
        answers = [
            client.post(
                "/api/v1/documents", content=b"not multipart", headers={"content-type": "text/plain"}
            ),
            client.post("/api/v1/documents", data={"comment": "no file"}),
            client.get("/api/v1/documents", params={"limit": "many"}),
            client.get("/api/v1/documents", params={"cursor": "%%%"}),
            client.get("/api/v1/documents/does-not-exist"),
            client.post("/api/v1/documents/nope/lifecycle", json={"code": "x"}),
        ]
    for answer in answers:
        assert 400 <= answer.status_code < 500, (answer.request.url, answer.status_code)
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["status"] == answer.status_code


def test_missing_wrong_and_revoked_tokens_are_401(server: Server) -> None:
    token = server.add_account("supplier", "Éphémère", "732829320")
    assert httpx.get(f"{server.url}/api/v1/documents").status_code == 401
    bad = {"Authorization": "Bearer dmf_forged"}
    assert httpx.get(f"{server.url}/api/v1/documents", headers=bad).status_code == 401
    good = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{server.url}/api/v1/me", headers=good).json()["name"] == "Éphémère"
    subprocess.run(
        [sys.executable, "-m", "cli.main", "accounts", "revoke", "Éphémère"], env=server.env, check=True
    )
    assert httpx.get(f"{server.url}/api/v1/me", headers=good).status_code == 401


def test_auditor_reads_everything_and_writes_nothing(server: Server, supplier: str) -> None:
    with server.client("Auditeur") as auditor:
        assert auditor.get("/api/v1/documents").status_code == 200
        refused = auditor.post("/api/v1/documents", files={"file": ("a.pdf", b"%PDF-1.4")})
    assert refused.status_code == 403


def test_responses_carry_security_headers_and_no_cors_by_default(server: Server) -> None:
    answer = httpx.get(f"{server.url}/healthz", headers={"Origin": "https://evil.example"})
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "access-control-allow-origin" not in answer.headers


def test_openapi_readyz_and_metrics(server: Server) -> None:
    spec = httpx.get(f"{server.url}/openapi.json").json()
    assert (
        "/api/v1/documents" in spec["paths"] and "/api/v1/documents/{document_id}/lifecycle" in spec["paths"]
    )
    ready = httpx.get(f"{server.url}/readyz").json()
    assert ready["status"] == "ok" and set(ready["checks"]) == {"catalogue", "archive", "processing"}
    metrics = httpx.get(f"{server.url}/metrics").text
    assert "dematflow_http_requests_total" in metrics


def test_tokens_never_reach_the_log(server: Server, supplier: str) -> None:
    with server.client(supplier) as client:
        client.get("/api/v1/documents")
    log = server.log.read_text(errors="replace")
    assert "GET /api/v1/documents" in log
    assert all(token not in log for token in server.tokens.values())


def test_the_api_starts_without_ocr_or_signing_libraries(tmp_path: Path) -> None:
    probe = (
        "import sys; from api.app import create_app; from pipeline.settings import Settings;"
        f"create_app(Settings.from_env({{'DEMATFLOW_DATA_DIR': {str(tmp_path)!r}}}));"
        "heavy = [m for m in ('pyhanko', 'cv2', 'pytesseract', 'pdfplumber', 'saxonche')"
        " if m in sys.modules];"
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
