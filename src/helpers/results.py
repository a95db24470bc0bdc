"""Machine-readable results each notebook leaves beside its report, and the notebook narrative.

Every notebook ends with ``write_results(run_dir, "<notebook>", {...})``: JSON with sorted keys,
numpy and pandas values turned into plain ones, written aside then moved into place. The runner
merges them into ``results.json``; the index page and the tests read them back.

A notebook's result dict may carry three conventional keys the index page shows:

- ``key_numbers``: ``{name: {"label": str, "value": str}}`` (already worded in the run's language);
- ``gaps``: ``[{"score": float in [0, 1], "text": str}]`` (larger score, bigger gap);
- ``summary``: a list of sentences.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from helpers.files import replace_atomically
from helpers.messages import t

RESULTS_FOLDER = "results"


def to_jsonable(value: Any) -> Any:
    """``value`` with numpy/pandas scalars, arrays, frames, dates and paths turned into JSON types.

    Non-finite floats (NaN, infinity) become ``None``, so the file is strict JSON.
    """
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [to_jsonable(v) for v in items]
    if isinstance(value, pd.DataFrame):
        return [to_jsonable(r) for r in value.to_dict(orient="records")]
    if isinstance(value, pd.Series):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return [to_jsonable(v) for v in value.tolist()]
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, pd.Timedelta | dt.timedelta):
        return pd.Timedelta(value).total_seconds()
    if isinstance(value, Path):
        return value.as_posix()
    if isinstance(value, str):
        return value
    raise TypeError(f"cannot store a {type(value).__name__} in results")


def dumps(data: Any) -> str:
    """Stable JSON text: sorted keys, two-space indent, UTF-8 characters kept, final newline."""
    return json.dumps(to_jsonable(data), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def write_text_atomic(path: Path, text: str) -> Path:
    """Write ``text`` to a temporary file in the same folder, then rename it over ``path``."""
    return replace_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_results(run_dir: str | Path, notebook_name: str, data: Mapping[str, Any]) -> Path:
    """Store one notebook's results as ``<run_dir>/results/<notebook_name>.json``."""
    return write_text_atomic(Path(run_dir) / RESULTS_FOLDER / f"{notebook_name}.json", dumps(data))


def read_results(run_dir: str | Path) -> dict[str, Any]:
    """Every notebook's results in a run folder, by notebook name (empty when there are none)."""
    folder = Path(run_dir) / RESULTS_FOLDER
    if not folder.is_dir():
        return {}
    return {
        p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))
    }


def top_gaps(results: Mapping[str, Any], n: int = 3) -> list[dict[str, Any]]:
    """The ``n`` largest gaps over all notebooks (by ``score``, ties by text), with their source."""
    gaps = [
        {"notebook": name, "score": float(g["score"]), "text": str(g["text"])}
        for name, data in results.items()
        for g in (data.get("gaps") or [])
        if g.get("score") is not None
    ]
    return sorted(gaps, key=lambda g: (-g["score"], g["text"]))[:n]


def narrative(key: str, lang: str | None = None, /, **values: Any) -> Any:
    """A catalogue message as Markdown for a notebook cell (``display(narrative(...))``)."""
    from IPython.display import Markdown

    return Markdown(t(key, lang, **values))


# --- helpers the notebooks share: data loading, number wording, figures, gaps ---------------


def load_run_data(data_dir: str | Path, canonical_dir: str | Path | None, mapping: str | None):
    """The client's canonical data: the runner's Parquet when given, else the raw export.

    Reading the raw export validates it; an unusable export raises a :class:`KitError` whose
    message says where to see the validation report.
    """
    from helpers.errors import KitError
    from helpers.ingest import load_canonical, load_crm

    if canonical_dir:
        return load_canonical(canonical_dir)
    crm, report = load_crm(data_dir, mapping)
    if not report.usable:
        raise KitError("notebooks.common.data_unusable", path=str(data_dir))
    return crm


def fmt_number(value: float | None, lang: str, decimals: int = 0) -> str:
    """A number the way readers of ``lang`` write it (``1,234.5`` / ``1.234,5``)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return t("common.not_available", lang)
    text = f"{value:,.{decimals}f}"
    if lang == "it":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text


def fmt_date(value: Any, lang: str) -> str:
    """A date as readers of ``lang`` write it (``2018-05-31`` / ``31/05/2018``)."""
    day = pd.Timestamp(value)
    return day.strftime("%d/%m/%Y") if lang == "it" else day.strftime("%Y-%m-%d")


def fmt_signed(value: float, lang: str, decimals: int = 1) -> str:
    """A change with its sign, the way readers of ``lang`` write numbers (``+1.5`` / ``+1,5``)."""
    text = fmt_number(value, lang, decimals)
    return text if text.startswith("-") or not math.isfinite(value) else f"+{text}"


def fmt_pct(value: float | None, lang: str, decimals: int = 0) -> str:
    """A share in [0, 1] as a percentage (``0.256`` -> ``26%``)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return t("common.not_available", lang)
    return f"{fmt_number(100 * value, lang, decimals)}%"


def key_number(label_key: str, value: str, lang: str) -> dict[str, str]:
    """One entry of a notebook's ``key_numbers``, labelled from the catalogue."""
    return {"label": t(label_key, lang), "value": value}


def gap(score: float, key: str, lang: str, /, **values: Any) -> dict[str, Any]:
    """One entry of a notebook's ``gaps``: a score in [0, 1] (clipped) and its sentence."""
    return {"score": round(min(1.0, max(0.0, float(score))), 4), "text": t(key, lang, **values)}


def shortfall(actual: float | None, target: float) -> float:
    """How far ``actual`` falls short of ``target``, as a share of it (0 when it is met)."""
    if actual is None or not target or not math.isfinite(actual):
        return 0.0
    return max(0.0, (target - actual) / target)


def show_figure(fig: Any, run_dir: str | Path, name: str) -> Path:
    """Save ``fig`` as ``<run_dir>/figures/<name>.png``, show that PNG, and close the figure.

    Showing the saved file (rather than relying on the inline backend) keeps the report's image
    identical to the PNG in ``figures/`` and works under ``MPLBACKEND=Agg``.
    """
    import matplotlib.pyplot as plt
    from IPython.display import Image, display

    from helpers.plotting import save_figure

    titles = [fig.get_suptitle()]
    titles += [ax.get_title(loc) for ax in fig.axes for loc in ("left", "center", "right")]
    alt = next((title for title in titles if title), name)
    try:
        path = save_figure(fig, Path(run_dir) / "figures" / f"{name}.png")
    finally:
        plt.close(fig)
    display(Image(data=path.read_bytes(), format="png", metadata={"alt": alt}))
    return path


def show_chart(draw: Callable[[], Any], run_dir: str | Path, name: str, lang: str) -> Path | None:
    """Draw a chart with ``draw()`` and show it (see :func:`show_figure`).

    A chart a plotting function cannot draw on this data (``ValueError``: e.g. an interval it
    cannot show) is reported in one plain sentence instead of stopping the whole report.
    """
    import matplotlib.pyplot as plt

    try:
        return show_figure(draw(), run_dir, name)
    except ValueError as exc:  # raised while building or while rendering the figure
        plt.close("all")
        say(t("notebooks.common.figure_failed", lang, reason=str(exc)))
        return None


def show_table(
    frame: pd.DataFrame, columns: Mapping[str, str], lang: str, *, percent: Sequence[str] = ()
) -> None:
    """Show selected columns of ``frame`` under catalogue headings (``{column: label_key}``).

    Columns named in ``percent`` are shares shown as percentages; other numbers are rounded.
    """
    from IPython.display import HTML, display

    view = frame.loc[:, list(columns)].copy()
    for column in view.columns:
        if column in percent:
            view[column] = [fmt_pct(v, lang, 1) for v in view[column]]
        elif pd.api.types.is_integer_dtype(view[column]):
            view[column] = [fmt_number(v, lang) for v in view[column]]
        elif pd.api.types.is_float_dtype(view[column]):
            view[column] = [fmt_number(v, lang, 1 if abs(v) < 100 else 0) for v in view[column]]
    view = view.rename(columns={c: t(k, lang) for c, k in columns.items()})
    display(HTML(view.to_html(index=False, na_rep="–", border=0)))


def demote_headings(markdown: str, levels: int = 2) -> str:
    """Markdown with every ATX heading ``levels`` deeper (at most ``######``), so a standalone
    document nests under a report section instead of starting new top-level sections."""
    import re

    def deeper(match: re.Match[str]) -> str:
        return "#" * min(6, len(match.group(1)) + levels) + " "

    return re.sub(r"^(#{1,6}) ", deeper, markdown, flags=re.MULTILINE)


def say(text: str) -> None:
    """Show a sentence a helper already worded (``effect.sentence(lang)``) as Markdown."""
    from IPython.display import Markdown, display

    display(Markdown(text))
