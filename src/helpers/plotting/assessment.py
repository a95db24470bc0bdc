"""Charts of the alignment assessment (:mod:`helpers.assessment`); no computing here."""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np

from helpers.assessment import Instrument, SurveyScores, WordScores, wave_label
from helpers.messages import t
from helpers.plotting import NEUTRAL, TEAM_COLOURS, new_figure, number_axis, percent_axis


def plot_dimension_scores(
    scores: SurveyScores, instrument: Instrument, lang: str = "en", wave: str | None = None
) -> plt.Figure:
    """Mean score per dimension for each team with 95% intervals (the gap is visible)."""
    wave = wave or (scores.waves[-1] if scores.waves else None)
    data = scores.by_team[
        (scores.by_team["wave"] == wave) & (scores.by_team["dimension"] != "total")
    ]
    dims = list(instrument.dimensions)
    fig, ax = new_figure(8, 0.7 * len(dims) + 1.5)
    y = np.arange(len(dims))[::-1]
    for i, team in enumerate(("sales", "marketing")):
        rows = data[data["team"] == team].set_index("dimension").reindex(dims)
        m = rows["mean"].to_numpy(float)
        err = [m - rows["ci_low"].to_numpy(float), rows["ci_high"].to_numpy(float) - m]
        ax.errorbar(
            m,
            y + (0.15 if i == 0 else -0.15),
            xerr=err,
            fmt="o",
            capsize=3,
            color=TEAM_COLOURS[team],
            label=t(f"assessment.team_{team}", lang),
        )
    ax.set_yticks(y, [instrument.dimension_label(d, lang) for d in dims])
    ax.set_xlim(instrument.scale_min - 0.1, instrument.scale_max + 0.1)
    number_axis(ax.xaxis, lang)
    ax.set_xlabel(t("assessment.plot_dimension_x", lang))
    ax.set_title(t("assessment.plot_dimension_title", lang) + f" ({wave_label(wave, lang)})")
    ax.legend(loc="best", frameon=True)
    return fig


def plot_gap(
    scores: SurveyScores, instrument: Instrument, lang: str = "en", wave: str | None = None
) -> plt.Figure:
    """Sales minus marketing per dimension with bootstrap 95% intervals."""
    wave = wave or (scores.waves[-1] if scores.waves else None)
    gap = scores.gap[(scores.gap["wave"] == wave) & (scores.gap["dimension"] != "total")]
    gap = gap.set_index("dimension").reindex(list(instrument.dimensions))
    fig, ax = new_figure(8, 0.6 * len(gap) + 1.5)
    y = np.arange(len(gap))[::-1]
    d = gap["difference"].to_numpy(float)
    colours = [TEAM_COLOURS["sales"] if v > 0 else TEAM_COLOURS["marketing"] for v in d]
    ax.barh(y, d, color=colours, alpha=0.8)
    ax.errorbar(
        d,
        y,
        xerr=[d - gap["ci_low"].to_numpy(float), gap["ci_high"].to_numpy(float) - d],
        fmt="none",
        ecolor="black",
        capsize=3,
    )
    ax.axvline(0, color=NEUTRAL, lw=1)
    number_axis(ax.xaxis, lang)
    ax.set_yticks(y, [instrument.dimension_label(k, lang) for k in gap.index])
    ax.set_xlabel(t("assessment.plot_gap_x", lang))
    ax.set_title(t("assessment.plot_gap_title", lang))
    return fig


def plot_word_tone(words: WordScores, lang: str = "en") -> plt.Figure:
    """Share of negative words per team and wave (before / after) with Wilson intervals.

    Each bar is labelled with its wave (:func:`helpers.assessment.wave_label`, so the kit's wave
    names read in ``lang``); the teams are named under their group of bars."""
    tone = words.tone.copy()
    waves = list(words.waves)
    fig, ax = new_figure()
    width = 0.8 / max(len(waves), 1)
    teams = [tm for tm in ("sales", "marketing") if tm in set(tone["team"])]
    x = np.arange(len(teams))
    ticks, tick_labels = [], []
    for j, wave in enumerate(waves):
        rows = tone[tone["wave"] == wave].set_index("team").reindex(teams)
        share = rows["share_negative"].to_numpy(float)
        err = [share - rows["ci_low"].to_numpy(float), rows["ci_high"].to_numpy(float) - share]
        pos = x - 0.4 + width * (j + 0.5)
        label = wave_label(wave, lang)
        ax.bar(
            pos,
            share,
            width=width * 0.9,
            color=[TEAM_COLOURS[tm] for tm in teams],
            alpha=0.45 + 0.55 * (j + 1) / len(waves),
            label=label,
        )
        ax.errorbar(pos, share, yerr=np.nan_to_num(err), fmt="none", ecolor="black", capsize=3)
        wrapped = textwrap.fill(label, max(8, 64 // max(len(waves) * len(teams), 1)))
        for p, s in zip(pos, share, strict=True):
            if not np.isnan(s):
                ticks.append(p)
                tick_labels.append(wrapped)
    ax.set_xticks(ticks, tick_labels, fontsize=9)
    ax.tick_params(axis="x", length=0)
    ax.grid(False, axis="x")
    lines = max((label.count("\n") + 1 for label in tick_labels), default=1)
    teams_axis = ax.secondary_xaxis("bottom")
    teams_axis.set_xticks(x, [t(f"assessment.team_{tm}", lang) for tm in teams])
    teams_axis.tick_params(axis="x", length=0, pad=6 + 12 * lines)
    teams_axis.spines["bottom"].set_visible(False)
    for label in teams_axis.get_xticklabels():
        label.set_fontweight("bold")
    ax.set_xlim(-0.5, len(teams) - 0.5)
    ax.set_ylim(0, 1)
    percent_axis(ax.yaxis, lang)
    ax.set_ylabel(t("assessment.plot_words_y", lang))
    ax.set_title(t("assessment.plot_words_title", lang))
    return fig
