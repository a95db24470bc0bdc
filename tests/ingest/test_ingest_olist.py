"""The real Olist export, checked against numbers computed here with plain pandas."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers.ingest import load_crm

pytestmark = pytest.mark.realdata

MQL = "olist_marketing_qualified_leads_dataset.csv"
DEALS = "olist_closed_deals_dataset.csv"


@pytest.fixture(scope="module")
def olist(olist_dir):
    data, report = load_crm(olist_dir, key=b"olist")
    mqls = pd.read_csv(olist_dir / MQL)
    deals = pd.read_csv(olist_dir / DEALS)
    return data, report, mqls, deals


def test_olist_is_detected_and_usable(olist):
    data, report, mqls, deals = olist
    assert report.mapping == "olist" and report.usable, report.render_text()
    assert len(data.leads) == len(mqls) == 8000
    assert report.stage_counts["mql"] == mqls["mql_id"].nunique()
    assert report.stage_counts["won"] == deals["mql_id"].nunique() == 842


def test_deal_attributes_land_on_their_lead(olist):
    data, _, _, deals = olist
    leads = data.leads.set_index("lead_id")
    won = deals.set_index("mql_id")
    assert leads.loc[won.index, "sdr"].tolist() == won["sdr_id"].tolist()
    assert leads.loc[won.index, "owner"].tolist() == won["sr_id"].tolist()
    assert leads["segment"].notna().sum() == won["business_segment"].notna().sum()
    assert leads["persona"].notna().sum() == won["lead_behaviour_profile"].notna().sum()
    revenue = leads["declared_monthly_revenue"]
    assert (revenue > 0).sum() == (won["declared_monthly_revenue"] > 0).sum() == 45
    assert leads["source"].isna().sum() == olist[2]["origin"].isna().sum() == 60


def test_dates_are_calendar_days_and_times_are_local_converted_to_utc(olist):
    data, report, mqls, deals = olist
    first = pd.to_datetime(mqls.set_index("mql_id")["first_contact_date"])  # dates only
    created = data.leads.set_index("lead_id")["created_at"]
    assert (created.loc[first.index] == first.dt.tz_localize("UTC")).all()
    assert report.tables["leads"].start.date().isoformat() == "2017-06-14"
    won_sh = data.stage_history[data.stage_history["stage"] == "won"]
    assert len(won_sh) == 842
    won = pd.to_datetime(deals.set_index("mql_id")["won_date"])  # date and time, São Paulo
    local = won.dt.tz_localize("America/Sao_Paulo", nonexistent="shift_forward")
    got = won_sh.set_index("lead_id")["entered_at"]
    assert (got.loc[won.index] == local.dt.tz_convert("UTC")).all()


def test_won_before_first_contact_is_a_counted_warning(olist):
    _, report, mqls, deals = olist
    merged = deals.merge(mqls, on="mql_id")
    expected = int(
        (pd.to_datetime(merged["won_date"]) < pd.to_datetime(merged["first_contact_date"])).sum()
    )
    f = report.get("won_before_created")
    assert expected == 1 and f.severity == "warning" and f.count == expected
    assert {"no_amounts", "no_lost_reasons", "table_absent"} <= report.codes("info")


def test_findings_name_olists_own_columns_and_files(olist):
    _, report, mqls, deals = olist
    blank = report.get("blank_values")
    assert (blank.column, blank.source_column, blank.file) == ("source", "origin", MQL)
    assert "column origin (source): Rows where 'origin (source)' is blank" in report.render_text()
    unmatched = report.get("merge_unmatched")
    assert unmatched.count == len(mqls) - deals["mql_id"].nunique() == 7158
    assert (unmatched.file, unmatched.params["merged"]) == (MQL, DEALS)
    assert f"{MQL}: 7,158 rows have no match in {DEALS}" in report.render_text("en")
