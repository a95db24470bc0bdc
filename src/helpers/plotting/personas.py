"""Charts of persona results (:mod:`helpers.personas`); no computing here."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np
import pandas as pd
import seaborn as sns

from helpers.messages import column_label, t, value_label
from helpers.personas import PersonaClustering, scorecard_rates
from helpers.plotting import PALETTE, TEAM_COLOURS, apply_theme, number_axis, percent_axis
from helpers.results import fmt_number
from helpers.stages import reason_label


class _PercentTicks(matplotlib.ticker.Formatter):
    """Percent tick labels in ``lang``'s format with as many decimals as the tick step needs
    (0%, 2%, 4% on a wide axis; 0,5%, 1,0% on a narrow one), so no two ticks read the same."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.decimals = 0

    def set_locs(self, locs: Sequence[float]) -> None:
        super().set_locs(locs)
        steps = np.diff(np.sort(np.asarray(locs, dtype=float)))
        steps = steps[steps > 1e-12]
        step = float(steps.min()) * 100 if len(steps) else 1.0
        self.decimals = max(0, int(np.ceil(-np.log10(step) - 1e-9)))

    def __call__(self, x: float, pos: int | None = None) -> str:
        from helpers.results import fmt_pct

        return fmt_pct(x, self.lang, self.decimals)


def _rate_limit(high: np.ndarray) -> float:
    """The right edge of a rate panel: a little beyond the highest interval bound, within 100%."""
    top = float(np.nanmax(high)) if np.isfinite(high).any() else 1.0
    return min(1.0, max(top * 1.1, 0.01))


def plot_scorecard(scorecard: pd.DataFrame, lang: str = "en") -> plt.Figure:
    """The persona rates that have data (MQL->SQL, MQL->won, win rate) with their 95% Wilson
    intervals, one panel each, each panel scaled to its own data (from 0 to a little beyond the
    highest interval bound); ``ValueError`` when no rate has any value."""
    apply_theme()
    metrics = [(m, t(f"personas.plot_{m}", lang)) for m in scorecard_rates(scorecard)]
    if not metrics:
        raise ValueError(t("personas.no_rates", lang))
    fig, axes = plt.subplots(
        1,
        max(len(metrics), 1),
        figsize=(4.5 * max(len(metrics), 1), 0.5 * len(scorecard) + 1.8),
        sharey=True,
        squeeze=False,
    )
    y = np.arange(len(scorecard))[::-1]
    for ax, (col, label) in zip(axes[0], metrics, strict=False):
        v = scorecard[col].to_numpy(float)
        err = [
            v - scorecard[f"{col}_low"].to_numpy(float),
            scorecard[f"{col}_high"].to_numpy(float) - v,
        ]
        ax.errorbar(
            v,
            y,
            xerr=np.clip(np.nan_to_num(err), 0, None),  # float noise at 0 or 1 must not go negative
            fmt="o",
            capsize=3,
            color=TEAM_COLOURS["marketing" if col == "mql_to_sql" else "sales"],
        )
        # each panel on its own scale from 0: a 2-6% rate on a 0-100% axis hides its interval
        ax.set_xlim(0, _rate_limit(scorecard[f"{col}_high"].to_numpy(float)))
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=5, steps=[1, 2, 5, 10]))
        ax.xaxis.set_major_formatter(_PercentTicks(lang))
        ax.set_title(label)
    axes[0][0].set_yticks(y, scorecard["persona"].astype(str))
    axes[0][0].set_ylabel(t("personas.plot_persona", lang))
    fig.suptitle(t("personas.plot_scorecard_title", lang), x=0.01, ha="left", fontweight="bold")
    fig.tight_layout()
    return fig


def plot_cluster_profile(result: PersonaClustering, lang: str = "en", top: int = 12) -> plt.Figure:
    """Heatmap of standardised differences from all leads: rows = the most telling attributes."""
    apply_theme()
    prof = result.profile.copy()
    prof["name"] = [
        column_label(f, lang, heading=True)
        + ("" if pd.isna(level) else f" = {value_label(f, level, lang)}")
        for f, level in zip(prof["feature"], prof["level"], strict=True)
    ]
    grid = prof.pivot_table(index="name", columns="cluster", values="score", aggfunc="first")
    order = grid.abs().max(axis=1).sort_values(ascending=False).index[:top]
    grid = grid.loc[order]
    grid.columns = [t("personas.plot_profile_cluster", lang, cluster=c + 1) for c in grid.columns]
    fig, ax = plt.subplots(figsize=(1.3 * grid.shape[1] + 4, 0.4 * len(grid) + 1.8))
    lim = float(np.nanmax(np.abs(grid.to_numpy()))) or 1.0
    with warnings.catch_warnings():  # seaborn 0.13 calls a colormap method matplotlib retires
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        sns.heatmap(
            grid,
            cmap="RdBu_r",
            center=0,
            vmin=-lim,
            vmax=lim,
            annot=grid.map(lambda v: "" if pd.isna(v) else fmt_number(v, lang, 1)).to_numpy(),
            fmt="",
            ax=ax,
            cbar_kws={"label": t("personas.plot_profile_score", lang)},
        )
    colourbar = ax.collections[0].colorbar
    if colourbar is not None:  # its numbers written the way readers of ``lang`` write them
        number_axis(colourbar.ax.yaxis, lang)
    ax.set_ylabel("")
    ax.set_title(t("personas.plot_profile_title", lang))
    return fig


def plot_rejection_mix(mix: pd.DataFrame, lang: str = "en") -> plt.Figure:
    """Stacked shares of sales rejection reasons per persona; reasons shown by their label."""
    apply_theme()
    wide = mix.pivot_table(index="persona", columns="reason", values="share", fill_value=0.0)
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(wide) + 1.8))
    left = np.zeros(len(wide))
    y = np.arange(len(wide))[::-1]
    for i, reason in enumerate(wide.columns):
        ax.barh(
            y,
            wide[reason],
            left=left,
            color=PALETTE[i % len(PALETTE)],
            label=reason_label(reason, lang),
        )
        left += wide[reason].to_numpy()
    ax.set_yticks(y, wide.index.astype(str))
    ax.set_xlim(0, 1)
    percent_axis(ax.xaxis, lang)
    ax.set_xlabel(t("personas.plot_share", lang))
    ax.set_title(t("personas.plot_rejection_title", lang))
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return fig
