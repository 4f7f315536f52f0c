"""DEMATFLOW_LOG_FORMAT: text for people, one JSON object a line for a log collector."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cli.samples import Sample
from dematflow import logs
from dematflow.errors import ConfigError
from tests.conftest import sample


def test_a_record_becomes_one_json_line_with_the_document_id() -> None:
    record = logging.LogRecord("pipeline.run", logging.WARNING, __file__, 1, "document %s: line\nnext",
                               ("0123456789abcdef0123456789abcdef",), None)  # fmt: skip
    line = logs.JsonLines().format(record)
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["level"] == "warning" and parsed["logger"] == "pipeline.run"
    assert parsed["message"] == "document 0123456789abcdef0123456789abcdef: line\nnext"
    assert parsed["document_id"] == "0123456789abcdef0123456789abcdef" and parsed["time"].endswith("+00:00")


def test_an_unknown_format_is_refused_with_its_variable() -> None:
    with pytest.raises(ConfigError, match="DEMATFLOW_LOG_FORMAT"):
        logs.log_format({"DEMATFLOW_LOG_FORMAT": "xml"})
    assert logs.log_format({}) == "text" and logs.uvicorn_config({}) is None


def test_the_cli_logs_json_lines_on_stderr(tmp_path: Path, dev_keys: Path, demo_set: list[Sample]) -> None:
    env = {**os.environ, "DEMATFLOW_LOG_FORMAT": "json", "DEMATFLOW_DATA_DIR": str(tmp_path / "data")}
    invoice = sample(demo_set, "facture-FA").path
    run = subprocess.run([sys.executable, "-m", "cli.main", "--verbose", "process", "--json", str(invoice)],
                         env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert run.returncode == 0, run.stderr
    lines = [json.loads(x) for x in run.stderr.splitlines() if x.strip()]
    assert lines and all({"time", "level", "logger", "message"} <= set(x) for x in lines)
    assert any(x.get("document_id") for x in lines)
    bad = subprocess.run([sys.executable, "-m", "cli.main", "doctor"], capture_output=True, text=True,
                         env={**env, "DEMATFLOW_LOG_FORMAT": "xml"}, timeout=60)  # fmt: skip
    assert bad.returncode == 6 and "DEMATFLOW_LOG_FORMAT" in bad.stderr
