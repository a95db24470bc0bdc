"""Notebooks find their data from wherever they run."""

from __future__ import annotations

import pytest

from helpers.errors import KitError
from helpers.workshop import PROJECT_ROOT, find_data_dir, find_path


def test_found_from_a_nested_folder_and_from_the_start_folder(tmp_path):
    (tmp_path / "data" / "samples").mkdir(parents=True)
    (tmp_path / "cards.yaml").write_text("personas: []\n")
    nested = tmp_path / "playbook" / "workshop"
    nested.mkdir(parents=True)
    assert find_data_dir("data/samples", nested) == tmp_path / "data" / "samples"
    assert find_path("cards.yaml", nested) == tmp_path / "cards.yaml"
    assert find_data_dir("data/samples", tmp_path) == tmp_path / "data" / "samples"


def test_falls_back_to_the_kit_folder_and_fails_clearly(tmp_path):
    assert find_path("pyproject.toml", tmp_path) == PROJECT_ROOT / "pyproject.toml"
    with pytest.raises(KitError) as err:
        find_path("no/such/folder", tmp_path)
    assert err.value.key == "workshop.data_not_found"
    assert "no/such/folder" in err.value.message("it")
    assert find_path(tmp_path) == tmp_path  # absolute paths are taken as they are
