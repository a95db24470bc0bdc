"""Fixtures of the report tests; the notebook and config builders are in report_factory."""

from __future__ import annotations

from pathlib import Path

import pytest
from report_factory import tiny_notebook


@pytest.fixture(scope="session")
def ingest_ready() -> None:
    """The runner validates data with helpers.ingest; skip until that module is importable."""
    ingest = pytest.importorskip("helpers.ingest")
    if not hasattr(ingest, "load_crm") or not hasattr(ingest, "save_canonical"):
        pytest.skip("helpers.ingest.load_crm / save_canonical are not available")


@pytest.fixture
def tiny_notebooks(tmp_path: Path) -> Path:
    folder = tmp_path / "notebooks"
    tiny_notebook(folder, "00_first", 0.4)
    tiny_notebook(folder, "01_second", 0.9)
    return folder
