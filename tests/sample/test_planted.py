"""The planted effects are there: programme uplift (difference-in-differences) and response time."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from helpers.sample import generate

N_LEADS = 60_000
SEED = 11


@pytest.fixture(scope="module")
def pair():
    """The same company with and without the programme (same seed, same draws)."""
    with_programme = generate(N_LEADS, SEED, programme_uplift=0.10)
    return with_programme, generate(N_LEADS, SEED, programme_uplift=0.0)


def _mql_cohort(s) -> pd.DataFrame:
    """One row per MQL: region, local MQL time, months from start, reached SQL, response hours."""
    sh, leads, act = s.tables["stage_history"], s.tables["leads"], s.tables["activities"]
    wide = sh.pivot(index="lead_id", columns="stage", values="entered_at")
    mql = wide[wide["mql"].notna()]
    first_touch = act[act["side"] == "sales"].groupby("lead_id")["at"].min()
    tz = s.truth["timezone"]
    out = pd.DataFrame(
        {
            "mql_at": mql["mql"],
            "local": mql["mql"].dt.tz_convert(tz).dt.tz_localize(None),
            "sal": mql["sal"].notna(),
            "sal_at": mql["sal"],
            "sql": mql["sql"].notna(),
            "hours": (first_touch.reindex(mql.index) - mql["mql"]).dt.total_seconds() / 3600,
        }
    ).join(leads.set_index("lead_id")[["region", "persona"]])
    start = pd.Timestamp(s.truth["start"])
    out["month"] = (out["local"].dt.year - start.year) * 12 + out["local"].dt.month - start.month
    starts = {r: pd.Timestamp(d) for r, d in s.truth["programme"]["treated_regions"].items()}
    region_start = out["region"].map(starts)
    out["treated_post"] = region_start.notna() & (out["local"] >= region_start)
    return out


def _did(cohort: pd.DataFrame, truth: dict) -> tuple[float, float]:
    """Difference-in-differences of MQL -> SQL, first-wave regions against control regions."""
    prog = truth["programme"]
    first_start = min(prog["treated_regions"].values())
    wave1 = [r for r, d in prog["treated_regions"].items() if d == first_start]
    pre = cohort["month"].between(6, 13)
    post = cohort["month"].between(14, 21)  # well before the end: no censoring
    cells = {}
    for group, regions in (("t", wave1), ("c", prog["control_regions"])):
        in_group = cohort["region"].isin(regions)
        for period, mask in (("pre", pre), ("post", post)):
            y = cohort.loc[in_group & mask, "sql"]
            cells[group, period] = (y.mean(), y.var(ddof=1) / len(y))
    did = (cells["t", "post"][0] - cells["t", "pre"][0]) - (
        cells["c", "post"][0] - cells["c", "pre"][0]
    )
    se = float(np.sqrt(sum(v for _, v in cells.values())))
    return did, se


def test_programme_uplift_seen_in_a_simple_did(pair):
    treated, untreated = pair
    did, se = _did(_mql_cohort(treated), treated.truth)
    assert abs(did - 0.10) < 4 * se
    assert did > 3 * se  # clearly there
    did0, se0 = _did(_mql_cohort(untreated), untreated.truth)
    assert abs(did0) < 4 * se0


def test_no_uplift_changes_nothing_outside_treated_post_mqls(pair):
    treated, untreated = pair
    pd.testing.assert_frame_equal(treated.tables["leads"], untreated.tables["leads"])
    c1, c0 = _mql_cohort(treated), _mql_cohort(untreated)
    untouched = c1.index[~c1["treated_post"]]
    assert untreated.truth["programme"]["logit_shift"] == 0.0
    assert untreated.truth["programme"]["response_time_multiplier"] == 1.0
    pd.testing.assert_frame_equal(c1.loc[untouched], c0.loc[untouched])
    # treated-post MQLs were answered faster with the programme
    tp = c1.index[c1["treated_post"]]
    assert c1.loc[tp, "hours"].median() < c0.loc[tp, "hours"].median()


@pytest.mark.parametrize(("seed", "b"), [(5, -0.5), (6, -0.25)])
def test_response_effect_recovered_by_logistic_regression(seed, b):
    s = generate(30_000, seed, programme_uplift=0.10, response_effect=b)
    assert s.truth["response_effect"]["coefficient_log1p_hours"] == b
    c = _mql_cohort(s)
    end = pd.Timestamp(s.truth["export_end_utc"])
    sal = c[c["sal"] & (c["sal_at"] < end - pd.Timedelta(days=90))]
    x = pd.get_dummies(
        sal[["persona", "region"]].assign(cal=sal["local"].dt.month.astype(str)),
        drop_first=True,
        dtype=float,
    )
    x["log1p_hours"] = np.log1p(sal["hours"])
    x["months"] = sal["month"].astype(float)
    x["treated_post"] = sal["treated_post"].astype(float)
    fit = sm.Logit(sal["sql"].astype(float), sm.add_constant(x)).fit(disp=0)
    low, high = fit.conf_int(alpha=0.01).loc["log1p_hours"]
    assert low <= b <= high
    assert high < 0


def test_response_times_are_heavy_tailed_and_follow_business_hours(pair):
    _, untreated = pair
    c = _mql_cohort(untreated).dropna(subset=["hours"])
    assert (c["hours"] > 0).all()
    assert 0.1 < (c["hours"] <= 1).mean() < 0.4  # a minority answered within the hour
    assert c["hours"].mean() > 1.3 * c["hours"].median()  # long right tail
    weekend = c["local"].dt.day_of_week >= 5
    evening = c["local"].dt.hour >= 19
    weekday_day = ~weekend & c["local"].dt.hour.between(9, 15)
    assert c.loc[weekend, "hours"].median() > 2 * c.loc[weekday_day, "hours"].median()
    assert c.loc[evening & ~weekend, "hours"].min() > 0.5  # nobody answers before the morning
    sdr = untreated.tables["leads"].set_index("lead_id")["sdr"]
    within_hour = (c["hours"] <= 1).groupby(sdr.reindex(c.index)).mean()
    by_sdr = c["hours"].groupby(sdr.reindex(c.index)).median()
    speed = untreated.truth["response_effect"]["sdr_median_delay_hours_before_business_hours"]
    fastest, slowest = min(speed, key=speed.get), max(speed, key=speed.get)
    assert within_hour[fastest] > 5 * within_hour[slowest]
    assert by_sdr[fastest] < by_sdr[slowest] / 2
