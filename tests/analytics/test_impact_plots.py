"""Impact charts draw what the result holds, with catalogue labels in each language."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from test_impact import COMMON, its_series, planted_panel

from helpers import impact
from helpers.messages import t
from helpers.plotting.impact import plot_event_study, plot_its


@pytest.mark.parametrize("lang", ["en", "it"])
def test_event_study_plot(lang):
    res = impact.did_effect(planted_panel(0, COMMON, effect=0.1), COMMON, n_boot=199)
    fig = plot_event_study(res, lang)
    ax = fig.axes[0]
    assert ax.get_title(loc="left") == t("impact.plot_event_title", lang)
    assert res.period_unit == "month"  # a monthly panel: the axis says months, not "periods"
    assert ax.get_xlabel() == t("impact.plot_event_x_month", lang)
    fig.canvas.draw()
    xs = np.concatenate([ln.get_xdata() for ln in ax.get_lines() if ln.get_marker() == "o"])
    assert set(res.event_study["event_time"]) == set(xs)
    start = [ln for ln in ax.get_lines() if ln.get_label() == t("impact.plot_start", lang)]
    assert start and start[0].get_xdata()[0] == -0.5
    plt.close(fig)


@pytest.mark.parametrize("lang", ["en", "it"])
def test_its_plot(lang):
    res = impact.interrupted_time_series(its_series(0, 0.05), "2025-01-01")
    fig = plot_its(res, lang)
    fig.canvas.draw()
    ax = fig.axes[0]
    labels = [ln.get_label() for ln in ax.get_lines()]
    assert t("impact.plot_its_counterfactual", lang) in labels
    cf = next(
        ln for ln in ax.get_lines() if ln.get_label() == t("impact.plot_its_counterfactual", lang)
    )
    assert len(cf.get_ydata()) == int(res.fit["post"].sum())
    plt.close(fig)


@pytest.mark.parametrize("lang", ["en", "it"])
def test_a_rate_effect_is_drawn_in_percentage_points(lang):
    panel = planted_panel(0, COMMON, effect=0.1)
    panel.attrs["metric"] = "mql_to_sql"
    res = impact.did_effect(panel, COMMON, n_boot=99)
    fig = plot_event_study(res, lang)
    fig.canvas.draw()
    ax = fig.axes[0]
    assert ax.get_ylabel() == t("impact.plot_event_y_pp", lang)
    dots = [ln for ln in ax.get_lines() if ln.get_marker() == "o"]
    drawn = dict(
        zip(
            np.concatenate([d.get_xdata() for d in dots]),
            np.concatenate([d.get_ydata() for d in dots]),
            strict=True,
        )
    )
    es = res.event_study.set_index("event_time")["estimate"]
    assert drawn == pytest.approx({e: 100 * v for e, v in es.items()})
    assert max(abs(v) for v in drawn.values()) > 5  # a +10 pp effect reads as about 10, not 0.1
    assert impact.format_effect(es.max(), "mql_to_sql", lang).startswith("+")
    plt.close(fig)


def test_a_weekly_panel_is_labelled_in_weeks_and_an_unknown_one_in_periods():
    weekly = planted_panel(1, {}, periods=30)
    weekly["period"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(
        weekly.groupby("unit").cumcount() * 7, unit="D"
    )
    starts = {"u0": "2024-04-01", "u1": "2024-04-01", "u2": "2024-04-01"}
    res = impact.did_effect(weekly, starts, n_boot=99)
    assert res.period_unit == "week"
    fig = plot_event_study(res, "it")
    assert fig.axes[0].get_xlabel() == t("impact.plot_event_x_week", "it")
    assert fig.axes[0].get_ylabel() == t("impact.plot_event_y", "it")  # no metric: no unit
    plt.close(fig)
    odd = weekly.assign(period=weekly["period"] + (weekly["period"] - weekly["period"].min()) * 2)
    res = impact.did_effect(odd, starts, n_boot=99)  # 21-day steps: no unit readers would say
    assert res.period_unit is None
    fig = plot_event_study(res, "en")
    assert fig.axes[0].get_xlabel() == t("impact.plot_event_x", "en")
    plt.close(fig)


def test_plots_refuse_the_wrong_result():
    its = impact.interrupted_time_series(its_series(0, 0.05), "2025-01-01")
    with pytest.raises(ValueError):
        plot_event_study(its)
    did = impact.did_effect(planted_panel(0, COMMON), COMMON, n_boot=99)
    with pytest.raises(ValueError):
        plot_its(did)
