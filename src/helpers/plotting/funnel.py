"""Charts of the funnel results: each takes a result of :mod:`helpers.funnel` and draws it.

No computing here: every number comes from the result passed in; texts come from the catalogue.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from helpers.funnel import ResponseEffect
from helpers.messages import t
from helpers.plotting import (
    HIGHLIGHT,
    NEUTRAL,
    PALETTE,
    TEAM_COLOURS,
    new_figure,
    number_axis,
    percent_axis,
)
from helpers.results import fmt_number, fmt_pct
from helpers.stages import StageModel, stage_label, step_label


def plot_funnel(
    summary: pd.DataFrame, lang: str = "en", *, model: StageModel | None = None
) -> plt.Figure:
    """Horizontal bars of leads reaching each stage (``funnel_summary``), step rates as labels.

    Stage names are display labels (``model`` supplies a user model's own labels)."""
    fig, ax = new_figure(8, 0.6 * len(summary) + 1.5)
    y = np.arange(len(summary))[::-1]
    ax.barh(y, summary["reached"], color=TEAM_COLOURS["marketing"])
    ax.set_yticks(y, [stage_label(s, lang, model) for s in summary["stage"].astype("str")])
    top = float(summary["reached"].max() or 1)
    for yi, reached, rate in zip(y, summary["reached"], summary["step_rate"], strict=True):
        text = fmt_number(reached, lang)
        if pd.notna(rate):
            text += "  (" + t("funnel.chart.step_label", lang, rate=fmt_pct(rate, lang)) + ")"
        ax.text(reached + top * 0.01, yi, text, va="center", fontsize=9)
    ax.set_xlim(0, top * 1.45)
    ax.set_xlabel(t("funnel.chart.funnel_xlabel", lang))
    ax.set_title(t("funnel.chart.funnel_title", lang))
    ax.grid(axis="y", visible=False)
    return fig


def plot_cohort_conversion(
    cohorts: pd.DataFrame,
    from_stage: str,
    to_stage: str,
    lang: str = "en",
    *,
    by: str | None = None,
    model: StageModel | None = None,
) -> plt.Figure:
    """Conversion rate per entry cohort with its 95% band (``cohort_conversion`` output);
    one line per value of ``by`` when given. Stages (keys or roles) are shown by label."""
    fig, ax = new_figure()
    groups = cohorts.groupby(by, sort=True) if by else [(None, cohorts)]
    for i, (label, grp) in enumerate(groups):
        colour = PALETTE[i % len(PALETTE)]
        ax.plot(
            grp["cohort"],
            grp["rate"],
            marker="o",
            color=colour,
            label=None if label is None else str(label),
        )
        ax.fill_between(
            grp["cohort"],
            grp["ci_low"].to_numpy(float),
            grp["ci_high"].to_numpy(float),
            color=colour,
            alpha=0.15,
            linewidth=0,
        )
    highs = cohorts["ci_high"].to_numpy(float)
    top = float(np.nanmax(highs)) if np.isfinite(highs).any() else 1.0
    ax.set_ylim(0, min(1.0, top * 1.1) or 1.0)
    percent_axis(ax.yaxis, lang)
    ax.set_xlabel(t("funnel.chart.cohort_xlabel", lang))
    ax.set_ylabel(t("funnel.chart.cohort_ylabel", lang))
    ax.set_title(
        t(
            "funnel.chart.cohort_title",
            lang,
            from_stage=stage_label(from_stage, lang, model),
            to_stage=stage_label(to_stage, lang, model),
        )
    )
    ax.tick_params(axis="x", labelrotation=45)
    if by:
        ax.legend(title=by, fontsize=8)
    return fig


def plot_conversion_curves(
    curve: pd.DataFrame,
    from_stage: str,
    to_stage: str,
    lang: str = "en",
    *,
    model: StageModel | None = None,
) -> plt.Figure:
    """Kaplan-Meier share converted over days (``conversion_curve`` output), with 95% bands."""
    src, dst = stage_label(from_stage, lang, model), stage_label(to_stage, lang, model)
    fig, ax = new_figure()
    for i, (label, grp) in enumerate(curve.groupby("group", sort=True)):
        colour = PALETTE[i % len(PALETTE)]
        ax.step(grp["days"], grp["p_converted"], where="post", color=colour, label=str(label))
        ax.fill_between(
            grp["days"],
            grp["ci_low"],
            grp["ci_high"],
            step="post",
            color=colour,
            alpha=0.15,
            linewidth=0,
        )
    percent_axis(ax.yaxis, lang)
    ax.set_xlabel(t("funnel.chart.km_xlabel", lang, from_stage=src))
    ax.set_ylabel(t("funnel.chart.km_ylabel", lang))
    ax.set_title(t("funnel.chart.km_title", lang, from_stage=src, to_stage=dst))
    if curve["group"].nunique() > 1:
        ax.legend(fontsize=8)
    return fig


def plot_response_effect(effect: ResponseEffect, lang: str = "en") -> plt.Figure:
    """Conversion per response-time bin with Wilson intervals, and the correlational caveat."""
    fig, ax = new_figure()
    bins = effect.bins
    x = np.arange(len(bins))
    rate = bins["rate"].to_numpy(float)
    err = np.vstack([rate - bins["ci_low"].to_numpy(float), bins["ci_high"].to_numpy(float) - rate])
    ax.bar(x, np.nan_to_num(rate), color=TEAM_COLOURS["sales"])
    ax.errorbar(x, rate, yerr=np.nan_to_num(err), fmt="none", ecolor=NEUTRAL, capsize=4)
    counts = [fmt_number(n, lang) for n in bins["n"]]
    ax.set_xticks(x, [f"{b}\n(n={n})" for b, n in zip(bins["bin"], counts, strict=True)])
    percent_axis(ax.yaxis, lang)
    ax.set_xlabel(t("funnel.chart.response_xlabel", lang))
    ax.set_ylabel(t("funnel.chart.response_ylabel", lang))
    ax.set_title(
        t("funnel.chart.response_title", lang, to_stage=stage_label(effect.to_stage, lang))
    )
    # The caveat, once (the sentence already says it is an association, not a cause), wrapped to
    # the figure's width in its bottom margin: constrained layout keeps that margin clear of the
    # x-axis title and tick labels however many lines the caption takes.
    fig.set_layout_engine("constrained")
    fig.supxlabel(
        effect.sentence(lang),
        x=0.01,
        ha="left",
        fontsize=8,
        fontweight="normal",
        wrap=True,
        color=NEUTRAL,
    )
    return fig


def plot_bottlenecks(
    table: pd.DataFrame, lang: str = "en", *, model: StageModel | None = None
) -> plt.Figure:
    """Handoffs by estimated value lost (``bottlenecks`` output), worst on top."""
    fig, ax = new_figure(8, 0.6 * len(table) + 1.5)
    y = np.arange(len(table))[::-1]
    labels = [
        step_label(a, b, lang, model)
        for a, b in zip(table["from_stage"], table["to_stage"], strict=True)
    ]
    colours = [HIGHLIGHT if i == 0 else NEUTRAL for i in range(len(table))]
    ax.barh(y, table["lost_value"].fillna(0), color=colours)
    ax.set_yticks(y, labels)
    number_axis(ax.xaxis, lang)
    ax.set_xlabel(t("funnel.chart.bottleneck_xlabel", lang))
    ax.set_title(t("funnel.chart.bottleneck_title", lang))
    ax.grid(axis="y", visible=False)
    return fig
