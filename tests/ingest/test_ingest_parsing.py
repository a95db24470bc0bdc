"""Date and number parsing: hand-computed cases and round-trip properties."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.ingest.parsing import parse_dates, parse_numbers


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def test_day_over_twelve_settles_day_first():
    r = parse_dates(pd.Series(["05/01/2024", "13/02/2024 10:30"]), day_first=False)
    assert r.order == "dmy" and not r.ambiguous
    assert list(r.values) == [ts("2024-01-05"), ts("2024-02-13 10:30")]


def test_month_day_order_from_values_and_am_pm():
    r = parse_dates(pd.Series(["1/5/2024, 10:30 PM", "12/25/2024 12:05 AM"]), day_first=True)
    assert r.order == "mdy" and not r.ambiguous
    assert list(r.values) == [ts("2024-01-05 22:30"), ts("2024-12-25 00:05")]


def test_undecidable_order_uses_default_and_says_so():
    r = parse_dates(pd.Series(["01/02/2024", "03/04/2024"]), day_first=True)
    assert r.ambiguous and r.order == "dmy"
    assert r.values.iloc[0] == ts("2024-02-01")
    r = parse_dates(pd.Series(["01/02/2024"]), day_first=False)
    assert r.values.iloc[0] == ts("2024-01-02")


def test_iso_with_offsets_and_naive_times_in_a_time_zone():
    r = parse_dates(
        pd.Series(["2024-07-01 12:00", "2024-07-01T12:00:00+02:00", "2024-01-15", None, ""]),
        tz="Europe/Rome",
    )
    assert list(r.values[:3]) == [
        ts("2024-07-01 10:00"),
        ts("2024-07-01 10:00"),
        ts("2024-01-15"),  # a date without a time is that day, not local midnight
    ]
    assert r.values[3:].isna().all() and not r.unparseable.any()
    assert str(r.values.dtype) == "datetime64[us, UTC]"


@pytest.mark.parametrize("tz", ["Europe/Rome", "America/Sao_Paulo", "Asia/Tokyo", "UTC"])
def test_a_date_without_a_time_is_its_calendar_day_in_any_time_zone(tz):
    # every format a date can come in, with and without a time of day, in one column
    values = [
        "03/02/2027",
        "2024-01-01",
        "45292",
        "03/02/2027 10:00",
        "2024-07-01 12:00",
        "45292.5",
    ]
    r = parse_dates(pd.Series(values), tz=tz, day_first=True, excel_serial=True)
    assert not r.unparseable.any()
    days = [ts("2027-02-03"), ts("2024-01-01"), ts("2024-01-01")]
    assert list(r.values[:3]) == days
    local = pd.Series(["2027-02-03 10:00", "2024-07-01 12:00", "2024-01-01 12:00"])
    want = pd.to_datetime(local).dt.tz_localize(tz).dt.tz_convert("UTC")
    assert list(r.values[3:]) == list(want)


def test_a_column_of_dates_only_keeps_every_day_and_month_in_a_time_zone():
    days = pd.date_range("2024-01-01", "2024-12-31", freq="D")
    for text in (days.strftime("%d/%m/%Y"), days.strftime("%Y-%m-%d")):
        r = parse_dates(pd.Series(text), tz="Europe/Rome", day_first=True)
        assert (r.values.dt.strftime("%Y-%m-%d") == days.strftime("%Y-%m-%d")).all()
        assert (r.values == days.tz_localize("UTC")).all()


def test_excel_serial_and_epoch_milliseconds():
    r = parse_dates(pd.Series(["45292", "45292.5"]), excel_serial=True)
    assert list(r.values) == [ts("2024-01-01"), ts("2024-01-01 12:00")]
    r = parse_dates(pd.Series(["1704067200000"]))
    assert r.values.iloc[0] == ts("2024-01-01")


def test_garbage_and_impossible_dates_are_unparseable():
    r = parse_dates(pd.Series(["31/02/2024", "yesterday", "2024-13-01", "05/01/2024"]))
    assert r.unparseable.tolist() == [True, True, True, False]


def test_mixed_formats_are_flagged_but_read():
    r = parse_dates(pd.Series(["2024-03-01", "15/03/2024"]))
    assert r.mixed and list(r.values) == [ts("2024-03-01"), ts("2024-03-15")]


@pytest.mark.parametrize(
    ("texts", "comma", "expected"),
    [
        (["1.234,56", "12,5", "-3"], True, [1234.56, 12.5, -3.0]),
        (["1,234.56", "12.5"], False, [1234.56, 12.5]),
        (["1.234", "2.500"], True, [1234.0, 2500.0]),  # Italian thousands
        (["1.234", "2.500"], False, [1.234, 2.5]),
        (["€ 1.200,00", "1 500,50 EUR", "$12"], True, [1200.0, 1500.5, 12.0]),
    ],
)
def test_numbers(texts, comma, expected):
    r = parse_numbers(pd.Series(texts), decimal_comma=comma)
    assert r.values.tolist() == expected


def test_currency_is_counted_and_words_are_unparseable():
    r = parse_numbers(pd.Series(["€ 10", "ten", None]))
    assert r.currency.tolist() == [True, False, False]
    assert r.unparseable.tolist() == [False, True, False]


dates = st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2060, 12, 31))


@settings(max_examples=60, deadline=None)
@given(st.lists(dates, min_size=1, max_size=30), st.booleans())
def test_dd_mm_yyyy_round_trips(values, with_time):
    values = [v.replace(microsecond=0) for v in values]
    fmt = "%d/%m/%Y %H:%M:%S" if with_time else "%d/%m/%Y"
    if not with_time:
        values = [v.replace(hour=0, minute=0, second=0) for v in values]
    text = pd.Series([v.strftime(fmt) for v in values])
    r = parse_dates(text, day_first=True)
    assert not r.unparseable.any()
    assert list(r.values) == [pd.Timestamp(v, tz="UTC") for v in values]


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False),
        min_size=1,
        max_size=20,
    )
)
def test_decimal_comma_numbers_parse_to_the_same_float(values):
    italian = pd.Series(
        [f"{v:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".") for v in values]
    )
    english = pd.Series([f"{v:,.2f}" for v in values])
    want = [float(f"{v:.2f}") for v in values]
    assert parse_numbers(italian, decimal_comma=True).values.tolist() == want
    assert parse_numbers(english, decimal_comma=False).values.tolist() == want


def test_a_number_column_of_timestamps_is_unparseable_not_dates():
    r = parse_numbers(pd.Series(["2024-01-01T10:00:00Z", "2024-01-02T11:00:00+01:00"], dtype="str"))
    assert r.values.isna().all() and r.unparseable.all()
