"""Charts are readable as rendered: no colliding tick labels, no caption over the axes, no whisker
through a value label, and numbers written out in the reader's format (never ``10^3`` or ``1e7``).

Each test draws the figure the way the kit saves it (:func:`helpers.plotting.save_figure`) and
measures the rendered text, in both languages.
"""

from __future__ import annotations

import re
from itertools import combinations, pairwise

import matplotlib.pyplot as plt
import pytest
from matplotlib.path import Path as MplPath
from matplotlib.transforms import Bbox
from test_funnel import AS_OF, tiny_crm

from helpers import funnel as fn
from helpers import sla
from helpers.plotting import funnel as pf
from helpers.plotting import save_figure
from helpers.plotting import sla as ps
from helpers.results import fmt_number
from helpers.sample import generate

LANGS = ["en", "it"]
# 2,000,000 / 2.000.000 / 1,254 / 0.5 / 0,5: digits with the reader's separators, nothing else.
PLAIN_NUMBER = {
    "en": re.compile(r"-?\d{1,3}(,\d{3})*(\.\d+)?"),
    "it": re.compile(r"-?\d{1,3}(\.\d{3})*(,\d+)?"),
}


@pytest.fixture(scope="module")
def crm():
    return generate(3_000, seed=3, programme_uplift=0.0).to_crm()


def _render(fig: plt.Figure, tmp_path) -> object:
    """Save as the kit does, then draw once more and return the renderer to measure with."""
    save_figure(fig, tmp_path / "chart.png")
    fig.canvas.draw()
    return fig.canvas.get_renderer()


def _shown_tick_labels(axis) -> list:
    """The tick labels drawn inside the axis' view (not the locator's spare ticks beyond it)."""
    lo, hi = sorted(axis.get_view_interval())
    slack = 1e-9 * (hi - lo)
    return [
        label
        for loc, label in zip(axis.get_majorticklocs(), axis.get_majorticklabels(), strict=True)
        if lo - slack <= loc <= hi + slack and label.get_visible() and label.get_text()
    ]


def _assert_plain_ticks_apart(fig: plt.Figure, axis, lang: str, renderer) -> list[str]:
    labels = _shown_tick_labels(axis)
    texts = [label.get_text() for label in labels]
    assert len(labels) >= 2, texts
    for text in texts:  # no math text (10^3), no scientific form (1e7), no offset
        assert PLAIN_NUMBER[lang].fullmatch(text), texts
    assert axis.get_offset_text().get_text() == ""
    boxes = [label.get_window_extent(renderer) for label in labels]
    for (a, ta), (b, tb) in combinations(zip(boxes, texts, strict=True), 2):
        assert not a.overlaps(b), f"tick labels {ta!r} and {tb!r} run into each other"
    em = labels[0].get_fontsize() * fig.dpi / 72  # and they stay a character or so apart
    boxes.sort(key=lambda box: box.x0)
    for left, right in pairwise(boxes):
        assert right.x0 - left.x1 >= em, texts
    return texts


# --- 1. bottlenecks: x tick labels -------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("scale", [1, 10, 100, 1_000])
def test_bottleneck_value_ticks_never_run_into_each_other(crm, tmp_path, lang, scale):
    table = fn.bottlenecks(crm, lang=lang)
    table = table.assign(lost_value=table["lost_value"] * scale)  # millions up to billions
    fig = pf.plot_bottlenecks(table, lang)
    renderer = _render(fig, tmp_path)
    texts = _assert_plain_ticks_apart(fig, fig.axes[0].xaxis, lang, renderer)
    plt.close(fig)
    assert texts[0] == "0"


# --- 2. response effect: the caption -----------------------------------------------------------


def _captions(fig: plt.Figure) -> list:
    return [text for text in fig.texts if text.get_visible() and text.get_text()]


@pytest.mark.parametrize("lang", LANGS)
def test_response_caption_sits_clear_of_the_axes_and_inside_the_figure(crm, tmp_path, lang):
    effect = fn.response_time_effect(crm)
    fig = pf.plot_response_effect(effect, lang)
    renderer = _render(fig, tmp_path)
    ax = fig.axes[0]
    (caption,) = _captions(fig)
    box = caption.get_window_extent(renderer)
    axes_box = ax.get_tightbbox(renderer)  # plot, tick labels, axis titles
    assert not box.overlaps(axes_box), "caption lies over the axes, its ticks or its title"
    assert box.y1 < axes_box.y0  # below them, not beside
    for label in [*ax.get_xticklabels(), ax.xaxis.label]:
        assert not box.overlaps(label.get_window_extent(renderer)), label.get_text()
    # inside the figure itself (wrapped to its width, not cut off on the right) ...
    assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1
    assert fig.bbox.y0 <= box.y0 and box.y1 <= fig.bbox.y1
    # ... and inside the area savefig(bbox_inches="tight") keeps
    saved = fig.get_tightbbox(renderer).transformed(fig.dpi_scale_trans)
    assert saved.x0 <= box.x0 and box.x1 <= saved.x1 and saved.y0 <= box.y0
    plt.close(fig)


@pytest.mark.parametrize(("lang", "word"), [("en", "association"), ("it", "associazione")])
def test_response_caption_says_the_caveat_once(crm, lang, word):
    effect = fn.response_time_effect(crm)
    fig = pf.plot_response_effect(effect, lang)
    (caption,) = _captions(fig)
    text = caption.get_text()
    plt.close(fig)
    assert text.lower().count(word) == 1, text
    assert effect.sentence(lang) in text  # the odds ratio and its interval are kept


# --- 3. reverse funnel: whiskers, value labels, log axis ---------------------------------------


def _plans() -> dict[str, sla.ReverseFunnel]:
    sample = generate(3_000, seed=3, programme_uplift=0.0).to_crm()
    tiny = tiny_crm()
    return {  # narrow whiskers (as in the bundled report) and very wide ones
        "sample": sla.reverse_funnel(
            2_000_000, 0.5, 15_000, sla.rates_from_history(sample), months=12, reps=3
        ),
        "tiny": sla.reverse_funnel(
            100_000, 0.5, 1_000, sla.rates_from_history(tiny, as_of=AS_OF), months=6, reps=2
        ),
    }


PLANS = _plans()


def _whisker_boxes(ax, renderer) -> list[tuple[str, MplPath | Bbox]]:
    """Every drawn piece of the error bars in pixels: the bar segments, and each cap marker."""
    pieces: list[tuple[str, MplPath | Bbox]] = []
    for collection in ax.collections:
        transform = collection.get_transform()
        for segment in collection.get_segments():
            pieces.append(("whisker", MplPath(transform.transform(segment))))
    px = ax.figure.dpi / 72
    for line in ax.lines:  # the caps: one marker per end
        half = line.get_markersize() * px / 2 + line.get_markeredgewidth() * px / 2
        for x, y in line.get_transform().transform(line.get_xydata()):
            pieces.append(("cap", Bbox.from_extents(x - half, y - half, x + half, y + half)))
    return pieces


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("plan", sorted(PLANS))
def test_no_whisker_crosses_a_reverse_funnel_value_label(tmp_path, lang, plan):
    rf = PLANS[plan]
    assert rf.range  # the chart draws whiskers
    fig = ps.plot_reverse_funnel(rf, lang)
    renderer = _render(fig, tmp_path)
    ax = fig.axes[0]
    labels = [text for text in ax.texts if text.get_text()]
    assert len(labels) == len(rf.stages)
    pieces = _whisker_boxes(ax, renderer)
    assert pieces
    axes_box = ax.get_window_extent(renderer)
    for label in labels:
        box = label.get_window_extent(renderer)
        for kind, piece in pieces:
            if isinstance(piece, Bbox):
                crossed = box.overlaps(piece)
            else:
                crossed = piece.intersects_bbox(box, filled=False)
            assert not crossed, f"a {kind} crosses the value label {label.get_text()!r}"
        assert axes_box.x0 <= box.x0 and box.x1 <= axes_box.x1, label.get_text()
    plt.close(fig)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("plan", sorted(PLANS))
def test_reverse_funnel_axis_reads_plain_numbers(tmp_path, lang, plan):
    fig = ps.plot_reverse_funnel(PLANS[plan], lang)
    renderer = _render(fig, tmp_path)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    texts = _assert_plain_ticks_apart(fig, ax.xaxis, lang, renderer)
    minor = [label.get_text() for label in ax.xaxis.get_minorticklabels() if label.get_text()]
    plt.close(fig)
    assert minor == []  # no 2x10^2 between the plain labels
    assert {"100", "1,000" if lang == "en" else "1.000"} <= set(texts)


@pytest.mark.parametrize("lang", LANGS)
def test_reverse_funnel_value_labels_keep_their_numbers(lang):
    rf = PLANS["sample"]
    fig = ps.plot_reverse_funnel(rf, lang)
    texts = [text.get_text() for text in fig.axes[0].texts]
    plt.close(fig)
    month = {"en": "a month", "it": "al mese"}[lang]
    assert texts == [
        f"{fmt_number(rf.rounded[s], lang)}  ({fmt_number(rf.per_month[s], lang)} {month})"
        for s in rf.stages
    ]
