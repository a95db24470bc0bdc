"""Stages an export never records: no rate, median, acceptance or leak is invented for them.

Three small exports whose numbers are worked out by hand: a Salesforce leads report with no MQL
date, a custom mapping with only MQL and SQL dates (default model), and a HubSpot export whose
contacts have no "subscriber" date and not all a "lead" date.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers import funnel as fn
from helpers import impact, sla
from helpers.errors import KitError, MissingTableError
from helpers.model import CrmData
from helpers.stages import load_stage_model

AS_OF = pd.Timestamp("2025-12-31", tz="UTC")


def ts(day: str) -> pd.Timestamp:
    return pd.Timestamp(f"2025-{day}", tz="UTC")


def _history(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    sh = pd.DataFrame(rows, columns=["lead_id", "stage", "entered_at"])
    sh["entered_at"] = pd.to_datetime("2025-" + sh["entered_at"], utc=True)
    return sh.astype({"entered_at": "datetime64[us, UTC]"})


def _leads(n: int, prefix: str) -> pd.DataFrame:
    created = pd.to_datetime([f"2025-01-0{i}" for i in range(1, n + 1)], utc=True)
    return pd.DataFrame(
        {
            "lead_id": [f"{prefix}{i}" for i in range(1, n + 1)],
            "created_at": created.astype("datetime64[us, UTC]"),
            "owner": "ann",
        }
    )


def salesforce_crm() -> CrmData:
    """Four leads of a Salesforce leads report (no MQL nor SAL date):

    S1 lead 01-01, sql = opportunity 01-10, won 02-01 (deal of 1000)
    S2 lead 01-02, sql = opportunity 01-12, lost 03-01
    S3 lead 01-03; S4 lead 01-04
    """
    sh = _history(
        [
            ("S1", "lead", "01-01"),
            ("S1", "sql", "01-10"),
            ("S1", "opportunity", "01-10"),
            ("S1", "won", "02-01"),
            ("S2", "lead", "01-02"),
            ("S2", "sql", "01-12"),
            ("S2", "opportunity", "01-12"),
            ("S2", "lost", "03-01"),
            ("S3", "lead", "01-03"),
            ("S4", "lead", "01-04"),
        ]
    )
    opps = pd.DataFrame(
        {
            "opportunity_id": ["O1", "O2"],
            "lead_id": ["S1", "S2"],
            "amount": [1000.0, 500.0],
            "created_at": [ts("01-10"), ts("01-12")],
            "closed_at": [ts("02-01"), ts("03-01")],
            "outcome": ["won", "lost"],
        }
    )
    return CrmData(
        leads=_leads(4, "S"),
        stage_history=sh,
        opportunities=opps,
        stage_model=load_stage_model("salesforce"),
    )


def mql_sql_crm() -> CrmData:
    """Five leads of a custom mapping with only MQL, SQL and won dates (default model):

    A1 mql 01-02, sql 01-05, won 02-01; A2 mql 01-03, sql 01-20; A3 mql 01-06; A4 mql 01-08;
    A5 created 01-05 and nothing else. No "lead" row and no SAL row at all.
    """
    sh = _history(
        [
            ("A1", "mql", "01-02"),
            ("A1", "sql", "01-05"),
            ("A1", "won", "02-01"),
            ("A2", "mql", "01-03"),
            ("A2", "sql", "01-20"),
            ("A3", "mql", "01-06"),
            ("A4", "mql", "01-08"),
        ]
    )
    return CrmData(leads=_leads(5, "A"), stage_history=sh, stage_model=load_stage_model("default"))


def hubspot_crm() -> CrmData:
    """Four HubSpot contacts, none with a subscriber date: H1 lead 01-01, mql 01-02, sql 01-04;
    H2 lead 01-02, mql 01-05; H3 lead 01-03; H4 created 01-04 with no lifecycle date."""
    sh = _history(
        [
            ("H1", "lead", "01-01"),
            ("H1", "mql", "01-02"),
            ("H1", "sql", "01-04"),
            ("H2", "lead", "01-02"),
            ("H2", "mql", "01-05"),
            ("H3", "lead", "01-03"),
        ]
    )
    return CrmData(leads=_leads(4, "H"), stage_history=sh, stage_model=load_stage_model("hubspot"))


# --- which stages the data records -------------------------------------------------------------


def test_a_stage_with_no_entry_is_not_recorded_and_the_leads_table_records_the_top():
    sf, mq, hs = salesforce_crm(), mql_sql_crm(), hubspot_crm()
    assert fn.recorded_stages(sf.stage_history, sf.stage_model, sf.leads) == (
        "lead",
        "sql",
        "opportunity",
        "won",
    )
    # every lead entered the top stage when created, even with no "lead" row
    assert fn.recorded_stages(mq.stage_history, mq.stage_model) == ("mql", "sql", "won")
    assert fn.recorded_stages(mq.stage_history, mq.stage_model, mq.leads) == (
        "lead",
        "mql",
        "sql",
        "won",
    )
    # HubSpot's "subscriber" comes before "lead" but no contact has a date for it
    assert fn.recorded_stages(hs.stage_history, hs.stage_model, hs.leads) == ("lead", "mql", "sql")


def test_the_unrecorded_steps_and_the_conversion_span_follow_the_data():
    sf, mq, hs = salesforce_crm(), mql_sql_crm(), hubspot_crm()
    on_sf = fn.recorded_stages(sf.stage_history, sf.stage_model, sf.leads)
    assert fn.unrecorded_steps(sf.stage_model, recorded=on_sf) == ["mql", "sal"]
    assert fn.conversion_span(sf.stage_model, on_sf) == ("lead", "sql")
    on_mq = fn.recorded_stages(mq.stage_history, mq.stage_model, mq.leads)
    assert fn.unrecorded_steps(mq.stage_model, recorded=on_mq) == ["sal", "opportunity"]
    assert fn.conversion_span(mq.stage_model, on_mq) == ("mql", "sql")
    on_hs = fn.recorded_stages(hs.stage_history, hs.stage_model, hs.leads)
    assert fn.unrecorded_steps(hs.stage_model, recorded=on_hs) == ["sal", "opportunity", "won"]


# --- the funnel chart ---------------------------------------------------------------------------


def test_the_funnel_lists_only_recorded_stages_and_counts_the_top_from_the_leads():
    out = fn.funnel_summary(salesforce_crm(), as_of=AS_OF)
    assert out["stage"].tolist() == ["lead", "sql", "opportunity", "won"]
    assert out["reached"].tolist() == [4, 2, 2, 1]
    assert out["step_rate"].iloc[1:].tolist() == pytest.approx([0.5, 1.0, 0.5])
    mq = fn.funnel_summary(mql_sql_crm(), as_of=AS_OF)
    assert dict(zip(mq["stage"], mq["reached"], strict=True)) == {
        "lead": 5,
        "mql": 4,
        "sql": 2,
        "won": 1,
    }
    hs = fn.funnel_summary(hubspot_crm(), as_of=AS_OF)  # no "Subscriber" bar; H4 is a lead
    assert dict(zip(hs["stage"], hs["reached"], strict=True)) == {"lead": 4, "mql": 2, "sql": 1}


# --- conversion, time to convert, handoff -------------------------------------------------------


def test_conversion_and_time_from_an_unrecorded_stage_say_it_is_not_recorded():
    crm = salesforce_crm()
    sh, model = crm.stage_history, crm.stage_model
    for analysis in (fn.cohort_conversion, fn.time_to_convert):
        with pytest.raises(fn.StageNotRecordedError) as err:
            analysis(sh, model, "mql", "sql", as_of=AS_OF)
        assert err.value.stage == "mql"
    assert "does not record the MQL stage" in err.value.message("en")
    assert "non registra la fase MQL" in err.value.message("it")
    with pytest.raises(fn.StageNotRecordedError):
        fn.cohort_conversion(sh, model, "sql", "sal", as_of=AS_OF)
    # the span the data does record: 2 of the 4 leads became SQL, both on their 9th/10th day
    row = fn.cohort_conversion(sh, model, "lead", "sql", period=None, as_of=AS_OF).iloc[0]
    assert (row["n"], row["converted"]) == (4, 2)
    days = fn.time_to_convert(sh, model, "lead", "sql", as_of=AS_OF).iloc[0]
    assert days["median_days"] == pytest.approx(9.5)


def test_the_top_stage_counts_every_lead_of_the_leads_table():
    crm = mql_sql_crm()
    row = fn.cohort_conversion(
        crm.stage_history, crm.stage_model, "lead", "mql", leads=crm.leads, period=None
    ).iloc[0]
    assert (row["n"], row["converted"]) == (5, 4)  # not 4 of 4: A5 never became an MQL
    with pytest.raises(fn.StageNotRecordedError):  # without the leads table, no lead stage
        fn.cohort_conversion(crm.stage_history, crm.stage_model, "lead", "mql")


def test_handoff_without_an_mql_stage_is_not_computed():
    with pytest.raises(fn.StageNotRecordedError) as err:
        fn.handoff_metrics(salesforce_crm(), as_of=AS_OF)
    assert err.value.stage == "mql"


def test_acceptance_without_sal_dates_is_not_the_sql_rate():
    h = fn.handoff_metrics(mql_sql_crm(), as_of=AS_OF)
    assert h.mql_handed_over == 4
    assert (h.accepted, h.acceptance_rate, h.acceptance_ci) == (None, None, None)
    assert h.not_computed["acceptance_rate"] == "funnel.note_no_sal"
    assert h.skipped_stages["stage"].tolist() == ["mql", "sql"]  # no SAL "skipped" by all


def test_response_time_needs_the_mql_stage():
    crm = salesforce_crm()
    crm.activities = pd.DataFrame(
        {"activity_id": ["X1"], "lead_id": ["S1"], "side": ["sales"], "at": [ts("01-03")]}
    )
    with pytest.raises(fn.StageNotRecordedError):
        fn.response_times(crm, as_of=AS_OF)


# --- bottlenecks --------------------------------------------------------------------------------


def test_bottlenecks_rank_only_steps_between_recorded_stages():
    sf = fn.bottlenecks(salesforce_crm(), value_per_won=1000.0, as_of=AS_OF)
    assert list(zip(sf["from_stage"], sf["to_stage"], strict=True)) == [("sql", "opportunity")]
    assert sf["lost"].tolist() == [0]
    mq = fn.bottlenecks(mql_sql_crm(), value_per_won=1000.0, as_of=AS_OF)
    assert list(zip(mq["from_stage"], mq["to_stage"], strict=True)) == [("mql", "sql")]
    # 4 MQLs, 2 SQLs of which 1 won: 2 lost x 1/2 x 1000
    assert (mq["lost"].iloc[0], mq["lost_value"].iloc[0]) == (2, pytest.approx(1000.0))
    with pytest.raises(fn.StageNotRecordedError):  # no won date at all: nothing to value
        fn.bottlenecks(hubspot_crm(), value_per_won=1000.0, as_of=AS_OF)


# --- the SLA: rates, reverse funnel, compliance -------------------------------------------------


def test_sla_rates_join_recorded_stages_and_count_leads_from_the_leads_table():
    sf = sla.rates_from_history(salesforce_crm(), as_of=AS_OF)
    assert sf.rates == pytest.approx(
        {"lead_to_sql": 0.5, "sql_to_opportunity": 1.0, "opportunity_to_won": 0.5}
    )
    mq = sla.rates_from_history(mql_sql_crm(), as_of=AS_OF)
    assert mq.rates == pytest.approx({"lead_to_mql": 0.8, "mql_to_sql": 0.5, "sql_to_won": 0.5})
    hs = sla.rates_from_history(hubspot_crm(), as_of=AS_OF)
    assert hs.rates == pytest.approx({"lead_to_mql": 0.5, "mql_to_sql": 0.5})


def test_reverse_funnel_needs_rates_that_reach_the_mql():
    rates = sla.rates_from_history(salesforce_crm(), as_of=AS_OF)
    with pytest.raises(KitError) as err:
        sla.reverse_funnel(10_000, 1.0, 1_000, rates)
    assert err.value.key == "sla.no_mql_rate"


def test_sla_compliance_does_not_count_sqls_as_accepted():
    terms = sla.SlaTerms(mql_per_month=1, decision_hours=48, min_acceptance_rate=0.5)
    for crm in (mql_sql_crm(), hubspot_crm()):
        c = sla.sla_compliance(crm, terms, as_of=AS_OF)
        assert c.not_computed == {
            "acceptance": "funnel.note_no_sal",
            "first_touch": "funnel.note_no_activities",
            "attempts": "funnel.note_no_activities",
        }
        mk = c.marketing
        assert mk["acceptance_rate"].isna().all() and mk["accepted"].isna().all()
        assert mk["acceptance_ok"].isna().all() and int(mk["acceptance_ok"].sum()) == 0
    # the decision rule still reads the SQL entry as the decision: A1 went 01-02 -> 01-05
    c = sla.sla_compliance(mql_sql_crm(), terms, as_of=AS_OF)
    decision = c.breaches.loc[c.breaches["rule"] == "decision"].set_index("lead_id")["by"]
    assert decision["A1"] == pytest.approx(72 - 48)
    with pytest.raises(fn.StageNotRecordedError):
        sla.sla_compliance(salesforce_crm(), terms, as_of=AS_OF)


def test_lead_value_counts_every_lead_at_the_top():
    out = sla.lead_value_by_segment(mql_sql_crm(), "owner", avg_deal_size=100.0, as_of=AS_OF)
    assert (out["n"].iloc[0], out["won"].iloc[0]) == (5, 1)
    assert out["value"].iloc[0] == pytest.approx(20.0)


# --- impact -------------------------------------------------------------------------------------


def test_impact_panel_without_any_sql_date_is_not_a_rate_of_zero():
    crm = mql_sql_crm()
    crm.leads["region"] = np.where(crm.leads["lead_id"] < "A3", "north", "south")
    crm.stage_history = crm.stage_history.loc[crm.stage_history["stage"] == "mql"]
    with pytest.raises(MissingTableError) as err:
        impact.outcome_panel(crm, "mql_to_sql", "region")
    assert err.value.table == "stage_history.sql"


def test_an_unrecorded_stage_is_data_the_export_lacks():
    with pytest.raises(MissingTableError) as err:  # callers that skip missing data skip it too
        fn.handoff_metrics(salesforce_crm(), as_of=AS_OF)
    assert err.value.table == "stage_history.mql"
