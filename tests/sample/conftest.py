"""Shared generated companies for the sample tests (generated once per session)."""

from __future__ import annotations

import pytest

from helpers.sample import SampleExport, generate


@pytest.fixture(scope="session")
def company() -> SampleExport:
    """The committed sample's arguments: 10,000 leads, seed 2024."""
    return generate(10_000, 2024)
