"""Charts of collaboration-impact results (:mod:`helpers.impact`); no computing here."""

from __future__ import annotations

import matplotlib.pyplot as plt

from helpers.impact import RATE_METRICS, EffectResult
from helpers.messages import has, t
from helpers.plotting import HIGHLIGHT, NEUTRAL, PALETTE, TEAM_COLOURS, new_figure, number_axis


def _effect_scale(metric: str) -> tuple[float, str]:
    """How to draw an effect of ``metric``: the factor to its plotted unit and the catalogue key
    of the axis label (rates in percentage points, as the report's sentences give them)."""
    if metric in RATE_METRICS:
        return 100.0, "impact.plot_event_y_pp"
    if metric == "response_time":
        return 1.0, "impact.plot_event_y_hours"
    return 1.0, "impact.plot_event_y"


def _event_x_label(result: EffectResult, lang: str) -> str:
    """The x label: e.g. "Months since start" when the panel's period is known, else "Periods"."""
    key = f"impact.plot_event_x_{result.period_unit}"
    return t(key, lang) if result.period_unit and has(key, lang) else t("impact.plot_event_x", lang)


def plot_event_study(result: EffectResult, lang: str = "en") -> plt.Figure:
    """Effect by period relative to the start with 95% intervals; the start is marked.

    Rate effects are drawn in percentage points (the unit the report's sentences use); the x axis
    names the panel's period (months, weeks...) when it is known."""
    if result.event_study is None:
        raise ValueError("this result has no event-time effects (interrupted time series?)")
    es = result.event_study
    fig, ax = new_figure()
    factor, y_label = _effect_scale(result.metric)
    x = es["event_time"].to_numpy()
    y = es["estimate"].to_numpy(float) * factor
    low, high = es["ci_low"].to_numpy(float) * factor, es["ci_high"].to_numpy(float) * factor
    for part, colour in ((x < 0, NEUTRAL), (x >= 0, TEAM_COLOURS["marketing"])):
        ax.errorbar(
            x[part],
            y[part],
            yerr=[y[part] - low[part], high[part] - y[part]],
            fmt="o",
            color=colour,
            elinewidth=1.5,
            capsize=3,
            zorder=3,
        )
    ref = es["event_time"] == -1
    ax.scatter(
        x[ref],
        y[ref],
        facecolors="white",
        edgecolors=NEUTRAL,
        zorder=4,
        label=t("impact.plot_reference", lang),
    )
    ax.axhline(0, color=NEUTRAL, lw=1)
    ax.axvline(-0.5, color=HIGHLIGHT, ls="--", lw=1.5, label=t("impact.plot_start", lang))
    ax.set_xlabel(_event_x_label(result, lang))
    ax.set_ylabel(t(y_label, lang))
    number_axis(ax.yaxis, lang)
    ax.set_title(t("impact.plot_event_title", lang))
    ax.legend(loc="upper left", frameon=False)
    return fig


def plot_its(result: EffectResult, lang: str = "en") -> plt.Figure:
    """Observed series, model fit and the extrapolated counterfactual with its 95% band."""
    if result.fit is None:
        raise ValueError("this result has no fitted series (difference-in-differences?)")
    fit = result.fit
    fig, ax = new_figure()
    ax.plot(
        fit["period"],
        fit["observed"],
        marker="o",
        ms=3,
        lw=0,
        color=PALETTE[7],
        label=t("impact.plot_its_observed", lang),
    )
    ax.plot(
        fit["period"],
        fit["fitted"],
        color=TEAM_COLOURS["marketing"],
        label=t("impact.plot_its_fitted", lang),
    )
    post = fit[fit["post"]]
    ax.plot(
        post["period"],
        post["counterfactual"],
        color=TEAM_COLOURS["sales"],
        ls="--",
        label=t("impact.plot_its_counterfactual", lang),
    )
    ax.fill_between(
        post["period"],
        post["cf_low"],
        post["cf_high"],
        color=TEAM_COLOURS["sales"],
        alpha=0.2,
        lw=0,
    )
    if result.start is not None:
        ax.axvline(
            result.start, color=HIGHLIGHT, ls="--", lw=1.5, label=t("impact.plot_start", lang)
        )
    ax.set_xlabel(t("impact.plot_period", lang))
    ax.set_ylabel(t("impact.plot_its_y", lang))
    ax.set_title(t("impact.plot_its_title", lang))
    ax.legend(loc="best", frameon=False)
    fig.autofmt_xdate()
    return fig
