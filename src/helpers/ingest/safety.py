"""Cells that a spreadsheet would run as formulas, made inert before writing CSV or XLSX."""

from __future__ import annotations

import pandas as pd

FORMULA_RE = r"^[=+\-@\t\r]"
NUMBER_LIKE = r"^[+-]?[\d\s().,/'-]*$"


def formula_mask(values: pd.Series) -> pd.Series:
    """True where a text cell starts like a formula (``=``, ``+``, ``-``, ``@``), not a number."""
    if not pd.api.types.is_string_dtype(values):
        return pd.Series(False, index=values.index)
    starts = values.str.contains(FORMULA_RE, regex=True, na=False)
    if not starts.any():  # the usual case: skip the slower number test
        return starts
    number = values[starts].str.contains(NUMBER_LIKE, regex=True, na=False)
    return starts & ~number.reindex(values.index, fill_value=False)


def neutralise_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """A copy where every formula-like text cell starts with a quote, so it is shown, not run."""
    out = df.copy()
    for col in out.columns:
        mask = formula_mask(out[col])
        if mask.any():
            out[col] = out[col].where(~mask, "'" + out[col])
    return out
