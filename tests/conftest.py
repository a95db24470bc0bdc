"""Shared fixtures: project paths and the real-data folder (tests using it skip when absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples"
SHARED = ROOT.parent / "shared"
OLIST = SHARED / "realdata" / "olist-marketing-funnel"


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def olist_dir() -> Path:
    if not (OLIST / "olist_marketing_qualified_leads_dataset.csv").is_file():
        pytest.skip("../shared/realdata is absent: real-data test skipped")
    return OLIST
