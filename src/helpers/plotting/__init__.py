"""One consistent chart look for notebooks, reports and widgets.

Domain plots live in submodules (``plotting.funnel``, ``plotting.personas``...); each takes the
result of a computing function and returns a matplotlib Figure without computing anything itself.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import matplotlib.axis
import matplotlib.ticker

matplotlib.use("Agg") if not matplotlib.get_backend().lower().startswith("module://") else None

import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402

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
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, format="png")
    tmp.replace(path)
    return path


def percent_axis(axis: matplotlib.axis.Axis, lang: str) -> None:
    """Tick labels as percentages written the way readers of ``lang`` write them."""
    from helpers.results import fmt_pct  # results imports plotting: resolve at call time

    axis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: fmt_pct(v, lang, 0)))


def number_axis(axis: matplotlib.axis.Axis, lang: str) -> None:
    """Tick labels as plain numbers in ``lang``'s format (no scientific offset like ``1e7``)."""
    from helpers.results import fmt_number

    axis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: fmt_number(v, lang)))
