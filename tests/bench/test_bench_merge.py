"""A partial benchmark run replaces only the rows it measured."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def run_bench():
    pytest.importorskip("psutil")
    spec = importlib.util.spec_from_file_location("run_bench", ROOT / "bench" / "run_bench.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["run_bench"] = module
    spec.loader.exec_module(module)
    return module


def _row(size, analysis, kit_s, run):
    return {"size": size, "analysis": analysis, "kit_s": kit_s, "run": run, "notes": [], "ok": True}


def test_merge_keeps_rows_and_reports_the_new_run_did_not_measure(run_bench):
    old = {
        "machine": {"date": "old"},
        "minutes": 10.0,
        "rows": [
            _row(10_000, "ingest_csv", 9.0, "old"),
            _row(10_000, "cohort_conversion", 1.0, "old"),
            _row(100_000, "cohort_conversion", 8.0, "old"),
        ],
        "reports": [{"size": 0, "seconds": 17.0}],
    }
    new = {
        "machine": {"date": "new"},
        "minutes": 2.0,
        "rows": [_row(10_000, "ingest_csv", 3.0, "new")],
        "reports": [],
    }
    merged = run_bench.merge(old, new)
    got = {(r["size"], r["analysis"]): (r["kit_s"], r["run"]) for r in merged["rows"]}
    assert got == {
        (10_000, "ingest_csv"): (3.0, "new"),
        (10_000, "cohort_conversion"): (1.0, "old"),
        (100_000, "cohort_conversion"): (8.0, "old"),
    }
    assert merged["reports"] == old["reports"]
    assert merged["minutes"] == 2.0  # this run's time; older rows say when they were measured
