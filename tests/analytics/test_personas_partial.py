"""Personas on data that lacks things: MQL -> won by persona, labels recorded only on a win,
and the lead attributes worth clustering on."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.proportion import proportion_confint

from helpers import personas as ps
from helpers.model import CrmData
from helpers.plotting.personas import plot_scorecard
from helpers.stages import load_stage_model

OLIST = load_stage_model("olist")


def _ts(day: int) -> pd.Timestamp:
    return pd.Timestamp("2024-01-01", tz="UTC") + pd.Timedelta(days=day)


def _two_stage_crm(personas: list[str | None], won: list[bool]) -> CrmData:
    ids = [f"L{i}" for i in range(len(personas))]
    leads = pd.DataFrame(
        {
            "lead_id": ids,
            "created_at": [_ts(0)] * len(ids),
            "persona": pd.array(personas, dtype="str"),
        }
    )
    rows = [(i, "mql", _ts(1)) for i in ids]
    rows += [(i, "won", _ts(20)) for i, w in zip(ids, won, strict=True) if w]
    history = pd.DataFrame(rows, columns=["lead_id", "stage", "entered_at"])
    return CrmData(leads=leads, stage_history=history, stage_model=OLIST)


def test_mql_to_won_by_persona_is_hand_computed_with_wilson():
    crm = _two_stage_crm(["A", "A", "A", "A", "B", "B"], [True, False, True, False, False, False])
    card = ps.persona_scorecard(crm).set_index("persona")
    assert (card.loc["A", "mql"], card.loc["A", "mql_won"]) == (4, 2)
    assert card.loc["A", "mql_to_won"] == pytest.approx(0.5)
    low, high = proportion_confint(2, 4, 0.05, method="wilson")
    assert (card.loc["A", "mql_to_won_low"], card.loc["A", "mql_to_won_high"]) == pytest.approx(
        (low, high)
    )
    assert card.loc["B", "mql_to_won"] == 0.0 and card.loc["B", "mql_to_won_high"] > 0
    # a two-stage model has no SQL and records no lost deal: only MQL -> won is a rate
    assert {"mql_to_sql", "win_rate"} <= set(card.attrs["not_computed"])
    assert ps.scorecard_rates(card.reset_index()) == ["mql_to_won"]
    assert card.attrs["recorded_when_won"] is False


def test_a_persona_recorded_only_on_won_leads_gives_no_conversion():
    # like the Olist export: the profile comes with the closed deal, blank for everyone else
    crm = _two_stage_crm(
        ["cat", "wolf", None, None, "cat", None], [True, True, False, False, True, True]
    )
    card = ps.persona_scorecard(crm)
    assert card.attrs["recorded_when_won"] is True
    assert "mql_to_won" in card.attrs["not_computed"]
    assert card["mql_to_won"].isna().all()
    assert ps.scorecard_rates(card) == []
    with pytest.raises(ValueError, match="persona"):
        plot_scorecard(card, "en")


def test_the_scorecard_chart_draws_only_the_rates_with_data():
    crm = _two_stage_crm(["A", "A", "B", "B"], [True, False, False, True])
    fig = plot_scorecard(ps.persona_scorecard(crm), "en")
    try:
        titles = [ax.get_title(loc) for ax in fig.axes for loc in ("left", "center", "right")]
        assert [title for title in titles if title] == ["MQL to won rate"]
    finally:
        plt.close(fig)


@pytest.mark.parametrize(
    ("column", "outcome"),
    [
        ("lifecycle_stage", True),
        ("Lead Status", True),
        ("is_won", True),
        ("Converted Date", True),
        ("esito_trattativa", True),
        ("lost_reason", True),
        ("state", False),  # a place, not a status
        ("company_size", False),
        ("statistics_opt_in", False),
        ("wonderland_score", True),  # a word starting like "won": left out, to be safe
    ],
)
def test_outcome_columns_are_told_by_their_name(column, outcome):
    assert ps.records_outcome(column) is outcome


def test_candidate_features_keeps_attributes_and_drops_ids_people_and_text():
    n = 40
    rng = np.random.default_rng(0)
    leads = pd.DataFrame(
        {
            "lead_id": [f"L{i}" for i in range(n)],
            "created_at": pd.date_range("2024-01-01", periods=n, tz="UTC"),
            "landing_page_id": ["p1", "p2"] * (n // 2),
            "email": [f"x{i}@example.com" for i in range(n)],
            "first_name": ["Ann", "Bob"] * (n // 2),
            "owner": ["r1", "r2", "r3", "r4"] * (n // 4),
            "persona": ["A", "B"] * (n // 2),
            "company": [f"Company {i}" for i in range(n)],
            "source": ["web", "event", "ads", "partner"] * (n // 4),
            "company_size": rng.integers(1, 500, n),
            "constant": ["x"] * n,
            "revenue_after_sale": [1.0, 2.0, 3.0, 4.0, 5.0] + [np.nan] * (n - 5),
            "lifecycle_stage": ["lead", "customer"] * (n // 2),  # how far the lead got
            "Lead Status": ["Open", "Closed - Converted"] * (n // 2),
            "industry": ["a", "b", None, "c"] * (n // 4),
        }
    )
    assert ps.candidate_features(leads) == ["source", "company_size", "industry"]
    assert ps.candidate_features(leads, exclude=["source"]) == ["company_size", "industry"]
    assert "revenue_after_sale" in ps.candidate_features(leads, min_filled=0.1)
    assert "company" not in ps.candidate_features(leads, max_levels=n)  # unique on every row


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.sampled_from(["A", "B", "C"]), min_size=1, max_size=30),
    st.data(),
)
def test_property_mql_to_won_counts_add_up(labels, data):
    won = data.draw(st.lists(st.booleans(), min_size=len(labels), max_size=len(labels)))
    card = ps.persona_scorecard(_two_stage_crm(labels, won)).set_index("persona")
    if card.attrs["recorded_when_won"]:  # every lead labelled and won is impossible here
        pytest.fail("all leads carry a label, so the label is not recorded only on a win")
    assert card["mql"].sum() == len(labels)
    assert card["mql_won"].sum() == sum(won)
    rates = card["mql_to_won"]
    assert (
        (card["mql_to_won_low"] <= rates + 1e-12) & (rates <= card["mql_to_won_high"] + 1e-12)
    ).all()


def test_win_mix_splits_the_won_deals_by_persona():
    labels = ["cat", "wolf", None, None, "cat", None]
    card = ps.persona_scorecard(_two_stage_crm(labels, [True, True, False, False, True, True]))
    mix = ps.win_mix(card).set_index("persona")
    assert mix["won"].to_dict() == {"cat": 2, "(none)": 1, "wolf": 1}
    assert mix.loc["cat", "share"] == pytest.approx(0.5)
    low, high = proportion_confint(2, 4, 0.05, method="wilson")
    assert (mix.loc["cat", "share_low"], mix.loc["cat", "share_high"]) == pytest.approx((low, high))
    assert mix.loc["cat", "cycle_days_median"] == pytest.approx(20.0)  # created day 0, won day 20
    assert mix["share"].sum() == pytest.approx(1.0)
