"""Writing a generated company in the kit's export format (CSV or Parquet), byte-stable."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from helpers.errors import KitError
from helpers.sample.generator import SampleExport

FORMATS: tuple[str, ...] = ("csv", "parquet")
TRUTH_FILE = "sample_truth.json"
MONEY_COLUMNS: frozenset[str] = frozenset({"amount"})


def _int_text(values: np.ndarray) -> pd.Series:
    return pd.Series(values, dtype="int64").astype("str")


def _float_text(s: pd.Series, money: bool) -> pd.Series:
    """Money with two decimals, whole numbers without decimals, anything else as ``repr``."""
    v = s.to_numpy(dtype=float, na_value=np.nan)
    missing = np.isnan(v)
    filled = np.where(missing, 0.0, v)
    if money:
        cents = np.rint(np.abs(filled) * 100).astype(np.int64)
        sign = np.where(filled < 0, "-", "")
        text = sign + _int_text(cents // 100) + "." + _int_text(cents % 100).str.zfill(2)
    elif np.all(filled == np.rint(filled)):
        text = _int_text(filled.astype(np.int64))
    else:
        text = pd.Series([repr(float(x)) for x in filled], dtype="str")
    return pd.Series(np.where(missing, "", text.to_numpy(dtype=object)), dtype="str")


def _csv_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Every column as text: ISO 8601 UTC timestamps with ``Z``, money with cents, no NaN."""
    out = {}
    for col in df.columns:
        s = df[col]
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            raw = s.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[s]")
            text = np.char.add(np.datetime_as_string(raw, unit="s"), "Z")
            out[col] = pd.Series(np.where(s.isna().to_numpy(), "", text), dtype="str")
        elif pd.api.types.is_float_dtype(s.dtype):
            out[col] = _float_text(s, money=col in MONEY_COLUMNS)
        else:  # strings and integers are written as they are; missing values as ""
            out[col] = s.reset_index(drop=True)
    return pd.DataFrame(out, columns=df.columns)


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    """Plain RFC 4180 CSV, ``\\n`` line ends; pyarrow's fast writer when nothing needs quoting."""
    text = _csv_frame(df)
    header = ",".join(map(str, text.columns))
    if any(ch in str(name) for name in text.columns for ch in ',"\r\n'):
        text.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")
        return
    try:
        with path.open("wb") as fh:
            fh.write((header + "\n").encode("utf-8"))
            options = pacsv.WriteOptions(include_header=False, quoting_style="none")
            pacsv.write_csv(pa.Table.from_pandas(text, preserve_index=False), fh, options)
    except pa.ArrowInvalid:  # a value holds a comma, quote or line break: let pandas quote it
        text.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")


def write_export(export: SampleExport, out: Path, fmt: str = "csv") -> list[Path]:
    """Write the six tables and ``sample_truth.json`` into ``out``; returns the written paths.

    Files are written into a temporary folder next to ``out`` and then moved into place, so a
    reader never sees half a file. The same export always gives the same bytes (CSV).
    """
    if fmt not in FORMATS:
        raise KitError("sample.bad_format", value=fmt, formats=", ".join(FORMATS))
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        problem = exc.strerror or str(exc)
        raise KitError("sample.cannot_write", path=str(out), problem=problem) from None
    tmp = Path(tempfile.mkdtemp(prefix=".sample-", dir=out))
    written: list[Path] = []
    try:
        for name, df in export.tables.items():
            target = tmp / f"{name}.{fmt}"
            if fmt == "csv":
                _write_csv(df, target)
            else:
                df.to_parquet(target, index=False)
            written.append(target)
        truth = tmp / TRUTH_FILE
        truth.write_text(
            json.dumps(export.truth, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
            encoding="utf-8",
        )
        written.append(truth)
        final = []
        for path in written:
            dest = out / path.name
            os.replace(path, dest)
            final.append(dest)
        return final
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
