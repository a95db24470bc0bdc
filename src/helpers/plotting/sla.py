"""Charts of the SLA results: reverse funnel, marketing delivery, compliance per rep.

No computing here: every number comes from the result passed in; texts come from the catalogue.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.text import Text

from helpers.messages import t
from helpers.plotting import NEUTRAL, TEAM_COLOURS, new_figure, number_axis, percent_axis
from helpers.results import fmt_number
from helpers.sla import ReverseFunnel, SlaCompliance
from helpers.stages import StageModel, stage_label

_LABEL_GAP = 6  # points between a row's bar or whisker and its value label


def plot_reverse_funnel(
    rf: ReverseFunnel, lang: str = "en", *, model: StageModel | None = None
) -> plt.Figure:
    """Bars of what each stage must deliver; whiskers show the range under the rate intervals.

    Stages (roles) are shown by label; ``model`` supplies a user model's own labels."""
    fig, ax = new_figure(8, 0.6 * len(rf.stages) + 1.5)
    stages = list(rf.stages)
    y = np.arange(len(stages))[::-1]
    values = np.array([rf.rounded[s] for s in stages], dtype=float)
    colours = [
        TEAM_COLOURS["marketing"] if s in ("lead", "mql") else TEAM_COLOURS["sales"] for s in stages
    ]
    ax.barh(y, values, color=colours)
    ends = values.copy()  # where each row's drawing stops: the bar, or its upper whisker
    if rf.range:
        low = np.array([rf.range[s][0] for s in stages], dtype=float)
        high = np.array([rf.range[s][1] for s in stages], dtype=float)
        ax.errorbar(
            values,
            y,
            xerr=np.vstack([values - low, high - values]).clip(min=0),
            fmt="none",
            ecolor=NEUTRAL,
            capsize=4,
            label=t("sla.chart.reverse_range", lang),
        )
        ends = np.fmax(ends, high)
        ax.legend(fontsize=8, loc="lower right")
    # Value labels start just past the upper whisker's cap, so no whisker runs through them.
    labels = [
        ax.annotate(
            t(
                "sla.chart.reverse_value",
                lang,
                total=fmt_number(v, lang),
                per_month=fmt_number(rf.per_month[s], lang),
            ),
            (end, yi),
            xytext=(_LABEL_GAP, 0),
            textcoords="offset points",
            va="center",
            fontsize=9,
        )
        for yi, v, end, s in zip(y, values, ends, stages, strict=True)
    ]
    ax.set_yticks(y, [stage_label(s, lang, model) for s in stages])
    ax.set_xscale("log")
    _make_room_right(ax, ends, labels)
    number_axis(ax.xaxis, lang)
    ax.set_xlabel(t("sla.chart.reverse_xlabel", lang))
    ax.set_title(t("sla.chart.reverse_title", lang))
    ax.grid(axis="y", visible=False)
    return fig


def _make_room_right(ax: plt.Axes, ends: np.ndarray, labels: list[Text]) -> None:
    """Widen a log x-axis on the right so each label, drawn from its row's ``ends``, fits inside."""
    renderer = ax.figure.canvas.get_renderer()
    width = ax.bbox.width  # pixels, like the labels' extents
    x0, x1 = np.log10(ax.get_xlim())
    right = x1
    for end, label in zip(ends, labels, strict=True):
        if not np.isfinite(end) or end <= 0:
            continue
        gap = (_LABEL_GAP + 4) * ax.figure.dpi / 72  # before the label, and after it
        room = width - label.get_window_extent(renderer).width - gap
        if room > 0:  # the label's share of the axis is fixed: solve for the right limit
            right = max(right, x0 + (np.log10(end) - x0) * width / room)
    ax.set_xlim(right=10**right)


def plot_marketing_delivery(compliance: SlaCompliance, lang: str = "en") -> plt.Figure:
    """MQLs delivered per period against the committed volume."""
    fig, ax = new_figure()
    mk = compliance.marketing
    ax.bar(
        mk["period"],
        mk["mql_delivered"],
        color=TEAM_COLOURS["marketing"],
        label=t("sla.chart.delivered", lang),
    )
    ax.plot(
        mk["period"],
        mk["mql_committed"],
        color=NEUTRAL,
        linestyle="--",
        label=t("sla.chart.committed", lang),
    )
    ax.set_ylabel(t("sla.chart.marketing_ylabel", lang))
    ax.set_title(t("sla.chart.marketing_title", lang))
    ax.tick_params(axis="x", labelrotation=45)
    ax.legend(fontsize=8)
    return fig


def plot_compliance_by_rep(by_rep: pd.DataFrame, lang: str = "en") -> plt.Figure:
    """Share of each rep's MQLs handled within the SLA (``compliance_by_rep`` output)."""
    fig, ax = new_figure(8, 0.4 * len(by_rep) + 1.5)
    y = np.arange(len(by_rep))
    rate = by_rep["compliance_rate"].to_numpy(float)
    err = np.vstack(
        [rate - by_rep["ci_low"].to_numpy(float), by_rep["ci_high"].to_numpy(float) - rate]
    ).clip(min=0)
    ax.barh(y, rate, color=TEAM_COLOURS["sales"])
    ax.errorbar(rate, y, xerr=err, fmt="none", ecolor=NEUTRAL, capsize=3)
    ax.set_yticks(y, by_rep["rep"].astype("str"))
    ax.set_xlim(0, 1)
    percent_axis(ax.xaxis, lang)
    ax.set_xlabel(t("sla.chart.compliance_xlabel", lang))
    ax.set_title(t("sla.chart.compliance_title", lang))
    ax.grid(axis="y", visible=False)
    return fig
