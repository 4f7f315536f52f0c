"""Settings come from DEMATFLOW_* variables, with sane embedded defaults and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from dematflow.errors import ConfigError
from pipeline.settings import Settings


def test_embedded_defaults(tmp_path: Path) -> None:
    s = Settings.from_env({"DEMATFLOW_DATA_DIR": str(tmp_path)})
    assert s.database_url == f"sqlite:///{tmp_path / 'catalogue.sqlite3'}"
    assert s.broker_url is None and s.seal_key is None
    assert s.archive_dir == tmp_path / "archive"


def test_variables_are_read_and_checked(tmp_path: Path) -> None:
    s = Settings.from_env(
        {
            "DEMATFLOW_DATA_DIR": str(tmp_path),
            "DEMATFLOW_MAX_PAGES": "12",
            "DEMATFLOW_BROKER_URL": "redis://h:6379/1",
        }
    )
    assert s.limits.max_pages == 12 and s.broker_url == "redis://h:6379/1"
    with pytest.raises(ConfigError, match="DEMATFLOW_MAX_PAGES"):
        Settings.from_env({"DEMATFLOW_MAX_PAGES": "many"})
    with pytest.raises(ConfigError, match="both"):
        Settings.from_env({"DEMATFLOW_SEAL_KEY": "/k.pem"})


def test_settings_are_frozen(tmp_path: Path) -> None:
    s = Settings.from_env({"DEMATFLOW_DATA_DIR": str(tmp_path)})
    with pytest.raises(AttributeError):
        s.ocr_languages = "deu"  # type: ignore[misc]
