"""Persona charts: scorecard with intervals, cluster profile heatmap, rejection mix."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
from test_personas import FEATURES, persona_crm, planted_leads

from helpers import personas as ps
from helpers.messages import t
from helpers.plotting.personas import plot_cluster_profile, plot_rejection_mix, plot_scorecard
from helpers.stages import reason_label


@pytest.mark.parametrize("lang", ["en", "it"])
def test_scorecard_plot(lang):
    card = ps.persona_scorecard(persona_crm())
    fig = plot_scorecard(card, lang)
    fig.canvas.draw()
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    rates = ("plot_mql_to_sql", "plot_mql_to_won", "plot_win_rate")
    assert titles == [t(f"personas.{key}", lang) for key in rates]
    ticks = [tk.get_text() for tk in fig.axes[0].get_yticklabels()]
    assert ticks == list(card["persona"])
    plt.close(fig)


def test_cluster_profile_heatmap():
    res = ps.persona_candidates(planted_leads(600), FEATURES, k_range=range(3, 4), bootstrap=2)
    fig = plot_cluster_profile(res, "it", top=5)
    fig.canvas.draw()
    ax = fig.axes[0]
    cols = [tk.get_text() for tk in ax.get_xticklabels()]
    assert cols == [t("personas.plot_profile_cluster", "it", cluster=c) for c in (1, 2, 3)]
    assert len(ax.get_yticklabels()) == 5
    cells = [text.get_text() for text in ax.texts]
    assert cells and all("." not in c for c in cells) and any("," in c for c in cells)  # 1,2
    bar = [tk.get_text() for tk in fig.axes[1].get_yticklabels() if tk.get_text()]
    assert bar and all("." not in b and "\u2212" not in b for b in bar)  # -0,5, not −0.5
    rows = [tk.get_text() for tk in ax.get_yticklabels()]
    assert not any("_" in r for r in rows)  # attributes named in words
    plt.close(fig)


def test_rejection_mix_plot():
    mix = ps.rejection_mix(persona_crm())
    fig = plot_rejection_mix(mix, "en")
    fig.canvas.draw()
    ax = fig.axes[0]
    assert sum(p.get_width() for p in ax.patches) == pytest.approx(1.0)
    assert ax.get_title(loc="left") == t("personas.plot_rejection_title", "en")
    plt.close(fig)


@pytest.mark.parametrize("lang", ["en", "it"])
def test_rejection_mix_legend_shows_reason_labels(lang):
    mix = ps.rejection_mix(persona_crm())
    fig = plot_rejection_mix(mix, lang)
    legend = {text.get_text() for text in fig.axes[0].get_legend().get_texts()}
    assert legend == {reason_label(r, lang) for r in mix["reason"].unique()}
    assert {"wrong_persona", "competitor"}.isdisjoint(legend)
    expected = {"en": "Wrong persona", "it": "Persona non in target"}[lang]
    assert expected in legend
    plt.close(fig)
