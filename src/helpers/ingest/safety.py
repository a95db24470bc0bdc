"""Cells that a spreadsheet would run as formulas, made inert before writing CSV or XLSX."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

FORMULA_RE = r"^[=+\-@\t\r]"
NUMBER_LIKE = r"^[+-]?[\d\s().,/'-]*$"


def regex_mask(values: pd.Series, pattern: str, literal: str | None = None) -> pd.Series:
    """True where a text cell matches ``pattern`` (RE2 through pyarrow: linear time, no loop).

    ``literal``: a substring every match contains; cells without it are skipped cheaply.
    """
    if not pd.api.types.is_string_dtype(values):
        return pd.Series(False, index=values.index)
    arr = pa.array(values.astype("str").array, type=pa.string(), from_pandas=True)
    if literal is not None:
        has = pc.fill_null(pc.match_substring(arr, literal), False)
        if not pc.any(has).as_py():
            return pd.Series(False, index=values.index)
    hit = pc.fill_null(pc.match_substring_regex(arr, pattern), False)
    return pd.Series(hit.to_numpy(zero_copy_only=False), index=values.index)


def formula_mask(values: pd.Series) -> pd.Series:
    """True where a text cell starts like a formula (``=``, ``+``, ``-``, ``@``), not a number."""
    if not pd.api.types.is_string_dtype(values):
        return pd.Series(False, index=values.index)
    starts = regex_mask(values, FORMULA_RE)
    if not starts.any():  # the usual case: skip the slower number test
        return starts
    number = regex_mask(values[starts], NUMBER_LIKE)
    return starts & ~number.reindex(values.index, fill_value=False)


def neutralise_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """A copy where every formula-like text cell starts with a quote, so it is shown, not run."""
    out = df.copy()
    for col in out.columns:
        mask = formula_mask(out[col])
        if mask.any():
            out[col] = out[col].where(~mask, "'" + out[col])
    return out
