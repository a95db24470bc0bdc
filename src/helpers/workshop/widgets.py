"""Interactive workshop tools (ipywidgets) over the kit's analysis helpers.

"Separating concerns": every tool is a pure function that computes (``compute_sla``,
``explore_funnel``, ``persona_card``, ``add_answers``/``add_words`` + ``tally_survey``/
``tally_words``) and a builder that wires widgets to it through ``observe(..., names="value")``
or a button. Tests call the pure functions directly and drive the widget objects in Python.
A builder returns a :class:`Tool`: ``tool.widget`` to display, ``tool.controls`` by name,
``tool.output`` (an HTML widget) and ``tool.state`` (what the tool holds, e.g. the entered cards).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

import ipywidgets as W
import pandas as pd

from helpers import assessment, funnel, personas, sla
from helpers.assessment import Instrument, Lexicon, SurveyScores, WordScores
from helpers.errors import KitError
from helpers.messages import column_label, t, t_count, value_label
from helpers.model import CrmData
from helpers.personas import PersonaCard
from helpers.plotting.funnel import plot_funnel
from helpers.results import fmt_number, fmt_pct
from helpers.sla import CapacityVerdict, ReverseFunnel, SlaTerms, StageRates
from helpers.stages import StageModel, reason_label, stage_label, step_label

# --------------------------------------------------------------------------------------------
# the tool container
# --------------------------------------------------------------------------------------------


@dataclass
class Tool:
    """A built workshop tool: the widget tree plus handles for tests and notebooks."""

    widget: W.Widget
    controls: dict[str, W.Widget]
    output: W.HTML
    state: dict[str, Any] = field(default_factory=dict)
    refresh: Callable[[], None] = lambda: None

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)


def _esc(value: Any) -> str:
    return html.escape(str(value))


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]], css: str = "smk-table") -> str:
    head = "".join(f"<th>{_esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_esc(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _missing(value: Any) -> bool:
    return value is None or bool(pd.isna(value))


# --------------------------------------------------------------------------------------------
# funnel explorer
# --------------------------------------------------------------------------------------------

SEGMENT_COLUMNS: tuple[str, ...] = ("source", "channel", "persona", "segment", "region")
ALL = "__all__"


def segment_columns(crm: CrmData) -> list[str]:
    """The lead columns a room can segment the funnel by (those present and not all empty)."""
    leads = crm.leads
    return [c for c in SEGMENT_COLUMNS if c in leads.columns and leads[c].notna().any()]


def segment_values(crm: CrmData, column: str) -> list[str]:
    """The values of ``column``, most frequent first (ties alphabetically)."""
    counts = crm.leads[column].dropna().astype(str).value_counts()
    return sorted(counts.index, key=lambda v: (-counts[v], v))


def filter_crm(crm: CrmData, column: str | None, value: str | None) -> CrmData:
    """The same data restricted to the leads whose ``column`` equals ``value`` (all if None)."""
    if not column or value in (None, ALL):
        return crm
    leads = crm.leads.loc[crm.leads[column].astype(str) == value]
    ids = set(leads["lead_id"])
    tables = {}
    for name, table in crm.tables().items():
        if name == "leads":
            continue
        if "lead_id" in table.columns:
            table = table.loc[table["lead_id"].isin(ids)]
        tables[name] = table
    return CrmData(leads=leads, **tables, stage_model=crm.stage_model)


@dataclass(frozen=True)
class FunnelView:
    """What the funnel explorer shows for one segment."""

    column: str | None
    value: str | None
    summary: pd.DataFrame
    bottlenecks: pd.DataFrame | None
    leak: str  # one sentence: the biggest leak, or why there is none
    model: StageModel | None = field(default=None, repr=False, compare=False)  # for labels

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "value": self.value,
            "summary": self.summary.to_dict("records"),
            "leak": self.leak,
        }


def explore_funnel(
    crm: CrmData, column: str | None = None, value: str | None = None, lang: str = "en"
) -> FunnelView:
    """Funnel summary and ranked bottlenecks of one segment (``helpers.funnel``)."""
    part = filter_crm(crm, column, value)
    if part.leads.empty:
        empty = pd.DataFrame(columns=["stage", "reached"])
        no_data = t("workshop.funnel.no_data", lang)
        return FunnelView(column, value, empty, None, no_data, crm.stage_model)
    summary = funnel.funnel_summary(part)
    ranked: pd.DataFrame | None
    try:
        ranked = funnel.bottlenecks(part, lang=lang)
    except KitError:  # no won deals in the segment: nothing to value the leaks with
        ranked = None
    if ranked is not None and not ranked.empty and ranked["lost"].iloc[0] > 0:
        leak = t("workshop.funnel.leak", lang, step=ranked["explanation"].iloc[0])
    else:
        leak = t("workshop.funnel.no_leak", lang)
    return FunnelView(column, value, summary, ranked, leak, crm.stage_model)


def biggest_leak(view: FunnelView) -> tuple[str, str] | None:
    """The (from, to) stages of the view's costliest handoff, or None when none loses leads."""
    ranked = view.bottlenecks
    if ranked is None or ranked.empty or not ranked["lost"].iloc[0] > 0:
        return None
    return str(ranked["from_stage"].iloc[0]), str(ranked["to_stage"].iloc[0])


def segment_leaks(crm: CrmData, column: str, lang: str = "en") -> pd.DataFrame:
    """Per value of ``column``: its biggest leak and whether all leads' biggest leak is the same.

    Columns ``value``, ``from_stage``, ``to_stage`` (missing when the segment loses no leads)
    and ``same_as_whole``; the first row (``value`` missing) is all leads. Exercise 4.2.
    """
    whole = biggest_leak(explore_funnel(crm, lang=lang))
    rows = []
    for value in [None, *segment_values(crm, column)]:
        leak = whole if value is None else biggest_leak(explore_funnel(crm, column, value, lang))
        rows.append(
            {
                "value": value,
                "from_stage": leak[0] if leak else None,
                "to_stage": leak[1] if leak else None,
                "same_as_whole": leak == whole,
            }
        )
    return pd.DataFrame(rows, columns=["value", "from_stage", "to_stage", "same_as_whole"])


def segment_leaks_html(
    leaks: pd.DataFrame, column: str, lang: str = "en", model: StageModel | None = None
) -> str:
    """:func:`segment_leaks` as a table in ``lang``: segment, biggest leak, same as all leads."""
    header = [
        column_label(column, lang, heading=True),
        t("workshop.funnel.col_leak", lang),
        t("workshop.funnel.col_same", lang),
    ]
    rows = [
        (
            t("workshop.funnel.all", lang)
            if _missing(r.value)
            else value_label(column, r.value, lang),
            t("workshop.funnel.none", lang)
            if _missing(r.from_stage)
            else step_label(r.from_stage, r.to_stage, lang, model),
            t("workshop.funnel.yes" if r.same_as_whole else "workshop.funnel.no", lang),
        )
        for r in leaks.itertuples()
    ]
    return f'<div class="smk-result">{_table(header, rows)}</div>'


def funnel_html(view: FunnelView, lang: str = "en") -> str:
    """The explorer's result panel: counts per stage and the biggest leak."""
    if view.summary.empty:
        return f'<div class="smk-result"><p class="smk-leak">{_esc(view.leak)}</p></div>'
    rows = []
    for r in view.summary.itertuples():
        step = "" if pd.isna(r.step_rate) else fmt_pct(float(r.step_rate), lang)
        rows.append((stage_label(r.stage, lang, view.model), fmt_number(r.reached, lang), step))
    header = [t(f"workshop.funnel.{k}", lang) for k in ("col_stage", "col_reached", "col_step")]
    return (
        '<div class="smk-result">'
        + _table(header, rows)
        + f'<p class="smk-leak">{_esc(view.leak)}</p></div>'
    )


def _funnel_figure_html(view: FunnelView, lang: str) -> str:
    """The funnel chart (``helpers.plotting.funnel.plot_funnel``) as an inline PNG."""
    if view.summary.empty:
        return ""
    import base64
    import io

    import matplotlib.pyplot as plt

    fig = plot_funnel(view.summary, lang=lang)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img class="smk-chart" alt="" src="data:image/png;base64,{data}"/>'


def funnel_explorer(
    crm: CrmData, lang: str = "en", columns: Sequence[str] | None = None, chart: bool = True
) -> Tool:
    """Pick a segment column and value: the funnel and its biggest leak update."""
    columns = list(columns) if columns is not None else segment_columns(crm)
    by = W.Dropdown(
        options=[(column_label(c, lang, heading=True), c) for c in columns],
        description=t("workshop.funnel.segment_by", lang),
    )
    value = W.Dropdown(description=t("workshop.funnel.segment_value", lang))
    output = W.HTML()
    state: dict[str, Any] = {}

    def set_values(*_: Any) -> None:
        options = [(t("workshop.funnel.all", lang), ALL)]
        if by.value:
            options += [(value_label(by.value, v, lang), v) for v in segment_values(crm, by.value)]
        value.options = options
        value.value = ALL

    def refresh(*_: Any) -> None:
        view = explore_funnel(crm, by.value, value.value, lang)
        state["view"] = view
        figure = _funnel_figure_html(view, lang) if chart else ""
        output.value = funnel_html(view, lang) + figure

    by.observe(set_values, names="value")
    value.observe(refresh, names="value")
    set_values()
    refresh()
    header = W.HTML(
        f"<h3>{_esc(t('workshop.funnel.title', lang))}</h3>"
        f"<p>{_esc(t('workshop.funnel.intro', lang))}</p>"
    )
    box = W.VBox([header, W.HBox([by, value]), output])
    return Tool(box, {"by": by, "value": value}, output, state, refresh)


# --------------------------------------------------------------------------------------------
# SLA calculator
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlaInputs:
    """The calculator's inputs; defaults are the playbook's worked example (exercise 3.1)."""

    revenue_target: float = 1_200_000.0  # for the whole period, in the client's currency
    marketing_share: float = 0.5  # share of the target expected from marketing's leads
    avg_deal_size: float = 15_000.0
    lead_to_mql: float = 0.20
    mql_to_sal: float = 0.80
    sal_to_sql: float = 0.50
    sql_to_opportunity: float = 0.50
    win_rate: float = 0.25  # opportunity -> won
    months: int = 12
    reps: int = 4
    sales_cycle_days: int = 60
    attempts_per_lead: int = 6
    attempts_per_rep_per_month: int = 150  # attempts a rep can spend on new leads

    def rates(self) -> dict[str, float]:
        """Stage rates keyed as ``helpers.sla`` expects (``"<role>_to_<role>"``)."""
        return {
            "lead_to_mql": self.lead_to_mql,
            "mql_to_sal": self.mql_to_sal,
            "sal_to_sql": self.sal_to_sql,
            "sql_to_opportunity": self.sql_to_opportunity,
            "opportunity_to_won": self.win_rate,
        }

    @classmethod
    def from_rates(cls, rates: dict[str, float], **values: Any) -> SlaInputs:
        """Inputs whose stage rates come from ``helpers.sla.rates_from_history`` (or a dict)."""
        keys = {"lead_to_mql", "mql_to_sal", "sal_to_sql", "sql_to_opportunity"}
        found = {k: float(v) for k, v in rates.items() if k in keys}
        if "opportunity_to_won" in rates:
            found["win_rate"] = float(rates["opportunity_to_won"])
        return cls(**{**found, **values})


@dataclass(frozen=True)
class SlaOutcome:
    """The calculator's result: the reverse funnel and the capacity verdict."""

    inputs: SlaInputs
    funnel: ReverseFunnel
    capacity: CapacityVerdict

    @property
    def mql_per_rep_per_month(self) -> int:
        return int(self.funnel.per_rep_per_month["mql"])

    @property
    def mql_per_month(self) -> int:
        return int(self.funnel.per_month["mql"])

    def to_dict(self) -> dict[str, Any]:
        return {
            "inputs": asdict(self.inputs),
            "funnel": self.funnel.to_dict(),
            "capacity": self.capacity.to_dict(),
        }


def compute_sla(inputs: SlaInputs) -> SlaOutcome:
    """Reverse funnel and capacity check for ``inputs`` (``helpers.sla``)."""
    funnel = sla.reverse_funnel(
        inputs.revenue_target,
        inputs.marketing_share,
        inputs.avg_deal_size,
        inputs.rates(),
        months=inputs.months,
        reps=inputs.reps,
        sales_cycle_days=inputs.sales_cycle_days,
    )
    capacity = sla.capacity_check(
        funnel.needed["mql"] / inputs.months,
        inputs.attempts_per_lead,
        inputs.reps,
        inputs.attempts_per_rep_per_month,
    )
    return SlaOutcome(inputs, funnel, capacity)


def mql_range(inputs: SlaInputs, rates: StageRates) -> tuple[int, int] | None:
    """MQLs needed in the period under the high and the low end of ``rates``' 95% intervals.

    ``rates`` is a ``helpers.sla.StageRates`` from ``rates_from_history``; None when it has no
    intervals. Targets and sizes come from ``inputs``.
    """
    funnel = sla.reverse_funnel(
        inputs.revenue_target,
        inputs.marketing_share,
        inputs.avg_deal_size,
        rates,
        months=inputs.months,
        reps=inputs.reps,
        sales_cycle_days=inputs.sales_cycle_days,
    )
    return tuple(funnel.range["mql"]) if "mql" in funnel.range else None


def mql_range_sentence(inputs: SlaInputs | None, rates: StageRates | None, lang: str = "en") -> str:
    """The catalogue sentence on the MQL range under ``rates``' intervals for ``inputs`` (pass
    the calculator's current ones, ``tool.state["inputs"]``); "" when there is no range."""
    if inputs is None or rates is None or not rates.low:
        return ""
    try:
        bounds = mql_range(inputs, rates)
    except KitError:  # inputs the calculator itself rejects
        return ""
    if bounds is None:
        return ""
    low, high = bounds
    return t(
        "workshop.sla.range_line", lang, low=fmt_number(low, lang), high=fmt_number(high, lang)
    )


def cycle_sentence(outcome: SlaOutcome, lang: str = "en") -> str:
    """When the MQLs for a month's revenue must arrive, given the sales cycle (``shift_months``)."""
    return sla.lead_time_sentence(
        outcome.inputs.sales_cycle_days, outcome.funnel.shift_months, lang
    )


def capacity_sentence(outcome: SlaOutcome, lang: str = "en") -> str:
    """The capacity verdict in words, naming the reps ("With 4 sales reps: It fits...")."""
    reps = outcome.inputs.reps
    return t_count(
        "workshop.sla.capacity_with_reps",
        reps,
        lang,
        reps=fmt_number(reps, lang),
        sentence=outcome.capacity.sentence(lang),
    )


def sla_terms(outcome: SlaOutcome, **terms: Any) -> SlaTerms:
    """``helpers.sla.SlaTerms``: marketing's volume from the calculator, the rest from ``terms``."""
    return sla.SlaTerms(
        mql_per_month=outcome.mql_per_month,
        mql_per_rep_per_month=outcome.mql_per_rep_per_month,
        **terms,
    )


def sla_html(outcome: SlaOutcome, lang: str = "en") -> str:
    """The calculator's result panel: headline target, the funnel table and the verdict."""
    f = outcome.funnel
    target = fmt_number(outcome.mql_per_rep_per_month, lang)
    headline = t("workshop.sla.headline", lang, value=target)
    value = f'<span class="smk-mql-target">{_esc(target)}</span>'
    headline = _esc(headline).replace(_esc(target), value, 1)
    total = t_count(
        "workshop.sla.headline_total",
        f.months,
        lang,
        mql=fmt_number(f.rounded["mql"], lang),
        months=fmt_number(f.months, lang),
        per_month=fmt_number(f.per_month["mql"], lang),
        leads=fmt_number(f.rounded.get("lead", f.rounded["mql"]), lang),
    )
    header = [
        t(f"workshop.sla.{k}", lang)
        for k in ("col_stage", "col_total", "col_per_month", "col_per_rep_month")
    ]
    rows = [
        (
            stage_label(stage, lang),
            fmt_number(f.rounded[stage], lang),
            fmt_number(f.per_month[stage], lang),
            fmt_number(f.per_rep_per_month[stage], lang),
        )
        for stage in f.stages
    ]
    verdict = outcome.capacity.verdict
    return (
        f'<div class="smk-result" data-mql-per-rep-month="{outcome.mql_per_rep_per_month}">'
        f'<p class="smk-big">{headline}</p><p>{_esc(total)}</p>'
        f'<p class="smk-cycle">{_esc(cycle_sentence(outcome, lang))}</p>'
        + _table(header, rows)
        + f"<h4>{_esc(t('workshop.sla.capacity_title', lang))}</h4>"
        f'<p class="smk-capacity smk-{verdict}">{_esc(outcome.capacity.sentence(lang))}</p>'
        f"<p><em>{_esc(t('workshop.sla.rates_note', lang))}</em></p></div>"
    )


# name -> (kind, min, max, step, readout format); kind "int", "float" or "pct"
SLA_CONTROLS: dict[str, tuple[str, float, float, float, str]] = {
    "revenue_target": ("float", 50_000, 20_000_000, 50_000, ",.0f"),
    "marketing_share": ("pct", 0.05, 1.0, 0.05, ".0%"),
    "avg_deal_size": ("float", 500, 200_000, 500, ",.0f"),
    "lead_to_mql": ("pct", 0.01, 1.0, 0.01, ".0%"),
    "mql_to_sal": ("pct", 0.01, 1.0, 0.01, ".0%"),
    "sal_to_sql": ("pct", 0.01, 1.0, 0.01, ".0%"),
    "sql_to_opportunity": ("pct", 0.01, 1.0, 0.01, ".0%"),
    "win_rate": ("pct", 0.01, 1.0, 0.01, ".0%"),
    "months": ("int", 1, 24, 1, "d"),
    "reps": ("int", 1, 50, 1, "d"),
    "sales_cycle_days": ("int", 0, 365, 5, "d"),
    "attempts_per_lead": ("int", 1, 15, 1, "d"),
    "attempts_per_rep_per_month": ("int", 10, 2_000, 10, "d"),
}


# room for the slider labels: the longest (Italian "Tentativi/mese per venditore") fits on one
# line; a longer one wraps (SLIDER_CSS) instead of being cut off with an ellipsis
SLIDER_LABEL_WIDTH = "15em"
SLIDER_WIDTH = "36em"
SLIDER_CSS = (
    "<style>.smk-sla .widget-slider .widget-label { white-space: normal; overflow: visible;"
    " text-overflow: clip; line-height: 1.2; height: auto; }"
    " .smk-sla .widget-slider { height: auto; min-height: var(--jp-widgets-inline-height);"
    " align-items: center; }</style>"
)


def _slider(name: str, value: float, lang: str) -> W.Widget:
    kind, lo, hi, step, fmt = SLA_CONTROLS[name]
    if lang != "en":  # the readout cannot follow the language: no "1,000" an Italian reads as 1
        fmt = fmt.replace(",", "")
    label = t(f"workshop.sla.{name}", lang)
    common = {
        "description": label,
        "tooltip": label,
        "continuous_update": False,
        "readout_format": fmt,
        "style": {"description_width": SLIDER_LABEL_WIDTH},
        "layout": W.Layout(width=SLIDER_WIDTH),
    }
    if kind == "int":
        slider = W.IntSlider(value=int(value), min=int(lo), max=int(hi), step=int(step), **common)
    else:
        slider = W.FloatSlider(value=float(value), min=lo, max=hi, step=step, **common)
    slider.add_class(f"smk-{name.replace('_', '-')}")
    return slider


def inputs_from_controls(controls: dict[str, W.Widget], base: SlaInputs) -> SlaInputs:
    """The inputs the sliders currently show."""
    return replace(base, **{name: controls[name].value for name in SLA_CONTROLS})


def sla_calculator(lang: str = "en", inputs: SlaInputs | None = None) -> Tool:
    """Sliders for every input; the MQL target and the capacity verdict update live."""
    base = inputs or SlaInputs()
    controls = {f.name: _slider(f.name, getattr(base, f.name), lang) for f in fields(SlaInputs)}
    output = W.HTML()
    output.add_class("smk-sla-output")
    state: dict[str, Any] = {}

    def refresh(*_: Any) -> None:
        current = inputs_from_controls(controls, base)
        state["inputs"] = current
        try:
            outcome = compute_sla(current)
        except KitError as exc:
            state["outcome"] = None
            output.value = f'<p class="smk-error">{_esc(exc.message(lang))}</p>'
            return
        state["outcome"] = outcome
        output.value = sla_html(outcome, lang)

    for control in controls.values():
        control.observe(refresh, names="value")
    refresh()
    groups = (
        ("revenue_target", "marketing_share", "avg_deal_size", "months", "sales_cycle_days"),
        ("lead_to_mql", "mql_to_sal", "sal_to_sql", "sql_to_opportunity", "win_rate"),
        ("reps", "attempts_per_lead", "attempts_per_rep_per_month"),
    )
    header = W.HTML(
        SLIDER_CSS + f"<h3>{_esc(t('workshop.sla.title', lang))}</h3>"
        f"<p>{_esc(t('workshop.sla.intro', lang))}</p>"
    )
    columns = W.HBox([W.VBox([controls[n] for n in group]) for group in groups[:2]])
    box = W.VBox([header, columns, W.VBox([controls[n] for n in groups[2]]), output])
    box.add_class("smk-sla")
    return Tool(box, controls, output, state, refresh)


# --------------------------------------------------------------------------------------------
# live questionnaire and word exercise
# --------------------------------------------------------------------------------------------

TEAMS: tuple[str, ...] = ("sales", "marketing")
WAVES: tuple[str, ...] = ("before", "after")
SURVEY_COLUMNS: tuple[str, ...] = ("respondent_id", "team", "wave", "item_id", "score")
WORD_COLUMNS: tuple[str, ...] = ("respondent_id", "team", "wave", "word", "lang")
_SPLIT = re.compile(r"[,;\n]+")


def empty_survey() -> pd.DataFrame:
    """A survey table (``helpers.model.SURVEY_SCHEMA`` columns) with no answers."""
    return pd.DataFrame(
        {c: pd.Series(dtype="int64" if c == "score" else "str") for c in SURVEY_COLUMNS}
    )


def empty_words() -> pd.DataFrame:
    """A words table (``helpers.model.WORDS_SCHEMA`` columns) with no words."""
    return pd.DataFrame({c: pd.Series(dtype="str") for c in WORD_COLUMNS})


def parse_scores(text: str, instrument: Instrument) -> list[int]:
    """The scores typed for one person, checked against the instrument (count and scale)."""
    parts = [p for p in re.split(r"[\s,;]+", text.strip()) if p]
    try:
        scores = [int(p) for p in parts]
    except ValueError:
        scores = []
    lo, hi = instrument.scale_min, instrument.scale_max
    if len(scores) != len(instrument.items) or any(not lo <= s <= hi for s in scores):
        raise KitError("workshop.survey.bad_scores", expected=len(instrument.items), got=text)
    return scores


def add_answers(
    survey: pd.DataFrame,
    respondent: str,
    team: str,
    wave: str,
    scores: Sequence[int],
    instrument: Instrument,
) -> pd.DataFrame:
    """``survey`` with one person's answers added (replacing that person's earlier entry)."""
    keep = ~((survey["respondent_id"] == respondent) & (survey["wave"] == wave))
    rows = pd.DataFrame(
        {
            "respondent_id": respondent,
            "team": team,
            "wave": wave,
            "item_id": list(instrument.item_ids),
            "score": pd.Series(list(scores), dtype="int64"),
        }
    )
    parts = [frame for frame in (survey.loc[keep], rows) if not frame.empty]
    return pd.concat(parts, ignore_index=True).astype({"score": "int64"})


def add_words(
    words: pd.DataFrame, team: str, wave: str, text: str, lang: str, respondent: str = ""
) -> pd.DataFrame:
    """``words`` with the words of ``text`` (separated by commas, semicolons or new lines)."""
    new = [w.strip() for w in _SPLIT.split(text) if w.strip()]
    rows = pd.DataFrame(
        {"respondent_id": respondent or None, "team": team, "wave": wave, "word": new, "lang": lang}
    )
    parts = [frame for frame in (words, rows) if not frame.empty]
    return pd.concat(parts, ignore_index=True) if parts else empty_words()


def tally_survey(
    survey: pd.DataFrame, instrument: Instrument, *, n_boot: int = 500
) -> SurveyScores | None:
    """``helpers.assessment.score_survey`` of the answers so far (None before the first one)."""
    if survey.empty:
        return None
    return assessment.score_survey(survey, instrument, n_boot=n_boot)


def tally_words(
    words: pd.DataFrame, lexicon: Lexicon | None = None, lang: str = "en"
) -> WordScores | None:
    """``helpers.assessment.score_words`` of the words so far (None before the first one)."""
    if words.empty:
        return None
    return assessment.score_words(words, lexicon, lang=lang)


def survey_people(scores: SurveyScores) -> int:
    """How many different people answered, whatever the number of waves they answered in."""
    return int(scores.respondents["respondent_id"].nunique())


def _mean_text(mean: float, low: float, high: float, n: int, lang: str) -> str:
    """A mean total with its interval ("58 (52-65)"); the mean alone for one person."""
    text = fmt_number(mean, lang)
    if n > 1 and not _missing(low) and not _missing(high):
        text += f" ({fmt_number(low, lang)}-{fmt_number(high, lang)})"
    return text


def survey_html(scores: SurveyScores | None, instrument: Instrument, lang: str = "en") -> str:
    """Per team and wave: people, mean total with its interval and band; then the largest gap."""
    if scores is None:
        return f"<p>{_esc(t('workshop.survey.empty', lang))}</p>"
    totals = scores.by_team[scores.by_team["dimension"] == "total"]
    order = {w: i for i, w in enumerate(scores.waves)}
    totals = totals.sort_values(
        ["team", "wave"], key=lambda c: c.map(order) if c.name == "wave" else c
    )
    rows = []
    for r in totals.itertuples():
        band = instrument.band(round(r.mean))
        rows.append(
            (
                t(f"workshop.survey.team_{r.team}", lang),
                t(f"workshop.survey.wave_{r.wave}", lang) if r.wave in WAVES else r.wave,
                fmt_number(r.n, lang),
                _mean_text(r.mean, r.ci_low, r.ci_high, r.n, lang),
                instrument.band_label(band, lang) if band else "",
            )
        )
    header = [
        t(f"workshop.survey.{k}", lang) for k in ("team", "wave", "col_people", "col_total")
    ] + [t("workshop.survey.col_band", lang)]
    people = survey_people(scores)
    # the gap needs an interval, hence at least two people in each team
    per_team = scores.respondents.groupby("team")["respondent_id"].nunique()
    gap = scores.gap_sentence(lang) if all(per_team.get(k, 0) >= 2 for k in TEAMS) else ""
    return (
        f'<div class="smk-result"><p class="smk-survey-count">'
        f"{_esc(t_count('workshop.survey.added', people, lang, count=fmt_number(people, lang)))}"
        "</p>" + _table(header, rows) + f'<p class="smk-gap">{_esc(gap)}</p></div>'
    )


def words_html(scores: WordScores | None, lang: str = "en", top: int = 10) -> str:
    """Per team: the tone sentence (with its interval and caveat) and the most frequent words."""
    if scores is None:
        return f"<p>{_esc(t('workshop.words.empty', lang))}</p>"
    parts = ['<div class="smk-result">']
    for team in TEAMS:
        counts = scores.counts[scores.counts["team"] == team]
        if counts.empty:
            continue
        frequent = (
            counts.groupby(["word", "tone"], observed=True)["n"]
            .sum()
            .reset_index()
            .sort_values(["n", "word"], ascending=[False, True])
            .head(top)
        )
        parts.append(f"<h4>{_esc(t(f'workshop.survey.team_{team}', lang))}</h4>")
        parts.append(f'<p class="smk-tone">{_esc(scores.sentence(team, lang))}</p>')
        header = [t(f"workshop.words.{k}", lang) for k in ("col_word", "col_tone", "col_n")]
        rows = [
            (r.word, t(f"workshop.words.tone_{r.tone}", lang), r.n) for r in frequent.itertuples()
        ]
        parts.append(_table(header, rows))
    parts.append("</div>")
    return "".join(parts)


def _team_dropdown(lang: str) -> W.Dropdown:
    return W.Dropdown(
        options=[(t(f"workshop.survey.team_{k}", lang), k) for k in TEAMS],
        description=t("workshop.survey.team", lang),
    )


def _wave_dropdown(lang: str) -> W.Dropdown:
    return W.Dropdown(
        options=[(t(f"workshop.survey.wave_{k}", lang), k) for k in WAVES],
        description=t("workshop.survey.wave", lang),
    )


def live_survey(
    lang: str = "en", instrument: Instrument | None = None, survey: pd.DataFrame | None = None
) -> Tool:
    """Enter each person's questionnaire; the scores per team and the gap update on every add.

    ``survey``: answers already collected (e.g. the export's survey table) to start from.
    """
    instrument = instrument or assessment.load_instrument()
    respondent = W.Text(description=t("workshop.survey.respondent", lang))
    team, wave = _team_dropdown(lang), _wave_dropdown(lang)
    scores = W.Text(
        description=t("workshop.survey.scores", lang),
        placeholder=t("workshop.survey.scores_help", lang),
        layout=W.Layout(width="40em"),
    )
    add = W.Button(description=t("workshop.survey.add", lang), button_style="primary")
    message = W.HTML()
    output = W.HTML()
    start = empty_survey() if survey is None else survey[list(SURVEY_COLUMNS)].copy()
    state: dict[str, Any] = {"survey": start, "scores": None}

    def refresh() -> None:
        state["scores"] = tally_survey(state["survey"], instrument)
        output.value = survey_html(state["scores"], instrument, lang)

    def on_add(_: Any) -> None:
        try:
            values = parse_scores(scores.value, instrument)
        except KitError as exc:
            message.value = f'<p class="smk-error">{_esc(exc.message(lang))}</p>'
            return
        code = respondent.value.strip() or f"R{state['survey']['respondent_id'].nunique() + 1}"
        state["survey"] = add_answers(
            state["survey"], code, team.value, wave.value, values, instrument
        )
        message.value = ""
        respondent.value, scores.value = "", ""
        refresh()

    add.on_click(on_add)
    refresh()
    header = W.HTML(
        f"<h3>{_esc(t('workshop.survey.title', lang))}</h3>"
        f"<p>{_esc(t('workshop.survey.intro', lang))}</p>"
    )
    controls = {
        "respondent": respondent,
        "team": team,
        "wave": wave,
        "scores": scores,
        "add": add,
        "message": message,
    }
    box = W.VBox([header, W.HBox([respondent, team, wave]), scores, add, message, output])
    return Tool(box, controls, output, state, refresh)


def live_words(
    lang: str = "en", lexicon: Lexicon | None = None, words: pd.DataFrame | None = None
) -> Tool:
    """Enter the words each team writes; counts and tone per team update on every add.

    ``words``: words already collected (e.g. the export's words table) to start from.
    """
    lexicon = lexicon or assessment.load_lexicon()
    team, wave = _team_dropdown(lang), _wave_dropdown(lang)
    entry = W.Textarea(
        description=t("workshop.words.words", lang),
        placeholder=t("workshop.words.words_help", lang),
        layout=W.Layout(width="40em"),
    )
    add = W.Button(description=t("workshop.words.add", lang), button_style="primary")
    output = W.HTML()
    start = empty_words() if words is None else words.reindex(columns=list(WORD_COLUMNS))
    state: dict[str, Any] = {"words": start, "scores": None}

    def refresh() -> None:
        state["scores"] = tally_words(state["words"], lexicon, lang)
        output.value = words_html(state["scores"], lang)

    def on_add(_: Any) -> None:
        state["words"] = add_words(state["words"], team.value, wave.value, entry.value, lang)
        entry.value = ""
        refresh()

    add.on_click(on_add)
    refresh()
    header = W.HTML(
        f"<h3>{_esc(t('workshop.words.title', lang))}</h3>"
        f"<p>{_esc(t('workshop.words.intro', lang))}</p>"
    )
    controls = {"team": team, "wave": wave, "words": entry, "add": add}
    box = W.VBox([header, W.HBox([team, wave]), entry, add, output])
    return Tool(box, controls, output, state, refresh)


# --------------------------------------------------------------------------------------------
# persona builder
# --------------------------------------------------------------------------------------------


def persona_card(values: dict[str, str]) -> PersonaCard:
    """A validated ``helpers.personas.PersonaCard`` from the form (list fields: one per line)."""
    data = {"name": "", "role": "", **{k: "" for k in personas.CARD_LISTS}, **values}
    return personas.card_from_dict(data)


def example_card(lang: str = "en") -> PersonaCard:
    """The facilitator's example card (exercise 2.1), in ``lang``, from the catalogue."""
    fields_ = ("name", "role", "summary", *personas.CARD_LISTS)
    return persona_card({k: t(f"workshop.persona.example.{k}", lang) for k in fields_})


def add_card(cards: Sequence[PersonaCard], card: PersonaCard) -> list[PersonaCard]:
    """``cards`` with ``card`` added, replacing an earlier card of the same name."""
    return [c for c in cards if c.name != card.name] + [card]


def persona_builder(lang: str = "en", cards: Sequence[PersonaCard] = ()) -> Tool:
    """A form whose card renders live (``helpers.personas``); "add" keeps it for the take-home."""
    labels = {
        "name": t("workshop.persona.name", lang),
        "role": t("personas.card_role", lang),
        "summary": t("workshop.persona.summary", lang),
    }
    labels.update({k: t(f"personas.card_{k}", lang) for k in personas.CARD_LISTS})
    wide = W.Layout(width="36em")
    style = {"description_width": "12em"}
    controls: dict[str, W.Widget] = {}
    for key, label in labels.items():
        if key in personas.CARD_LISTS:
            controls[key] = W.Textarea(
                description=label,
                placeholder=t("workshop.persona.one_per_line", lang),
                layout=wide,
                style=style,
            )
        else:
            controls[key] = W.Text(description=label, layout=wide, style=style)
    add = W.Button(description=t("workshop.persona.add", lang), button_style="primary")
    message = W.HTML()
    output = W.HTML()
    state: dict[str, Any] = {"cards": list(cards), "card": None}

    def form() -> dict[str, str]:
        return {key: controls[key].value for key in labels}

    def refresh(*_: Any) -> None:
        try:
            card = persona_card(form())
        except KitError as exc:
            state["card"] = None
            output.value = f'<p class="smk-hint">{_esc(exc.message(lang))}</p>'
            return
        state["card"] = card
        output.value = personas.render_card_html(card, lang)

    def on_add(_: Any) -> None:
        if state["card"] is None:
            message.value = (
                f'<p class="smk-error">{_esc(t("workshop.persona.missing_name", lang))}</p>'
            )
            return
        state["cards"] = add_card(state["cards"], state["card"])
        message.value = (
            f"<p>{_esc(t('workshop.persona.added', lang, count=len(state['cards'])))}</p>"
        )

    for control in controls.values():
        control.observe(refresh, names="value")
    add.on_click(on_add)
    refresh()
    header = W.HTML(
        f"<h3>{_esc(t('workshop.persona.title', lang))}</h3>"
        f"<p>{_esc(t('workshop.persona.intro', lang))}</p>"
    )
    box = W.VBox([header, W.HBox([W.VBox(list(controls.values())), output]), add, message])
    return Tool(box, {**controls, "add": add, "message": message}, output, state, refresh)


def scorecard_html(scorecard: pd.DataFrame, lang: str = "en") -> str:
    """``helpers.personas.persona_scorecard`` as the report shows it
    (:func:`helpers.personas.scorecard_table`), with its note on small-sample medians."""
    table = personas.scorecard_table(scorecard, lang)
    rows = table.itertuples(index=False, name=None)
    note = table.attrs.get("note", "")
    return (
        f'<div class="smk-result">{_table(list(table.columns), list(rows))}'
        + (f'<p class="smk-note">{_esc(note)}</p>' if note else "")
        + "</div>"
    )


def rejections_html(mix: pd.DataFrame, lang: str = "en") -> str:
    """``helpers.personas.rejection_mix`` as a table in ``lang``: reasons as labels, not codes."""
    header = [t("personas.col_persona", lang)]
    header += [t(f"workshop.persona_data.col_{c}", lang) for c in ("reason", "rejected", "share")]
    rows = [
        (
            personas.persona_label(r.persona, lang),
            reason_label(None if r.reason == "unspecified" else r.reason, lang),
            personas.count_cell(r.n, lang),
            personas.rate_cell(r.share, r.ci_low, r.ci_high, lang),
        )
        for r in mix.itertuples()
    ]
    return f'<div class="smk-result">{_table(header, rows)}</div>'
