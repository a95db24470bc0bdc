"""The Olist marketing funnel export: kit results against plain pandas on the raw CSVs."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers import funnel as fn
from helpers.ingest import load_crm

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def raw(olist_dir):
    mqls = pd.read_csv(olist_dir / "olist_marketing_qualified_leads_dataset.csv")
    deals = pd.read_csv(olist_dir / "olist_closed_deals_dataset.csv")
    return mqls, deals


@pytest.fixture(scope="module")
def crm(olist_dir):
    data, _report = load_crm(olist_dir, mapping="olist")
    return data


def test_mql_to_won_by_origin_matches_raw_counts(raw, crm):
    mqls, deals = raw
    origin = mqls["origin"].fillna(fn.MISSING)
    expected = (
        pd.DataFrame(
            {
                "n": origin.value_counts(),
                "converted": origin[mqls["mql_id"].isin(deals["mql_id"])].value_counts(),
            }
        )
        .fillna(0)
        .astype("int64")
    )
    out = fn.cohort_conversion(
        crm.stage_history, crm.stage_model, "mql", "won", by="source", leads=crm.leads, period=None
    ).set_index("source")
    assert out["n"].sum() == 8000 and out["converted"].sum() == 842
    pd.testing.assert_frame_equal(
        out[["n", "converted"]].sort_index(), expected.sort_index(), check_names=False
    )
    assert ((out["ci_low"] <= out["rate"]) & (out["rate"] <= out["ci_high"])).all()


def test_time_from_first_contact_to_won_matches_raw(raw, crm):
    mqls, deals = raw
    both = deals.merge(mqls, on="mql_id")
    # a won_date carries a time: São Paulo local time, moved to UTC; a first_contact_date is a
    # bare date: that calendar day, at midnight UTC
    won = pd.to_datetime(both["won_date"]).dt.tz_localize(
        "America/Sao_Paulo", ambiguous=True, nonexistent="shift_forward"
    )
    contact = pd.to_datetime(both["first_contact_date"]).dt.tz_localize("UTC")
    days = ((won - contact) / pd.Timedelta(days=1)).clip(lower=0)  # one is won before contact
    q = days.quantile([0.5, 0.75, 0.9]).to_numpy()
    out = fn.time_to_convert(crm.stage_history, crm.stage_model, "mql", "won").iloc[0]
    assert out["converted"] == 842
    tol = 1e-6
    assert out["median_days"] == pytest.approx(q[0], abs=tol)
    assert out["p75_days"] == pytest.approx(q[1], abs=tol)
    assert out["p90_days"] == pytest.approx(q[2], abs=tol)
    # about 10.5% of MQLs are ever won: the KM median is never reached, and says so
    assert not bool(out["km_median_reached"])


def test_monthly_cohorts_on_olist(raw, crm):
    mqls, deals = raw
    month = pd.to_datetime(mqls["first_contact_date"]).dt.to_period("M").astype("str")
    won = mqls["mql_id"].isin(deals["mql_id"])
    expected = won.groupby(month).agg(["size", "sum"])
    out = fn.cohort_conversion(crm.stage_history, crm.stage_model, "mql", "won").set_index("cohort")
    assert out["n"].tolist() == expected["size"].tolist()
    assert out["converted"].tolist() == expected["sum"].tolist()
