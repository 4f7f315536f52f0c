"""The load benchmark's core at its smallest: concurrent uploads lose and duplicate nothing."""

from __future__ import annotations

from pathlib import Path

from benchmarks.api_load import report, run_load


def test_two_clients_uploading_at_once_lose_and_duplicate_nothing(tmp_path: Path, dev_keys: Path) -> None:
    # Given two suppliers each depositing two digital invoices at the same time
    result = run_load(tmp_path, dev_keys, clients=2, per_client=2, workers=2)
    # Then every upload got its own id, every id is final, listed once, and the journal verifies
    assert result.accepted == result.distinct_ids == result.final == 4, report(result)
    assert result.lost == 0 and result.duplicated == 0, report(result)
    assert result.listing_matches and result.audit_ok, report(result)
