"""Axis tick labels follow the report's language and never show a scientific offset."""

import matplotlib.pyplot as plt

from helpers.plotting import new_figure, number_axis, percent_axis
from helpers.results import fmt_number, fmt_pct


def _tick_texts(fig, axis):
    fig.canvas.draw()
    return [label.get_text() for label in axis.get_ticklabels()], axis.get_offset_text().get_text()


def test_large_numbers_are_written_in_full_in_the_readers_format():
    fig, ax = new_figure()
    ax.barh([0, 1], [12_000_000, 3_500_000])
    number_axis(ax.xaxis, "it")
    texts, offset = _tick_texts(fig, ax.xaxis)
    plt.close(fig)
    assert offset == ""
    assert fmt_number(10_000_000, "it") in texts  # "10.000.000"


def test_percentages_use_the_languages_format():
    fig, ax = new_figure()
    ax.plot([0, 1], [0.0, 0.5])
    percent_axis(ax.yaxis, "it")
    texts, _ = _tick_texts(fig, ax.yaxis)
    plt.close(fig)
    assert fmt_pct(0.5, "it", 0) in texts
