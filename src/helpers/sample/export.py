"""Writing a generated company in the kit's export format (CSV or Parquet), byte-stable."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.errors import KitError
from helpers.sample.generator import SampleExport

FORMATS: tuple[str, ...] = ("csv", "parquet")
TRUTH_FILE = "sample_truth.json"
MONEY_COLUMNS: frozenset[str] = frozenset({"amount", "annual_revenue"})


def _csv_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Every column as text: ISO 8601 UTC timestamps with ``Z``, money with cents, no NaN."""
    out = {}
    for col in df.columns:
        s = df[col]
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            raw = s.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[s]")
            text = np.char.add(np.datetime_as_string(raw, unit="s"), "Z")
            out[col] = np.where(s.isna().to_numpy(), "", text)
        elif pd.api.types.is_float_dtype(s.dtype):
            fmt = "{:.2f}" if col in MONEY_COLUMNS else "{:.0f}"
            whole = col not in MONEY_COLUMNS and bool((s.dropna() % 1 == 0).all())
            fmt = fmt if col in MONEY_COLUMNS or whole else "{!r}"
            out[col] = [("" if pd.isna(v) else fmt.format(v)) for v in s.to_numpy()]
        else:
            out[col] = s.astype(object).where(s.notna(), "").astype(str).to_numpy()
    return pd.DataFrame(out, columns=df.columns)


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
                _csv_frame(df).to_csv(target, index=False, lineterminator="\n", encoding="utf-8")
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
