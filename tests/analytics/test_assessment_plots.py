"""Assessment charts: scores by dimension and team, the gap, word tone before and after."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
from test_assessment import INSTRUMENT, LEXICON, planted_survey, words_frame

from helpers import assessment as asm
from helpers.messages import t
from helpers.plotting.assessment import plot_dimension_scores, plot_gap, plot_word_tone


@pytest.mark.parametrize("lang", ["en", "it"])
def test_dimension_and_gap_plots(lang):
    scores = asm.score_survey(planted_survey(2, n=10), INSTRUMENT, n_boot=200)
    fig = plot_dimension_scores(scores, INSTRUMENT, lang)
    fig.canvas.draw()
    ax = fig.axes[0]
    ticks = [tk.get_text() for tk in ax.get_yticklabels()]
    assert ticks == [INSTRUMENT.dimension_label(d, lang) for d in INSTRUMENT.dimensions]
    legend = [tx.get_text() for tx in ax.get_legend().get_texts()]
    assert legend == [t("assessment.team_sales", lang), t("assessment.team_marketing", lang)]
    plt.close(fig)
    fig = plot_gap(scores, INSTRUMENT, lang)
    fig.canvas.draw()
    ax = fig.axes[0]
    widths = sorted(p.get_width() for p in ax.patches)
    gaps = scores.gap.query("wave == 'after' and dimension != 'total'")["difference"]
    assert widths == pytest.approx(sorted(gaps))
    assert ax.get_title(loc="left") == t("assessment.plot_gap_title", lang)
    plt.close(fig)


def test_word_tone_plot_heights_are_the_shares():
    words = asm.score_words(words_frame(), LEXICON)
    fig = plot_word_tone(words, "it")
    fig.canvas.draw()
    ax = fig.axes[0]
    heights = sorted(p.get_height() for p in ax.patches if p.get_height() == p.get_height())
    assert heights == pytest.approx(sorted(words.tone["share_negative"]))
    assert ax.get_ylabel() == t("assessment.plot_words_y", "it")
    plt.close(fig)
