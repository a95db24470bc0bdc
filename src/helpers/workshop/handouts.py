"""Printable handouts and the workshop's take-home documents, in English and Italian.

Handouts (blank, printed before the session): a persona card, the SLA template, the alignment
questionnaire (from ``helpers.assessment.load_instrument()``) and the word-exercise sheet, each a
self-contained A4 HTML page (no external requests)::

    python -m helpers.workshop.handouts --lang it --out build/handouts

Take-home documents (filled in during the session, written by the workshop notebooks): persona
cards (also as the YAML the report's ``personas:`` setting reads), the SLA to sign, the handoff
action list and the measurement plan (its response time counted as the report counts it). The
builders return text; only :func:`write_text`, :func:`write_handouts` and
:func:`save_persona_cards` touch the disk.
"""

from __future__ import annotations

import argparse
import html
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from helpers import funnel
from helpers.assessment import Instrument, SurveyScores, WordScores, load_instrument
from helpers.errors import MissingTableError
from helpers.messages import LANGUAGES, current_language, t
from helpers.model import CrmData
from helpers.personas import CARD_LISTS, PersonaCard, render_card_html, render_card_markdown
from helpers.results import fmt_number, fmt_pct, write_text_atomic
from helpers.sla import SlaTerms, sla_document
from helpers.stages import step_label
from helpers.workshop import PROJECT_ROOT

HANDOUTS: tuple[str, ...] = ("persona_card", "sla_template", "questionnaire", "word_exercise")
# the catalogue key of each handout's title (``workshop.handouts.<key>``)
HANDOUT_TITLES: dict[str, str] = {
    "persona_card": "persona_title",
    "sla_template": "sla_title",
    "questionnaire": "questionnaire_title",
    "word_exercise": "words_title",
}


def handout_title(name: str, lang: str = "en") -> str:
    """The title a reader sees for handout ``name`` (one of :data:`HANDOUTS`)."""
    return t(f"workshop.handouts.{HANDOUT_TITLES[name]}", lang)


PRINT_CSS = """
@page { size: A4; margin: 15mm; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 11pt; color: #1a1a1a;
       max-width: 180mm; margin: 0 auto; }
h1 { font-size: 18pt; margin: 0 0 4mm 0; }
h2 { font-size: 13pt; margin: 6mm 0 2mm 0; }
h3 { font-size: 12pt; margin: 4mm 0 1mm 0; }
p.intro { margin: 0 0 4mm 0; }
p.note { font-size: 9pt; color: #555; }
.line { border-bottom: 1px solid #999; height: 9mm; }
.box { border: 1px solid #999; border-radius: 3mm; padding: 2mm 4mm; margin-bottom: 3mm;
       page-break-inside: avoid; break-inside: avoid; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #bbb; padding: 1.5mm 2mm; vertical-align: top; }
th { background: #f0f0f0; text-align: left; }
td.scale { text-align: center; width: 9mm; }
.signatures { margin-top: 14mm; }
a.anchor-link { display: none; }
/* one handout = one A4 page: 180 x 267 mm inside the margins, in either language */
.handout h1 { font-size: 16pt; margin: 0 0 3mm 0; }
.persona_card h3 { font-size: 11pt; margin: 0 0 0.5mm 0; }
.card-grid { display: grid; grid-template-columns: 1fr 1fr; column-gap: 3mm; }
.questionnaire p { margin: 0 0 2mm 0; }
table.items { font-size: 9pt; line-height: 1.2; }
table.items th, table.items td { padding: 0.6mm 1.2mm; }
table.items td.scale, table.items th.scale { width: 6.5mm; padding: 0.6mm 0; text-align: center; }
table.items tr.dimension th { background: none; border-left: 0; border-right: 0;
                              font-size: 10pt; padding: 1.8mm 0 0.6mm 0; }
@media print { .no-print { display: none; } section { page-break-after: always; } }
"""


def _e(text: Any) -> str:
    return html.escape(str(text))


def page(title: str, body: str, lang: str, body_class: str = "") -> str:
    """A complete, self-contained HTML page with the print stylesheet; ``body_class="handout"``
    for a blank handout, laid out to print on one A4 page (plus the handout's name)."""
    opening = f'<body class="{_e(body_class)}">' if body_class else "<body>"
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_e(title)}</title>\n<style>{PRINT_CSS}</style>\n</head>\n{opening}\n"
        f"{body}\n</body>\n</html>\n"
    )


def _lines(n: int) -> str:
    return '<div class="line"></div>' * n


# --------------------------------------------------------------------------------------------
# blank handouts
# --------------------------------------------------------------------------------------------


def persona_card_handout(lang: str = "en") -> str:
    """A blank persona card: the same fields as ``helpers.personas.PersonaCard``."""
    title = t("workshop.handouts.persona_title", lang)
    parts = [
        f"<h1>{_e(title)}</h1>",
        f'<p class="intro">{_e(t("workshop.handouts.persona_intro", lang))}</p>',
        f'<div class="box"><h3>{_e(t("workshop.persona.name", lang))}</h3>{_lines(1)}',
        f"<h3>{_e(t('personas.card_role', lang))}</h3>{_lines(1)}",
        f"<h3>{_e(t('workshop.persona.summary', lang))}</h3>{_lines(1)}</div>",
    ]
    parts.append('<div class="card-grid">')
    for key in CARD_LISTS:  # two columns of boxes, four lines each: the card fits one page
        parts.append(f'<div class="box"><h3>{_e(t(f"personas.card_{key}", lang))}</h3>')
        parts.append(_lines(4) + "</div>")
    parts.append("</div>")
    return page(title, "\n".join(parts), lang, "handout persona_card")


def sla_template_handout(lang: str = "en") -> str:
    """The SLA with blanks to fill in together, and the signature lines."""
    title = t("workshop.handouts.sla_title", lang)

    def k(name: str) -> str:
        return _e(t(f"workshop.handouts.{name}", lang))

    body = f"""<h1>{_e(title)}</h1>
<p class="intro">{k("sla_intro")}</p>
<div class="box"><h2>{k("sla_marketing")}</h2>
<p>{k("sla_marketing_volume")}</p>
<p>{k("sla_marketing_quality")}</p>
<p>{k("sla_definition")}</p></div>
<div class="box"><h2>{k("sla_sales")}</h2>
<p>{k("sla_sales_first_touch")}</p>
<p>{k("sla_sales_attempts")}</p>
<p>{k("sla_sales_disposition")}</p></div>
<div class="box"><p>{k("sla_review")}</p></div>
<div class="signatures"><p>{k("sla_signatures")}</p>{_lines(2)}</div>"""
    return page(title, body, lang, "handout sla_template")


def questionnaire_handout(lang: str = "en", instrument: Instrument | None = None) -> str:
    """The alignment questionnaire: every statement of the instrument with a 1-5 scale."""
    instrument = instrument or load_instrument()
    title = t("workshop.handouts.questionnaire_title", lang)
    scale = range(instrument.scale_min, instrument.scale_max + 1)
    head = "".join(f'<th class="scale">{s}</th>' for s in scale)
    parts = [
        f"<h1>{_e(title)}</h1>",
        f'<p class="intro">{_e(t("workshop.handouts.questionnaire_intro", lang))}</p>',
        f"<p><strong>{_e(t('workshop.handouts.questionnaire_team', lang))}</strong></p>",
    ]
    # one table, the scale heading once, each dimension a heading row: one A4 page
    groups = []
    for dimension, group in instrument.to_frame(lang).groupby("dimension", sort=False):
        rows = "".join(
            f'<tr data-item="{_e(r.item_id)}"><td>{_e(r.item_id[1:].lstrip("0"))}. '
            f"{_e(r.text)}</td>" + '<td class="scale">☐</td>' * len(scale) + "</tr>"
            for r in group.itertuples()
        )
        heading = (
            f'<tr class="dimension"><th colspan="{len(scale) + 1}" scope="rowgroup">'
            f"{_e(dimension)}</th></tr>"
        )
        groups.append(f"<tbody>{heading}{rows}</tbody>")
    parts.append(
        f'<table class="items"><thead><tr>'
        f"<th>{_e(t('workshop.handouts.col_item', lang))}</th>{head}</tr></thead>"
        + "".join(groups)
        + "</table>"
    )
    source = instrument.source.get(lang) or t("workshop.handouts.questionnaire_source", lang)
    parts.append(f'<p class="note">{_e(source)}</p>')
    return page(title, "\n".join(parts), lang, "handout questionnaire")


def word_exercise_handout(lang: str = "en", words: int = 5) -> str:
    """The word-exercise sheet: team, five lines, and the note on the 87% claim."""
    title = t("workshop.handouts.words_title", lang)
    body = (
        f"<h1>{_e(title)}</h1>"
        f'<p class="intro">{_e(t("workshop.handouts.words_intro", lang))}</p>'
        f"<p><strong>{_e(t('workshop.handouts.words_team', lang))}</strong></p>"
        f'<div class="box"><h3>{_e(t("workshop.handouts.words_other", lang))}</h3>'
        + "".join(f'<div class="line">{i}.</div>' for i in range(1, words + 1))
        + f'</div><p class="note">{_e(t("assessment.claim_87", lang))}</p>'
    )
    return page(title, body, lang, "handout word_exercise")


def handouts(lang: str = "en") -> dict[str, str]:
    """Every handout of one language, by name."""
    return {
        "persona_card": persona_card_handout(lang),
        "sla_template": sla_template_handout(lang),
        "questionnaire": questionnaire_handout(lang),
        "word_exercise": word_exercise_handout(lang),
    }


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) aside, then move it into place; return the path."""
    return write_text_atomic(Path(path), text)


def write_handouts(out_dir: str | Path, lang: str = "en") -> list[Path]:
    """Write ``<name>_<lang>.html`` for every handout, plus ``index_<lang>.html`` linking them."""
    out_dir = Path(out_dir)
    docs = handouts(lang)
    written = [write_text(out_dir / f"{n}_{lang}.html", doc) for n, doc in docs.items()]
    title = t("workshop.handouts.index_title", lang)
    links = "".join(
        f'<li><a href="{_e(p.name)}">{_e(handout_title(n, lang))}</a></li>'
        for n, p in zip(docs, written, strict=True)
    )
    body = (
        f"<h1>{_e(title)}</h1><p>{_e(t('workshop.handouts.print_hint', lang))}</p><ul>{links}</ul>"
    )
    written.append(write_text(out_dir / f"index_{lang}.html", page(title, body, lang)))
    return written


# --------------------------------------------------------------------------------------------
# take-home documents
# --------------------------------------------------------------------------------------------


def markdown_page(markdown: str, lang: str = "en") -> str:
    """A take-home Markdown document as a printable page (nbconvert's Markdown renderer)."""
    from nbconvert.filters import markdown2html

    first = markdown.lstrip().splitlines()[0] if markdown.strip() else ""
    return page(first.lstrip("# ").strip(), markdown2html(markdown), lang)


def write_takehome(out_dir: str | Path, name: str, markdown: str, lang: str = "en") -> list[Path]:
    """Write ``<name>.md`` and its printable ``<name>.html`` into ``out_dir``."""
    out_dir = Path(out_dir)
    return [
        write_text(out_dir / f"{name}.md", markdown),
        write_text(out_dir / f"{name}.html", markdown_page(markdown, lang)),
    ]


def persona_cards_html(cards: Sequence[PersonaCard], lang: str = "en") -> str:
    """The room's persona cards on one printable page (``helpers.personas.render_card_html``)."""
    title = t("workshop.takehome.persona_title", lang)
    body = f"<h1>{_e(title)}</h1>" + "\n".join(render_card_html(c, lang) for c in cards)
    return page(title, body, lang)


def persona_cards_markdown(cards: Sequence[PersonaCard], lang: str = "en") -> str:
    """The room's persona cards as Markdown (``helpers.personas.render_card_markdown``)."""
    title = t("workshop.takehome.persona_title", lang)
    return f"# {title}\n\n" + "\n".join(render_card_markdown(c, lang) for c in cards)


PERSONA_CARDS_YAML = "persona_cards.yaml"


def persona_cards_yaml(cards: Sequence[PersonaCard], lang: str = "en") -> str:
    """The room's cards as the YAML file the report reads (``personas:`` in the client config,
    :func:`helpers.personas.load_persona_cards`): a ``personas:`` list, one mapping per card,
    list fields as lists, so an item holding ``;`` stays one item. A comment on top, in
    ``lang``, says what the file is for."""
    records = [
        {
            "name": card.name,
            "role": card.role,
            "summary": card.summary,
            **{key: list(getattr(card, key)) for key in CARD_LISTS},
        }
        for card in cards
    ]
    comment = "".join(
        f"# {line}\n" for line in t("workshop.takehome.persona_yaml_comment", lang).splitlines()
    )
    body = yaml.safe_dump(
        {"personas": records}, allow_unicode=True, sort_keys=False, width=100, indent=2
    )
    return comment + body


def save_persona_cards(out_dir: str | Path, cards: Sequence[PersonaCard], lang: str = "en") -> str:
    """Write the room's cards into ``out_dir``: ``persona_cards.html`` to print,
    ``persona_cards.md`` to edit and ``persona_cards.yaml`` for the report's ``personas:``
    setting; return the sentences to show (how many cards, where the YAML is). No cards, no
    files: the take-home holds only what the room wrote."""
    if not cards:
        return t("workshop.persona.no_cards", lang)
    out_dir = Path(out_dir)
    write_text(out_dir / "persona_cards.html", persona_cards_html(cards, lang))
    write_text(out_dir / "persona_cards.md", persona_cards_markdown(cards, lang))
    data = write_text(out_dir / PERSONA_CARDS_YAML, persona_cards_yaml(cards, lang))
    return " ".join(
        (
            t("workshop.persona.added", lang, count=fmt_number(len(cards), lang)),
            t("workshop.persona.yaml_written", lang, path=str(data.resolve())),
        )
    )


def sla_takehome(terms: SlaTerms, lang: str = "en") -> str:
    """The agreed SLA (``helpers.sla.sla_document``) with signature lines."""
    return (
        sla_document(terms, lang).rstrip("\n")
        + "\n\n"
        + t("workshop.takehome.sla_signatures", lang)
        + "\n"
    )


def _md_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def cell(value: Any) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(h) for h in header) + " |"]
    lines.append("|" + "---|" * len(header))
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def handoff_actions(bottlenecks: pd.DataFrame, lang: str = "en", top: int = 3) -> str:
    """The handoff action list: the ``top`` leaks of ``helpers.funnel.bottlenecks``, owner blank."""
    title = t("workshop.takehome.actions_title", lang)
    leaks = bottlenecks.loc[bottlenecks["lost"] > 0].head(top)
    if leaks.empty:
        return f"# {title}\n\n{t('workshop.takehome.actions_none', lang)}\n"
    header = [
        t(f"workshop.takehome.actions_col_{k}", lang)
        for k in ("step", "loss", "why", "owner", "due")
    ]
    rows = [
        (
            step_label(r.from_stage, r.to_stage, lang),
            "" if pd.isna(r.lost_value) else fmt_number(r.lost_value, lang),
            r.explanation,
            "",
            "",
        )
        for r in leaks.itertuples()
    ]
    return (
        f"# {title}\n\n{t('workshop.takehome.actions_intro', lang)}\n\n{_md_table(header, rows)}\n"
    )


PLAN_METRICS: tuple[tuple[str, str, str], ...] = (
    # metric key, how to format it, where it comes from
    ("mql_to_sql", "pct", "plan_crm"),
    ("acceptance", "pct", "plan_crm"),
    ("response", "hours", "plan_activities"),
    ("win_rate", "pct", "plan_crm"),
    ("alignment", "score", "plan_survey"),
    ("negative_words", "pct", "plan_words"),
)

# the client config the workshop reads when it is given none: the bundled sample's, which the
# notebooks' default data folder holds and ``smarketing report --config`` runs as it stands
DEFAULT_CONFIG = PROJECT_ROOT / "data" / "samples" / "client.yaml"
CONFIG_NAME = "client.yaml"  # a client's config lives next to its export


def report_sla_terms(config: Any = None) -> SlaTerms:
    """The SLA terms the assessment report measures response times against, built the way the
    report builds them (``helpers.config.notebook_parameters`` -> ``helpers.config.sla_terms``:
    business hours of the config's ``sla.business_hours``, ``timezone``, ``holiday_country``).

    ``config``: a ``helpers.config.ClientConfig``, a client config file, or a data folder
    holding ``client.yaml``; None: :data:`DEFAULT_CONFIG` (the bundled sample's). Without a
    config file the report's defaults apply (``helpers.config.SlaCommitments``).
    """
    from helpers.config import ClientConfig, load_config, notebook_parameters, sla_terms

    if not isinstance(config, ClientConfig):
        path = DEFAULT_CONFIG if config is None else Path(config)
        if path.is_dir():
            path = path / CONFIG_NAME
        config = load_config(path) if path.is_file() else ClientConfig(client="", data=())
    params = notebook_parameters(config)
    s = params["sla"]
    return sla_terms(
        s["mqls_per_month"] or 0.0,
        reps=params["targets"]["reps"],
        min_acceptance_rate=s["min_acceptance_rate"],
        first_touch_hours=s["first_touch_hours"],
        attempts=s["attempts"],
        attempts_days=s["attempts_days"],
        accept_reject_hours=s["accept_reject_hours"],
        business_start_hour=s["business_start_hour"],
        business_end_hour=s["business_end_hour"],
        holiday_country=s["holiday_country"],
        timezone=s["timezone"],
    )


@dataclass(frozen=True)
class ResponseBasis:
    """How the plan's response time is counted, so the room compares like with like: the hours
    (business hours of ``terms``, or calendar hours) and the MQLs the median is over."""

    business_hours: bool
    terms: SlaTerms | None  # the business hours' definition (None: calendar hours)
    touched: int  # MQLs with a first sales touch by ``as_of``: the median is over these
    mqls: int  # MQLs handed over by ``as_of``
    as_of: str  # ISO timestamp

    def unit(self, lang: str = "en") -> str:
        """ "business hours" or "calendar hours" in ``lang``."""
        kind = "business" if self.business_hours else "calendar"
        return t(f"workshop.takehome.response_unit_{kind}", lang)

    def sentence(self, lang: str = "en") -> str:
        """What the figure counts, in one or two sentences of ``lang``."""
        from helpers.results import fmt_date

        common = {"touched": self.touched, "mqls": self.mqls, "as_of": fmt_date(self.as_of, lang)}
        if not self.business_hours or self.terms is None:
            return t("workshop.takehome.response_basis_calendar", lang, **common)
        terms = self.terms
        return t(
            "workshop.takehome.response_basis_business",
            lang,
            open=_clock(terms.open_hour),
            close=_clock(terms.close_hour),
            tz=terms.timezone,
            holidays=terms.holiday_country or t("common.none", lang),
            **common,
        )


def _clock(hour: float) -> str:
    """9.5 -> "09:30"."""
    minutes = round(float(hour) * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def baseline_metrics(
    crm: CrmData | None = None,
    survey_scores: SurveyScores | None = None,
    word_scores: WordScores | None = None,
    *,
    sla: SlaTerms | None = None,
    as_of: Any = None,
) -> pd.DataFrame:
    """Today's value of every metric of the measurement plan, with its interval when known.

    Rows: ``metric``, ``group`` (team for the survey and words, "" otherwise), ``value``,
    ``ci_low``, ``ci_high``, ``basis`` (a :class:`ResponseBasis` for the response time, None
    otherwise). A metric the data cannot give is a row with ``value`` NaN.
    Funnel rates come from entry cohorts (``helpers.funnel.cohort_conversion``), acceptance and
    response time from ``helpers.funnel.handoff_metrics`` with the SLA terms the report uses
    (``sla``, default :func:`report_sla_terms`), so the plan's response time is the report's
    figure: the same function, the same hours, the same MQLs. ``as_of``: the last day counted
    (default: the end of the data; the report uses the config's ``period.end``).
    """
    nan = float("nan")
    rows: list[dict[str, Any]] = []

    def add(
        metric: str,
        value: Any,
        low: Any = nan,
        high: Any = nan,
        group: str = "",
        basis: ResponseBasis | None = None,
    ) -> None:
        rows.append(
            {
                "metric": metric,
                "group": group,
                "value": value,
                "ci_low": low,
                "ci_high": high,
                "basis": basis,
            }
        )

    if crm is not None and crm.has("stage_history"):
        model = crm.stage_model
        for metric, (a, b) in {
            "mql_to_sql": ("mql", "sql"),
            "win_rate": ("opportunity", "won"),
        }.items():
            try:  # a stage the export does not record (or lacks) gives no baseline
                if not (model.role(a) and model.role(b)):
                    raise MissingTableError(f"stage_history.{a}", "baseline")
                row = funnel.cohort_conversion(
                    crm.stage_history, model, model.role(a), model.role(b), period=None
                ).iloc[0]
            except MissingTableError:
                add(metric, nan)
            else:
                add(metric, row["rate"], row["ci_low"], row["ci_high"])
        terms = sla if sla is not None else report_sla_terms()
        try:
            handoff = funnel.handoff_metrics(crm, as_of=as_of, sla=terms)
        except MissingTableError:
            handoff = None
        if handoff is not None and handoff.acceptance_rate is not None:
            low, high = handoff.acceptance_ci or (nan, nan)
            add("acceptance", handoff.acceptance_rate, low, high)
        else:
            add("acceptance", nan)
        hours = handoff.response_hours if handoff is not None else None
        if hours:
            business = handoff.response_basis == "business"
            basis = ResponseBasis(
                business_hours=business,
                terms=terms if business else None,
                touched=int(hours["n"]),
                mqls=handoff.mql_handed_over,
                as_of=handoff.as_of,
            )
            add("response", hours["median"], basis=basis)
        else:
            add("response", nan)
    else:
        for metric in ("mql_to_sql", "acceptance", "response", "win_rate"):
            add(metric, nan)
    if survey_scores is not None:
        totals = survey_scores.by_team.loc[survey_scores.by_team["dimension"] == "total"]
        totals = totals.loc[totals["wave"] == survey_scores.waves[-1]]
        for r in totals.itertuples():
            add("alignment", r.mean, r.ci_low, r.ci_high, group=r.team)
    else:
        add("alignment", nan)
    if word_scores is not None:
        tone = word_scores.tone.loc[word_scores.tone["wave"] == word_scores.waves[-1]]
        for r in tone.itertuples():
            add("negative_words", r.share_negative, r.ci_low, r.ci_high, group=r.team)
    else:
        add("negative_words", nan)
    order = {m: i for i, (m, _, _) in enumerate(PLAN_METRICS)}
    out = pd.DataFrame(rows)
    return out.sort_values("metric", key=lambda s: s.map(order), kind="stable", ignore_index=True)


def _format(value: float, low: float, high: float, kind: str, lang: str) -> str:
    if value is None or not np.isfinite(value):
        return t("workshop.takehome.not_measured", lang)
    finite = np.isfinite(low) and np.isfinite(high)
    if kind == "pct":
        interval = f" ({fmt_pct(low, lang)}-{fmt_pct(high, lang)})" if finite else ""
        return fmt_pct(value, lang) + interval
    if kind == "hours":
        return fmt_number(value, lang, 1)
    interval = f" ({fmt_number(low, lang)}-{fmt_number(high, lang)})" if finite else ""
    return fmt_number(value, lang) + interval


def _basis(row: Any) -> ResponseBasis | None:
    basis = getattr(row, "basis", None)
    return basis if isinstance(basis, ResponseBasis) else None


def measurement_plan(baseline: pd.DataFrame, lang: str = "en") -> str:
    """The measurement plan as Markdown: metric, today's value (95% interval), target, source;
    under the table, what the response time counts (:class:`ResponseBasis`)."""
    kinds = {m: (kind, source) for m, kind, source in PLAN_METRICS}
    header = [
        t(f"workshop.takehome.plan_col_{k}", lang)
        for k in ("metric", "baseline", "target", "source", "cadence")
    ]
    rows = []
    notes = []
    for r in baseline.itertuples():
        kind, source = kinds[r.metric]
        basis = _basis(r)
        if r.metric == "response":
            unit = basis.unit(lang) if basis else t("workshop.takehome.response_unit_unknown", lang)
            name = t("workshop.takehome.metric_response", lang, unit=unit)
            if basis:
                notes.append(basis.sentence(lang))
        else:
            name = t(f"workshop.takehome.metric_{r.metric}", lang)
        if r.group:
            name += f" ({t(f'workshop.survey.team_{r.group}', lang)})"
        rows.append(
            (
                name,
                _format(r.value, r.ci_low, r.ci_high, kind, lang),
                "",
                t(f"workshop.takehome.{source}", lang),
                t("workshop.takehome.plan_monthly", lang),
            )
        )
    title = t("workshop.takehome.plan_title", lang)
    notes_md = "".join(f"{note}\n\n" for note in notes)
    return (
        f"# {title}\n\n{t('workshop.takehome.plan_intro', lang)}\n\n{_md_table(header, rows)}\n\n"
        f"{notes_md}_{t('workshop.takehome.plan_note', lang)}_\n"
    )


# --------------------------------------------------------------------------------------------
# command line
# --------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m helpers.workshop.handouts [--lang en|it|all] [--out DIR]``."""
    parser = argparse.ArgumentParser(prog="python -m helpers.workshop.handouts")
    parser.add_argument("--lang", choices=(*LANGUAGES, "all"), default=None)
    parser.add_argument("--out", default=str(PROJECT_ROOT / "build" / "handouts"))
    args = parser.parse_args(argv)
    langs = LANGUAGES if args.lang == "all" else (args.lang or current_language(),)
    for lang in langs:
        written = write_handouts(args.out, lang)
        print(t("workshop.handouts.written", lang, count=len(written), folder=args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
