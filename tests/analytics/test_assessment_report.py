"""What the alignment report says about gaps, totals and waves: ties picked deterministically and
named together, intervals that include zero said in words, totals with interval and n, and the
kit's wave names translated in charts and text alike."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from test_assessment import INSTRUMENT, LEXICON, planted_survey, words_frame

from helpers import assessment as asm
from helpers.messages import t
from helpers.plotting.assessment import plot_dimension_scores, plot_word_tone
from helpers.results import fmt_number, fmt_signed

COLUMNS = ["respondent_id", "team", "wave", "item_id", "score"]


def mirrored_survey(high: list[int], low: list[int]) -> pd.DataFrame:
    """Sales answer ``high`` on the handoff and ``low`` on definitions, marketing the reverse
    (one value per person, on every item of the dimension; 3 elsewhere): the two gaps are
    exactly opposite, so they tie in size."""
    rows = []
    for team, (handoff, definitions) in (("sales", (high, low)), ("marketing", (low, high))):
        for r, (h, d) in enumerate(zip(handoff, definitions, strict=True)):
            for item in INSTRUMENT.items:
                score = {"handoff": h, "definitions": d}.get(item.dimension, 3)
                rows.append((f"{team}-{r}", team, "after", item.id, score))
    return pd.DataFrame(rows, columns=COLUMNS)


NOISY = ([1, 5, 2, 5, 3, 4], [2, 4, 3, 3, 5, 1])  # means 3.33 and 3: intervals include zero
CLEAR = ([5, 5, 5, 4, 5, 5], [1, 2, 1, 1, 1, 1])


@pytest.mark.parametrize("lang", ["en", "it"])
def test_tied_gaps_are_named_together_and_an_interval_with_zero_is_said(lang):
    survey = mirrored_survey(*NOISY)
    res = asm.score_survey(survey, INSTRUMENT, n_boot=500)
    top = res.largest_gaps()
    # opposite signs, same size: both returned, in the questionnaire's order
    assert list(top["dimension"]) == ["definitions", "handoff"]
    assert top["difference"].iloc[0] == pytest.approx(-top["difference"].iloc[1])
    assert top["includes_zero"].all()
    text = res.gap_sentence(lang)
    for dim in ("definitions", "handoff"):
        assert INSTRUMENT.dimension_label(dim, lang) in text
    assert t("assessment.gap_tie_includes_zero", lang) in text
    assert fmt_number(abs(top["difference"].iloc[0]), lang, 2) in text
    assert "n = 6" in text
    # the rows' order cannot change the pick
    shuffled = survey.sample(frac=1.0, random_state=3).reset_index(drop=True)
    assert asm.score_survey(shuffled, INSTRUMENT, n_boot=500).gap_sentence(lang) == text


def test_a_clear_tie_does_not_claim_the_data_cannot_tell():
    res = asm.score_survey(mirrored_survey(*CLEAR), INSTRUMENT, n_boot=500)
    top = res.largest_gaps()
    assert len(top) == 2 and not top["includes_zero"].any()
    text = res.gap_sentence("en")
    assert "tie" in text and "cannot tell" not in text
    finding = res.largest_gap_finding(INSTRUMENT, "en")
    assert finding["clear"] and finding["tied"]
    assert finding["dimensions"] == "'Shared definitions and data' and 'The handoff'"
    # the smallest gap the data supports: the interval bound nearest zero, on the 1-5 range
    nearest = np.minimum(top["ci_low"].abs(), top["ci_high"].abs()).min()
    assert finding["score"] == pytest.approx(nearest / 4) and finding["score"] > 0.5


@pytest.mark.parametrize("lang", ["en", "it"])
def test_one_largest_gap_whose_interval_includes_zero_says_so(lang):
    res = asm.score_survey(planted_survey(4, n=6, gap=0.3), INSTRUMENT, n_boot=500)
    top = res.largest_gaps()
    assert len(top) == 1
    row = top.iloc[0]
    text = res.gap_sentence(lang)
    assert (
        fmt_signed(row["ci_low"], lang, 2) in text and fmt_signed(row["ci_high"], lang, 2) in text
    )
    said = t("assessment.gap_includes_zero", lang) in text
    assert said == bool(row["ci_low"] <= 0 <= row["ci_high"])
    finding = res.largest_gap_finding(INSTRUMENT, lang)
    assert finding["clear"] is (not said)
    if said:
        assert finding["score"] == 0.0


def test_a_planted_gap_is_clear_and_scored():
    res = asm.score_survey(planted_survey(1, n=30, gap=1.0), INSTRUMENT, n_boot=500)
    text = res.gap_sentence("en")
    assert "The handoff" in text and "cannot tell" not in text and "n = 30" in text
    finding = res.largest_gap_finding(INSTRUMENT, "en")
    assert finding["clear"] and not finding["tied"] and finding["score"] > 0.1


@pytest.mark.parametrize("lang", ["en", "it"])
def test_team_totals_carry_their_interval_and_number_of_people(lang):
    survey = planted_survey(2, n=7)
    extra = survey[survey["respondent_id"] == "marketing-after-0"].assign(
        respondent_id="marketing-after-extra"
    )
    res = asm.score_survey(pd.concat([survey, extra]), INSTRUMENT, n_boot=200)
    totals = res.team_totals()
    assert list(totals.index) == ["sales", "marketing"]
    assert totals.loc["sales", "n"] == 7 and totals.loc["marketing", "n"] == 8
    people = res.respondents.query("wave == 'after' and team == 'marketing'")
    assert totals.loc["marketing", "mean"] == pytest.approx(people["total"].mean())
    low, high = totals.loc["marketing", ["ci_low", "ci_high"]]
    assert low < totals.loc["marketing", "mean"] < high
    text = res.totals_sentence(INSTRUMENT, lang)
    for team in ("sales", "marketing"):
        row = totals.loc[team]
        for value in (row["mean"], row["ci_low"], row["ci_high"]):
            assert fmt_number(value, lang, 1) in text
        assert f"n = {int(row['n'])}" in text
    assert asm.wave_label("after", lang) in text
    key = asm.estimate_text(*totals.loc["sales"], lang)
    assert key.startswith(fmt_number(totals.loc["sales", "mean"], lang, 1)) and "n = 7" in key


def test_totals_that_cannot_be_told_apart_are_said_so():
    res = asm.score_survey(planted_survey(5, n=8, gap=0.0), INSTRUMENT, n_boot=300)
    total = res.gap.query("wave == 'after' and dimension == 'total'").iloc[0]
    text = res.totals_sentence(INSTRUMENT, "en")
    includes = total["ci_low"] <= 0 <= total["ci_high"]
    assert ("cannot tell the two teams' totals apart" in text) == includes
    assert fmt_signed(total["ci_low"], "en", 1) in text


@pytest.mark.parametrize(
    ("wave", "lang", "label"),
    [
        ("before", "it", "prima del programma"),
        ("after", "it", "dopo il programma"),
        ("After", "en", "after the programme"),
        ("follow-up", "it", "verifica successiva"),
        ("2025-Q3", "it", "2025-Q3"),  # the client's own name stays as it is
        ("total", "it", "total"),  # not a wave the kit knows: no catalogue look-up
    ],
)
def test_wave_label(wave, lang, label):
    assert asm.wave_label(wave, lang) == label


def test_italian_charts_show_translated_wave_names():
    scores = asm.score_survey(planted_survey(2, n=6), INSTRUMENT, n_boot=100)
    fig = plot_dimension_scores(scores, INSTRUMENT, "it")
    title = fig.axes[0].get_title(loc="left")
    plt.close(fig)
    assert title.endswith("(dopo il programma)") and "(after)" not in title
    words = asm.score_words(words_frame(), LEXICON)
    fig = plot_word_tone(words, "it")
    fig.canvas.draw()
    axes = [*fig.axes, *(child for ax in fig.axes for child in ax.child_axes)]
    texts = [tx.get_text() for ax in axes for tx in ax.texts]
    texts += [tk.get_text() for ax in axes for tk in ax.get_xticklabels()]
    plt.close(fig)
    flat = [" ".join(tx.split()) for tx in texts]
    assert "prima del programma" in flat and "dopo il programma" in flat
    assert not {"before", "after"} & set(flat)
    assert t("assessment.team_sales", "it") in flat
