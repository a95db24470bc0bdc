"""Canonical tables on disk: one Parquet file per table plus the stage model as YAML.

The report runner validates once and saves here; every notebook then loads the same tables, with
the same dtypes, quickly. Files are written aside and moved into place, so a reader never sees a
half-written table.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from helpers.files import replace_atomically
from helpers.model import LEAD_KEY, TABLES, CrmData, with_lead_keys
from helpers.stages import stage_model_from_dict

STAGE_MODEL_FILE = "stage_model.yaml"


def save_canonical(crm: CrmData, folder: str | Path) -> None:
    """Write every present table as ``<table>.parquet`` and the stage model as YAML, with the
    integer ``lead_key`` columns (assigned here when a table lacks them)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if any(LEAD_KEY not in df for df in crm.tables().values() if "lead_id" in df):
        crm = with_lead_keys(crm)
    present = crm.tables()
    for name, df in present.items():
        table = pa.Table.from_pandas(df, preserve_index=False)
        replace_atomically(folder / f"{name}.parquet", lambda p, t=table: pq.write_table(t, p))
    for name in TABLES:  # a table dropped since an earlier save must not come back
        stale = folder / f"{name}.parquet"
        if name not in present and stale.exists():
            stale.unlink()
    text = yaml.safe_dump(crm.stage_model.to_dict(), sort_keys=False, allow_unicode=True)
    replace_atomically(folder / STAGE_MODEL_FILE, lambda p: p.write_text(text, encoding="utf-8"))


def load_canonical(folder: str | Path) -> CrmData:
    """The tables saved by :func:`save_canonical`, dtypes included."""
    folder = Path(folder)
    tables: dict[str, pd.DataFrame] = {}
    for name in TABLES:
        path = folder / f"{name}.parquet"
        if path.exists():
            tables[name] = pq.read_table(path).to_pandas()
    if "leads" not in tables:
        from helpers.errors import MissingTableError

        raise MissingTableError("leads", "load_canonical")
    data = yaml.safe_load((folder / STAGE_MODEL_FILE).read_text(encoding="utf-8"))
    model = stage_model_from_dict(data, str(folder / STAGE_MODEL_FILE))
    return CrmData(stage_model=model, **tables)
