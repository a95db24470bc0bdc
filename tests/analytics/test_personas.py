"""Buyer personas: cards, data-driven candidates on planted clusters, scorecard by hand."""

from __future__ import annotations

import json
import re
from importlib import resources

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import adjusted_rand_score
from statsmodels.stats.proportion import proportion_confint

from helpers import personas as ps
from helpers.errors import KitError, MissingTableError
from helpers.messages import t
from helpers.model import CrmData

EXAMPLE = resources.files("helpers") / "assets" / "persona_cards_example.yaml"

# --- cards ---


def test_example_cards_load():
    cards = ps.load_persona_cards(str(EXAMPLE))
    assert [c.name for c in cards] == ["Operations Olivia", "Finance Filippo"]
    assert cards[0].objections[0] == "We tried software before and nobody used it"
    assert all(len(c.goals) >= 2 for c in cards)
    json.dumps([c.to_dict() for c in cards])


def card(**over) -> dict:
    base = {
        "name": "Ivo",
        "role": "IT lead",
        "goals": ["a"],
        "challenges": ["b"],
        "objections": ["c"],
        "where_they_learn": ["d"],
        "decision_criteria": ["e"],
        "buying_triggers": ["f"],
    }
    base.update(over)
    return base


def test_csv_cards_split_lists_on_semicolons(tmp_path):
    path = tmp_path / "cards.csv"
    frame = pd.DataFrame([card(goals="save time; fewer errors ;", objections="price")])
    frame.to_csv(path, index=False)
    (c,) = ps.load_persona_cards(path)
    assert c.goals == ("save time", "fewer errors") and c.objections == ("price",)


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ([card(name="  ")], "personas.card_empty_name"),
        ([{k: v for k, v in card().items() if k != "objections"}], "personas.card_missing_field"),
        ([card(role="")], "personas.card_missing_field"),
        ([card(), card()], "personas.cards_duplicate"),
        ([], "personas.cards_empty"),
        (["just text"], "personas.card_not_mapping"),
    ],
)
def test_invalid_cards_name_the_problem(tmp_path, data, key):
    path = tmp_path / "cards.yaml"
    path.write_text(yaml.safe_dump({"personas": data}), encoding="utf-8")
    with pytest.raises(KitError) as err:
        ps.load_persona_cards(path)
    assert err.value.key == key
    assert err.value.message("it") and err.value.message("en")


def test_missing_field_message_names_card_and_field(tmp_path):
    path = tmp_path / "cards.yaml"
    bad = {k: v for k, v in card().items() if k != "buying_triggers"}
    path.write_text(yaml.safe_dump([bad]), encoding="utf-8")
    with pytest.raises(KitError) as err:
        ps.load_persona_cards(path)
    assert "Ivo" in err.value.message("en") and "buying_triggers" in err.value.message("en")


def test_render_card_markdown_and_html():
    c = ps.card_from_dict(card(name="<script>alert(1)</script>", goals=["R&D budget"]))
    md_en = ps.render_card_markdown(c, "en")
    md_it = ps.render_card_markdown(c, "it")
    assert "**Goals**" in md_en and "**Obiettivi**" in md_it and "- R&D budget" in md_en
    html = ps.render_card_html(c, "it")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "R&amp;D budget" in html and "Criteri di scelta" in html


# --- candidates ---


def planted_leads(n: int, seed: int = 0) -> pd.DataFrame:
    """Three groups that differ in (log) size, visits, industry and source; 'persona' is truth."""
    rng = np.random.default_rng(seed)
    true = rng.integers(0, 3, n)
    size = rng.lognormal(np.array([3.0, 5.0, 7.0])[true], 0.4)
    industry = np.array(["retail", "manufacturing", "software"])[
        np.where(rng.random(n) < 0.8, true, rng.integers(0, 3, n))
    ]
    source = np.array(["event", "organic_search", "outbound_email"])[
        np.where(rng.random(n) < 0.7, true, rng.integers(0, 3, n))
    ]
    visits = rng.poisson(np.array([2, 8, 4])[true]).astype(float)
    return pd.DataFrame(
        {
            "lead_id": [f"L{i}" for i in range(n)],
            "company_size": size,
            "industry": pd.array(industry, dtype="str"),
            "source": pd.array(source, dtype="str"),
            "visits": visits,
            "persona": np.array(["a", "b", "c"])[true],
        }
    )


FEATURES = ["company_size", "industry", "source", "visits"]


def test_candidates_recover_planted_groups():
    leads = planted_leads(1500)
    res = ps.persona_candidates(leads, FEATURES, k_range=range(2, 6), bootstrap=8)
    assert res.k == 3
    assert adjusted_rand_score(leads["persona"], res.labels) >= 0.8
    assert res.labels.index.equals(leads.index)
    assert int(res.sizes.sum()) == len(leads)
    chosen = res.selection[res.selection["chosen"]].iloc[0]
    assert chosen["stability"] >= 0.85
    desc_en, desc_it = res.describe("en"), res.describe("it")
    assert len(desc_en) == 3 and all(len(v) >= 2 for v in desc_en.values())
    text = " ".join(s for v in desc_en.values() for s in v)
    assert "industry = Retail" in text and "of leads" in text  # the kit's values, named
    assert "dei lead" in " ".join(desc_it[0])
    # numbers in the reader's format: company sizes run to thousands in the planted groups
    numbers_en = re.findall(r"\((\S+) vs (\S+)\)", text)
    text_it = " ".join(s for v in desc_it.values() for s in v)
    numbers_it = re.findall(r"\((\S+) contro (\S+)\)", text_it)
    assert numbers_en and len(numbers_en) == len(numbers_it)
    swap = str.maketrans({",": ".", ".": ","})
    assert [(a.translate(swap), b.translate(swap)) for a, b in numbers_en] == numbers_it
    assert any("," in a + b for a, b in numbers_en)  # a thousands separator was exercised
    json.dumps(res.to_dict())


def test_candidates_cluster_a_sample_and_assign_everyone():
    leads = planted_leads(4000, seed=1)
    res = ps.persona_candidates(leads, FEATURES, k_range=range(3, 4), bootstrap=3, sample_size=800)
    assert 700 <= res.n_sampled <= 900
    assert len(res.labels) == 4000
    assert adjusted_rand_score(leads["persona"], res.labels) >= 0.8


def test_candidates_profile_hand_case():
    leads = pd.DataFrame(
        {
            "x": [1.0, 1.0, 1.0, 10.0, 10.0, 10.0],
            "c": pd.array(["p", "p", "p", "q", "q", "q"], dtype="str"),
        }
    )
    res = ps.persona_candidates(leads, ["x", "c"], k_range=range(2, 3), bootstrap=2)
    assert res.k == 2 and res.labels.nunique() == 2
    prof = res.profile
    low = res.labels.iloc[0]
    x = prof[(prof["cluster"] == low) & (prof["feature"] == "x")].iloc[0]
    sd = np.std([1, 1, 1, 10, 10, 10], ddof=1)
    assert x["cluster_value"] == 1.0 and x["score"] == pytest.approx((1 - 5.5) / sd)
    p = prof[(prof["cluster"] == low) & (prof["level"] == "p")].iloc[0]
    assert p["cluster_value"] == 1.0 and p["overall_value"] == 0.5
    assert p["score"] == pytest.approx(1.0)  # (1 - 0.5) / sqrt(0.25)


def test_candidates_errors():
    leads = planted_leads(50)
    with pytest.raises(MissingTableError):
        ps.persona_candidates(leads, ["nope"])
    with pytest.raises(KitError):
        ps.persona_candidates(leads, [])
    with pytest.raises(KitError):
        ps.persona_candidates(leads.head(2), FEATURES)


# --- scorecard ---


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def persona_crm() -> CrmData:
    """Persona A: 4 leads (3 MQL, 2 SQL), deals won 100 (10 days), won 300 (30 days), lost.
    Persona B: 2 leads (2 MQL, 0 SQL, both rejected: wrong_persona, competitor), one lost deal."""
    leads = pd.DataFrame(
        {
            "lead_id": ["A1", "A2", "A3", "A4", "B1", "B2"],
            "created_at": [ts("2026-01-01")] * 6,
            "persona": pd.array(["A", "A", "A", "A", "B", "B"], dtype="str"),
            "company_size": [10.0, 20.0, 30.0, 40.0, 500.0, 700.0],
        }
    )
    h = [
        ("A1", "mql", "01-02"),
        ("A1", "sql", "01-03"),
        ("A2", "mql", "01-02"),
        ("A2", "sql", "01-05"),
        ("A3", "mql", "01-02"),
        ("B1", "mql", "01-02"),
        ("B1", "rejected", "01-03"),
        ("B2", "mql", "01-02"),
        ("B2", "rejected", "01-04"),
    ]
    history = pd.DataFrame(
        [(lid, s, ts(f"2026-{d}")) for lid, s, d in h], columns=["lead_id", "stage", "entered_at"]
    )
    history["reason"] = pd.array(
        [None, None, None, None, None, None, "wrong_persona", None, "competitor"], dtype="str"
    )
    opps = pd.DataFrame(
        {
            "opportunity_id": ["o1", "o2", "o3", "o4", "o5"],
            "lead_id": ["A1", "A2", "A3", "B1", "A4"],
            "amount": [100.0, 300.0, 50.0, 80.0, 999.0],
            "created_at": [ts("2026-01-05")] * 5,
            "closed_at": [
                ts("2026-01-11"),
                ts("2026-01-31"),
                ts("2026-02-01"),
                ts("2026-02-01"),
                pd.NaT,
            ],
            "outcome": ["won", "won", "lost", "lost", "open"],
        }
    )
    return CrmData(leads=leads, stage_history=history, opportunities=opps)


def test_scorecard_hand_computed():
    card = ps.persona_scorecard(persona_crm()).set_index("persona")
    a, b = card.loc["A"], card.loc["B"]
    assert (a["leads"], a["mql"], a["sql"]) == (4, 3, 2)
    assert a["mql_to_sql"] == pytest.approx(2 / 3)
    low, high = proportion_confint(2, 3, 0.05, method="wilson")
    assert (a["mql_to_sql_low"], a["mql_to_sql_high"]) == pytest.approx((low, high))
    assert (a["closed"], a["won"], a["win_rate"]) == (3, 2, pytest.approx(2 / 3))
    assert a["cycle_days_median"] == pytest.approx(20.0)  # median(10, 30)
    assert (a["deal_median"], a["deal_mean"]) == (200.0, 200.0)
    assert (b["mql"], b["sql"], b["mql_to_sql"], b["win_rate"]) == (2, 0, 0.0, 0.0)
    # MQL -> won: A1 and A2 won their deals (no won stage entry: the opportunity counts)
    assert (a["mql_won"], a["mql_to_won"], b["mql_won"]) == (2, pytest.approx(2 / 3), 0)
    assert b["mql_to_sql_high"] > 0  # Wilson: never a zero-width interval at 0
    assert card.attrs["not_computed"] == []


def test_scorecard_says_what_cannot_be_computed():
    crm = persona_crm()
    card = ps.persona_scorecard(CrmData(leads=crm.leads))
    expected = {"mql_to_sql", "mql_to_won", "win_rate", "cycle_days", "deal_size"}
    assert set(card.attrs["not_computed"]) == expected
    assert card.set_index("persona")["leads"].to_dict() == {"A": 4, "B": 2}
    assert tuple(card.columns) == ps.SCORECARD_COLUMNS
    assert card["mql_to_sql"].isna().all() and card["win_rate"].isna().all()
    with pytest.raises(MissingTableError):
        ps.persona_scorecard(crm, persona_col="segment")


def test_won_vs_lost_hand_computed():
    res = ps.won_vs_lost(persona_crm(), ["company_size", "persona"])
    size = res[res["feature"] == "company_size"].iloc[0]
    assert size["won"] == 15.0 and size["lost"] == pytest.approx((30 + 500) / 2)
    assert size["ci_low"] < size["difference"] < size["ci_high"]
    a = res[(res["feature"] == "persona") & (res["level"] == "A")].iloc[0]
    assert (a["won"], a["lost"], a["difference"]) == (1.0, 0.5, 0.5)


def test_rejection_mix_hand_computed():
    mix = ps.rejection_mix(persona_crm())
    assert set(mix["persona"]) == {"B"}
    b = mix.set_index("reason")
    assert b.loc["wrong_persona", "share"] == 0.5 and b.loc["competitor", "n"] == 1
    assert mix.groupby("persona")["share"].sum().eq(1.0).all()


@settings(max_examples=20, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["A", "B", "C"]),
            st.booleans(),
            st.booleans(),
            st.sampled_from(["won", "lost", "open", None]),
        ),
        min_size=1,
        max_size=30,
    ),
    st.randoms(use_true_random=False),
)
def test_property_scorecard_rates_and_row_order(rows, rnd):
    ids = [f"L{i}" for i in range(len(rows))]
    leads = pd.DataFrame(
        {
            "lead_id": ids,
            "created_at": [ts("2026-01-01")] * len(rows),
            "persona": pd.array([r[0] for r in rows], dtype="str"),
        }
    )
    hist = []
    for lid, (_, mql, sql, _) in zip(ids, rows, strict=True):
        if mql:
            hist.append((lid, "mql", ts("2026-01-02")))
        if sql:
            hist.append((lid, "sql", ts("2026-01-03")))
    history = pd.DataFrame(hist, columns=["lead_id", "stage", "entered_at"])
    deals = [(f"o{i}", lid, r[3]) for i, (lid, r) in enumerate(zip(ids, rows, strict=True)) if r[3]]
    opps = pd.DataFrame(
        {
            "opportunity_id": [d[0] for d in deals],
            "lead_id": [d[1] for d in deals],
            "amount": [100.0] * len(deals),
            "created_at": [ts("2026-01-04")] * len(deals),
            "closed_at": [ts("2026-02-01")] * len(deals),
            "outcome": [d[2] for d in deals],
        }
    )
    crm = CrmData(leads=leads, stage_history=history if hist else None, opportunities=opps)
    card = ps.persona_scorecard(crm)
    for col in ("mql_to_sql", "win_rate", "mql_to_sql_low", "win_rate_high"):
        if col in card.columns:
            vals = card[col].dropna()
            assert vals.between(0, 1).all()
    order = rnd.sample(range(len(rows)), len(rows))
    shuffled = CrmData(
        leads=leads.iloc[order],
        stage_history=crm.stage_history,
        opportunities=opps.iloc[::-1] if len(opps) else opps,
    )
    other = ps.persona_scorecard(shuffled)
    pd.testing.assert_frame_equal(
        card.set_index("persona").sort_index(), other.set_index("persona").sort_index()
    )


def test_describe_says_when_nothing_stands_out():
    leads = pd.DataFrame({"x": [1.0, 1.1, 0.9, 1.0, 1.05, 0.95] * 5})
    res = ps.persona_candidates(leads, ["x"], k_range=range(2, 3), bootstrap=2)
    text = res.describe("en", min_score=50.0)
    assert all(v[1:] == [t("personas.desc_average", "en")] for v in text.values())


def test_italian_excel_csv_with_semicolon_columns(tmp_path):
    path = tmp_path / "schede.csv"
    header = ";".join(["name", "role", *ps.CARD_LISTS])
    cells = ["Paola", "Responsabile acquisti", "Ridurre i costi|Fornitori affidabili"]
    row = ";".join([*cells, "Budget", "Prezzo", "Fiere", "ROI", "Gara"])
    path.write_text(header + "\n" + row + "\n", encoding="utf-8-sig")
    (c,) = ps.load_persona_cards(path)
    assert c.role == "Responsabile acquisti"
    assert c.goals == ("Ridurre i costi", "Fornitori affidabili")
