"""The HTML pages of a run folder: one report per notebook (no code) and the index page.

Both are self-contained: figures are embedded as base64 images, styles are inline, and nothing
is requested from the internet (nbconvert's default page asks public CDNs for require.js, MathJax
and Mermaid; the kit's template drops them). Output is deterministic for the same notebook.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import nbformat
import pandas as pd

from helpers.messages import column_label, t, t_or, value_label
from helpers.model import event_span
from helpers.results import fmt_date, fmt_number, fmt_pct, top_gaps

TEMPLATES = Path(str(resources.files("helpers") / "templates"))
NB_TEMPLATE = "smarketing_report"


SHARE_PARAMETERS = frozenset({"marketing_share", "min_acceptance_rate"})  # shown as percentages


def notebook_title(name: str, lang: str) -> str:
    """A notebook's title from the catalogue (``report.title_<name>``), else its name."""
    key = f"report.title_{name}"
    return t_or(key, name, lang)


def format_value(value: Any, lang: str, name: str = "") -> str:
    """A parameter value as readers expect it (lists joined, an unset value explained, shares
    as percentages, notebooks by their titles)."""
    if name in SHARE_PARAMETERS and isinstance(value, int | float):
        return fmt_pct(float(value), lang)
    if name == "notebooks" and isinstance(value, list | tuple):
        return ", ".join(notebook_title(str(v), lang) for v in value)
    if value is None:
        key = f"report.unset_{name}"
        return t_or(key, t("report.value_unset", lang), lang)
    if isinstance(value, bool):
        return t("common.yes" if value else "common.no", lang)
    if isinstance(value, list | tuple | Mapping) and not value:
        empty = f"report.empty_{name}"  # "nessuna" unità: the word agrees with its noun
        return t_or(empty, t("common.none", lang), lang)
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, Mapping):
        return "; ".join(f"{k}: {format_value(v, lang)}" for k, v in value.items())
    if isinstance(value, float) and value.is_integer() and abs(value) >= 1000:
        return fmt_number(value, lang)
    if isinstance(value, float) and lang == "it":
        return f"{value:g}".replace(".", ",")
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


EVENT_COLUMNS: dict[str, tuple[str, ...]] = {
    "leads": ("created_at",),
    "stage_history": ("entered_at",),
    "opportunities": ("created_at", "closed_at"),
    "activities": ("at",),
}


def data_period(crm: Any, now: Any = None) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """The first and last event date in the canonical tables (leads created, stages entered,
    deals opened and closed, activities); ``(None, None)`` when there is none.

    Dates after ``now`` (the current time by default; the validation flags them) and the close
    dates of open deals (expected, not past) are left out: they never end the period.
    """
    columns = []
    for table, names in EVENT_COLUMNS.items():
        frame = getattr(crm, table, None)
        if frame is None:
            continue
        for name in (n for n in names if n in frame.columns):
            expected = name == "closed_at" and "outcome" in frame.columns
            columns.append(frame.loc[frame["outcome"] != "open", name] if expected else frame[name])
    return event_span(columns, now)


def period_line(config: Any, lang: str, data_range: tuple[Any, Any] = (None, None)) -> str:
    """The subtitle of the index page: the configured period, completed from the data."""
    start = config.period_start or data_range[0]
    end = config.period_end or data_range[1]
    if start is None or end is None:
        return t("report.period_unknown", lang)
    from_data = config.period_start is None or config.period_end is None
    key = "report.period_data" if from_data else "report.period"
    return t(key, lang, start=fmt_date(start, lang), end=fmt_date(end, lang))


def parameter_label(name: str, lang: str) -> str:
    """The readable name of a notebook parameter (``report.param_<name>``), else the name."""
    key = f"report.param_{name}"
    return t_or(key, name, lang)


def _unit_values(value: Any, unit: str, lang: str) -> Any:
    """Programme units (a list, or units with their start dates) with the kit's own values
    named in words and dates written the way readers of ``lang`` write them."""
    if isinstance(value, Mapping):
        return {value_label(unit, k, lang): fmt_date(v, lang) if v else v for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [value_label(unit, v, lang) for v in value]
    return value


def parameters_markdown(parameters: Mapping[str, Any], lang: str) -> str:
    """The run's parameters as a Markdown table, in the run's language."""
    lines = [
        f"### {t('report.parameters_title', lang)}",
        "",
        f"| {t('report.parameter', lang)} | {t('report.value', lang)} |",
        "|---|---|",
    ]
    unit = parameters.get("programme_unit")
    for name, value in sorted(parameters.items()):
        if unit and name in ("treated", "comparison"):  # the units named as the report names them
            value = _unit_values(value, str(unit), lang)
        elif unit and name == "programme_unit":
            value = column_label(str(unit), lang)
        text = format_value(value, lang, name).replace("|", "\\|")
        lines.append(f"| {parameter_label(name, lang)} | {text} |")
    return "\n".join(lines)


def report_notebook(nb: nbformat.NotebookNode, parameters: Mapping[str, Any], lang: str) -> Any:
    """A copy of an executed notebook ready for readers.

    The injected-parameters cell is dropped and the ``parameters`` cell becomes a table of the
    values used; stderr streams (warnings, file paths) are dropped.
    """
    out = nbformat.from_dict(nb)
    cells = []
    for cell in out.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if "injected-parameters" in tags:
            continue
        if "parameters" in tags:
            cells.append(nbformat.v4.new_markdown_cell(parameters_markdown(parameters, lang)))
            continue
        if cell.cell_type == "code":
            cell.outputs = [
                o for o in cell.outputs if not (o.output_type == "stream" and o.name == "stderr")
            ]
        cells.append(cell)
    for index, cell in enumerate(cells):  # stable ids: the injected cell's id is random
        cell["id"] = f"cell-{index}"
    out.cells = cells
    return out


@cache
def _exporter() -> Any:
    from nbconvert import HTMLExporter

    return HTMLExporter(
        template_name=NB_TEMPLATE,
        extra_template_basedirs=[str(TEMPLATES)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )


def export_notebook_html(
    executed: Path, out: Path, *, title: str, parameters: Mapping[str, Any], lang: str
) -> Path:
    """Write an executed notebook as a self-contained HTML report without code."""
    nb = nbformat.read(executed, as_version=4)
    nb = report_notebook(nb, parameters, lang)
    nb.metadata["title"] = title
    body, _ = _exporter().from_notebook_node(
        nb,
        resources={
            "metadata": {"name": title},
            "language_code": lang,
            "smk_back_label": t("report.back_to_index", lang),
        },
    )
    out.write_text(body, encoding="utf-8")
    return out


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        keep_trailing_newline=True,
    )


def render_index(
    config: Any,
    modules: Sequence[Mapping[str, Any]],
    results: Mapping[str, Any],
    lang: str,
    parameters: Mapping[str, Any],
    data_range: tuple[Any, Any] = (None, None),
) -> str:
    """The executive summary page: client, period, each module's key numbers, the top gaps.

    An unset period start or end is taken from ``data_range`` (see :func:`data_period`).
    """
    period = period_line(config, lang, data_range)
    titles = {m["name"]: m["title"] for m in modules}
    gaps = [
        {**g, "href": f"{g['notebook']}.html", "source": titles.get(g["notebook"], g["notebook"])}
        for g in top_gaps(results, 3)
    ]
    shown = []
    for module in modules:
        res = module.get("results") or {}
        numbers = res.get("key_numbers") or {}
        shown.append(
            {
                **module,
                "summary": list(res.get("summary") or []),
                "key_numbers": [
                    {"label": v.get("label", k), "value": v.get("value", "")}
                    for k, v in sorted(numbers.items())
                ],
            }
        )
    labels = {
        k: t(f"report.index_{k}", lang)
        for k in ("gaps", "no_gaps", "modules", "no_numbers", "open_report", "parameters", "files")
    }
    return (
        _environment()
        .get_template("index.html.j2")
        .render(
            lang=lang,
            title=t("report.index_title", lang, client=config.client),
            subtitle=period,
            gaps=gaps,
            modules=shown,
            labels=labels,
            parameters=[
                (parameter_label(k, lang), format_value(v, lang, k)) for k, v in parameters.items()
            ],
        )
    )
