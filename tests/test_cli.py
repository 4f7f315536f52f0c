"""The command line as tools outside the project use it: JSON contracts and exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cli.samples import Sample
from tests.conftest import sample
from tests.corpus import CORPUS


def dematflow(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture
def data_dir(tmp_path: Path, dev_keys: Path) -> Path:
    shutil.copytree(dev_keys, tmp_path / "data" / "keys")
    return tmp_path / "data"


def test_process_json_prints_one_line_per_document(data_dir: Path, demo_set: list[Sample]) -> None:
    files = [str(sample(demo_set, p).path) for p in ("facture-FA", "rib-", "document-corrompu")]
    result = dematflow(data_dir, "process", "--json", *files)
    assert result.returncode == 2, result.stderr  # 0 only when every document reached archived
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["file"] for line in lines] == files
    assert [line["status"] for line in lines] == ["archived", "archived", "quarantined"]
    assert "reason" in lines[2] and "reason" not in lines[0]
    assert all(len(line["document_id"]) == 32 for line in lines)
    listed = dematflow(data_dir, "archive", "list", "--json")
    assert [json.loads(x)["document_id"] for x in listed.stdout.splitlines()] == [
        line["document_id"] for line in lines
    ]
    out = data_dir / "copy.pdf"
    got = dematflow(data_dir, "archive", "get", lines[0]["document_id"], "--out", str(out))
    assert got.returncode == 0 and out.read_bytes() == Path(files[0]).read_bytes()
    verified = dematflow(data_dir, "audit", "verify")
    assert verified.returncode == 0 and "OK" in verified.stdout


def test_extract_json_contract(data_dir: Path, demo_set: list[Sample]) -> None:
    s = sample(demo_set, "facture-FA")
    result = dematflow(data_dir, "extract", str(s.path), "--json")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)  # exactly one JSON object and nothing else
    assert set(answer) == {"doc_type", "source", "fields", "confidence", "findings"}
    assert answer["doc_type"] == "invoice" and answer["source"] == "pdf_text"
    assert answer["fields"]["BT-112"] == s.expected_fields["BT-112"]
    assert all(0 <= c <= 1 for c in answer["confidence"].values())
    assert not (data_dir / "archive").exists()  # extract archives nothing


def test_validate_json_exit_codes(data_dir: Path, demo_set: list[Sample]) -> None:
    good = dematflow(data_dir, "validate", str(sample(demo_set, "facture-facturx").path), "--json")
    answer = json.loads(good.stdout)
    assert good.returncode == 0 and answer["valid"] is True, answer
    assert answer["syntax"] == "CII" and answer["flavor"] == "factur-x"
    assert answer["profile"] == "EN16931" and "xsd" in answer["checked"]
    plain = dematflow(data_dir, "validate", str(sample(demo_set, "facture-FA").path), "--json")
    assert plain.returncode == 2 and json.loads(plain.stdout)["valid"] is False


def test_validate_reports_an_invalid_einvoice(data_dir: Path, tmp_path: Path, demo_set: list[Sample]) -> None:
    from facturx import get_xml_from_pdf

    _, xml = get_xml_from_pdf(sample(demo_set, "facture-facturx").path.read_bytes(), check_xsd=False)
    broken = tmp_path / "broken.xml"
    broken.write_bytes(
        xml.replace(b"<ram:GrandTotalAmount", b"<ram:GrandTotalAmountX", 1).replace(
            b"</ram:GrandTotalAmount>", b"</ram:GrandTotalAmountX>", 1
        )
    )
    result = dematflow(data_dir, "validate", str(broken), "--json")
    answer = json.loads(result.stdout)
    assert result.returncode == 1 and answer["valid"] is False
    assert any(f["rule"] == "XSD" for f in answer["findings"])


def test_validate_a_corpus_ubl_invoice(data_dir: Path) -> None:
    ubl = sorted((CORPUS / "en16931-cen" / "ubl").rglob("*.xml"))
    assert ubl, "the shared corpus must be beside the repository"
    result = dematflow(data_dir, "validate", str(ubl[0]), "--json")
    answer = json.loads(result.stdout)
    assert result.returncode in (0, 1) and answer["syntax"] == "UBL"


def test_errors_are_one_line_not_a_traceback(data_dir: Path) -> None:
    result = dematflow(data_dir, "archive", "show", "0" * 32)
    assert result.returncode == 5
    assert "no document" in result.stderr and "Traceback" not in result.stderr


def test_folders_are_walked_even_below_a_hidden_parent(
    tmp_path: Path, data_dir: Path, demo_set: list[Sample]
) -> None:
    inbox = tmp_path / ".spool" / "inbox"
    inbox.mkdir(parents=True)
    shutil.copy(sample(demo_set, "rib-").path, inbox / "rib.pdf")
    (inbox / ".partial.pdf").write_bytes(b"%PDF-1.7 still being written")
    result = dematflow(data_dir, "process", "--json", str(inbox))
    assert [json.loads(x)["file"] for x in result.stdout.splitlines()] == [str(inbox / "rib.pdf")]


def test_paper_invoice_to_facturx(data_dir: Path, tmp_path: Path, demo_set: list[Sample]) -> None:
    s = sample(demo_set, "facture-FA")
    out = tmp_path / "facturx.pdf"
    made = dematflow(data_dir, "facturx", str(s.path), "--out", str(out))
    assert made.returncode == 0, made.stderr
    assert "BASIC WL" in made.stdout
    check = dematflow(data_dir, "validate", str(out), "--json", "--no-french-rules")
    answer = json.loads(check.stdout)
    assert check.returncode == 0 and answer["valid"] and answer["profile"] == "BASIC WL", answer
    assert "schematron:factur-x-basicwl" in answer["checked"] or any(
        c.startswith("schematron:") for c in answer["checked"]
    )


def test_process_facturx_option_archives_a_linked_rendition(data_dir: Path, demo_set: list[Sample]) -> None:
    s = sample(demo_set, "facture-FA")
    result = dematflow(data_dir, "process", "--json", "--facturx", str(s.path))
    line = json.loads(result.stdout)
    assert line["status"] == "archived" and line["facturx"].startswith("facturx/"), result.stderr
    out = data_dir / "fx.pdf"
    got = dematflow(data_dir, "archive", "get", line["document_id"], "--role", "facturx", "--out", str(out))
    assert got.returncode == 0 and out.read_bytes().startswith(b"%PDF")
    log = dematflow(data_dir, "audit", "log", "--json", "--document", line["document_id"])
    assert any(json.loads(x)["action"] == "facturx" for x in log.stdout.splitlines())
    assert dematflow(data_dir, "audit", "verify").returncode == 0
