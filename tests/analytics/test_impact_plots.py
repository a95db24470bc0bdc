"""Impact charts draw what the result holds, with catalogue labels in each language."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
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
    assert ax.get_xlabel() == t("impact.plot_event_x", lang)
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


def test_plots_refuse_the_wrong_result():
    its = impact.interrupted_time_series(its_series(0, 0.05), "2025-01-01")
    with pytest.raises(ValueError):
        plot_event_study(its)
    did = impact.did_effect(planted_panel(0, COMMON), COMMON, n_boot=99)
    with pytest.raises(ValueError):
        plot_its(did)
