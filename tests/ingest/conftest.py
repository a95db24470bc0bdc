"""Fixtures for the ingestion tests: a fixed pseudonymisation key, a clean working directory."""

from __future__ import annotations

import pytest

KEY = "test-key-not-secret"


@pytest.fixture(autouse=True)
def _fixed_key(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    monkeypatch.setenv("SMARKETING_PSEUDONYM_KEY", KEY)
    monkeypatch.setenv("SMARKETING_LANG", "en")  # the CLI's --lang writes it; restored after
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))
