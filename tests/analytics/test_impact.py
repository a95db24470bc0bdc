"""Collaboration impact: hand-computed panels, planted effects and properties of the estimators."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import impact
from helpers.errors import KitError, MissingTableError
from helpers.model import CrmData


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def tiny_crm() -> CrmData:
    """Two regions, MQLs in January and February 2026.

    north: L1 mql 01-05 -> sql 01-20; L2 mql 01-10 (no sql); L3 mql 02-03 -> sql 02-04
    south: L4 mql 01-07 -> sql 03-01; L5 mql 02-10 (no sql)
    Sales touches: L1 2 h after MQL, L2 10 h, L4 5 h (and an earlier touch before the MQL).
    Deals: L1 won 1000 in February, L3 lost in February, L4 won 500 in March.
    """
    leads = pd.DataFrame(
        {
            "lead_id": ["L1", "L2", "L3", "L4", "L5"],
            "created_at": pd.to_datetime(["2026-01-01"] * 5, utc=True).as_unit("us"),
            "region": ["north", "north", "north", "south", "south"],
        }
    )
    rows = [
        ("L1", "mql", "2026-01-05"),
        ("L1", "sql", "2026-01-20"),
        ("L2", "mql", "2026-01-10"),
        ("L3", "mql", "2026-02-03"),
        ("L3", "sql", "2026-02-04"),
        ("L4", "mql", "2026-01-07"),
        ("L4", "sql", "2026-03-01"),
        ("L5", "mql", "2026-02-10"),
    ]
    history = pd.DataFrame(rows, columns=["lead_id", "stage", "entered_at"])
    history["entered_at"] = pd.to_datetime(history["entered_at"], utc=True).dt.as_unit("us")
    acts = pd.DataFrame(
        {
            "activity_id": ["a1", "a2", "a3", "a4"],
            "lead_id": ["L1", "L2", "L4", "L4"],
            "side": ["sales", "sales", "sales", "sales"],
            "at": [
                ts("2026-01-05 02:00"),
                ts("2026-01-10 10:00"),
                ts("2026-01-07 05:00"),
                ts("2026-01-06 09:00"),
            ],
        }
    )
    opps = pd.DataFrame(
        {
            "opportunity_id": ["o1", "o2", "o3"],
            "lead_id": ["L1", "L3", "L4"],
            "amount": [1000.0, 300.0, 500.0],
            "created_at": [ts("2026-01-25"), ts("2026-02-05"), ts("2026-03-02")],
            "closed_at": [ts("2026-02-15"), ts("2026-02-20"), ts("2026-03-20")],
            "outcome": ["won", "lost", "won"],
        }
    )
    return CrmData(leads=leads, stage_history=history, activities=acts, opportunities=opps)


def cell(panel: pd.DataFrame, unit: str, month: str) -> pd.Series:
    row = panel[(panel["unit"] == unit) & (panel["period"] == pd.Timestamp(month))]
    assert len(row) == 1
    return row.iloc[0]


def test_outcome_panel_mql_to_sql_by_cohort():
    panel = impact.outcome_panel(tiny_crm(), "mql_to_sql", "region")
    assert list(panel.columns) == ["unit", "period", "value", "n"]
    assert cell(panel, "north", "2026-01-01")[["value", "n"]].tolist() == [0.5, 2]
    assert cell(panel, "north", "2026-02-01")[["value", "n"]].tolist() == [1.0, 1]
    assert cell(panel, "south", "2026-01-01")[["value", "n"]].tolist() == [1.0, 1]
    assert cell(panel, "south", "2026-02-01")[["value", "n"]].tolist() == [0.0, 1]


def test_outcome_panel_within_days_counts_late_conversions_as_misses_and_drops_recent_cohorts():
    panel = impact.outcome_panel(tiny_crm(), "mql_to_sql", "region", within_days=20)
    # L4 reached SQL 53 days after MQL: a miss within 20 days. Data ends 2026-03-01, so only
    # the January cohorts (ending 01-31, + 20 days = 02-20) are fully observed.
    assert set(panel["period"]) == {pd.Timestamp("2026-01-01")}
    assert cell(panel, "north", "2026-01-01")["value"] == 0.5
    assert cell(panel, "south", "2026-01-01")["value"] == 0.0


def test_outcome_panel_response_time_and_deals():
    crm = tiny_crm()
    resp = impact.outcome_panel(crm, "response_time", "region")
    assert cell(resp, "north", "2026-01-01")["value"] == pytest.approx(6.0)  # median(2, 10)
    assert cell(resp, "south", "2026-01-01")["value"] == pytest.approx(5.0)  # earlier touch ignored
    win = impact.outcome_panel(crm, "win_rate", "region")
    assert cell(win, "north", "2026-02-01")[["value", "n"]].tolist() == [0.5, 2]
    assert cell(win, "south", "2026-03-01")["value"] == 1.0
    rev = impact.outcome_panel(crm, "revenue", "region")
    assert cell(rev, "north", "2026-02-01")["value"] == 1000.0
    assert cell(rev, "north", "2026-03-01")["value"] == 0.0  # filled: no won deal that month
    assert cell(rev, "south", "2026-03-01")["value"] == 500.0


def test_outcome_panel_says_what_is_missing():
    crm = tiny_crm()
    with pytest.raises(MissingTableError):
        impact.outcome_panel(crm, "mql_to_sql", "team")
    with pytest.raises(MissingTableError):
        impact.outcome_panel(CrmData(leads=crm.leads), "mql_to_sql", "region")
    with pytest.raises(KitError):
        impact.outcome_panel(crm, "happiness", "region")


def planted_panel(
    seed: int,
    starts: dict[str, str],
    effect: float = 0.0,
    n_units: int = 8,
    periods: int = 24,
    noise: float = 0.02,
    pre_trend: float = 0.0,
) -> pd.DataFrame:
    """Units with their own level, a common trend and season, noise and a planted effect."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2024-01-01", periods=periods, freq="MS")
    rows = []
    for i in range(n_units):
        unit = f"u{i}"
        level = rng.normal(0.3, 0.05)
        for j, d in enumerate(dates):
            on = unit in starts and d >= pd.Timestamp(starts[unit])
            drift = pre_trend * j if unit in starts else 0.0
            season = 0.03 * np.sin(2 * np.pi * j / 12)
            y = level + 0.003 * j + season + drift + effect * on + rng.normal(0, noise)
            rows.append((unit, d, y, 100))
    return pd.DataFrame(rows, columns=["unit", "period", "value", "n"])


COMMON = {"u0": "2025-01-01", "u1": "2025-01-01", "u2": "2025-01-01", "u3": "2025-01-01"}
WAVES = {"u0": "2024-10-01", "u1": "2024-10-01", "u2": "2025-04-01", "u3": "2025-04-01"}


def test_did_hand_computed_two_by_two():
    # control a: 1 -> 2, control b: 3 -> 4 (+1); treated c: 2 -> 5, d: 4 -> 7 (+3): DiD = 2
    panel = pd.DataFrame(
        {
            "unit": ["a", "a", "b", "b", "c", "c", "d", "d"],
            "period": pd.to_datetime(["2025-01-01", "2025-02-01"] * 4),
            "value": [1.0, 2.0, 3.0, 4.0, 2.0, 5.0, 4.0, 7.0],
            "n": 1,
        }
    )
    res = impact.did_effect(panel, {"c": "2025-02-01", "d": "2025-02-01"})
    assert res.method == "did"
    assert res.estimate == pytest.approx(2.0)
    assert res.ci_low == pytest.approx(2.0) and res.ci_high == pytest.approx(2.0)  # exact fit
    assert res.check.passed is None  # one pre-period: nothing to check
    assert (res.n_units, res.n_treated, res.n_periods) == (4, 2, 2)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_did_recovers_planted_effect_and_passes_placebo(seed):
    res = impact.did_effect(planted_panel(seed, COMMON, effect=0.1), COMMON, metric="mql_to_sql")
    assert res.method == "did" and res.inference == "permutation"
    assert res.ci_low < 0.1 < res.ci_high
    assert res.ci_low > 0.0
    assert res.check.passed is True
    post = res.event_study[res.event_study["event_time"] >= 0]
    assert post["estimate"].between(0.05, 0.15).all()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_did_no_effect_interval_contains_zero(seed):
    res = impact.did_effect(planted_panel(seed, COMMON), COMMON)
    assert res.contains(0.0)


def test_did_placebo_flags_diverging_pre_trends():
    panel = planted_panel(3, COMMON, effect=0.1, pre_trend=0.01)
    res = impact.did_effect(panel, COMMON)
    assert res.check.passed is False
    assert "Warning" in res.sentence("en") and "Attenzione" in res.sentence("it")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_staggered_recovers_effect_with_clean_controls(seed):
    res = impact.did_effect(planted_panel(seed, WAVES, effect=0.1), WAVES)
    assert res.method == "staggered"
    assert res.ci_low < 0.1 < res.ci_high


def test_staggered_is_not_biased_by_effects_growing_over_time():
    # Effects that grow with time since start bias two-way fixed effects with staggered timing
    # (already-treated units act as controls); stacked clean controls must not be fooled.
    rng = np.random.default_rng(5)
    dates = pd.date_range("2024-01-01", periods=30, freq="MS")
    starts = {"u0": "2024-07-01", "u1": "2024-07-01", "u2": "2025-07-01", "u3": "2025-07-01"}
    rows = []
    for i in range(8):
        u = f"u{i}"
        for j, d in enumerate(dates):
            e = (j - dates.get_loc(pd.Timestamp(starts[u]))) if u in starts else -1
            y = 0.3 + 0.01 * i + (0.01 * (e + 1) if e >= 0 else 0) + rng.normal(0, 0.002)
            rows.append((u, d, y, 1))
    panel = pd.DataFrame(rows, columns=["unit", "period", "value", "n"])
    res = impact.did_effect(panel, starts, weighted=False)
    post = res.event_study[res.event_study["event_time"].between(0, 3)]
    assert np.allclose(post["estimate"], 0.01 * (post["event_time"] + 1), atol=0.005)
    assert res.estimate > 0


def test_did_needs_treated_and_control_units():
    panel = planted_panel(0, {})
    with pytest.raises(KitError):
        impact.did_effect(panel, {})
    with pytest.raises(KitError):
        impact.did_effect(panel, {f"u{i}": "2025-01-01" for i in range(8)} | {})


def test_cluster_robust_inference_with_many_units():
    starts = {f"u{i}": "2025-01-01" for i in range(20)}
    res = impact.did_effect(planted_panel(4, starts, effect=0.05, n_units=40), starts)
    assert res.inference == "cluster"
    assert res.ci_low < 0.05 < res.ci_high
    assert not res.few_clusters


def test_result_sentence_and_json():
    res = impact.did_effect(planted_panel(0, COMMON, effect=0.1), COMMON, metric="mql_to_sql")
    en, it = res.sentence("en"), res.sentence("it")
    assert "percentage points" in en and "parallel" in en and "correlation" in en
    assert "punti percentuali" in it and "paralleli" in it
    assert "8 units" in en  # few units are named
    data = json.loads(json.dumps(res.to_dict()))
    assert data["method"] == "did" and data["check"]["passed"] is True
    assert data["ci_low"] < data["estimate"] < data["ci_high"]


additive = st.builds(
    lambda levels, shocks: (levels, shocks),
    st.lists(st.floats(-5, 5), min_size=4, max_size=6),
    st.lists(st.floats(-5, 5), min_size=6, max_size=8),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(additive, st.integers(1, 3))
def test_property_no_effect_in_parallel_panel_gives_zero(data, n_treated):
    """A panel that is exactly unit level + period shock has no effect to find."""
    levels, shocks = data
    dates = pd.date_range("2025-01-01", periods=len(shocks), freq="MS")
    panel = pd.DataFrame(
        [
            (f"u{i}", d, lv + sh, 1)
            for i, lv in enumerate(levels)
            for d, sh in zip(dates, shocks, strict=True)
        ],
        columns=["unit", "period", "value", "n"],
    )
    starts = {f"u{i}": dates[len(dates) // 2] for i in range(min(n_treated, len(levels) - 1))}
    res = impact.did_effect(panel, starts, n_boot=99)
    assert res.estimate == pytest.approx(0.0, abs=1e-7)
    assert res.ci_low <= 1e-7 and res.ci_high >= -1e-7


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.floats(-100, 100), min_size=8, max_size=8), st.integers(0, 50))
def test_property_unit_constants_and_row_order_do_not_change_did(shifts, seed):
    panel = planted_panel(seed % 5, COMMON, effect=0.07)
    base = impact.did_effect(panel, COMMON, n_boot=199)
    shifted = panel.assign(
        value=panel["value"] + panel["unit"].str[1:].astype(int).map(dict(enumerate(shifts)))
    )
    shuffled = shifted.sample(frac=1.0, random_state=seed)
    moved = impact.did_effect(shuffled, COMMON, n_boot=199)
    assert moved.estimate == pytest.approx(base.estimate, abs=1e-8)
    assert moved.ci_low == pytest.approx(base.ci_low, abs=1e-6)


def its_series(seed: int, effect: float, months: int = 48, start: int = 36) -> pd.Series:
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2022-01-01", periods=months, freq="MS")
    j = np.arange(months)
    y = 0.2 + 0.002 * j + 0.03 * np.sin(2 * np.pi * j / 12) + effect * (j >= start)
    return pd.Series(y + rng.normal(0, 0.01, months), index=dates)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_its_recovers_level_shift(seed):
    res = impact.interrupted_time_series(its_series(seed, 0.05), "2025-01-01", metric="win_rate")
    assert res.method == "its" and res.inference == "hac"
    assert res.ci_low < 0.05 < res.ci_high and res.ci_low > 0
    assert res.check.passed is True
    assert res.fit["post"].sum() == 12
    post = res.fit[res.fit["post"]]
    assert (post["observed"] - post["counterfactual"]).mean() == pytest.approx(res.estimate, 1e-6)


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_its_no_effect_contains_zero(seed):
    res = impact.interrupted_time_series(its_series(seed, 0.0), "2025-01-01")
    assert res.contains(0.0)
    assert "no comparison group" in res.sentence("en")


def test_its_placebo_flags_a_break_before_the_start():
    s = its_series(0, 0.05)
    s.iloc[18:] += 0.08  # an earlier, unrelated break
    res = impact.interrupted_time_series(s, "2025-01-01")
    assert res.check.passed is False


def test_its_needs_periods_on_both_sides():
    with pytest.raises(KitError):
        impact.interrupted_time_series(its_series(0, 0.0), "2026-06-01")


def test_format_effect_units():
    assert impact.format_effect(0.123, "mql_to_sql", "en") == "+12.3 percentage points"
    assert impact.format_effect(-2.5, "response_time", "it") == "-2,5 ore"
    assert impact.format_effect(0.092, "mql_to_sql", "it") == "+9,2 punti percentuali"
    assert impact.format_effect(1234.0, "revenue") == "+1,234"


def test_too_few_units_to_reassign_falls_back_to_the_bootstrap():
    starts = {"u0": "2025-01-01"}  # 4 units, 1 treated: 4 schedules, p can never reach 0.05
    res = impact.did_effect(planted_panel(1, starts, effect=0.1, n_units=4), starts)
    assert res.inference == "wild_bootstrap"
    assert "wild cluster bootstrap" in res.sentence("en")
    assert "wild cluster bootstrap" in res.sentence("it")


def test_company_series_for_its():
    panel = impact.outcome_panel(tiny_crm(), "mql_to_sql", unit=None)
    assert set(panel["unit"]) == {"all"}
    jan = cell(panel, "all", "2026-01-01")
    assert (jan["value"], jan["n"]) == (pytest.approx(2 / 3), 3)  # L1, L4 of L1, L2, L4


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["north", "south"]),
            st.integers(0, 59),
            st.booleans(),
            st.integers(-5, 40),
        ),
        min_size=1,
        max_size=40,
    ),
    st.randoms(use_true_random=False),
)
def test_property_panel_rates_and_row_order(rows, rnd):
    """MQL->SQL cells are rates in [0, 1] whose counts add up, whatever the row order."""
    ids = [f"L{i}" for i in range(len(rows))]
    leads = pd.DataFrame(
        {
            "lead_id": ids,
            "created_at": [ts("2026-01-01")] * len(rows),
            "region": [r[0] for r in rows],
        }
    )
    hist = []
    for lid, (_, day, sql, delay) in zip(ids, rows, strict=True):
        mql_at = ts("2026-01-01") + pd.Timedelta(days=day)
        hist.append((lid, "mql", mql_at))
        if sql:
            hist.append((lid, "sql", mql_at + pd.Timedelta(days=delay)))
    history = pd.DataFrame(hist, columns=["lead_id", "stage", "entered_at"])
    if not any(r[2] for r in rows):  # no SQL date at all: the export does not record SQL
        with pytest.raises(MissingTableError):
            impact.outcome_panel(CrmData(leads=leads, stage_history=history), "mql_to_sql")
        return
    a = impact.outcome_panel(CrmData(leads=leads, stage_history=history), "mql_to_sql")
    order = rnd.sample(range(len(hist)), len(hist))
    b = impact.outcome_panel(
        CrmData(leads=leads.iloc[::-1], stage_history=history.iloc[order]), "mql_to_sql"
    )
    assert a["value"].between(0, 1).all()
    assert a["n"].sum() == len(rows)
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize(
    ("column", "lang", "label"),
    [
        ("region", "it", "area geografica"),
        ("region", "en", "region"),
        ("segment", "it", "segmento"),
        ("source", "en", "lead source"),
        ("channel", "it", "canale"),
        ("area_manager", "it", "area_manager"),  # a column the kit does not know: its name
    ],
)
def test_programme_unit_label(column, lang, label):
    assert impact.design_words(column, {}, [], lang)["unit"] == label


def test_design_words_name_the_kits_units_and_keep_a_clients():
    starts = {"north_west": "2025-03-01", "Lombardia": "2025-07-01"}
    words = impact.design_words("region", starts, ["islands"], "it")
    assert words == {
        "unit": "area geografica",
        "treated": "Nord-Ovest, Lombardia",
        "comparison": "Isole",
        "starts": "Nord-Ovest: 01/03/2025, Lombardia: 01/07/2025",
    }
    assert impact.design_words("region", starts, [], "en")["comparison"] == "–"


@pytest.mark.parametrize(
    ("freq", "unit"), [("MS", "month"), ("W-MON", "week"), ("QS", "quarter"), ("D", "day")]
)
def test_period_unit_from_period_starts(freq, unit):
    starts = pd.date_range("2024-01-01", periods=14, freq=freq)
    assert impact.period_unit(starts) == unit
    assert impact.period_unit(list(reversed(starts))) == unit  # order does not matter
    assert impact.period_unit(starts[:1]) is None


def test_effect_results_record_their_period_unit():
    res = impact.did_effect(planted_panel(0, COMMON, effect=0.05), COMMON, n_boot=99)
    assert res.period_unit == "month" and res.to_dict()["period_unit"] == "month"
    its = impact.interrupted_time_series(its_series(0, 0.05), "2025-01-01")
    assert its.period_unit == "month"
