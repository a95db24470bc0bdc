"""Funnel and handoff analytics on a six-lead CRM whose numbers are worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers import funnel as fn
from helpers.errors import KitError, MissingTableError
from helpers.model import CrmData
from helpers.stages import load_stage_model

AS_OF = pd.Timestamp("2026-03-31", tz="UTC")


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def tiny_crm(model_name: str = "default") -> CrmData:
    """Six leads (dates in 2026):

    L1 lead 01-01, mql 01-02, sal 01-03, sql 01-05, opportunity 01-10, won 02-01
    L2 lead 01-01, mql 01-03, sal 01-04, sql 01-20, lost 02-10
    L3 lead 01-02, mql 01-05, rejected 01-06 (wrong_persona)
    L4 lead 01-03, mql 02-01, sql 02-03 (SAL skipped), opportunity 02-20 (open)
    L5 lead 02-01, mql 02-02 (open, no disposition, never touched)
    L6 lead 02-02 (never an MQL)
    """
    rows = [
        ("L1", "lead", "01-01"),
        ("L1", "mql", "01-02"),
        ("L1", "sal", "01-03"),
        ("L1", "sql", "01-05"),
        ("L1", "opportunity", "01-10"),
        ("L1", "won", "02-01"),
        ("L2", "lead", "01-01"),
        ("L2", "mql", "01-03"),
        ("L2", "sal", "01-04"),
        ("L2", "sql", "01-20"),
        ("L2", "lost", "02-10"),
        ("L3", "lead", "01-02"),
        ("L3", "mql", "01-05"),
        ("L3", "rejected", "01-06"),
        ("L4", "lead", "01-03"),
        ("L4", "mql", "02-01"),
        ("L4", "sql", "02-03"),
        ("L4", "opportunity", "02-20"),
        ("L5", "lead", "02-01"),
        ("L5", "mql", "02-02"),
        ("L6", "lead", "02-02"),
    ]
    sh = pd.DataFrame(rows, columns=["lead_id", "stage", "entered_at"])
    sh["entered_at"] = pd.to_datetime("2026-" + sh["entered_at"], utc=True).astype(
        "datetime64[us, UTC]"
    )
    sh["exited_at"] = pd.Series(pd.NaT, index=sh.index, dtype="datetime64[us, UTC]")
    sh["reason"] = np.where(sh["stage"] == "rejected", "wrong_persona", None)
    sh["reason"] = sh["reason"].astype("str").where(sh["stage"] == "rejected")
    leads = pd.DataFrame(
        {
            "lead_id": [f"L{i}" for i in range(1, 7)],
            "created_at": pd.to_datetime(
                [
                    "2026-01-01",
                    "2026-01-01",
                    "2026-01-02",
                    "2026-01-03",
                    "2026-02-01",
                    "2026-02-02",
                ],
                utc=True,
            ).astype("datetime64[us, UTC]"),
            "source": ["paid", "paid", "organic", "organic", "paid", "organic"],
            "owner": ["ann", "ann", "bob", "bob", "bob", "ann"],
        }
    )
    acts = pd.DataFrame(
        {
            "activity_id": ["A1", "A2", "A3", "A4"],
            "lead_id": ["L1", "L2", "L3", "L4"],
            "side": ["sales", "sales", "sales", "marketing"],
            "at": pd.to_datetime(
                ["2026-01-02 02:00", "2026-01-04 06:00", "2026-01-05 01:00", "2026-02-01 01:00"],
                utc=True,
            ).astype("datetime64[us, UTC]"),
        }
    )
    opps = pd.DataFrame(
        {
            "opportunity_id": ["O1", "O2", "O3"],
            "lead_id": ["L1", "L2", "L4"],
            "amount": [1000.0, 500.0, 2000.0],
            "created_at": [ts("2026-01-10"), ts("2026-01-20"), ts("2026-02-20")],
            "closed_at": [ts("2026-02-01"), ts("2026-02-10"), pd.NaT],
            "outcome": ["won", "lost", "open"],
        }
    )
    return CrmData(
        leads=leads,
        stage_history=sh,
        opportunities=opps,
        activities=acts,
        stage_model=load_stage_model(model_name),
    )


@pytest.fixture
def crm() -> CrmData:
    return tiny_crm()


def test_reach_counts_skipped_stage_as_passed(crm):
    reach = fn.reach_times(crm.stage_history, crm.stage_model)
    assert reach.loc["L4", "sal"] == ts("2026-02-03")  # skipped: reached with the SQL entry
    assert pd.isna(reach.loc["L3", "sal"])  # rejected is an exit, not progress
    assert reach.loc["L1", "won"] == ts("2026-02-01")


def test_cohort_conversion_by_month(crm):
    out = fn.cohort_conversion(crm.stage_history, crm.stage_model, "mql", "sql", as_of=AS_OF)
    assert out["cohort"].tolist() == ["2026-01", "2026-02"]
    assert out["n"].tolist() == [3, 2]
    assert out["converted"].tolist() == [2, 1]
    assert out["rate"].tolist() == pytest.approx([2 / 3, 1 / 2])
    assert (out["ci_low"] < out["rate"]).all() and (out["ci_high"] > out["rate"]).all()


def test_cohort_conversion_within_days_and_segments(crm):
    out = fn.cohort_conversion(
        crm.stage_history, crm.stage_model, "mql", "sql", period=None, within_days=5, as_of=AS_OF
    )
    row = out.iloc[0]
    assert (row["n"], row["converted"], row["n_mature"], row["converted_within"]) == (5, 3, 5, 2)
    seg = fn.cohort_conversion(
        crm.stage_history,
        crm.stage_model,
        "mql",
        "sql",
        by="source",
        leads=crm.leads,
        period=None,
        as_of=AS_OF,
    )
    got = seg.set_index("source")[["n", "converted"]].to_dict("index")
    assert got == {"organic": {"n": 2, "converted": 1}, "paid": {"n": 3, "converted": 2}}


def test_cohort_conversion_as_of_cuts_the_future(crm):
    out = fn.cohort_conversion(
        crm.stage_history, crm.stage_model, "mql", "sql", period=None, as_of="2026-01-10"
    )
    assert (out["n"].iloc[0], out["converted"].iloc[0]) == (3, 1)  # L2 reaches SQL on 01-20


def test_cohort_conversion_needs_segment_column(crm):
    with pytest.raises(MissingTableError):
        fn.cohort_conversion(
            crm.stage_history, crm.stage_model, "mql", "sql", by="persona", leads=crm.leads
        )
    with pytest.raises(KitError):
        fn.cohort_conversion(crm.stage_history, crm.stage_model, "mql", "nowhere")


def test_time_to_convert_quantiles_and_kaplan_meier(crm):
    out = fn.time_to_convert(crm.stage_history, crm.stage_model, "mql", "sql", as_of=AS_OF)
    row = out.iloc[0]
    # converters: L4 2 days, L1 3 days, L2 17 days; L3 and L5 censored
    assert row["median_days"] == pytest.approx(3.0)
    assert row["p75_days"] == pytest.approx(10.0)
    assert row["p90_days"] == pytest.approx(14.2)
    # KM: S(2) = 4/5, S(3) = 3/5, S(17) = 2/5
    assert row["p_within_30d"] == pytest.approx(0.6)
    assert row["p_within_90d"] == pytest.approx(0.6)
    assert row["km_median_days"] == pytest.approx(17.0)
    assert bool(row["km_median_reached"])


def test_time_to_convert_says_when_median_not_reached(crm):
    out = fn.time_to_convert(crm.stage_history, crm.stage_model, "mql", "won", as_of=AS_OF)
    row = out.iloc[0]
    assert row["converted"] == 1
    assert not bool(row["km_median_reached"]) and np.isnan(row["km_median_days"])
    curve = fn.conversion_curve(crm.stage_history, crm.stage_model, "mql", "sql", as_of=AS_OF)
    assert curve["p_converted"].tolist() == pytest.approx([0.0, 0.2, 0.4, 0.6])


def test_funnel_summary(crm):
    out = fn.funnel_summary(crm, as_of=AS_OF)
    assert out["reached"].tolist() == [6, 5, 3, 3, 2, 1]
    assert out["step_rate"].iloc[1:].tolist() == pytest.approx([5 / 6, 3 / 5, 1.0, 2 / 3, 1 / 2])
    assert out["from_top"].iloc[-1] == pytest.approx(1 / 6)


def test_handoff_metrics(crm):
    h = fn.handoff_metrics(crm, as_of=AS_OF)
    assert h.mql_handed_over == 5
    assert (h.accepted, h.acceptance_rate) == (3, pytest.approx(0.6))
    assert (h.rejected, h.rejection_rate) == (1, pytest.approx(0.2))
    assert h.rejection_reasons.to_dict("records") == [
        {"reason": "wrong_persona", "n": 1, "share": 1.0}
    ]
    assert h.no_disposition == 1 and h.never_worked == 1
    assert h.skipped_stages.set_index("stage")["leads"].to_dict() == {
        "mql": 0,
        "sal": 1,
        "sql": 0,
        "opportunity": 0,
    }
    # responses 2 h, 30 h, 1 h
    assert h.response_hours["median"] == pytest.approx(2.0)
    assert h.response_hours["p75"] == pytest.approx(16.0)
    assert h.response_hours["p90"] == pytest.approx(24.4)
    stale = h.stale.set_index("id")
    assert set(stale.index) == {"L5", "L6"}  # O3 open 39 d < 2 x 22 d
    assert stale.loc["L5", "usual_days"] == pytest.approx(1.0)
    d = h.to_dict()
    assert d["rejection_reasons"][0]["reason"] == "wrong_persona"


def test_handoff_without_sal_stage_says_so():
    crm = tiny_crm()
    sh = crm.stage_history.loc[crm.stage_history["stage"] != "sal"]
    sh = sh.assign(stage=sh["stage"].replace({"won": "won"}))
    hub = CrmData(leads=crm.leads, stage_history=sh, stage_model=load_stage_model("hubspot"))
    h = fn.handoff_metrics(hub, as_of=AS_OF)
    assert h.accepted is None and h.acceptance_rate is None
    assert h.not_computed["acceptance_rate"] == "funnel.note_no_sal"
    assert h.never_worked is None and h.response_hours is None


def test_business_hours_between():
    start = pd.Series(
        pd.to_datetime(
            ["2026-01-02 17:00", "2026-01-09 17:00", "2026-01-03 10:00", "2026-01-07 10:00"],
            utc=True,
        )
    )
    end = pd.Series(
        pd.to_datetime(
            ["2026-01-05 10:00", "2026-01-12 10:00", "2026-01-03 12:00", "2026-01-07 11:30"],
            utc=True,
        )
    )
    # Fri 17-18 (1 h) + Mon 9-10 (1 h) = 2; Sat -> 0; same day 1.5 h
    got = fn.business_hours_between(start, end)
    assert got.tolist() == pytest.approx([2.0, 2.0, 0.0, 1.5])
    # 2026-01-06 is Epiphany in Italy: Mon 5th 17:00 -> Wed 7th 10:00 = 1 + 1 (no Tuesday)
    s = pd.Series(pd.to_datetime(["2026-01-05 16:00"], utc=True))
    e = pd.Series(pd.to_datetime(["2026-01-07 09:00"], utc=True))
    hol = fn.holiday_dates("IT", [2026])
    assert fn.business_hours_between(s, e, tz="Europe/Rome", holidays=hol).iloc[0] == (
        pytest.approx(2.0)
    )
    assert fn.business_hours_between(s, e, tz="Europe/Rome").iloc[0] == pytest.approx(11.0)


def test_sales_velocity_and_coverage(crm):
    v = fn.sales_velocity(crm.opportunities, as_of=AS_OF)
    assert v.open_opportunities == 1 and v.avg_deal_size == 1000.0
    assert v.win_rate == 0.5 and v.cycle_days == pytest.approx(22.0)
    assert v.velocity_per_day == pytest.approx(1000 * 0.5 / 22)
    assert v.velocity_range[0] < v.velocity_per_day < v.velocity_range[1]
    c = fn.pipeline_coverage(crm.opportunities, 1000.0)
    assert (c.open_value, c.coverage, c.verdict) == (2000.0, 2.0, "below")
    assert "rule of thumb" in c.sentence("en")
    assert fn.pipeline_coverage(crm.opportunities, 500.0).verdict == "within"
    # on 2026-01-25 O1 (1000) and O2 (500) were still open, O3 not yet created
    past = fn.pipeline_coverage(crm.opportunities, 300.0, as_of="2026-01-25")
    assert (past.open_value, past.verdict) == (1500.0, "above")


def test_bottlenecks_rank_by_lost_value(crm):
    out = fn.bottlenecks(crm, value_per_won=1000.0, as_of=AS_OF)
    pairs = list(zip(out["from_stage"], out["to_stage"], strict=True))
    # reached: lead 6, mql 5, sal 3 (L4 skipped it), sql 3, opportunity 2, won 1
    assert pairs == [("mql", "sal"), ("sql", "opportunity"), ("sal", "sql")]
    assert out["lost"].tolist() == [2, 1, 0]
    assert out["lost_value"].tolist() == pytest.approx([2000 / 3, 500.0, 0.0])
    assert ("opportunity", "won") not in pairs  # a lost deal would be valued as a sure win
    assert ("lead", "mql") not in pairs  # qualification turns leads away by design
    assert out["explanation"].iloc[0].startswith("Between MQL and Sales accepted (SAL), 2 leads")
    assert out["explanation"].iloc[1].startswith("Between SQL and Opportunity, 1 lead stopped; if")
    it = fn.bottlenecks(crm, value_per_won=1000.0, as_of=AS_OF, lang="it")
    assert it["explanation"].iloc[0].startswith("Tra MQL e Accettato dalle vendite (SAL) si sono")
    assert it["explanation"].iloc[1].startswith("Tra SQL e Opportunità si è fermato 1 lead")
    assert list(it["from_stage"]) == list(out["from_stage"])  # the table keeps the raw keys
    # default value per won deal: the mean won amount (one won deal of 1000)
    assert fn.bottlenecks(crm, as_of=AS_OF)["lost_value"].iloc[0] == pytest.approx(2000 / 3)


def test_bottlenecks_are_empty_when_the_model_goes_straight_to_won(crm):
    two_stages = load_stage_model("olist")
    sh = crm.stage_history.replace({"stage": {"lead": "mql"}})
    sh = sh[sh["stage"].isin(["mql", "won"])].drop_duplicates(["lead_id", "stage"])
    small = CrmData(
        leads=crm.leads, stage_history=sh, opportunities=crm.opportunities, stage_model=two_stages
    )
    out = fn.bottlenecks(small, value_per_won=1000.0, as_of=AS_OF)
    assert out.empty and "explanation" in out and "lost_value" in out


def test_response_times_respect_as_of(crm):
    rt = fn.response_times(crm, as_of="2026-01-04 03:00").set_index("lead_id")
    assert set(rt.index) == {"L1", "L2"}  # the others become MQLs later
    assert rt["touched"].to_dict() == {"L1": True, "L2": False}
    assert rt.loc["L1", "hours"] == pytest.approx(2.0) and np.isnan(rt.loc["L2", "hours"])
    later = fn.response_times(crm, as_of=AS_OF).set_index("lead_id")
    assert later.loc["L2", "hours"] == pytest.approx(30.0)
    assert not later.loc["L4", "touched"]  # only a marketing touch


def test_a_model_without_a_rejection_stage_reports_no_rejection_count(crm):
    two_stages = load_stage_model("olist")
    sh = crm.stage_history[crm.stage_history["stage"].isin(["mql", "won"])]
    small = CrmData(leads=crm.leads, stage_history=sh, stage_model=two_stages)
    h = fn.handoff_metrics(small, as_of=AS_OF)
    assert h.mql_handed_over == 5
    assert (h.rejected, h.rejection_rate, h.rejection_ci) == (None, None, None)
    assert h.not_computed["rejection_rate"] == "funnel.note_no_rejected"
    # the default model records rejections: one of the five MQLs (L3) was rejected
    full = fn.handoff_metrics(crm, as_of=AS_OF)
    assert (full.rejected, full.rejection_rate) == (1, pytest.approx(1 / 5))
    assert "rejection_rate" not in full.not_computed


def test_an_open_deal_is_open_whatever_its_expected_close_date_says(crm):
    opps = crm.opportunities.copy()
    # CRMs write the *expected* close date of an open deal in closed_at: O3 (2000, open)
    # was expected to close on 03-15, before the as-of date, and is still open
    opps.loc[opps["opportunity_id"] == "O3", "closed_at"] = ts("2026-03-15")
    assert fn.open_deals(opps, AS_OF).tolist() == [False, False, True]
    c = fn.pipeline_coverage(opps, 1000.0, as_of=AS_OF)
    assert (c.open_value, c.coverage, c.verdict) == (2000.0, 2.0, "below")
    v = fn.sales_velocity(opps, as_of=AS_OF)
    assert v.open_opportunities == 1 and v.closed_in_window == 2
    # a deal expected to close later is open too; a won deal is open only before it closed
    opps.loc[opps["opportunity_id"] == "O3", "closed_at"] = ts("2027-01-15")
    assert fn.pipeline_coverage(opps, 1000.0, as_of=AS_OF).open_value == 2000.0
    assert fn.open_deals(opps, "2026-01-25").tolist() == [True, True, False]
    # the open deal is stale when older than twice the usual cycle (22 days), whatever its date
    crm.opportunities = opps
    stale = fn.handoff_metrics(crm, as_of="2026-05-01").stale
    assert stale.loc[stale["kind"] == "deal", "id"].tolist() == ["O3"]
