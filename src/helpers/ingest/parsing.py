"""Vectorised parsing of text cells into canonical types: timestamps and numbers.

Dates: ISO 8601 (with or without an offset), ``dd/mm/yyyy`` or ``mm/dd/yyyy`` (optionally with a
time and AM/PM), Excel serial numbers (XLSX) and epoch milliseconds. The day/month order is decided
per column from the values (``load`` then makes a file's undecided columns follow a decided one);
naive times are read in the export's time zone and converted to UTC (see :func:`_to_utc` for the
hours that clock changes repeat or skip); a value without a time of day is a calendar date, that
day at midnight UTC whatever the time zone.
Numbers: decimal comma or point, thousands separators, currency symbols.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from helpers.ingest.safety import cell_offsets
from helpers.model import UTC_TS

ISO_RE = (
    r"^\d{4}-\d{1,2}-\d{1,2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)?"
    r"\s*(?:Z|[+-]\d{2}(?::?\d{2})?)?$"
)
OFFSET_RE = r"\d:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$"  # after a time
ISO_TIMED_RE = r"^\d{4}-\d{1,2}-\d{1,2}[T ]\d{1,2}:"  # an ISO value with a time of day
SLASH_RE = (
    r"^(?P<a>\d{1,2})[/.\-](?P<b>\d{1,2})[/.\-](?P<y>\d{4}|\d{2})"
    r"(?:[ T,]+(?P<H>\d{1,2})[:.](?P<M>\d{2})(?:[:.](?P<S>\d{2}))?\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?)?$"
)
SERIAL_RE = r"^\d{5}(?:\.\d+)?$"
EPOCH_MS_RE = r"^1\d{12}$"
CURRENCY_RE = r"^(?:[€$£¥]|R\$|EUR|USD|GBP|CHF|BRL)\s*|\s*(?:[€$£¥]|EUR|USD|GBP|CHF|BRL)$"


@dataclass
class DateParse:
    """Parsed timestamps (UTC) and what the parser had to decide."""

    values: pd.Series
    unparseable: pd.Series  # bool mask: non-blank text that is not a date
    order: str | None = None  # "dmy", "mdy" or None (no slash dates)
    ambiguous: bool = False  # slash dates where no value settles day/month order
    mixed: bool = False  # several formats in one column
    odd: pd.Series | None = None  # when mixed, bool mask: values not in the column's main format


@dataclass
class NumberParse:
    """Parsed floats and what was cleaned on the way."""

    values: pd.Series
    unparseable: pd.Series
    currency: pd.Series  # bool mask: a currency symbol was removed


def _arrow(text: pd.Series) -> pa.Array:
    return pa.array(text.array, type=pa.string(), from_pandas=True)


def _edge_bytes_plain(chunk: pa.Array) -> bool:
    """Whether no cell of an Arrow string array starts or ends with a byte that could be (part
    of) white space: a control character, a space, DEL or any non-ASCII byte."""
    data_buffer = chunk.buffers()[2]
    if data_buffer is None or len(chunk) == 0:
        return True
    offsets = cell_offsets(chunk)
    data = np.frombuffer(data_buffer, dtype=np.uint8)
    starts, ends = offsets[:-1], offsets[1:]
    filled = ends > starts
    edges = np.concatenate([data[starts[filled]], data[ends[filled] - 1]])
    return not ((edges <= 0x20) | (edges >= 0x7F)).any()


def clean_text(values: pd.Series) -> pd.Series:
    """Text with surrounding white space removed and empty cells missing (``str`` dtype).

    When no cell starts or ends with a byte that could be white space, which is the usual case,
    nothing is trimmed: a look at each cell's first and last byte replaces the trimming pass.
    """
    text = values.astype("str")
    arr = pa.array(text.array, from_pandas=True)
    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    plain = all(pa.types.is_string(c.type) or pa.types.is_large_string(c.type) for c in chunks)
    if not (plain and all(_edge_bytes_plain(c) for c in chunks)):
        text = text.str.strip()
    return text.where(text != "")


def isin_text(values: pd.Series, pool: pd.Series) -> pd.Series:
    """``values.isin(pool)`` for text columns, with one Arrow hash lookup per value.

    pandas' own ``isin`` on its Arrow-backed ``str`` dtype boxes every pool value in Python,
    which takes seconds for a pool of a million ids. Blanks never match.
    """
    if not (pd.api.types.is_string_dtype(values) and pd.api.types.is_string_dtype(pool)):
        return values.isin(pool) & values.notna()
    # the Arrow arrays as pandas holds them (no cast); the lookup set takes repeated values as is
    arr = pa.array(values.array, from_pandas=True)
    pool_arr = pa.array(pool.dropna().array, from_pandas=True)
    if isinstance(pool_arr, pa.ChunkedArray):
        pool_arr = pool_arr.combine_chunks()
    hit = pc.is_in(arr, value_set=pool_arr.cast(arr.type), skip_nulls=True)
    return pd.Series(pc.fill_null(hit, False).to_numpy(zero_copy_only=False), index=values.index)


def _mask(arr: pa.Array, pattern: str, index: pd.Index) -> pd.Series:
    hit = pc.fill_null(pc.match_substring_regex(arr, pattern), False)
    return pd.Series(hit.to_numpy(zero_copy_only=False), index=index)


def _to_utc(naive: pd.Series, tz: str, timed: pd.Series | None = None) -> pd.Series:
    """Times in UTC; times without a zone are local times of ``tz``.

    ``timed``: which values were written with a time of day (default: all of them). The others
    are calendar dates, not instants: each is its day at midnight UTC whatever ``tz``, so
    ``03/02/2027`` in a Europe/Rome export stays 3 February instead of becoming 23:00 UTC on the
    2nd (and a monthly cohort keeps its first-of-the-month leads).

    A local time that the autumn clock change repeats (Europe/Rome 2024-10-27 02:30 happens at
    00:30 and at 01:30 UTC) is read as the first of the two instants, still in summer time; a
    local time that the spring change skips (2024-03-31 02:30 in Rome) is moved forward to the
    first instant after the gap (03:00 summer time). Neither is an unreadable date.
    """
    if naive.dt.tz is not None:
        return naive.dt.tz_convert("UTC")
    if tz == "UTC" or (timed is not None and not timed.any()):
        return naive.dt.tz_localize("UTC")
    if timed is not None and not timed.all():  # dates and times in one column: each its own way
        out = naive.dt.tz_localize("UTC")
        out[timed] = _to_utc(naive[timed], tz)
        return out
    first = np.ones(len(naive), dtype=bool)  # True: the summer-time (earlier) reading
    return naive.dt.tz_localize(tz, ambiguous=first, nonexistent="shift_forward").dt.tz_convert(
        "UTC"
    )


def _iso_utc(text: pd.Series) -> pd.Series:
    """ISO 8601 text as UTC timestamps, naive times read as UTC.

    Arrow's parser takes a column where every value carries ``Z`` or an offset (the usual export)
    about twenty times faster; anything else it refuses goes, whole, to pandas' parser.
    """
    parsed = _arrow_utc(text)
    if parsed is None:
        return pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")
    return parsed


def _arrow_utc(text: pd.Series) -> pd.Series | None:
    """Text where every value is an ISO 8601 time with ``Z`` or an offset (or missing), as UTC
    timestamps by Arrow's parser; None when Arrow refuses any value."""
    try:
        parsed = pc.cast(_arrow(text), pa.timestamp("us", tz="UTC"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return pd.Series(parsed.to_pandas().array, index=text.index).astype(UTC_TS)


def parse_dates(
    values: pd.Series,
    *,
    tz: str = "UTC",
    day_first: bool = True,
    excel_serial: bool = False,
) -> DateParse:
    """Parse a column of dates; ``day_first`` applies only when no value settles the order."""
    index = values.index
    out = pd.Series(pd.NaT, index=index, dtype=UTC_TS)
    if isinstance(values.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(values):
        parsed = _to_utc(pd.Series(values, index=index), tz).astype(UTC_TS)
        return DateParse(parsed, pd.Series(False, index=index))
    if pd.api.types.is_numeric_dtype(values):
        values = values.astype("Float64").astype("str").str.removesuffix(".0")
    text = clean_text(values)  # blanks are missing
    every_offset = _arrow_utc(text)  # the usual export: every value ISO with Z or an offset
    if every_offset is not None:
        return DateParse(every_offset, pd.Series(False, index=index))
    blank = text.isna()  # clean_text made empty cells missing
    arr = _arrow(text)
    iso = _mask(arr, ISO_RE, index)
    # the other formats cannot match an ISO date: look for them only in the remaining cells
    rest = (~iso & ~blank).to_numpy()
    some = arr if rest.all() else pc.filter(arr, pa.array(rest))

    def among_rest(pattern: str) -> pd.Series:
        hit = np.zeros(len(index), dtype=bool)
        if len(some):
            hit[rest] = pc.fill_null(pc.match_substring_regex(some, pattern), False).to_numpy(
                zero_copy_only=False
            )
        return pd.Series(hit, index=index)

    slash, serial, epoch = (among_rest(p) for p in (SLASH_RE, SERIAL_RE, EPOCH_MS_RE))
    serial = serial & excel_serial
    epoch = epoch & ~serial
    result = DateParse(out, pd.Series(False, index=index))
    if iso.any():
        sub = text[iso]
        if tz == "UTC":
            out[iso] = _iso_utc(sub)
        else:
            aware = iso & _mask(arr, OFFSET_RE, index)
            naive = iso & ~aware
            if aware.any():
                out[aware] = _iso_utc(text[aware])
            if naive.any():
                out[naive] = _to_utc(
                    pd.to_datetime(text[naive], format="ISO8601", errors="coerce"),
                    tz,
                    _mask(_arrow(text[naive]), ISO_TIMED_RE, text[naive].index),
                )
    odd_order = None
    if slash.any():
        parts = pc.extract_regex(pa.array(text[slash].array, type=pa.string()), SLASH_RE)
        out[slash], order, ambiguous, odd_order = _slash_dates(
            parts, text[slash].index, tz, day_first
        )
        result.order, result.ambiguous = order, ambiguous
    if serial.any():
        days = pd.to_numeric(text[serial], errors="coerce")
        naive = pd.Timestamp("1899-12-30") + pd.to_timedelta(days, unit="D")
        out[serial] = _to_utc(naive.dt.round("s"), tz, days % 1 != 0)  # a fraction is a time
    if epoch.any():
        ms = pd.to_numeric(text[epoch], errors="coerce")
        out[epoch] = pd.to_datetime(ms, unit="ms", utc=True)
    masks = [m for m in (iso, slash, serial, epoch) if m.any()]
    if len(masks) > 1 or odd_order is not None:
        result.mixed = True
        # the values to look at: those outside the most common format (and, among slash dates,
        # those whose day/month order is the less common one)
        main = max(range(len(masks)), key=lambda i: int(masks[i].sum()))
        odd = pd.Series(False, index=index)
        for i, m in enumerate(masks):
            if i != main:
                odd |= m
        if odd_order is not None:
            odd.loc[odd_order.index] |= odd_order
        result.odd = odd
    result.values = out.astype(UTC_TS)
    result.unparseable = ~blank & result.values.isna()
    return result


def _slash_dates(
    parts: pa.StructArray, index: pd.Index, tz: str, day_first: bool
) -> tuple[pd.Series, str, bool, pd.Series | None]:
    """Slash dates as UTC, the order used, whether nothing settled it, and (when values settle
    both orders) the mask of the values showing the less common order."""

    def num(name: str) -> pd.Series:
        field = pc.struct_field(parts, name)
        field = pc.if_else(pc.equal(field, ""), None, field)
        return pd.Series(pc.cast(field, pa.int32()).to_numpy(zero_copy_only=False), index=index)

    a, b, y = num("a"), num("b"), num("y")
    timed = num("H").notna()
    hour, minute, second = num("H").fillna(0), num("M").fillna(0), num("S").fillna(0)
    ampm = pd.Series(
        pc.utf8_lower(pc.struct_field(parts, "ampm")).to_numpy(zero_copy_only=False), index=index
    )
    pm = ampm.str.startswith("p", na=False)
    am = ampm.str.startswith("a", na=False)
    hour = hour.where(~(pm & (hour < 12)), hour + 12).where(~(am & (hour == 12)), 0)
    y = y.where(y >= 100, np.where(y < 70, y + 2000, y + 1900))
    dmy_evidence, mdy_evidence = bool((a > 12).any()), bool((b > 12).any())
    if dmy_evidence and not mdy_evidence:
        order, ambiguous = "dmy", False
    elif mdy_evidence and not dmy_evidence:
        order, ambiguous = "mdy", False
    else:
        order, ambiguous = ("dmy" if day_first else "mdy"), not (dmy_evidence and mdy_evidence)
    mixed = dmy_evidence and mdy_evidence
    day_is_a = pd.Series(order == "dmy", index=index)
    odd = None
    if mixed:  # each value settled by its own evidence, the rest by the default order
        day_is_a = day_is_a.where(~(a > 12), True).where(~(b > 12), False)
        dmy_rows, mdy_rows = (a > 12).fillna(False), (b > 12).fillna(False)
        odd = dmy_rows if dmy_rows.sum() <= mdy_rows.sum() else mdy_rows
    day = a.where(day_is_a, b)
    month = b.where(day_is_a, a)
    frame = pd.DataFrame(
        {"year": y, "month": month, "day": day, "hour": hour, "minute": minute, "second": second}
    )
    naive = pd.to_datetime(frame, errors="coerce")
    return _to_utc(naive, tz, timed).astype(UTC_TS), order, ambiguous, odd


def parse_numbers(values: pd.Series, *, decimal_comma: bool = False) -> NumberParse:
    """Parse a column of numbers; ``decimal_comma`` decides ``1.234`` when values do not."""
    index = values.index
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        floats = values.astype("float64")
        none = pd.Series(False, index=index)
        return NumberParse(floats, none, none)
    text = clean_text(values)  # blanks are missing
    blank = text.isna()  # clean_text made empty cells missing
    arr = _arrow(text)
    if not (decimal_comma and _mask(arr, r"^-?\d{1,3}(?:\.\d{3})+$", index).any()):
        try:  # the common case: plain numbers, nothing to clean
            floats = pd.Series(
                pc.cast(pc.if_else(pc.equal(arr, ""), None, arr), pa.float64()).to_numpy(
                    zero_copy_only=False
                ),
                index=index,
            )
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
        else:
            none = pd.Series(False, index=index)
            return NumberParse(floats, none, none)
    currency = _mask(arr, CURRENCY_RE, index)
    if currency.any():
        text = text.str.replace(CURRENCY_RE, "", regex=True)
    text = pd.Series(
        pc.replace_substring_regex(_arrow(text), r"[\s\x{00a0}\x{202f}']", ""),
        index=index,
        dtype="str",
    )
    arr = _arrow(text)
    both = _mask(arr, ",", index) & _mask(arr, r"\.", index)
    comma_last = _mask(arr, r",[^.]*$", index)
    comma_decimal_evidence = (both & comma_last).any() or _mask(
        arr, r",(?:\d{1,2}|\d{4,})$", index
    ).any()
    dot_decimal_evidence = (both & ~comma_last).any() or _mask(
        arr, r"\.(?:\d{1,2}|\d{4,})$", index
    ).any()
    if comma_decimal_evidence and not dot_decimal_evidence:
        comma = True
    elif dot_decimal_evidence and not comma_decimal_evidence:
        comma = False
    else:
        comma = decimal_comma
    if comma:
        text = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    else:
        text = text.str.replace(",", "", regex=False)
    floats = pd.to_numeric(text, errors="coerce").astype("float64")
    return NumberParse(floats, ~blank & floats.isna(), currency)
