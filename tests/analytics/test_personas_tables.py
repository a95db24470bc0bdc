"""The persona scorecard as the report shows it: a translated, formatted table with volume, cycle
and deal size, small-sample medians flagged, best and worst with intervals, and chart panels
scaled to their own data."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint
from test_personas import persona_crm

from helpers import personas as ps
from helpers.messages import t
from helpers.plotting.personas import plot_scorecard
from helpers.results import fmt_number, fmt_pct


def rated_card(rows: list[tuple[str, int, int, float, int]]) -> pd.DataFrame:
    """A scorecard from ``(persona, mql, sql, cycle_days_median, won)`` rows, with Wilson
    intervals, the way :func:`persona_scorecard` lays it out."""
    frame = pd.DataFrame(rows, columns=["persona", "mql", "sql", "cycle_days_median", "won"])
    frame["leads"] = frame["mql"] * 2
    frame["mql_to_sql"] = frame["sql"] / frame["mql"]
    low, high = proportion_confint(frame["sql"], frame["mql"], 0.05, method="wilson")
    frame["mql_to_sql_low"], frame["mql_to_sql_high"] = low, high
    return frame.reindex(columns=ps.SCORECARD_COLUMNS)


@pytest.mark.parametrize("lang", ["en", "it"])
def test_scorecard_table_shows_volume_rates_cycle_and_deal_size(lang):
    card = ps.persona_scorecard(persona_crm())
    table = ps.scorecard_table(card, lang)
    keys = ["persona", "leads", "mql", "mql_to_sql", "mql_to_won", "won", "win_rate"]
    keys += ["cycle_days_median", "deal_median"]
    assert list(table.columns) == [t(f"personas.col_{k}", lang) for k in keys]
    row = table.set_index(t("personas.col_persona", lang)).loc["A"]
    assert row[t("personas.col_leads", lang)] == "4"
    low, high = proportion_confint(2, 3, 0.05, method="wilson")
    rate = t(
        "personas.rate_cell",
        lang,
        rate=fmt_pct(2 / 3, lang, 1),
        low=fmt_pct(low, lang, 1),
        high=fmt_pct(high, lang, 1),
    )
    assert row[t("personas.col_mql_to_sql", lang)] == rate
    # two won deals (10 and 30 days; 100 and 300): medians flagged as resting on too few
    assert row[t("personas.col_cycle_days_median", lang)] == t(
        "personas.median_few", lang, value="20", n="2"
    )
    assert row[t("personas.col_deal_median", lang)] == t(
        "personas.median_few", lang, value=fmt_number(200, lang), n="2"
    )
    b = table.set_index(t("personas.col_persona", lang)).loc["B"]
    assert b[t("personas.col_cycle_days_median", lang)] == ps.MISSING_CELL  # no won deal
    assert table.attrs["note"] == t("personas.median_few_note", lang, min=ps.MIN_MEDIAN_DEALS)


def test_enough_deals_are_not_flagged_and_columns_without_data_are_left_out():
    card = rated_card([("Olivia", 900, 340, 77.4, 64), ("Fabio", 800, 120, 1234.0, 12)])
    table = ps.scorecard_table(card, "it")
    assert t("personas.col_deal_median", "it") not in table.columns  # no deal sizes at all
    assert t("personas.col_win_rate", "it") not in table.columns
    assert list(table[t("personas.col_cycle_days_median", "it")]) == ["77", "1.234"]
    assert table.attrs["note"] == ""
    one = ps.scorecard_table(rated_card([("Olivia", 9, 3, 5.0, 1), ("Fabio", 9, 1, 7.0, 10)]))
    assert list(one[t("personas.col_cycle_days_median", "en")]) == ["5 (only 1 deal)", "7"]


def test_a_median_is_flagged_by_the_deals_it_rests_on_not_by_all_won_deals():
    # twelve won deals each; Olivia's amounts were recorded on three of them, Fabio's dates on two
    card = rated_card([("Olivia", 90, 30, 40.0, 12), ("Fabio", 80, 20, 55.0, 12)])
    card["deal_median"] = [5_000.0, 7_000.0]
    card["deal_n"] = [3, 12]
    card["cycle_days_n"] = [12, 2]
    table = ps.scorecard_table(card, "en").set_index(t("personas.col_persona", "en"))
    deal = table[t("personas.col_deal_median", "en")]
    cycle = table[t("personas.col_cycle_days_median", "en")]
    assert deal.to_dict() == {"Olivia": "5,000 (only 3 deals)", "Fabio": "7,000"}
    assert cycle.to_dict() == {"Olivia": "40", "Fabio": "55 (only 2 deals)"}
    mix = ps.win_mix_table(ps.win_mix(card), "en").set_index(t("personas.col_persona", "en"))
    assert mix[t("personas.col_cycle_days_median", "en")]["Fabio"] == "55 (only 2 deals)"


def test_scorecard_counts_the_deals_behind_each_median():
    crm = persona_crm()
    opps = crm.opportunities.copy()
    won = opps.index[opps["outcome"] == "won"]
    opps.loc[won[:1], "amount"] = None  # one won deal without an amount
    card = ps.persona_scorecard(
        type(crm)(**{**crm.tables(), "opportunities": opps}, stage_model=crm.stage_model)
    )
    by = card.set_index("persona")
    assert (by["deal_n"] <= by["won"]).all() and by["deal_n"].sum() == by["won"].sum() - 1
    assert (by["cycle_days_n"].fillna(0) == by["won"].fillna(0)).all()


def test_win_mix_table_flags_medians_of_few_deals():
    card = rated_card([("cat", 40, 0, 13.0, 40), ("shark, wolf", 1, 0, 342.0, 1)])
    mix = ps.win_mix(card)
    table = ps.win_mix_table(mix, "en")
    cycles = table.set_index(t("personas.col_persona", "en"))[
        t("personas.col_cycle_days_median", "en")
    ]
    assert cycles.to_dict() == {"cat": "13", "shark, wolf": "342 (only 1 deal)"}
    assert table.attrs["note"]
    share = table.set_index(t("personas.col_persona", "en"))[t("personas.col_share", "en")]
    assert share["cat"].startswith(fmt_pct(40 / 41, "en", 1))


@pytest.mark.parametrize("lang", ["en", "it"])
def test_best_and_worst_carry_intervals_and_a_clear_difference(lang):
    card = rated_card([("Olivia", 983, 374, 70.0, 60), ("Marco", 989, 242, 55.0, 30)])
    card = pd.concat([card, rated_card([("Fabio", 834, 125, 51.0, 20)])], ignore_index=True)
    values = ps.spread_values(card, "mql_to_sql", lang)
    assert (values["best"], values["worst"]) == ("Olivia", "Fabio")
    low, high = proportion_confint(125, 834, 0.05, method="wilson")
    assert (values["worst_low"], values["worst_high"]) == (fmt_pct(low, lang), fmt_pct(high, lang))
    d_low, _ = confint_proportions_2indep(374, 983, 125, 834, method="newcomb")
    assert values["low"] == fmt_number(100 * d_low, lang, 1) and values["clear"]
    assert values["score"] == pytest.approx(374 / 983 - 125 / 834)
    text = ps.spread_sentence(card, "mql_to_sql", lang)
    assert values["best_low"] in text and values["worst_high"] in text
    assert t("personas.spread_clear", lang, **values) in text
    assert t_n(983, lang) in text


def t_n(n: int, lang: str) -> str:
    return t("personas.n_mql", lang, n=fmt_number(n, lang))


def test_personas_the_data_cannot_tell_apart_are_said_so():
    card = ps.persona_scorecard(persona_crm())  # A: 2 of 3 MQLs to SQL, B: 0 of 2
    values = ps.spread_values(card, "mql_to_sql", "en")
    d_low, d_high = confint_proportions_2indep(2, 3, 0, 2, method="newcomb")
    assert d_low <= 0 <= d_high
    assert not values["clear"] and values["score"] == 0.0
    text = ps.spread_sentence(card, "mql_to_sql", "en")
    assert "cannot tell these two personas apart" in text
    assert ps.spread_values(card.iloc[:1], "mql_to_sql", "en") is None  # one persona: no spread


def test_scorecard_panels_are_scaled_to_their_own_data():
    card = rated_card([("Olivia", 983, 374, 70.0, 60), ("Fabio", 834, 125, 51.0, 20)])
    card["mql_won"] = [64, 22]
    card["mql_to_won"] = card["mql_won"] / card["mql"]
    low, high = proportion_confint(card["mql_won"], card["mql"], 0.05, method="wilson")
    card["mql_to_won_low"], card["mql_to_won_high"] = low, high
    fig = plot_scorecard(card, "it")
    fig.canvas.draw()
    for ax, rate in zip(fig.axes, ("mql_to_sql", "mql_to_won"), strict=True):
        left, right = ax.get_xlim()
        assert left == 0
        assert right == pytest.approx(1.1 * card[f"{rate}_high"].max())
        shown = [tk.get_text() for tk in ax.get_xticklabels() if tk.get_text()]
        assert len(shown) == len(set(shown)) >= 3  # distinct labels: 0%, 2%, 4%... not 0%, 0%
    won_ticks = [tk.get_text() for tk in fig.axes[1].get_xticklabels()]
    plt.close(fig)
    assert fig.axes[1].get_xlim()[1] < 0.1 and "100%" not in won_ticks


def test_a_narrow_panel_gets_decimal_ticks():
    card = rated_card([("a", 1000, 5, 1.0, 1), ("b", 1000, 9, 1.0, 1)])
    fig = plot_scorecard(card, "it")
    fig.canvas.draw()
    lo, hi = fig.axes[0].get_xlim()
    ticks = [
        tk.get_text()
        for loc, tk in zip(fig.axes[0].get_xticks(), fig.axes[0].get_xticklabels(), strict=True)
        if lo <= loc <= hi
    ]
    plt.close(fig)
    assert hi < 0.02 and len(ticks) == len(set(ticks))
    assert any("," in tx for tx in ticks)  # 0,5% / 1,0%: Italian decimals
