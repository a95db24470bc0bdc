"""Ingestion checks uniqueness once: the duplicate step covers every key the schemas declare.

The pandera validation at ingestion leaves out the schemas' uniqueness rules because the
duplicate step has just removed repeats of the same keys; these tests keep that true.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from helpers.ingest import load_crm
from helpers.ingest.validate import KEYS, unique_keys
from helpers.model import SCHEMAS

BROKEN = Path(__file__).parent / "broken"


@pytest.mark.parametrize("table", sorted(SCHEMAS))
def test_every_unique_key_of_a_schema_is_a_duplicate_check_key(table):
    for key in unique_keys(table):
        assert key == KEYS[table], f"{table}: {key} is declared unique but not de-duplicated"


def test_stage_history_and_leads_declare_the_keys_the_checks_use():
    assert unique_keys("leads") == [["lead_id"]]
    assert unique_keys("stage_history") == [["lead_id", "stage", "entered_at"]]


@pytest.mark.parametrize("case", ["duplicate_ids", "duplicate_rows"])
def test_ingested_tables_pass_the_full_schemas_uniqueness_included(case):
    crm, report = load_crm(BROKEN / case, "kit", key=b"k" * 32)
    assert any(f.code in ("duplicate_ids", "duplicate_rows") for f in report.findings)
    for name, df in crm.tables().items():
        SCHEMAS[name].validate(df, lazy=True)  # raises on a repeated key


def test_a_repeated_stage_entry_is_removed_before_validation(tmp_path):
    leads = pd.DataFrame({"lead_id": ["A", "B"], "created_at": ["2024-01-02", "2024-01-03"]})
    history = pd.DataFrame(
        {
            "lead_id": ["A", "A", "B"],
            "stage": ["mql", "mql", "mql"],
            "entered_at": ["2024-01-05 10:00", "2024-01-05 10:00", "2024-01-06 09:00"],
        }
    )
    leads.to_csv(tmp_path / "leads.csv", index=False)
    history.to_csv(tmp_path / "stage_history.csv", index=False)
    crm, report = load_crm(tmp_path, "kit", key=b"k" * 32)
    assert report.usable
    assert len(crm.stage_history) == 2
    SCHEMAS["stage_history"].validate(crm.stage_history, lazy=True)
