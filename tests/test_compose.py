"""docker-compose.yml, Dockerfile and .dockerignore, checked statically (no Docker engine here)."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
WORKERS = {"worker-capture": "dematflow.capture", "worker-check": "dematflow.check",
           "worker-seal": "dematflow.seal", "worker-maintenance": "dematflow"}  # fmt: skip
WORKER_ENV = {
    "DEMATFLOW_DATA_DIR",
    "DEMATFLOW_DATABASE_URL",
    "DEMATFLOW_BROKER_URL",
    "DEMATFLOW_WORKER_PROCESSES",
    "DEMATFLOW_OCR_LANGUAGES",
    "DEMATFLOW_METRICS_PORT",
    "DEMATFLOW_SEAL_SIGNER",
    *(f"DEMATFLOW_S3_{n}" for n in ("ENDPOINT", "BUCKET", "ACCESS_KEY", "SECRET_KEY", "REGION", "SECURE")),
}
SECRETS = {
    "POSTGRES_PASSWORD": "s3cret",
    "MINIO_ROOT_USER": "dematflow",
    "MINIO_ROOT_PASSWORD": "minio-s3cret",
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error} forms, enough for this file."""

    def one(m: re.Match[str]) -> str:
        name, op, arg = m["name"], m["op"], m["arg"] or ""
        if env.get(name):
            return env[name]
        if op == ":-":
            return arg
        raise AssertionError(f"{name} is required: {arg}")

    return re.sub(r"\$\{(?P<name>\w+)(?:(?P<op>:-|:\?)(?P<arg>[^}]*))?\}", one, value)


def test_the_stack_is_postgres_redis_minio_a_worker_per_queue_the_watcher_and_the_api(
    compose: dict[str, Any],
) -> None:
    from workers.queues import QUEUES

    services = compose["services"]
    assert set(services) == {"postgres", "redis", "minio", *WORKERS, "watcher", "api"}
    assert sorted(WORKERS.values()) == sorted(QUEUES)  # every queue has its worker, none is left out
    assert services["postgres"]["image"] == "postgres:16"
    assert services["redis"]["image"] == "redis:7"
    for name, queue in WORKERS.items():
        worker = services[name]
        assert worker["build"]["context"] == "." and (ROOT / worker["build"]["dockerfile"]).is_file()
        assert worker["command"] == ["dematflow", "worker", "--queues", queue]
    assert services["minio"]["image"].startswith("minio/minio:RELEASE.")
    assert services["minio"]["command"] == ["minio", "server", "/data"]
    watcher = services["watcher"]
    assert watcher["command"] == ["dematflow", "watch", "/inbox"] and "inbox:/inbox" in watcher["volumes"]


def test_only_the_sealing_workers_may_seal(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("worker-capture", "worker-check", "watcher"):
        assert services[name]["environment"]["DEMATFLOW_SEAL_SIGNER"] == "none", name
    for name in ("worker-seal", "worker-maintenance"):  # the seal; the day seals and renewals
        assert "DEMATFLOW_SEAL_SIGNER" not in services[name]["environment"], name


def test_every_service_has_a_healthcheck_and_volumes(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert services["minio"]["healthcheck"]["test"] == ["CMD", "mc", "ready", "local"]
    for name in WORKERS:  # each worker process serves its metrics: the healthcheck reads them
        assert "9300/metrics" in " ".join(services[name]["healthcheck"]["test"]), name
    assert all(services[name].get("healthcheck") for name in services)
    declared = set(compose["volumes"])
    for name in ("postgres", "redis", "minio", *WORKERS, "watcher", "api"):
        mounts = [v.split(":")[0] for v in services[name]["volumes"]]
        assert mounts and set(mounts) <= declared, name
    assert "/var/lib/postgresql/data" in services["postgres"]["volumes"][0]
    assert all(services[name]["volumes"] == ["dematflow-data:/data"] for name in WORKERS)


def test_workers_and_watcher_wait_for_healthy_services(compose: dict[str, Any]) -> None:
    for name in (*WORKERS, "watcher"):
        assert compose["services"][name]["depends_on"] == {
            "postgres": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
            "minio": {"condition": "service_healthy"},
        }, name


def test_worker_environment_is_what_settings_accept(compose: dict[str, Any]) -> None:
    env = compose["services"]["worker-seal"]["environment"]
    assert isinstance(env, dict) and set(env) <= WORKER_ENV
    assert {"DEMATFLOW_DATA_DIR", "DEMATFLOW_DATABASE_URL", "DEMATFLOW_BROKER_URL"} <= set(env)
    assert env["DEMATFLOW_DATA_DIR"] == "/data"
    assert env["DEMATFLOW_BROKER_URL"] == "redis://redis:6379/0"
    url = env["DEMATFLOW_DATABASE_URL"]
    assert url.startswith("postgresql+psycopg://dematflow:")
    assert url.endswith("@postgres:5432/dematflow")
    pg = compose["services"]["postgres"]["environment"]
    assert pg["POSTGRES_USER"] == "dematflow" and pg["POSTGRES_DB"] == "dematflow"
    # No password is written in the file: it comes from the environment and is required.
    with pytest.raises(AssertionError, match="POSTGRES_PASSWORD"):
        _interpolate(url, {})
    # Given a password, the real settings loader accepts every value the worker gets.
    values = {k: _interpolate(str(v), SECRETS) for k, v in env.items()}
    settings = Settings.from_env(values)
    assert settings.broker_url == "redis://redis:6379/0"
    assert settings.database_url.endswith(":s3cret@postgres:5432/dematflow")
    assert settings.data_dir == Path("/data")
    assert settings.worker_processes == 2 and settings.ocr_languages == "fra+eng"
    # The archive is MinIO, reached with the credentials MinIO itself was given.
    assert settings.s3 is not None and settings.s3.endpoint == "minio:9000" and not settings.s3.secure
    assert (settings.s3.access_key, settings.s3.secret_key) == ("dematflow", "minio-s3cret")
    assert settings.s3.bucket == "dematflow-archive"


def test_minio_credentials_come_from_the_environment_and_both_doors_use_the_archive(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    minio_env = services["minio"]["environment"]
    for name in ("MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD"):
        with pytest.raises(AssertionError, match=name):
            _interpolate(minio_env[name], {})
    s3 = {k: v for k, v in services["worker-seal"]["environment"].items() if k.startswith("DEMATFLOW_S3_")}
    assert len(s3) == 6 and {k: services["api"]["environment"][k] for k in s3} == s3
    assert services["api"]["depends_on"]["minio"] == {"condition": "service_healthy"}


def _dockerfile() -> list[str]:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    joined = re.sub(r"\\\n", " ", text)  # continuation lines
    return [line.strip() for line in joined.splitlines() if line.strip() and line[0] != "#"]


def test_dockerfile_builds_the_worker_image() -> None:
    lines = _dockerfile()
    assert lines[0] == "FROM python:3.11-slim-bookworm"
    apt = next(line for line in lines if "apt-get install" in line).split()
    for package in ("tesseract-ocr", "tesseract-ocr-fra", "tesseract-ocr-eng", "poppler-utils"):
        assert package in apt
    assert any(re.search(r"\bpip install \.(\s|$)", line) for line in lines)
    cmd = [line for line in lines if line.startswith("CMD ")]
    assert len(cmd) == 1 and json.loads(cmd[0][4:]) == ["dematflow", "worker"]
    assert any(line.startswith("USER ") and "root" not in line for line in lines)
    # The CMD names a console script the package really declares.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "dematflow" in project["project"]["scripts"]


def test_dockerignore_keeps_the_context_small() -> None:
    text = (ROOT / ".dockerignore").read_text(encoding="utf-8")
    ignored = {line.strip() for line in text.splitlines() if line.strip()[:1] not in ("", "#")}
    assert {".git", ".venv", "tests", ".env"} <= ignored
    assert not ignored & {"pyproject.toml", "dematflow", "pipeline", "cli"}


def test_api_serves_the_worker_image_on_the_same_catalogue_and_queue(compose: dict[str, Any]) -> None:
    services = compose["services"]
    api, worker = services["api"], services["worker-capture"]
    assert api["image"] == worker["image"] and api["command"][:2] == ["dematflow", "serve"]
    for name in ("DEMATFLOW_DATABASE_URL", "DEMATFLOW_BROKER_URL", "DEMATFLOW_DATA_DIR"):
        assert api["environment"][name] == worker["environment"][name]
    assert api["volumes"] == worker["volumes"] and "/readyz" in " ".join(api["healthcheck"]["test"])
