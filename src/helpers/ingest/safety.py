"""Cells that a spreadsheet would run as formulas, made inert before writing CSV or XLSX.

The checks work on the Arrow arrays behind pandas' ``str`` columns (no Python object per cell):
cheap substring or first-byte tests run first, and a regular expression only where they hit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

FORMULA_RE = r"^[=+\-@\t\r]"
FORMULA_FIRST = tuple(c.encode() for c in "=+-@\t\r")  # the first bytes FORMULA_RE accepts
NUMBER_LIKE = r"^[+-]?[\d\s().,/'-]*$"

ArrowText = pa.Array | pa.ChunkedArray


def arrow_text(values: pd.Series) -> ArrowText:
    """A text column as Arrow strings (no copy for pandas' Arrow-backed ``str`` dtype)."""
    return pa.array(values.astype("str").array, from_pandas=True)


def to_mask(hit: ArrowText, index: pd.Index) -> pd.Series:
    """A boolean Arrow result as a pandas mask (missing = False)."""
    return pd.Series(pc.fill_null(hit, False).to_numpy(zero_copy_only=False), index=index)


def none_hit(hit: ArrowText) -> bool:
    """Whether a boolean Arrow result has no true value."""
    return not pc.any(hit).as_py()


def cell_offsets(chunk: pa.Array) -> np.ndarray:
    """Where each cell of an Arrow string array starts in its data buffer, plus where the last
    one ends (``len(chunk) + 1`` values; the array may be a slice of a larger one)."""
    wide = pa.types.is_large_string(chunk.type)
    offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int64 if wide else np.int32)
    return offsets[chunk.offset : chunk.offset + len(chunk) + 1]


def digit_counts(arr: ArrowText) -> np.ndarray:
    """How many ASCII digits each cell holds (0 for a missing cell): one pass over each chunk's
    bytes, no Python object per cell."""
    counts = []
    for chunk in arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]:
        offsets = cell_offsets(chunk).astype(np.int64)
        data = chunk.buffers()[2]
        if data is None or offsets[-1] == offsets[0]:
            counts.append(np.zeros(len(chunk), dtype=np.int64))
            continue
        raw = np.frombuffer(data, dtype=np.uint8)[offsets[0] : offsets[-1]]
        digit = (raw - ord("0")) < 10  # other bytes wrap around past 9
        # the filled cells' starts rise strictly, and each filled cell ends where the next starts
        filled = offsets[1:] > offsets[:-1]
        count = np.zeros(len(chunk), dtype=np.int64)
        count[filled] = np.add.reduceat(digit, offsets[:-1][filled] - offsets[0], dtype=np.int64)
        counts.append(count)
    return np.concatenate(counts) if counts else np.zeros(0, dtype=np.int64)


def may_contain(arr: ArrowText, *literals: str) -> bool:
    """False only when no cell can contain any of ``literals``: one byte search (``memchr``
    speed) through each chunk's data buffer, which holds every cell's bytes back to back."""
    needles = [x.encode() for x in literals]
    for chunk in arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]:
        if not pa.types.is_string(chunk.type) and not pa.types.is_large_string(chunk.type):
            return True  # not plain Arrow text: let the cell-by-cell test decide
        data = chunk.buffers()[2]
        if data is None or len(chunk) == 0:
            continue
        # a chunk sliced from a larger array shares its buffer: search only the chunk's bytes
        offsets = cell_offsets(chunk)
        raw = data.slice(int(offsets[0]), int(offsets[-1] - offsets[0])).to_pybytes()
        if any(n in raw for n in needles):
            return True
    return False


def regex_hits(arr: ArrowText, pattern: str, literal: str | None = None) -> ArrowText | None:
    """Where Arrow text cells match ``pattern`` (RE2: linear time); None when no cell does.

    ``literal``: a substring every match contains; without it in any cell the regex is skipped.
    """
    if literal is not None and not may_contain(arr, literal):
        return None
    if literal is not None and none_hit(pc.match_substring(arr, literal)):
        return None
    hit = pc.match_substring_regex(arr, pattern)
    return None if none_hit(hit) else hit


def regex_mask(values: pd.Series, pattern: str, literal: str | None = None) -> pd.Series:
    """True where a text cell matches ``pattern`` (RE2 through pyarrow: linear time, no loop).

    ``literal``: a substring every match contains; cells without it are skipped cheaply.
    """
    if not pd.api.types.is_string_dtype(values):
        return pd.Series(False, index=values.index)
    hit = regex_hits(arrow_text(values), pattern, literal)
    return pd.Series(False, index=values.index) if hit is None else to_mask(hit, values.index)


def formula_hits(arr: ArrowText) -> ArrowText | None:
    """Where Arrow text cells start like a formula but are not a number; None when none do."""
    if not may_contain(arr, *(b.decode() for b in FORMULA_FIRST)):
        return None  # none of the bytes a formula starts with occurs anywhere
    # FORMULA_RE is one anchored character class: a first-byte lookup gives the same answer
    first = pc.binary_slice(arr.cast(pa.large_binary()), 0, 1)
    starts = pc.is_in(first, value_set=pa.array(FORMULA_FIRST, pa.large_binary()))
    if none_hit(starts):  # the usual case: skip the slower number test
        return None
    number = pc.match_substring_regex(arr, NUMBER_LIKE)
    hit = pc.and_kleene(starts, pc.invert(pc.fill_null(number, False)))
    return None if none_hit(hit) else hit


def formula_mask(values: pd.Series) -> pd.Series:
    """True where a text cell starts like a formula (``=``, ``+``, ``-``, ``@``), not a number."""
    if not pd.api.types.is_string_dtype(values):
        return pd.Series(False, index=values.index)
    hit = formula_hits(arrow_text(values))
    return pd.Series(False, index=values.index) if hit is None else to_mask(hit, values.index)


def neutralise_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """A copy where every formula-like text cell starts with a quote, so it is shown, not run."""
    out = df.copy()
    for col in out.columns:
        mask = formula_mask(out[col])
        if mask.any():
            out[col] = out[col].where(~mask, "'" + out[col])
    return out
