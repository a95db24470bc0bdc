"""Properties of the funnel analytics on random small CRMs (hypothesis), and a planted logit."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import funnel as fn
from helpers import sla
from helpers.model import CrmData
from helpers.stages import load_stage_model

MODEL = load_stage_model("default")
T0 = pd.Timestamp("2026-01-01", tz="UTC")
AS_OF = pd.Timestamp("2026-12-31", tz="UTC")

lead_paths = st.lists(
    st.tuples(
        st.integers(0, 5),  # furthest funnel stage reached
        st.lists(st.booleans(), min_size=6, max_size=6),  # which middle stages are recorded
        st.integers(0, 200),  # start day
        st.lists(st.integers(0, 30), min_size=6, max_size=6),  # days between stages
        st.sampled_from([None, "rejected", "lost", "recycled"]),
        st.sampled_from(["paid", "organic", "event"]),
    ),
    min_size=1,
    max_size=25,
)


def build(paths) -> CrmData:
    rows, leads = [], []
    for i, (top, keep, day, gaps, exit_, source) in enumerate(paths):
        lid = f"L{i:03d}"
        t = T0 + pd.Timedelta(days=day)
        leads.append((lid, t, source))
        for k in range(top + 1):
            t = t + pd.Timedelta(days=gaps[k], hours=k)
            if k in (0, top) or keep[k]:
                rows.append((lid, MODEL.funnel[k], t))
        if exit_ and top < 5:
            rows.append((lid, exit_, t + pd.Timedelta(days=1)))
    sh = pd.DataFrame(rows, columns=["lead_id", "stage", "entered_at"])
    sh["entered_at"] = sh["entered_at"].astype("datetime64[us, UTC]")
    ld = pd.DataFrame(leads, columns=["lead_id", "created_at", "source"])
    ld["created_at"] = ld["created_at"].astype("datetime64[us, UTC]")
    return CrmData(leads=ld, stage_history=sh, stage_model=MODEL)


def shuffled(crm: CrmData, seed: int) -> CrmData:
    sh = crm.stage_history.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    ld = crm.leads.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    return CrmData(leads=ld, stage_history=sh, stage_model=MODEL)


SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(lead_paths)
def test_counts_never_rise_along_the_funnel_and_rates_are_proportions(paths):
    crm = build(paths)
    summary = fn.funnel_summary(crm, as_of=AS_OF)
    assert summary["reached"].is_monotonic_decreasing
    rates = summary["step_rate"].dropna()
    assert ((rates >= 0) & (rates <= 1)).all()
    recorded = fn.recorded_stages(crm.stage_history, MODEL, crm.leads)
    assert tuple(summary["stage"]) == recorded
    for a, b in zip(MODEL.funnel[:-1], MODEL.funnel[1:], strict=True):
        if a not in recorded or b not in recorded:  # no lead has a date for it: no rate
            with pytest.raises(fn.StageNotRecordedError):
                fn.cohort_conversion(crm.stage_history, MODEL, a, b, leads=crm.leads)
            continue
        out = fn.cohort_conversion(
            crm.stage_history,
            MODEL,
            a,
            b,
            by="source",
            leads=crm.leads,
            within_days=10,
            as_of=AS_OF,
        )
        assert (out["converted"] <= out["n"]).all()
        assert (out["converted_within"] <= out["converted"]).all()
        ok = out["n"] > 0
        assert (
            (out.loc[ok, "ci_low"] <= out.loc[ok, "rate"] + 1e-12)
            & (out.loc[ok, "rate"] <= out.loc[ok, "ci_high"] + 1e-12)
            & (out.loc[ok, "rate"].between(0, 1))
        ).all()


@SETTINGS
@given(lead_paths, st.integers(0, 1000))
def test_results_do_not_depend_on_row_order(paths, seed):
    crm, other = build(paths), None
    other = shuffled(crm, seed)
    for f in (
        lambda c: fn.funnel_summary(c, as_of=AS_OF),
        lambda c: fn.cohort_conversion(
            c.stage_history, MODEL, "mql", "sql", by="source", leads=c.leads, as_of=AS_OF
        ),
        lambda c: fn.time_to_convert(c.stage_history, MODEL, "lead", "sql", as_of=AS_OF),
    ):
        try:
            expected = f(crm)
        except fn.StageNotRecordedError:  # the same stages are missing in any row order
            with pytest.raises(fn.StageNotRecordedError):
                f(other)
            continue
        pd.testing.assert_frame_equal(expected, f(other))
    try:
        a = fn.handoff_metrics(crm, as_of=AS_OF)
    except fn.StageNotRecordedError:  # no MQL date: nothing to hand off, in any row order
        with pytest.raises(fn.StageNotRecordedError):
            fn.handoff_metrics(other, as_of=AS_OF)
        return
    b = fn.handoff_metrics(other, as_of=AS_OF)
    assert (a.mql_handed_over, a.accepted, a.rejected, a.no_disposition) == (
        b.mql_handed_over,
        b.accepted,
        b.rejected,
        b.no_disposition,
    )
    pd.testing.assert_frame_equal(a.skipped_stages, b.skipped_stages)


@SETTINGS
@given(lead_paths)
def test_km_share_converted_is_monotone_and_bounded(paths):
    crm = build(paths)
    if "won" not in set(crm.stage_history["stage"]):  # no lead won: the data records no won
        with pytest.raises(fn.StageNotRecordedError):
            fn.time_to_convert(crm.stage_history, MODEL, "lead", "won", as_of=AS_OF)
        return
    out = fn.time_to_convert(crm.stage_history, MODEL, "lead", "won", as_of=AS_OF).iloc[0]
    p = [out["p_within_30d"], out["p_within_60d"], out["p_within_90d"]]
    assert all(0 <= x <= 1 for x in p) and p == sorted(p)
    # with every lead followed to the end, KM equals the plain share converted by then
    assert out["p_within_90d"] <= out["converted"] / out["n"] + 1e-12


@settings(max_examples=60, deadline=None)
@given(
    st.floats(1e3, 1e8),
    st.floats(1e3, 1e8),
    st.floats(0.05, 1.0),
    st.floats(100, 1e5),
    st.lists(st.floats(0.01, 1.0), min_size=4, max_size=4),
)
def test_reverse_funnel_is_monotone_in_the_target(t1, t2, share, deal, r):
    rates = dict(
        zip(
            ("lead_to_mql", "mql_to_sql", "sql_to_opportunity", "opportunity_to_won"),
            r,
            strict=True,
        )
    )
    lo, hi = sorted((t1, t2))
    a = sla.reverse_funnel(lo, share, deal, rates)
    b = sla.reverse_funnel(hi, share, deal, rates)
    for stage in a.stages:
        assert a.rounded[stage] <= b.rounded[stage]
        assert a.per_month[stage] <= b.per_month[stage]
    # every stage needs at least as many as the next one (rates are at most 1)
    needed = [a.needed[s] for s in a.stages]
    assert all(x >= y - 1e-9 for x, y in itertools.pairwise(needed))


def test_response_effect_hand_computed_log_odds_ratio():
    """Two response times, 0 h and e - 1 h (log1p = 0 and 1): 8/10 and 4/10 convert.

    With no controls the logistic MLE is the log odds ratio between the two groups:
    b = logit(0.4) - logit(0.8) = log(4/6) - log(4) = log(1/6) = -1.7918.
    """
    n = 20
    ids = [f"L{i:02d}" for i in range(n)]
    mql_at = [T0 + pd.Timedelta(days=i) for i in range(n)]
    fast = np.arange(n) < 10
    converted = np.r_[np.arange(10) < 8, np.arange(10) < 4]
    delay = np.where(fast, 0.0, np.e - 1.0)
    rows = []
    for i in range(n):
        rows += [(ids[i], "mql", mql_at[i]), (ids[i], "sal", mql_at[i] + pd.Timedelta(hours=3))]
        if converted[i]:
            rows.append((ids[i], "sql", mql_at[i] + pd.Timedelta(days=2)))
    sh = pd.DataFrame(rows, columns=["lead_id", "stage", "entered_at"])
    sh["entered_at"] = sh["entered_at"].astype("datetime64[us, UTC]")
    acts = pd.DataFrame(
        {
            "activity_id": [f"A{i}" for i in range(n)],
            "lead_id": ids,
            "side": "sales",
            "at": [m + pd.Timedelta(hours=float(d)) for m, d in zip(mql_at, delay, strict=True)],
        }
    )
    acts["at"] = acts["at"].astype("datetime64[us, UTC]")
    leads = pd.DataFrame({"lead_id": ids, "created_at": mql_at})
    leads["created_at"] = leads["created_at"].astype("datetime64[us, UTC]")
    crm = CrmData(leads=leads, stage_history=sh, activities=acts, stage_model=MODEL)
    e = fn.response_time_effect(crm, as_of=AS_OF)
    assert e.coefficient == pytest.approx(np.log(1 / 6), abs=1e-4)
    assert e.odds_ratio == pytest.approx(1 / 6, abs=1e-4)
    assert e.n == 20 and e.n_converted == 12 and e.controls == ()
    assert e.coefficient_ci[0] < e.coefficient < e.coefficient_ci[1]
    bins = e.bins.set_index("bin")
    assert bins.loc["<=1h", ["n", "converted"]].tolist() == [10, 8]
    assert bins.loc["1-4h", ["n", "converted"]].tolist() == [10, 4]
    assert bins.loc[">24h", "n"] == 0 and np.isnan(bins.loc[">24h", "rate"])
    assert "not proof" in e.sentence("en") and "non la prova" in e.sentence("it")


instants = st.integers(0, 60 * 24 * 60).map(
    lambda minutes: pd.Timestamp("2026-03-27", tz="UTC") + pd.Timedelta(minutes=minutes)
)


@settings(max_examples=60, deadline=None)
@given(st.lists(instants, min_size=3, max_size=3), st.sampled_from(["UTC", "Europe/Rome"]))
def test_business_hours_are_additive_and_never_exceed_calendar_hours(points, tz):
    s, m, e = sorted(points)
    hol = fn.holiday_dates("IT", [2026])

    def bh(a, b):
        return fn.business_hours_between(pd.Series([a]), pd.Series([b]), tz=tz, holidays=hol).iloc[
            0
        ]

    assert bh(s, m) + bh(m, e) == pytest.approx(bh(s, e), abs=1e-9)
    assert 0 <= bh(s, e) <= (e - s) / pd.Timedelta(hours=1) + 1e-9
    assert bh(e, s) == 0.0


def test_cohort_period_as_a_segment():
    crm = build([(3, [True] * 6, d, [1] * 6, None, "paid") for d in (0, 40, 41)])
    out = fn.cohort_conversion(
        crm.stage_history, MODEL, "mql", "sql", by="period", period=None, as_of=AS_OF
    )
    assert out["cohort"].tolist() == ["2026-01", "2026-02"] and out["n"].tolist() == [1, 2]
