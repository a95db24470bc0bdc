"""The benchmark's references stay honest: kit, DuckDB SQL and plain pandas give the same numbers.

No timing here; ``bench/run_bench.py`` times the same three implementations at scale.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

from helpers.model import CrmData
from helpers.sample import generate

ROOT = Path(__file__).resolve().parents[2]


def _load_impls() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_impls", ROOT / "bench" / "impls.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


impls = _load_impls()


@pytest.fixture(scope="module")
def crm() -> CrmData:
    return generate(leads=5_000, seed=11).to_crm()


@pytest.fixture(scope="module")
def results(crm: CrmData) -> dict[str, dict[str, dict[str, pd.DataFrame]]]:
    when = impls.as_of(crm)
    return {
        name: {impl: fn(crm, when) for impl, fn in fns.items()}
        for name, fns in impls.ANALYSES.items()
    }


@pytest.mark.parametrize("analysis", list(impls.ANALYSES))
@pytest.mark.parametrize("reference", ["duckdb", "naive"])
def test_reference_matches_kit(results, analysis: str, reference: str) -> None:
    kit, ref = results[analysis]["kit"], results[analysis][reference]
    assert impls.compare(kit, ref) is None
    # the comparison is not empty: every table has rows and real counts in it
    for table in kit.values():
        assert len(table) > 0
        ints = [c for c in table.columns if c in impls.INT_COLS]
        assert ints and table[ints].to_numpy().sum() > 0


def test_cohort_totals_match_a_hand_count(crm: CrmData, results) -> None:
    """Total MQL cohort size equals the leads with an MQL-or-later funnel entry by as_of."""
    when = impls.as_of(crm)
    sh = crm.stage_history
    later = list(crm.stage_model.funnel)[1:]
    hit = sh[sh["stage"].isin(later) & (sh["entered_at"] <= when)]
    assert results["cohort_conversion"]["kit"]["cohort"]["n"].sum() == hit["lead_id"].nunique()


def test_compare_reports_a_changed_number(results) -> None:
    kit = results["persona_scorecard"]["kit"]
    changed = {"persona": kit["persona"].assign(won=kit["persona"]["won"] + 1)}
    assert "won" in impls.compare(kit, changed)
    tiny = {"persona": kit["persona"].assign(win_rate=kit["persona"]["win_rate"] * (1 + 1e-13))}
    assert impls.compare(kit, tiny) is None
    assert impls.compare(kit, {}) is not None
