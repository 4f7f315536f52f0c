"""Schemathesis over /openapi.json of a real `dematflow serve`, as a supplier and as an agent: no 500
anywhere, and every answer is documented (status code, content type, body conforming to its schema).

Run through the `schemathesis run` command (its pytest plugin does not load under pytest 9), all phases
but the stateful one (the schema declares no links), bounded and reproducible for CI: a fixed seed,
deterministic generation, at most MAX_EXAMPLES cases an operation and phase. Half of the generated
document ids and file roles are replaced by those of a real, processed invoice, so the 200 answers of
status, downloads and lifecycle are checked too. Nothing is excluded: the upload gets the generated
multipart body, its file included.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cli.samples import Sample
from tests.api_server import Server, start_server

SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))
SEED = 9457
MAX_EXAMPLES = 25
SELLER_SIREN = "552100554"
ROLES = {"supplier": ("supplier", "Fournisseur ST", SELLER_SIREN), "agent": ("agent", "Agent ST")}
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance")  # fmt: skip
RUN_OPTIONS = ("--report", "json", "--request-timeout", "30", "--workers", "1", "--no-color")
FILE_ROLES = ("original", "sealed", "report", "data", "capture", "einvoice", "lifecycle-001")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, dev_keys: Path) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("schemathesis")
    # a small upload limit, so that generated bodies can reach the 413 answer too
    yield from start_server(root, dev_keys, DEMATFLOW_MAX_BYTES=str(64 * 1024))


@pytest.fixture(scope="module")
def known_document(server: Server, demo_set: list[Sample]) -> str:
    """A processed Factur-X invoice of the supplier: its status, files and lifecycle answer 200."""
    for role, name, *ids in ROLES.values():
        server.add_account(role, name, *ids)
    invoice = demo_set[0]
    with server.client(ROLES["supplier"][1]) as client:
        answer = client.post(
            "/api/v1/documents", files={"file": (invoice.path.name, invoice.path.read_bytes())}
        )
        assert answer.status_code == 202, answer.text
        doc_id = str(answer.json()["id"])
        server.wait_final(client, doc_id)
    return doc_id


def config_toml(token: str, document_id: str) -> str:
    """The run's schemathesis.toml (JSON strings are valid TOML basic strings)."""
    q = json.dumps
    return "\n".join(
        [
            f"seed = {SEED}",
            f"headers = {{ Authorization = {q('Bearer ' + token)} }}",
            "[generation]",
            f"max-examples = {MAX_EXAMPLES}",
            "deterministic = true",
            "[phases.stateful]",
            "enabled = false",
            "[checks]",
            "enabled = false",
            *(f"{name}.enabled = true" for name in CHECKS),
            "[dictionaries]",
            f"known-document = {{ values = [{q(document_id)}] }}",
            f"known-role = {{ values = [{', '.join(map(q, FILE_ROLES))}] }}",
            "[parameters]",
            '"path.document_id" = { dictionary = "known-document", probability = 0.5 }',
            '"path.role" = { dictionary = "known-role", probability = 0.5 }',
            "",
        ]
    )


@pytest.mark.parametrize("role", sorted(ROLES))
def test_every_answer_is_documented_and_none_is_a_500(
    role: str, server: Server, known_document: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "schemathesis.toml"
    config.write_text(config_toml(server.tokens[ROLES[role][1]], known_document))
    report = tmp_path / "report.json"
    with server.client("Agent ST") as agent:
        before = agent.get("/api/v1/documents", params={"limit": 200}).json()["items"]
    done = subprocess.run(
        [
            SCHEMATHESIS,
            "--config-file",
            str(config),
            "run",
            f"{server.url}/openapi.json",
            *RUN_OPTIONS,
            "--report-json-path",
            str(report),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert report.exists(), done.stdout[-5000:] + done.stderr[-5000:]
    summary = json.loads(report.read_text())
    with capsys.disabled():
        print(f"\nschemathesis as {role}: {summarise(summary)}")
    assert done.returncode == 0, done.stdout[-20000:] + done.stderr[-5000:]
    assert summary["operations"]["tested"] == summary["operations"]["total"]
    with server.client("Agent ST") as agent:
        after = agent.get("/api/v1/documents", params={"limit": 200}).json()["items"]
    if role == "supplier":  # the generated multipart bodies, files included, were taken in
        assert len(after) > len(before)


def summarise(report: dict[str, Any]) -> str:
    ops, cases = report["operations"], report["test_cases"]
    phases = ", ".join(f"{k} {v['status']}" for k, v in report["phases"].items())
    return (
        f"{ops['tested']}/{ops['total']} operations, {cases['generated']} test cases, "
        f"{len(CHECKS)} checks each ({', '.join(CHECKS)}), {cases['with_failures']} with failures, "
        f"{len(report['failures'])} unique failures, {len(report['errors'])} errors; phases: {phases}; "
        f"{report['running_time']:.0f} s"
    )
