"""Which stages a conversion analysis follows when a model lacks some handoffs."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers import funnel
from helpers.errors import KitError
from helpers.stages import StageModel, load_stage_model


def _model(stages: list[str], roles: dict[str, str]) -> StageModel:
    return StageModel(name="t", funnel=tuple(stages), roles=roles)


def test_full_model_follows_mql_to_sql():
    model = load_stage_model("default")
    assert funnel.conversion_span(model) == (model.role("mql"), model.role("sql"))
    assert funnel.unrecorded_steps(model) == []


def test_two_stage_model_follows_mql_to_won_and_names_the_missing_steps():
    model = load_stage_model("olist")
    assert funnel.conversion_span(model) == ("mql", "won")
    assert funnel.unrecorded_steps(model) == ["sal", "sql", "opportunity"]


def test_without_roles_the_first_and_last_funnel_stages_are_used():
    model = _model(["enquiry", "meeting", "contract"], {})
    assert funnel.conversion_span(model) == ("enquiry", "contract")
    assert funnel.conversion_span(_model(["a", "b", "c"], {"mql": "b"})) == ("b", "c")
    assert funnel.unrecorded_steps(model, ("mql", "won")) == ["mql", "won"]


def test_a_single_stage_has_no_conversion():
    with pytest.raises(KitError):
        funnel.conversion_span(_model(["mql"], {"mql": "mql"}))


def test_the_span_feeds_cohort_conversion_on_a_two_stage_history():
    model = load_stage_model("olist")
    history = pd.DataFrame(
        {
            "lead_id": ["a", "b", "c", "d", "a"],
            "stage": ["mql", "mql", "mql", "mql", "won"],
            "entered_at": pd.to_datetime(
                ["2024-01-01", "2024-01-02", "2024-02-01", "2024-02-02", "2024-03-01"], utc=True
            ),
        }
    )
    src, dst = funnel.conversion_span(model)
    pooled = funnel.cohort_conversion(history, model, src, dst, period=None).iloc[0]
    assert (pooled["n"], pooled["converted"], pooled["rate"]) == (4, 1, 0.25)
