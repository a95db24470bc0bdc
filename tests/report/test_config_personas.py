"""The personas notebook's feature list from the client config."""

from __future__ import annotations

import pytest

from helpers.config import ConfigError, notebook_parameters, parse_config
from helpers.report.pages import format_value


def _raw(**extra):
    return {"client": "ACME S.p.A.", "data": ".", **extra}


def test_persona_features_default_to_the_data_and_can_be_set(tmp_path):
    unset = notebook_parameters(parse_config(_raw(), tmp_path))["personas"]
    assert unset["persona_features"] is None
    assert format_value(None, "en", "persona_features") == "not set: every usable lead attribute"
    cfg = parse_config(_raw(persona_features=["industry", "company_size"]), tmp_path)
    assert cfg.persona_features == ("industry", "company_size")
    given = notebook_parameters(cfg)["personas"]["persona_features"]
    assert given == ["industry", "company_size"]


def test_persona_features_must_be_names(tmp_path):
    with pytest.raises(ConfigError):
        parse_config(_raw(persona_features=[{"a": 1}]), tmp_path)
