"""The index page's period line and parameter values on data that lacks things."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pandas as pd

from helpers.model import CrmData
from helpers.report.pages import data_period, format_value, period_line


def _ts(*days: str) -> pd.Series:
    return pd.Series(pd.to_datetime(list(days), utc=True))


def _crm() -> CrmData:
    leads = pd.DataFrame({"lead_id": ["a", "b"], "created_at": _ts("2021-03-05", "2021-01-02")})
    history = pd.DataFrame(
        {
            "lead_id": ["a", "b"],
            "stage": ["mql", "won"],
            "entered_at": _ts("2021-03-05", "2021-07-30"),
        }
    )
    return CrmData(leads=leads, stage_history=history)


def test_data_period_spans_every_table_with_dates():
    start, end = data_period(_crm())
    assert start == pd.Timestamp("2021-01-02", tz="UTC")
    assert end == pd.Timestamp("2021-07-30", tz="UTC")


def test_data_period_of_data_without_dates():
    leads = pd.DataFrame({"lead_id": ["a"], "created_at": _ts("NaT")})
    assert data_period(CrmData(leads=leads)) == (None, None)


def test_period_line_takes_what_the_config_lacks_from_the_data():
    unset = SimpleNamespace(period_start=None, period_end=None)
    line = period_line(unset, "en", data_period(_crm()))
    assert line == "Period: 2021-01-02 to 2021-07-30 (from the dates in the data)"
    assert "…" not in line
    italian = period_line(unset, "it", data_period(_crm()))
    assert "02/01/2021" in italian and "30/07/2021" in italian
    half = SimpleNamespace(period_start=dt.date(2021, 2, 1), period_end=None)
    assert period_line(half, "en", data_period(_crm())).startswith(
        "Period: 2021-02-01 to 2021-07-30"
    )
    full = SimpleNamespace(period_start=dt.date(2021, 2, 1), period_end=dt.date(2021, 6, 30))
    assert period_line(full, "en") == "Period: 2021-02-01 to 2021-06-30"
    assert period_line(unset, "en") == "Period: the data has no dates"


def test_mappings_read_as_text_not_python():
    assert format_value({}, "en") == "none"
    assert format_value({"north": "2024-01-01"}, "en") == "north: 2024-01-01"
    assert "{" not in format_value({"a": 1.5}, "it")


def test_a_standalone_document_nests_under_a_report_section():
    from helpers.results import demote_headings

    doc = "# Agreement\n\nText with a # sign.\n\n## Marketing\n\n- item\n\n###### Deep"
    assert demote_headings(doc) == (
        "### Agreement\n\nText with a # sign.\n\n#### Marketing\n\n- item\n\n###### Deep"
    )


def test_the_period_ends_at_the_last_past_event_not_at_a_future_or_expected_date():
    crm = _crm()
    # a lead dated in the future (a typo the validation flags) and an open deal whose
    # closed_at is the date it is expected to close: neither has happened on 2022-01-01
    crm.leads = pd.concat(
        [crm.leads, pd.DataFrame({"lead_id": ["c"], "created_at": _ts("2027-02-03")})],
        ignore_index=True,
    )
    crm.opportunities = pd.DataFrame(
        {
            "opportunity_id": ["o1", "o2"],
            "lead_id": ["b", "a"],
            "amount": [10.0, 20.0],
            "created_at": _ts("2021-05-01", "2021-06-01"),
            "closed_at": _ts("2021-07-30", "2021-12-24"),
            "outcome": ["won", "open"],
        }
    )
    start, end = data_period(crm, now="2022-01-01")
    assert (start, end) == (
        pd.Timestamp("2021-01-02", tz="UTC"),
        pd.Timestamp("2021-07-30", tz="UTC"),
    )
    # a won deal's close date is an event; by default "now" is the current time
    crm.opportunities.loc[1, "outcome"] = "won"
    assert data_period(crm)[1] == pd.Timestamp("2021-12-24", tz="UTC")


def test_the_default_as_of_of_an_analysis_ignores_future_dates():
    from helpers import funnel

    crm = _crm()
    crm.leads = pd.concat(
        [crm.leads, pd.DataFrame({"lead_id": ["c"], "created_at": _ts("2099-02-03")})],
        ignore_index=True,
    )
    summary = funnel.funnel_summary(crm)  # as of 2021-07-30, when lead "c" did not exist yet
    assert summary.set_index("stage")["reached"].iloc[0] == 2
