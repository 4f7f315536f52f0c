"""Where the shared third-party corpus lies, and the marker for tests that read it.

Off CI a checkout without ``../shared`` skips them; in CI (``CI=true``) they run and a missing
corpus fails them, never skips them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
needs_corpus = pytest.mark.skipif(
    not CORPUS.is_dir() and os.environ.get("CI") != "true", reason="shared corpus not present"
)
