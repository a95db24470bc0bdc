"""The SLA calculator, capacity check, terms, document and compliance on hand-worked cases."""

from __future__ import annotations

import pandas as pd
import pytest
from test_funnel import AS_OF, tiny_crm

from helpers import sla
from helpers.errors import KitError

RATES = {
    "lead_to_mql": 0.1,
    "mql_to_sal": 0.8,
    "sal_to_sql": 0.5,
    "sql_to_opportunity": 0.6,
    "opportunity_to_won": 0.25,
}


def test_reverse_funnel_worked_example():
    # 1,200,000 x 0.5 / 10,000 = 60 customers; / 0.25 = 240 opportunities; / 0.6 = 400 SQLs;
    # / 0.5 = 800 SALs; / 0.8 = 1,000 MQLs; / 0.1 = 10,000 leads.
    # Per month (12): 5, 20, 33.3 -> 34, 66.7 -> 67, 83.3 -> 84, 833.3 -> 834.
    # Per rep (4) per month: 1.25 -> 2, 5, 8.3 -> 9, 16.7 -> 17, 20.8 -> 21, 208.3 -> 209.
    rf = sla.reverse_funnel(
        1_200_000, 0.5, 10_000, RATES, months=12, reps=4, sales_cycle_days=90, start="2027-01"
    )
    assert rf.stages == ("lead", "mql", "sal", "sql", "opportunity", "won")
    assert rf.rounded == {
        "lead": 10_000,
        "mql": 1_000,
        "sal": 800,
        "sql": 400,
        "opportunity": 240,
        "won": 60,
    }
    assert rf.per_month == {
        "lead": 834,
        "mql": 84,
        "sal": 67,
        "sql": 34,
        "opportunity": 20,
        "won": 5,
    }
    assert rf.per_rep_per_month == {
        "lead": 209,
        "mql": 21,
        "sal": 17,
        "sql": 9,
        "opportunity": 5,
        "won": 2,
    }
    # 90 days ~ 3 months: MQLs for January closings are due in October
    assert rf.shift_months == 3
    assert rf.schedule["month"].iloc[0] == "2026-10"
    assert rf.schedule["close_month"].iloc[0] == "2027-01"
    assert rf.schedule["mql"].tolist() == [84] * 12
    assert rf.range == {} and rf.to_dict()["schedule"][0]["mql"] == 84


def test_reverse_funnel_without_sal_skips_the_step():
    rates = {
        "lead_to_mql": 0.1,
        "mql_to_sql": 0.4,
        "sql_to_opportunity": 0.6,
        "opportunity_to_won": 0.25,
    }
    rf = sla.reverse_funnel(1_200_000, 0.5, 10_000, rates)
    assert rf.stages == ("lead", "mql", "sql", "opportunity", "won")
    assert rf.skipped == ("sal",)
    assert rf.rounded["mql"] == 1_000 and rf.shift_months == 0
    assert rf.schedule["month"].tolist() == list(range(12))


def test_reverse_funnel_range_from_rate_intervals():
    rates = sla.StageRates(
        rates={"mql_to_sql": 0.5, "sql_to_won": 0.5},
        low={"mql_to_sql": 0.4, "sql_to_won": 0.25},
        high={"mql_to_sql": 0.625, "sql_to_won": 0.5},
    )
    rf = sla.reverse_funnel(100_000, 1.0, 10_000, rates)  # 10 customers
    assert rf.rounded == {"mql": 40, "sql": 20, "won": 10}
    assert rf.range["mql"] == (32, 100)  # 10/0.5/0.625 = 32; 10/0.25/0.4 = 100
    assert rf.range["sql"] == (20, 40)


def test_reverse_funnel_refuses_bad_rates():
    with pytest.raises(KitError):
        sla.reverse_funnel(1000, 0.5, 100, {"lead_to_mql": 0.1})
    with pytest.raises(KitError):
        sla.reverse_funnel(1000, 0.5, 100, {"mql_to_won": 1.5})
    with pytest.raises(KitError):
        sla.reverse_funnel(1000, 0.0, 100, {"mql_to_won": 0.5})


def test_rates_from_history():
    r = sla.rates_from_history(tiny_crm(), as_of=AS_OF)
    assert r.rates == pytest.approx(
        {
            "lead_to_mql": 5 / 6,
            "mql_to_sal": 3 / 5,
            "sal_to_sql": 1.0,
            "sql_to_opportunity": 2 / 3,
            "opportunity_to_won": 1 / 2,
        }
    )
    assert r.n["mql_to_sal"] == 5 and r.k["mql_to_sal"] == 3
    # every tiny cohort is younger than the 90 days of follow-up: all steps are flagged
    assert set(r.immature) == set(r.rates)
    settled = sla.rates_from_history(tiny_crm(), as_of=AS_OF, min_follow_up_days=70)
    # only MQLs before 20 January count: L1, L2 accepted, L3 rejected
    assert settled.rates["mql_to_sal"] == pytest.approx(2 / 3)
    assert "mql_to_sal" not in settled.immature
    for key, value in r.rates.items():
        assert r.low[key] <= value <= r.high[key]
    january = sla.rates_from_history(tiny_crm(), window=("2026-01-01", "2026-01-31"), as_of=AS_OF)
    assert january.rates["mql_to_sal"] == pytest.approx(2 / 3)  # L1, L2 accepted, L3 rejected


def test_capacity_check():
    ok = sla.capacity_check(84, 6, 4, 150)  # 504 of 600 = 84%
    assert ok.verdict == "fits" and ok.utilisation == pytest.approx(0.84)
    assert sla.capacity_check(100, 6, 4, 150).verdict == "tight"  # exactly 100%
    over = sla.capacity_check(101, 6, 4, 150)
    assert over.verdict == "over" and over.max_mql_per_month == pytest.approx(100.0)
    assert "100" in over.sentence("en") and "100" in over.sentence("it")


def test_lead_value_by_segment():
    out = sla.lead_value_by_segment(tiny_crm(), "source", as_of=AS_OF).set_index("source")
    assert out.loc["paid", ["n", "won"]].tolist() == [3, 1]
    assert out.loc["paid", "value"] == pytest.approx(1000 / 3)
    assert out.loc["organic", "value"] == 0.0
    assert out.loc["paid", "value_low"] < out.loc["paid", "value"] < out.loc["paid", "value_high"]


def test_terms_round_trip_and_validation():
    terms = sla.SlaTerms.from_dict(
        {
            "mql_per_month": 80,
            "first_touch_hours": 4,
            "business_hours": True,
            "holiday_country": "IT",
        }
    )
    assert sla.SlaTerms.from_dict(terms.to_dict()) == terms
    with pytest.raises(KitError):
        sla.SlaTerms.from_dict({"mql_per_month": 80, "first_touch_hour": 4})
    with pytest.raises(KitError):
        sla.SlaTerms.from_dict({"mql_per_month": 80, "min_acceptance_rate": 1.5})
    # values typed by hand in a YAML file or a form arrive as text
    typed = sla.SlaTerms.from_dict(
        {"mql_per_month": "80", "first_touch_hours": "4,5", "attempts": "6", "business_hours": "sì"}
    )
    assert (typed.mql_per_month, typed.first_touch_hours, typed.attempts) == (80.0, 4.5, 6)
    assert typed.business_hours is True
    with pytest.raises(KitError, match="attempts"):
        sla.SlaTerms.from_dict({"mql_per_month": 80, "attempts": 2.5})
    with pytest.raises(KitError):
        sla.SlaTerms.from_dict({"mql_per_month": "many"})
    with pytest.raises(KitError, match="mql_per_month"):
        sla.SlaTerms.from_dict({"attempts": 5})


def test_sla_document_in_both_languages():
    terms = sla.SlaTerms(
        mql_per_month=80,
        mql_per_rep_per_month=20,
        first_touch_hours=4,
        business_hours=True,
        timezone="Europe/Rome",
        holiday_country="IT",
    )
    en, it = sla.sla_document(terms, "en"), sla.sla_document(terms, "it")
    assert en.startswith("# Service Level Agreement")
    assert "within 4 business hours" in en and "entro 4 ore lavorative" in it
    assert "80" in en and "80" in it and en != it
    big = sla.SlaTerms(mql_per_month=1200, mql_per_rep_per_month=12.5)
    assert "1,200" in sla.sla_document(big, "en") and "12.5 MQLs" in sla.sla_document(big, "en")
    assert "1.200" in sla.sla_document(big, "it") and "12,5 MQL" in sla.sla_document(big, "it")


def test_sla_compliance_hand_worked():
    terms = sla.SlaTerms(
        mql_per_month=2, first_touch_hours=24, attempts=2, attempts_days=14, decision_hours=48
    )
    c = sla.sla_compliance(tiny_crm(), terms, as_of=AS_OF)
    mk = c.marketing.set_index("period")
    assert mk["mql_delivered"].to_dict() == {"2026-01": 3, "2026-02": 2}
    assert mk["accepted"].to_dict() == {"2026-01": 2, "2026-02": 1}
    assert mk["acceptance_rate"].tolist() == pytest.approx([2 / 3, 0.5])
    assert mk["volume_ok"].all()
    b = c.breaches
    assert list(zip(b["rule"], b["lead_id"], strict=True)) == [
        ("attempts", "L5"),
        ("decision", "L5"),
        ("first_touch", "L4"),
        ("first_touch", "L5"),
        ("first_touch", "L2"),
    ]
    assert b["by"].tolist() == pytest.approx([2, 57 * 24 - 48, 58 * 24 - 24, 57 * 24 - 24, 6])
    s = c.sales.set_index(["rep", "period"])
    assert s.loc[("ann", "2026-01"), "compliance_rate"] == pytest.approx(0.5)
    assert s.loc[("bob", "2026-01"), "compliance_rate"] == pytest.approx(1.0)
    assert s.loc[("bob", "2026-02"), "leads_with_breach"] == 2
    assert c.not_computed == {}
    assert c.to_dict()["breaches"][0] == {
        "lead_id": "L5",
        "rep": "bob",
        "period": "2026-02",
        "rule": "attempts",
        "by": 2.0,
        "unit": "attempts",
    }


def test_sla_compliance_business_hours_and_reason_codes():
    crm = tiny_crm()
    # L2 became MQL on Saturday 3 Jan and was called on Sunday: 0 business hours
    terms = sla.SlaTerms(mql_per_month=2, first_touch_hours=4, business_hours=True)
    b = sla.sla_compliance(crm, terms, as_of=AS_OF).breaches
    assert "L2" not in set(b.loc[b["rule"] == "first_touch", "lead_id"])
    sh = crm.stage_history.copy()
    sh["reason"] = pd.Series(pd.NA, index=sh.index, dtype="str")
    crm.stage_history = sh
    b = sla.sla_compliance(crm, terms, as_of=AS_OF).breaches
    assert b.loc[b["rule"] == "reason_missing", "lead_id"].tolist() == ["L3"]


def test_handoff_metrics_reports_sla_breaches():
    from helpers.funnel import handoff_metrics

    terms = sla.SlaTerms(mql_per_month=2, attempts=2)
    h = handoff_metrics(tiny_crm(), as_of=AS_OF, sla=terms)
    assert set(h.breaches["lead_id"]) == {"L2", "L4", "L5"}


def test_results_serialise_to_json_and_say_what_is_missing():
    import json

    from helpers import funnel as fn

    crm = tiny_crm()
    terms = sla.SlaTerms(mql_per_month=2)
    results = [
        sla.sla_compliance(crm, terms, as_of=AS_OF),
        sla.reverse_funnel(1e5, 0.5, 1e3, sla.rates_from_history(crm, as_of=AS_OF)),
        sla.rates_from_history(crm, as_of=AS_OF),
        sla.capacity_check(10, 5, 1, 100),
        fn.handoff_metrics(crm, as_of=AS_OF, sla=terms),
        fn.sales_velocity(crm.opportunities, as_of=AS_OF),
        fn.pipeline_coverage(crm.opportunities, 1000.0),
    ]
    for result in results:
        text = json.dumps(result.to_dict())
        assert json.loads(text)
    crm.activities = None
    c = sla.sla_compliance(crm, terms, as_of=AS_OF)
    assert c.not_computed == {
        "first_touch": "funnel.note_no_activities",
        "attempts": "funnel.note_no_activities",
    }
    assert set(c.breaches["rule"]) == {"decision"}


def test_hubspot_model_without_sal_flows_through_rates_and_reverse_funnel():
    crm = tiny_crm("hubspot")  # the 'sal' rows are not a HubSpot stage and are ignored
    rates = sla.rates_from_history(crm, as_of=AS_OF)
    assert set(rates.rates) == {
        "lead_to_mql",
        "mql_to_sql",
        "sql_to_opportunity",
        "opportunity_to_won",
    }
    assert rates.rates["mql_to_sql"] == pytest.approx(3 / 5)
    rf = sla.reverse_funnel(10_000, 1.0, 1_000, rates)  # 10 won -> 20 opps -> 30 SQL -> 50 MQL
    assert rf.stages == ("lead", "mql", "sql", "opportunity", "won") and rf.skipped == ("sal",)
    assert rf.rounded["mql"] == 50 and rf.rounded["lead"] == 60
    lo, hi = rf.range["mql"]
    assert lo < 50 < hi
    # without a SAL stage, acceptance is the SQL entry: L1 became SQL 72 h after MQL
    c = sla.sla_compliance(crm, sla.SlaTerms(mql_per_month=2, decision_hours=48), as_of=AS_OF)
    decision = c.breaches.loc[c.breaches["rule"] == "decision"].set_index("lead_id")["by"]
    assert decision["L1"] == pytest.approx(24.0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sla_compliance_does_not_depend_on_row_order(seed):
    crm = tiny_crm()
    terms = sla.SlaTerms(mql_per_month=2, first_touch_hours=24, attempts=2, decision_hours=48)
    base = sla.sla_compliance(crm, terms, as_of=AS_OF)
    for name in ("leads", "stage_history", "activities", "opportunities"):
        table = getattr(crm, name)
        setattr(crm, name, table.sample(frac=1.0, random_state=seed).reset_index(drop=True))
    other = sla.sla_compliance(crm, terms, as_of=AS_OF)
    pd.testing.assert_frame_equal(base.breaches, other.breaches)
    pd.testing.assert_frame_equal(base.sales, other.sales)
    pd.testing.assert_frame_equal(base.marketing, other.marketing)


def test_missing_tables_are_named_not_guessed():
    from helpers import funnel as fn
    from helpers.errors import MissingTableError

    crm = tiny_crm()
    crm.opportunities = None
    with pytest.raises(MissingTableError) as err:
        sla.lead_value_by_segment(crm, "source")
    assert err.value.table == "opportunities"
    assert sla.lead_value_by_segment(crm, "source", avg_deal_size=10.0)["value"].max() == (
        pytest.approx(10 / 3)
    )
    with pytest.raises(MissingTableError):
        fn.bottlenecks(crm)
    crm.activities = None
    with pytest.raises(MissingTableError):
        fn.response_time_effect(crm)
    opps = tiny_crm().opportunities
    with pytest.raises(KitError):  # no deal closed in the 30 days before 31 March
        fn.sales_velocity(opps, as_of=AS_OF, window_days=30)


@pytest.mark.parametrize(
    ("days", "shift", "lang", "expected"),
    [
        (45, 1, "it", "arrivare 1 mese prima"),
        (120, 4, "it", "arrivare 4 mesi prima"),
        (20, 0, "en", "in that same month"),
        (0, 0, "en", "With no sales cycle"),
        (120, 1, "en", "1 month earlier"),
    ],
)
def test_lead_time_sentence_says_months_in_the_right_number(days, shift, lang, expected):
    sentence = sla.lead_time_sentence(days, shift, lang)
    assert expected in sentence and " 0 " not in sentence and "1 mesi" not in sentence
