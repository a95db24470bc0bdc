"""One consistent chart look for notebooks, reports and widgets.

Domain plots live in submodules (``plotting.funnel``, ``plotting.personas``...); each takes the
result of a computing function and returns a matplotlib Figure without computing anything itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import matplotlib
import matplotlib.axis
import matplotlib.ticker
import numpy as np
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import text_to_path

matplotlib.use("Agg") if not matplotlib.get_backend().lower().startswith("module://") else None

import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402

from helpers.files import replace_atomically  # noqa: E402

# Colour-blind safe palette; sales and marketing keep the same colour everywhere.
PALETTE: list[str] = sns.color_palette("colorblind").as_hex()
TEAM_COLOURS: dict[str, str] = {"marketing": PALETTE[0], "sales": PALETTE[1]}
HIGHLIGHT = PALETTE[3]
NEUTRAL = "#8c8c8c"


def apply_theme() -> None:
    """Set the kit's seaborn theme (idempotent)."""
    sns.set_theme(
        context="notebook",
        style="whitegrid",
        palette=PALETTE,
        rc={
            "figure.figsize": (8, 4.5),
            "figure.dpi": 100,
            "savefig.dpi": 150,
            "savefig.bbox": "tight",
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.titleweight": "bold",
            "axes.titlelocation": "left",
            "font.family": "DejaVu Sans",
        },
    )


def new_figure(width: float = 8, height: float = 4.5) -> tuple[plt.Figure, plt.Axes]:
    """A themed figure with one axes."""
    apply_theme()
    fig, ax = plt.subplots(figsize=(width, height))
    return fig, ax


def save_figure(fig: plt.Figure, path: str | Path) -> Path:
    """Write ``fig`` as PNG (written aside, then moved into place) and return the path."""
    return replace_atomically(path, lambda tmp: fig.savefig(tmp, format="png"))


def percent_axis(axis: matplotlib.axis.Axis, lang: str) -> None:
    """Tick labels as percentages written the way readers of ``lang`` write them."""
    from helpers.results import fmt_pct  # results imports plotting: resolve at call time

    axis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: fmt_pct(v, lang, 0)))


def number_axis(axis: matplotlib.axis.Axis, lang: str) -> None:
    """Tick labels as plain numbers in ``lang``'s format (no scientific offset like ``1e7``, no
    ``10^3`` on a log axis), as many as fit without two labels touching.

    Call it after setting the axis scale: ``set_xscale`` replaces the ticks."""
    from helpers.results import fmt_number

    def label(value: float, _pos: object = None) -> str:  # 2,500,000 / 2.5 / 0.1: no false "0"
        exact = (d for d in range(7) if abs(value - round(value, d)) <= 1e-9 * max(1, abs(value)))
        return fmt_number(value, lang, next(exact, 6))

    font = FontProperties(size=matplotlib.rcParams[f"{axis.axis_name}tick.labelsize"])
    axis.set_major_locator(_SpacedLocator(label, font))
    axis.set_major_formatter(matplotlib.ticker.FuncFormatter(label))
    if axis.get_scale() == "log":  # 1-2-5 major ticks already; minor ones would say 2x10^2
        axis.set_minor_formatter(matplotlib.ticker.NullFormatter())


class _SpacedLocator(matplotlib.ticker.Locator):
    """The densest usual tick set whose labels, written out in full, stay clearly apart.

    Candidates go from dense to sparse: on a linear axis "nice" steps (1, 2, 2.5, 5 x 10^k) with
    fewer and fewer bins; on a log axis 1-2-5 per decade, one per decade, then every n-th decade.
    Widths are measured from the label font; neighbours keep 1.5 em between them (a label
    height on a vertical axis), so 100,000,000 and 100.000.000 never run into each other.
    """

    def __init__(self, label: Callable[[float], str], font: FontProperties) -> None:
        self._label = label
        self._font = font

    def __call__(self) -> Sequence[float]:
        vmin, vmax = self.axis.get_view_interval()
        return self.tick_values(vmin, vmax)

    def tick_values(self, vmin: float, vmax: float) -> Sequence[float]:
        ticks: Sequence[float] = []
        for locator in self._candidates():
            locator.set_axis(self.axis)
            ticks = locator.tick_values(vmin, vmax)
            if self.axis is None or self._fits(ticks, vmin, vmax):
                break
        return ticks

    def _candidates(self) -> Iterator[matplotlib.ticker.Locator]:
        ticker = matplotlib.ticker
        if self.axis is not None and self.axis.get_scale() == "log":
            yield ticker.LogLocator(subs=(1.0, 2.0, 5.0), numticks=30)
            for numticks in (30, 6, 4, 3, 2):
                yield ticker.LogLocator(subs=(1.0,), numticks=numticks)
            return
        most = 10 if self.axis is None else max(1, min(10, self.axis.get_tick_space()))
        for nbins in range(most, 0, -1):
            yield ticker.MaxNLocator(nbins=nbins, steps=[1, 2, 2.5, 5, 10])

    def _fits(self, ticks: Sequence[float], vmin: float, vmax: float) -> bool:
        axis = self.axis
        lo, hi = sorted((vmin, vmax))
        slack = (hi - lo) * 1e-9
        shown = sorted(v for v in ticks if lo - slack <= v <= hi + slack)
        if len(shown) < 2:
            return True
        scaled = axis.get_transform().transform(np.asarray([lo, hi, *shown], dtype=float))
        box = axis.axes.bbox
        length = (box.width if axis.axis_name == "x" else box.height) * 72 / axis.figure.dpi
        if not np.all(np.isfinite(scaled)) or scaled[1] == scaled[0]:
            return True
        where = (scaled[2:] - scaled[0]) / (scaled[1] - scaled[0]) * length
        em = self._font.get_size_in_points()
        if axis.axis_name == "x":
            widths = np.array([self._width(self._label(v)) for v in shown])
            needed = (widths[:-1] + widths[1:]) / 2 + 1.5 * em
        else:
            needed = np.full(len(shown) - 1, 1.5 * em)
        return bool(np.all(np.diff(where) >= needed))

    def _width(self, text: str) -> float:
        """Width of ``text`` in points, with a little room for the renderer's hinting."""
        width, _, _ = text_to_path.get_text_width_height_descent(text, self._font, ismath=False)
        return 1.05 * width
