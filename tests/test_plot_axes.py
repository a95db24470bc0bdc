"""Axis tick labels follow the report's language and never show a scientific offset."""

from itertools import pairwise

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


def test_a_narrow_axis_gets_fewer_ticks_not_colliding_labels():
    fig, ax = new_figure(3, 2)
    ax.barh([0, 1], [2_400_000_000, 900_000_000])
    number_axis(ax.xaxis, "it")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    lo, hi = ax.get_xlim()
    locs, labels = ax.xaxis.get_majorticklocs(), ax.xaxis.get_majorticklabels()
    labels = [label for loc, label in zip(locs, labels, strict=True) if lo <= loc <= hi]
    boxes = sorted((label.get_window_extent(renderer) for label in labels), key=lambda b: b.x0)
    plt.close(fig)
    assert len(boxes) >= 2
    assert all(right.x0 > left.x1 for left, right in pairwise(boxes))


def test_a_log_axis_reads_plain_numbers_and_small_steps_keep_their_decimals():
    fig, ax = new_figure()
    ax.plot([20, 3_000], [0.5, 2.5])
    ax.set_xscale("log")
    number_axis(ax.xaxis, "it")
    number_axis(ax.yaxis, "it")
    x_texts, x_offset = _tick_texts(fig, ax.xaxis)
    y_texts, _ = _tick_texts(fig, ax.yaxis)
    minor = [label.get_text() for label in ax.xaxis.get_minorticklabels() if label.get_text()]
    plt.close(fig)
    assert {"100", "1.000"} <= set(x_texts) and x_offset == "" and minor == []
    assert not any("$" in text or "e" in text for text in x_texts)
    assert "1,5" in y_texts  # a half step is written as such, not rounded to "2"
