"""Integer lead keys: assigned once, used by the analyses instead of hashing text ids.

The keys must never change a number: every analysis gives the same result with and without
them, on tables in any order, on subsets, and when a table was edited after the keys were
assigned (the spot check then falls back to the text ids).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import funnel, personas, sla
from helpers.model import LEAD_KEY, CrmData, _codes_from_keys, lead_codes, lead_rows, with_lead_keys
from helpers.sample import generate


def _ids(values: list[str | None]) -> pd.Series:
    return pd.Series(values, dtype="str")


def test_keys_number_leads_in_table_order_and_follow_them_into_other_tables():
    leads = pd.DataFrame(
        {"lead_id": _ids(["b", "a", "c"]), "created_at": pd.Timestamp(0, tz="UTC")}
    )
    sh = pd.DataFrame({"lead_id": _ids(["a", "x", "c", "a", "x"]), "stage": "mql"})
    opps = pd.DataFrame({"lead_id": _ids(["c", None, "y", "x"])})
    crm = with_lead_keys(CrmData(leads=leads, stage_history=sh, opportunities=opps))
    assert crm.leads[LEAD_KEY].tolist() == [0, 1, 2]
    assert crm.stage_history[LEAD_KEY].tolist() == [1, 3, 2, 1, 3]  # orphan "x" gets 3
    assert crm.opportunities[LEAD_KEY].tolist() == [2, -1, 4, 3]  # blank -1; "x" shared
    assert "lead_key" not in leads  # the input frames are not modified


def test_repeated_lead_ids_get_no_keys():
    leads = pd.DataFrame({"lead_id": _ids(["a", "a"]), "created_at": pd.Timestamp(0, tz="UTC")})
    crm = CrmData(leads=leads)
    assert with_lead_keys(crm) is crm


@st.composite
def _tables(draw):
    pool = [f"L{i}" for i in range(12)]
    n = draw(st.integers(1, 8))
    leads = pool[:n]
    ids = st.sampled_from([*pool, None])
    frames = [draw(st.lists(ids, max_size=25)) for _ in range(draw(st.integers(1, 3)))]
    return leads, frames


@settings(max_examples=60, deadline=None)
@given(_tables(), st.randoms(use_true_random=False))
def test_codes_from_keys_describe_the_same_leads_as_hashing_the_ids(tables, rnd):
    lead_list, others = tables
    leads = pd.DataFrame({"lead_id": _ids(lead_list), "created_at": pd.Timestamp(0, tz="UTC")})
    frames = [pd.DataFrame({"lead_id": _ids(o)}) for o in others]
    keyed = with_lead_keys(
        CrmData(
            leads=leads,
            **dict(zip(["stage_history", "opportunities", "activities"], frames, strict=False)),
        )
    )
    tables_keyed = [t for t in keyed.tables().values()]
    order = list(range(len(tables_keyed)))
    rnd.shuffle(order)
    chosen = [tables_keyed[i] for i in order]
    for subset in (chosen, [df.iloc[::2] for df in chosen]):  # also on subsets of the rows
        plain = [df.drop(columns=LEAD_KEY) for df in subset]
        for group in (subset, plain):
            codes, n, labels = lead_codes(group)
            ids = labels()
            assert len(ids) == n
            for df, c in zip(group, codes, strict=True):
                blank = df["lead_id"].isna().to_numpy()
                assert (c[blank] == -1).all()
                assert ids.take(c[~blank]).tolist() == df["lead_id"][~blank].tolist()
            assert len(set(ids)) == n  # one code per lead


def test_a_table_edited_after_the_keys_falls_back_to_the_text_ids():
    leads = pd.DataFrame(
        {"lead_id": _ids([f"L{i}" for i in range(3000)]), "created_at": pd.Timestamp(0, tz="UTC")}
    )
    sh = pd.DataFrame({"lead_id": _ids([f"L{i}" for i in range(3000)])})
    crm = with_lead_keys(CrmData(leads=leads, stage_history=sh))
    edited = crm.stage_history.assign(lead_id=crm.stage_history["lead_id"].str.replace("L", "M"))
    (_, sh_code), n, labels = lead_codes([crm.leads, edited])
    assert n == 6000  # the edited ids are other leads, as the text says
    assert set(labels()[sh_code]) == {f"M{i}" for i in range(3000)}
    assert (lead_rows(crm.leads, edited) == -1).all()


@pytest.fixture(scope="module")
def company() -> CrmData:
    return generate(3000, seed=11).to_crm()


def _variants(crm: CrmData) -> dict[str, CrmData]:
    """The same data with keys, with keys and every table shuffled, and a keyed subset."""
    keyed = with_lead_keys(crm)
    rng = np.random.default_rng(5)

    def shuffle(df: pd.DataFrame) -> pd.DataFrame:
        return df.iloc[rng.permutation(len(df))].reset_index(drop=True)

    shuffled = replace(keyed, **{k: shuffle(v) for k, v in keyed.tables().items()})
    return {"keyed": keyed, "keyed and shuffled": shuffled}


def _strip(crm: CrmData) -> CrmData:
    return replace(
        crm, **{k: v.drop(columns=LEAD_KEY, errors="ignore") for k, v in crm.tables().items()}
    )


def _same(a, b) -> None:
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))
    else:
        assert a == b


def _results(crm: CrmData) -> dict[str, object]:
    sh, model, leads = crm.stage_history, crm.stage_model, crm.leads
    terms = sla.SlaTerms(mql_per_month=100.0)
    compliance = sla.sla_compliance(crm, terms)
    reach = funnel.reach_times(sh, model, leads=leads)
    return {
        "cohort": funnel.cohort_conversion(
            sh, model, "mql", "sql", by="channel", leads=leads, within_days=30
        ),
        "ttc": funnel.time_to_convert(sh, model, "mql", "sql", by="persona", leads=leads),
        "sla marketing": compliance.marketing,
        "sla sales": compliance.sales,
        "sla breaches": compliance.breaches,
        "scorecard": personas.persona_scorecard(crm),
        "reach": reach.sort_index().reset_index(),
        "response": funnel.response_times(crm).sort_values("lead_id").reset_index(drop=True),
    }


@pytest.mark.parametrize("variant", ["keyed", "keyed and shuffled"])
def test_every_analysis_gives_the_same_numbers_with_and_without_keys(company, variant):
    keyed = _variants(company)[variant]
    tables = [keyed.stage_history, keyed.leads, keyed.activities]
    assert _codes_from_keys(tables) is not None  # the keys, not the text ids, are used
    with_keys = _results(keyed)
    without = _results(_strip(keyed))
    for name in with_keys:
        _same(with_keys[name], without[name])
    assert (with_keys["cohort"]["n"] > 0).all()  # the comparison is on real numbers


def test_analyses_on_a_subset_of_leads_keep_their_keys_valid(company):
    keyed = with_lead_keys(company)
    some = keyed.leads["lead_id"].iloc[::3]
    subset = replace(
        keyed,
        **{k: v[v["lead_id"].isin(some)] for k, v in keyed.tables().items() if "lead_id" in v},
    )
    assert _codes_from_keys([subset.stage_history, subset.leads]) is not None
    with_keys, without = _results(subset), _results(_strip(subset))
    for name in with_keys:
        _same(with_keys[name], without[name])


def test_a_few_rows_moved_to_other_leads_are_caught(company):
    keyed = with_lead_keys(company)
    sh = keyed.stage_history.copy()
    moved = np.arange(0, len(sh), 97)  # about 1% of the rows now name another lead
    ids = sh["lead_id"].to_numpy(dtype=object)
    ids[moved] = np.roll(ids[moved], 1)
    sh["lead_id"] = pd.array(ids, dtype="str")
    assert _codes_from_keys([sh, keyed.leads]) is None  # keys disagree: the text ids decide
    (sh_code, _), _, labels = lead_codes([sh, keyed.leads])
    assert labels().take(sh_code).tolist() == sh["lead_id"].tolist()


def test_sparse_integer_keys_that_are_not_ours_are_ignored():
    leads = pd.DataFrame(
        {
            "lead_id": _ids(["a", "b"]),
            LEAD_KEY: [10**12, 7],
            "created_at": pd.Timestamp(0, tz="UTC"),
        }
    )
    assert _codes_from_keys([leads]) is None  # no bitmap of a trillion entries
    (codes,), n, labels = lead_codes([leads])
    assert n == 2 and labels().tolist() == ["a", "b"] and codes.tolist() == [0, 1]
