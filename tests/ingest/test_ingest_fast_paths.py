"""The vectorised text checks and the one-pass duplicate search agree with their definitions."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pyarrow as pa
import pytest
import reference_token
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.ingest.load import ISO_DATE_TEXT, NUMBER_TEXT, _all_match
from helpers.ingest.mapping import load_mapping
from helpers.ingest.parsing import _iso_utc, clean_text, isin_text, parse_dates
from helpers.ingest.safety import FORMULA_RE, NUMBER_LIKE, formula_mask, may_contain, regex_mask
from helpers.ingest.validate import (
    HUGE_CELL,
    INTERNAL,
    ROW,
    Checker,
    _drop_duplicates,
    _entered_out_of_order,
    check_tables,
    duplicated_rows,
)
from helpers.model import UTC_TS
from helpers.privacy import (
    DISTINCT_SAMPLE,
    EMAIL_PATTERN,
    email_cells,
    normalise_for_hash,
    tokens,
)

NOW = pd.Timestamp("2025-01-01", tz="UTC")
cells = st.one_of(
    st.none(),
    st.text(alphabet="=+-@\t\r\n<>/a1 .,()éx", max_size=8),
    st.sampled_from(["=SUM(A1)", "+39 02 1234", "-5", "@home", "<b>hi</b>", "a@b.it", ""]),
)


def _definition(values: list[str | None], pattern: str) -> list[bool]:
    return [v is not None and re.search(pattern, v) is not None for v in values]


@settings(max_examples=60, deadline=None)
@given(st.lists(cells, max_size=30))
def test_formula_mask_is_formula_start_and_not_a_number(values):
    got = formula_mask(pd.Series(values, dtype="str"))
    starts = _definition(values, FORMULA_RE)
    number = _definition(values, NUMBER_LIKE)
    assert got.tolist() == [s and not n for s, n in zip(starts, number, strict=True)]


@settings(max_examples=60, deadline=None)
@given(st.lists(cells, max_size=30))
def test_regex_and_email_masks_match_python_re(values):
    s = pd.Series(values, dtype="str")
    assert regex_mask(s, r"<\s*/?\s*[a-zA-Z!][^>]*>", literal="<").tolist() == _definition(
        values, r"<\s*/?\s*[a-zA-Z!][^>]*>"
    )
    assert email_cells(s).tolist() == _definition(values, EMAIL_PATTERN)


def _reference_drop(df: pd.DataFrame, key: list[str]) -> tuple[pd.DataFrame, int, int]:
    """The plain definition: exact copies first, then repeated keys (first row kept)."""
    data = [c for c in df.columns if c not in INTERNAL]
    exact = df.duplicated(subset=data, keep="first")
    df = df[~exact]
    dup = df.duplicated(subset=key, keep="first")
    return df[~dup], int(exact.sum()), int(dup.sum())


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["L1", "L2", "L3", None]),
            st.sampled_from(["mql", "sql"]),
            st.sampled_from(["x", "y"]),
        ),
        max_size=25,
    )
)
def test_drop_duplicates_matches_the_two_step_definition(rows):
    df = pd.DataFrame(rows, columns=["lead_id", "stage", "note"], dtype="str")
    df[ROW] = range(len(df))
    key = ["lead_id", "stage"]
    ck = Checker(load_mapping("kit"))
    got = _drop_duplicates(ck, "stage_history", df, key)
    want, n_exact, n_dup = _reference_drop(df, key)
    pd.testing.assert_frame_equal(got, want)
    counts = {f.code: f.count for f in ck.findings}
    assert counts.get("duplicate_rows", 0) == n_exact
    assert counts.get("duplicate_ids", 0) == n_dup


def _leads(**extra: list) -> pd.DataFrame:
    n = len(next(iter(extra.values())))
    return pd.DataFrame(
        {
            "lead_id": pd.Series([f"L{i}" for i in range(n)], dtype="str"),
            "created_at": pd.Series([pd.Timestamp("2024-01-01", tz="UTC")] * n),
            **{k: pd.Series(v, dtype="str") for k, v in extra.items()},
            ROW: range(2, n + 2),
        }
    )


def test_text_findings_still_fire_with_their_rows():
    leads = _leads(
        company=["=HYPERLINK(x)", "-12", "<script>x</script>", "ok", "a\nb", "x@y.com"],
        segment=["é" * (HUGE_CELL - 1), "a" * (HUGE_CELL + 1), "é" * 20_000, None, "", "b"],
    )
    out, findings = check_tables({"leads": leads}, load_mapping("kit"), NOW)
    by = {(f.code, f.column): f for f in findings}
    assert by[("formula_like", "company")].count == 1
    assert by[("formula_like", "company")].examples[0]["row"] == 2
    assert out["leads"].loc[0, "company"] == "'=HYPERLINK(x)"
    assert out["leads"].loc[1, "company"] == "-12"  # a number, not a formula
    assert by[("markup_in_text", "company")].examples[0]["row"] == 4
    assert by[("multiline_cells", "company")].examples[0]["row"] == 6
    assert by[("email_in_column", "company")].examples[0]["row"] == 7
    # 20,000 two-byte characters are 40,000 bytes but not a huge cell; one over the limit is
    assert by[("huge_cell", "segment")].count == 1
    assert by[("huge_cell", "segment")].examples[0]["row"] == 3


def test_team_words_are_translated_whole_cells_only():
    acts = pd.DataFrame(
        {
            "activity_id": pd.Series(["A1", "A2", "A3"], dtype="str"),
            "lead_id": pd.Series(["L0", "L0", "L0"], dtype="str"),
            "side": pd.Series(["vendite", "marketing", "vendite x"], dtype="str"),
            "type": pd.Series(["call", "call", "call"], dtype="str"),
            "at": pd.Series([pd.Timestamp("2024-02-01", tz="UTC")] * 3),
            ROW: [2, 3, 4],
        }
    )
    out, findings = check_tables(
        {"leads": _leads(company=["c"]), "activities": acts}, load_mapping("kit"), NOW
    )
    side = out["activities"]["side"]  # an optional column: the unknown value is blanked
    assert side[:2].tolist() == ["sales", "marketing"] and pd.isna(side[2])
    unknown = [f for f in findings if f.code == "unknown_values" and f.column == "side"]
    assert len(unknown) == 1 and unknown[0].examples[0]["row"] == 4


def test_non_iso_formats_found_among_iso_dates_with_a_repeated_index():
    values = pd.Series(
        ["2024-01-02", "13/02/2024", "45292", "1704067200000", "", None, "soon"],
        index=[5, 5, 7, 7, 8, 8, 9],
    )
    r = parse_dates(values, excel_serial=True)
    assert r.values.iloc[:4].tolist() == [
        pd.Timestamp("2024-01-02", tz="UTC"),
        pd.Timestamp("2024-02-13", tz="UTC"),
        pd.Timestamp("2024-01-01", tz="UTC"),
        pd.Timestamp("2024-01-01", tz="UTC"),
    ]
    assert r.mixed and r.order == "dmy"
    assert r.unparseable.tolist() == [False] * 6 + [True]
    only_iso = parse_dates(pd.Series(["2024-01-02", "2024-03-04 10:00"]))
    assert not only_iso.mixed and not only_iso.unparseable.any()


ISO_EDGE_CASES = [
    "2024-01-02T10:00:00.1234567Z",
    "2024-01-02T10:00:00+02",
    "2024-01-02 10:00Z",
    "2024-01-02T10:00:00,5Z",
    "2024-02-30T10:00:00Z",
    "2024-01-02T24:00:00Z",
    "2024-12-31T23:59:60Z",
    "2024-01-02T10:00:00-0530",
    "2024-01-02Z",
    "2024-1-2T10:00Z",
    "2024-01-02 10:00",
]


def _pandas_iso(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, format="ISO8601", utc=True, errors="coerce").astype(UTC_TS)


@pytest.mark.parametrize("text", ISO_EDGE_CASES)
def test_arrow_iso_parser_agrees_with_pandas_on_edge_cases(text):
    values = pd.Series(["2024-05-06T07:08:09Z", text], dtype="str")
    pd.testing.assert_series_equal(_iso_utc(values).astype(UTC_TS), _pandas_iso(values))


ISO_FORMATS = ["%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d %H:%M:%S.%f+01:00", "%Y-%m-%dT%H:%M-0230"]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.datetimes(min_value=dt.datetime(1970, 1, 1), max_value=dt.datetime(2100, 1, 1)),
            st.sampled_from(
                ["%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d %H:%M:%S.%f+01:00", "%Y-%m-%dT%H:%M-0230"]
            ),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_arrow_iso_parser_agrees_with_pandas(rows):
    values = pd.Series([when.strftime(fmt) for when, fmt in rows], index=range(5, 5 + len(rows)))
    got = parse_dates(values.astype("str")).values
    pd.testing.assert_series_equal(got, _pandas_iso(values.astype("str")), check_names=False)


def test_isin_text_with_repeated_pool_values_and_blanks():
    values = pd.Series(["L1", None, "L3", "L2", "", "L1"], index=[9, 9, 8, 7, 6, 5], dtype="str")
    pool = pd.Series(["L1", "L1", None, "L2", "L2"], dtype="str")
    want = [True, False, False, True, False, True]
    assert isin_text(values, pool).tolist() == want
    assert isin_text(pool, values).tolist() == [True, True, False, True, True]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=12)), max_size=20))
def test_tokens_are_the_keyed_hash_of_the_normalised_text(values):
    got = tokens(pd.Series(values, dtype="object"), b"key")
    normalised = normalise_for_hash(pd.Series(values, dtype="object"))
    for text, token in zip(normalised, got, strict=True):
        if pd.isna(text) or text == "":
            assert pd.isna(token)
        else:
            assert token == reference_token.token(b"key", text)


def test_bare_carriage_returns_count_as_line_breaks():
    # "company" has only bare "\r" breaks (no "\n" anywhere in the column)
    leads = _leads(company=["one line", "old\rmac", "plain"], segment=["a", "w\r\nx", "c"])
    _, findings = check_tables({"leads": leads}, load_mapping("kit"), NOW)
    multiline = {f.column: f for f in findings if f.code == "multiline_cells"}
    assert multiline["company"].count == 1
    assert [e["row"] for e in multiline["company"].examples] == [3]
    assert multiline["segment"].count == 1


@settings(max_examples=80, deadline=None)
@given(
    st.lists(cells, max_size=30),
    st.integers(0, 5),
    st.sampled_from(["@", "\n", "<", "="]),
    st.sampled_from([pa.string(), pa.large_string()]),
)
def test_the_byte_search_answers_exactly_for_each_chunk(values, cut, literal, text_type):
    """``may_contain`` looks only at the bytes of the cells in the chunks it is given, also when
    the chunks are slices of one larger array (as a Parquet file read into pandas gives)."""
    whole = pa.array(values, text_type)
    half = len(values) // 2
    arr = pa.chunked_array([whole.slice(0, half), whole.slice(half)])
    start = min(cut, len(values))
    for column, seen in ((arr, values), (arr.slice(start), values[start:])):
        inside = any(v is not None and literal in v for v in seen)
        assert may_contain(column, literal) == inside


def test_the_byte_search_finds_a_literal_in_one_cell_among_many():
    column = pa.chunked_array([pa.array(["abc"] * 1000 + ["x@y"], pa.large_string())])
    assert may_contain(column, "@")
    assert not may_contain(column, "<", "\n")


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.datetimes(min_value=dt.datetime(1970, 1, 1), max_value=dt.datetime(2100, 1, 1)),
            st.sampled_from(ISO_FORMATS),
        ),
        min_size=1,
        max_size=20,
    ),
    st.sampled_from(["UTC", "Europe/Rome"]),
)
def test_a_column_of_offset_times_reads_the_same_by_the_whole_column_path(rows, tz):
    """Every value with an offset: one Arrow cast, same result as the cell-by-cell path (which a
    blank cell forces)."""
    values = pd.Series([when.strftime(fmt) for when, fmt in rows], dtype="str")
    whole = parse_dates(values, tz=tz)
    mixed = parse_dates(pd.concat([values, pd.Series([""], dtype="str")], ignore_index=True), tz=tz)
    pd.testing.assert_series_equal(whole.values, mixed.values.iloc[:-1], check_names=False)
    assert not whole.unparseable.any() and not whole.mixed and not whole.ambiguous


edge_text = st.text(alphabet=" \t\n\r\x0b\x1c\u00a0\u2003\u3000aé€Z-", max_size=6)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), edge_text), max_size=25), st.integers(0, 5))
def test_clean_text_is_strip_then_blank_as_missing(values, skip):
    # ``skip`` slices the column, so the Arrow array starts at an offset into its buffers
    column = pd.Series(values, dtype="str").iloc[skip:]
    stripped = column.str.strip()
    pd.testing.assert_series_equal(clean_text(column), stripped.where(stripped != ""))


def test_clean_text_on_numbers_and_objects():
    mixed = pd.Series([1, " a ", None, 2.5], dtype="object")
    assert clean_text(mixed).tolist()[:2] == ["1", "a"]
    assert clean_text(mixed).isna().tolist() == [False, False, True, False]


def test_tokens_are_the_same_whether_hashed_per_cell_or_per_distinct_value():
    distinct = [f"person{i}@firm.example" for i in range(DISTINCT_SAMPLE + 50)]
    repeated = [distinct[i % 7] for i in range(len(distinct))]
    both = pd.Series([*distinct, *repeated[:10], None, ""], dtype="str")
    few = pd.Series([*repeated, *distinct[:10], None, ""], dtype="str")
    per_cell, per_value = tokens(both, b"key"), tokens(few, b"key")
    assert per_cell.iloc[: len(distinct)].nunique() == len(distinct)
    # the same text has the same token in both columns, and blanks stay missing in both
    by_text = dict(zip(both, per_cell, strict=True))
    for text, token in zip(few.iloc[:-2], per_value.iloc[:-2], strict=True):
        assert by_text[text] == token
    assert per_cell.iloc[-2:].isna().all() and per_value.iloc[-2:].isna().all()


key_cells = st.one_of(st.none(), st.sampled_from(["L1", "L2", "l1", "L1 ", ""]))


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            key_cells,
            st.sampled_from(["mql", "sql", None]),
            st.one_of(st.none(), st.integers(0, 3)),
            st.one_of(st.none(), st.sampled_from([0.0, -0.0, 1.5, float("nan")])),
        ),
        max_size=30,
    ),
    st.sampled_from(["first", "last", False]),
)
def test_duplicated_rows_is_pandas_duplicated(rows, keep):
    df = pd.DataFrame(rows, columns=["lead_id", "stage", "day", "amount"])
    df = df.astype({"lead_id": "str", "stage": "str", "amount": "float64"})
    df["entered_at"] = pd.to_datetime(df["day"], unit="D", utc=True)
    df["count"] = df["day"].fillna(-1).astype("int64")
    df.index = df.index * 3 + 7  # not a default index
    for subset in (["lead_id"], ["lead_id", "stage", "entered_at"], ["amount", "count"]):
        want = df.duplicated(subset=subset, keep=keep)
        pd.testing.assert_series_equal(duplicated_rows(df, subset, keep=keep), want)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.one_of(st.none(), st.integers(0, 5)), min_size=4, max_size=4)))
def test_out_of_order_entries_match_the_running_maximum_definition(rows):
    days = pd.DataFrame(rows, columns=["lead", "mql", "sql", "won"], dtype="float64")
    first = pd.DataFrame({c: pd.to_datetime(days[c], unit="D", utc=True) for c in days})
    # the latest entry among the stages before each one, skipping stages never entered
    running = days.cummax(axis=1).ffill(axis=1).shift(1, axis=1)
    want = (days < running).any(axis=1).to_numpy()
    assert _entered_out_of_order(first).tolist() == want.tolist()


def test_a_skipped_stage_does_not_hide_an_inversion():
    days = {"lead": [0, 0, 0], "mql": [10, 10, None], "sal": [None, None, None], "sql": [5, 12, 3]}
    first = pd.DataFrame({k: pd.to_datetime(v, unit="D", utc=True) for k, v in days.items()})
    assert _entered_out_of_order(first).tolist() == [True, False, False]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.sampled_from(["12", "1,234", "007", "x", "2024-05-01", "1.5"]), max_size=40),
    st.integers(min_value=0, max_value=40),
    st.sampled_from([NUMBER_TEXT, ISO_DATE_TEXT]),
)
def test_the_head_first_pattern_test_equals_testing_every_cell(values, head, pattern):
    series = pd.Series(values, dtype="str")  # the head cut anywhere, even at 0
    assert _all_match(series, pattern, head) == regex_mask(series, pattern).all()


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.text(alphabet="0123456789 aé€+-", max_size=12) | st.none(), max_size=30),
    st.integers(0, 5),
    st.booleans(),
)
def test_digit_counts_count_the_ascii_digits_of_every_cell(values, cut, large):
    from helpers.ingest.safety import digit_counts

    arr = pa.array(values, type=pa.large_string() if large else pa.string())
    chunked = pa.chunked_array([arr[:cut], arr[cut:]]) if cut < len(values) else arr
    want = [sum(c in "0123456789" for c in v) if v is not None else 0 for v in values]
    assert digit_counts(chunked).tolist() == want
    assert digit_counts(arr[cut:]).tolist() == want[cut:]  # a slice of a larger array
