"""Log lines for people (text) or for a log collector (one JSON object a line): DEMATFLOW_LOG_FORMAT.

Every process sets it up at its edge: the CLI's root callback, each worker process (workers/app.py,
after dramatiq's own set-up) and the HTTP service's uvicorn. A JSON line holds time (UTC), level,
logger, message, process, and the document's id when the record names one.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from dematflow.errors import ConfigError

FORMATS = ("text", "json")
TEXT = "%(levelname)s %(name)s: %(message)s"
_DOCUMENT_ID = re.compile(r"\b[0-9a-f]{32}\b")  # dematflow's document ids: 32 hex digits


def log_format(env: Mapping[str, str]) -> str:
    value = (env.get("DEMATFLOW_LOG_FORMAT") or "text").strip().lower()
    if value not in FORMATS:
        raise ConfigError(f"DEMATFLOW_LOG_FORMAT must be text or json, not {value!r}")
    return value


class JsonLines(logging.Formatter):
    """One JSON object per record, on one line (newlines in messages and tracebacks are escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": message,
            "process": record.process,
        }
        document = getattr(record, "document_id", None) or _first_id(message)
        if document:
            line["document_id"] = document
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def _first_id(message: str) -> str | None:
    found = _DOCUMENT_ID.search(message)
    return found.group(0) if found else None


def formatter(env: Mapping[str, str]) -> logging.Formatter:
    return JsonLines() if log_format(env) == "json" else logging.Formatter(TEXT)


def apply(env: Mapping[str, str]) -> None:
    """Give every handler of the root logger the chosen format (those set up by dramatiq included)."""
    chosen = formatter(env)
    for handler in logging.getLogger().handlers:
        handler.setFormatter(chosen)


def uvicorn_config(env: Mapping[str, str]) -> dict[str, Any] | None:
    """uvicorn's logging in JSON lines too; None: uvicorn's own (text) format."""
    if log_format(env) != "json":
        return None
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "dematflow.logs.JsonLines"}},
        "handlers": {"default": handler},
        "loggers": {
            name: {"handlers": ["default"], "level": "INFO", "propagate": False}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
        "root": {"handlers": ["default"], "level": "INFO"},
    }
