"""Handouts in both languages, and the take-home documents built from helpers' results."""

from __future__ import annotations

import html
import re

import pandas as pd
import pytest

from helpers.assessment import load_instrument
from helpers.messages import LANGUAGES, t
from helpers.personas import card_from_dict, load_persona_cards
from helpers.results import fmt_number
from helpers.sla import SlaTerms, sla_document
from helpers.workshop.handouts import (
    DEFAULT_CONFIG,
    HANDOUTS,
    PERSONA_CARDS_YAML,
    ResponseBasis,
    baseline_metrics,
    handoff_actions,
    handout_title,
    measurement_plan,
    persona_cards_html,
    persona_cards_markdown,
    report_sla_terms,
    save_persona_cards,
    sla_takehome,
    write_takehome,
)

EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.IGNORECASE)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_handout_exists_in_both_languages_and_is_self_contained(written, lang):
    for name in HANDOUTS:
        path = written / f"{name}_{lang}.html"
        text = path.read_text(encoding="utf-8")
        assert f'<html lang="{lang}">' in text
        assert "@page { size: A4" in text
        assert not EXTERNAL.search(text), f"{path.name} asks an outside host"
    index = (written / f"index_{lang}.html").read_text(encoding="utf-8")
    assert all(f"{name}_{lang}.html" in index for name in HANDOUTS)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_questionnaire_handout_holds_every_item_of_the_instrument(written, lang):
    instrument = load_instrument()
    text = (written / f"questionnaire_{lang}.html").read_text(encoding="utf-8")
    plain = html.unescape(text)
    for item in instrument.items:
        assert item.text[lang] in plain, item.id
        assert f'data-item="{item.id}"' in text
    # one tick box per scale point and statement
    scale = instrument.scale_max - instrument.scale_min + 1
    assert text.count("☐</td>") == scale * len(instrument.items)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_texts_come_from_the_catalogue_of_the_language(written, lang):
    sla = html.unescape((written / f"sla_template_{lang}.html").read_text(encoding="utf-8"))
    assert t("workshop.handouts.sla_sales_attempts", lang) in sla
    words = html.unescape((written / f"word_exercise_{lang}.html").read_text(encoding="utf-8"))
    assert t("assessment.claim_87", lang) in words  # the claim only with its caveat
    card = html.unescape((written / f"persona_card_{lang}.html").read_text(encoding="utf-8"))
    assert t("personas.card_objections", lang) in card


CARD = {
    "name": "Operations <Olivia>",
    "role": "Head of operations",
    "goals": "Fewer spreadsheets",
    "challenges": "",
    "objections": "We tried software before",
    "where_they_learn": "",
    "decision_criteria": "",
    "buying_triggers": "",
}


def test_persona_cards_take_home_escapes_and_lists_every_card():
    cards = [card_from_dict(CARD), card_from_dict({**CARD, "name": "Finance Filippo"})]
    page = persona_cards_html(cards, "en")
    assert "Operations &lt;Olivia&gt;" in page and "Finance Filippo" in page
    assert page.count('class="persona-card"') == 2
    markdown = persona_cards_markdown(cards, "it")
    assert markdown.startswith(f"# {t('workshop.takehome.persona_title', 'it')}")
    assert "We tried software before" in markdown


def test_sla_take_home_is_the_helpers_document_with_signatures():
    terms = SlaTerms(mql_per_month=67, mql_per_rep_per_month=17, attempts=6)
    text = sla_takehome(terms, "it")
    assert text.startswith(sla_document(terms, "it").rstrip("\n"))
    assert text.rstrip().endswith(t("workshop.takehome.sla_signatures", "it"))


def test_handoff_actions_keep_the_top_leaks_in_order_with_blank_owners():
    ranked = pd.DataFrame(
        {
            "from_stage": ["sal", "mql", "lead", "sql"],
            "to_stage": ["sql", "sal", "mql", "opportunity"],
            "lost": [300, 400, 10, 0],
            "lost_value": [600_000.0, 400_000.0, 1_000.0, 0.0],
            "explanation": ["why sal", "why mql", "why lead", "why sql"],
        }
    )
    text = handoff_actions(ranked, "en", top=2)
    rows = [line for line in text.splitlines() if line.startswith("| ") and "→" in line]
    assert rows == [
        "| Sales accepted (SAL) → SQL | 600,000 | why sal |  |  |",
        "| MQL → Sales accepted (SAL) | 400,000 | why mql |  |  |",
    ]
    none = handoff_actions(ranked.assign(lost=0), "it")
    assert t("workshop.takehome.actions_none", "it") in none


def test_measurement_plan_says_what_is_not_measured_yet():
    baseline = pd.DataFrame(
        {
            "metric": ["mql_to_sql", "response", "alignment"],
            "group": ["", "", "sales"],
            "value": [0.25, 15.25, float("nan")],
            "ci_low": [0.2, float("nan"), float("nan")],
            "ci_high": [0.3, float("nan"), float("nan")],
        }
    )
    text = measurement_plan(baseline, "it")
    assert "| 25% (20%-30%) |" in text
    assert "| 15,2 |" in text or "| 15,3 |" in text
    assert t("workshop.takehome.not_measured", "it") in text
    assert t("workshop.takehome.plan_note", "it") in text


@pytest.fixture(scope="module")
def synthetic_crm():
    from helpers.sample import generate

    return generate(1500, seed=3).to_crm()


def test_a_stage_the_export_never_records_gives_no_baseline_not_an_error(synthetic_crm):
    from dataclasses import replace

    history = synthetic_crm.stage_history
    crm = replace(synthetic_crm, stage_history=history[history["stage"] != "mql"])
    baseline = baseline_metrics(crm).set_index("metric")
    assert pd.isna(baseline.loc["mql_to_sql", "value"])
    assert baseline.loc["win_rate", "value"] > 0  # the stages it does record still count


def test_baseline_from_the_synthetic_company_matches_the_helpers(synthetic_crm):
    from helpers import funnel

    crm = synthetic_crm
    baseline = baseline_metrics(crm).set_index("metric")
    expected = funnel.cohort_conversion(
        crm.stage_history, crm.stage_model, "mql", "sql", period=None
    ).iloc[0]
    assert baseline.loc["mql_to_sql", "value"] == pytest.approx(expected["rate"])
    assert (
        baseline.loc["mql_to_sql", "ci_low"]
        < expected["rate"]
        < baseline.loc["mql_to_sql", "ci_high"]
    )
    handoff = funnel.handoff_metrics(crm, sla=report_sla_terms())
    assert baseline.loc["acceptance", "value"] == pytest.approx(handoff.acceptance_rate)
    assert baseline.loc["response", "value"] == pytest.approx(handoff.response_hours["median"])
    assert pd.isna(baseline.loc["alignment", "value"])
    assert list(baseline.index) == [
        "mql_to_sql",
        "acceptance",
        "response",
        "win_rate",
        "alignment",
        "negative_words",
    ]


def test_take_home_is_written_as_markdown_and_printable_html(tmp_path):
    text = "# Plan\n\n| a | b |\n|---|---|\n| 1 <x> | 2 |\n"
    written = write_takehome(tmp_path, "plan", text, "it")
    assert [p.name for p in written] == ["plan.md", "plan.html"]
    assert written[0].read_text(encoding="utf-8") == text
    page = written[1].read_text(encoding="utf-8")
    assert '<html lang="it">' in page and "<title>Plan</title>" in page
    assert "<td>1 <x></td>" in page or "<td>1 &lt;x&gt;</td>" in page
    assert not EXTERNAL.search(page)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_index_links_carry_the_handout_titles_not_file_names(written, lang):
    index = html.unescape((written / f"index_{lang}.html").read_text(encoding="utf-8"))
    links = dict(re.findall(r'<a href="([^"]+)">([^<]*)</a>', index))
    assert links == {f"{name}_{lang}.html": handout_title(name, lang) for name in HANDOUTS}
    assert handout_title("persona_card", lang) == t("workshop.handouts.persona_title", lang)
    assert not any(text.endswith(f"_{lang}") for text in links.values())


def test_persona_take_home_holds_only_the_rooms_cards(tmp_path):
    assert save_persona_cards(tmp_path, [], "it") == t("workshop.persona.no_cards", "it")
    assert not list(tmp_path.iterdir())  # nothing to take home, no file
    card = card_from_dict({**CARD, "name": "Finance Filippo"})
    message = save_persona_cards(tmp_path, [card], "it")
    assert message.startswith(t("workshop.persona.added", "it", count="1"))
    page = (tmp_path / "persona_cards.html").read_text(encoding="utf-8")
    assert page.count('class="persona-card"') == 1 and "Finance Filippo" in page
    assert (tmp_path / "persona_cards.md").read_text(encoding="utf-8").count("### ") == 1


TRICKY_CARDS = [
    {
        "name": "Operations Olivia",
        "role": "Head of operations: 200-person manufacturer",
        "summary": "Wants fewer spreadsheets; fewer surprises.",
        "goals": ["Cut order errors; and returns", "yes", "100"],
        "challenges": ["Legacy ERP | no IT team", "2024-01-01"],
        "objections": ['"We tried software before" - nobody used it', "null"],
        "where_they_learn": ["Fiere di settore è già", "# not a comment"],
        "decision_criteria": [],
        "buying_triggers": ["A customer lost: late delivery"],
    },
    {
        "name": "Finance Filippo",
        "role": "CFO",
        "goals": [],
        "challenges": [],
        "objections": [],
        "where_they_learn": [],
        "decision_criteria": ["Contract flexibility"],
        "buying_triggers": [],
    },
]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_persona_take_home_yaml_reads_back_into_the_same_cards(tmp_path, lang):
    """The report's ``personas:`` setting needs YAML or CSV: the take-home writes the YAML that
    ``load_persona_cards`` reads, every item kept as the room wrote it (a ';' stays inside)."""
    cards = [card_from_dict(c, i) for i, c in enumerate(TRICKY_CARDS, start=1)]
    message = save_persona_cards(tmp_path, cards, lang)
    path = tmp_path / PERSONA_CARDS_YAML
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "persona_cards.html",
        "persona_cards.md",
        PERSONA_CARDS_YAML,
    ]
    assert load_persona_cards(path) == cards
    # the room is told where the file is and what to do with it, in its language
    assert t("workshop.persona.yaml_written", lang, path=str(path.resolve())) in message
    text = path.read_text(encoding="utf-8")
    comment = t("workshop.takehome.persona_yaml_comment", lang).splitlines()[0]
    assert text.startswith(f"# {comment}\n") and "\npersonas:\n" in text


def test_the_playbook_and_the_report_point_at_the_persona_yaml():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    for page in ("README.md", "README.it.md", "facilitator-guide.md", "facilitator-guide.it.md"):
        assert PERSONA_CARDS_YAML in (root / "playbook" / page).read_text(encoding="utf-8"), page
    for lang in LANGUAGES:
        assert PERSONA_CARDS_YAML in t("notebooks.personas.no_cards", lang)


def test_report_sla_terms_are_the_client_configs_business_hours(tmp_path):
    terms = report_sla_terms()  # the bundled sample's config, as `smarketing report` runs it
    assert DEFAULT_CONFIG.is_file()
    assert terms.business_hours
    assert (terms.timezone, terms.open_hour, terms.close_hour, terms.holiday_country) == (
        "Europe/Rome",
        9,
        18,
        "IT",
    )
    assert report_sla_terms(DEFAULT_CONFIG.parent) == terms  # a data folder holding client.yaml
    defaults = report_sla_terms(tmp_path)  # no config: the report's defaults
    assert defaults.business_hours and defaults.timezone == "UTC"


def test_plan_response_time_is_the_reports_figure_on_the_reports_basis(synthetic_crm):
    """The report counts response time in the SLA's business hours (helpers.config.sla_terms ->
    helpers.funnel.handoff_metrics); the plan must show that figure, not calendar hours."""
    from helpers import funnel

    crm = synthetic_crm
    terms = report_sla_terms()
    report = funnel.handoff_metrics(crm, sla=terms)
    calendar = funnel.handoff_metrics(crm)
    assert report.response_basis == "business"
    assert report.response_hours["median"] != pytest.approx(calendar.response_hours["median"])
    baseline = baseline_metrics(crm)
    row = baseline.set_index("metric").loc["response"]
    assert row["value"] == pytest.approx(report.response_hours["median"])
    basis = row["basis"]
    assert isinstance(basis, ResponseBasis) and basis.business_hours
    assert (basis.touched, basis.mqls) == (report.response_hours["n"], report.mql_handed_over)
    for lang in LANGUAGES:
        plan = measurement_plan(baseline, lang)
        unit = t("workshop.takehome.response_unit_business", lang)
        name = t("workshop.takehome.metric_response", lang, unit=unit)
        value = fmt_number(report.response_hours["median"], lang, 1)
        assert f"| {name} | {value} |" in plan
        assert basis.sentence(lang) in plan
        assert "Europe/Rome" in basis.sentence(lang) and "09:00" in basis.sentence(lang)
        assert fmt_number(basis.touched, lang) in basis.sentence(lang)
    # calendar hours, when the terms say so, are named as such
    calendar_plan = measurement_plan(
        baseline_metrics(crm, sla=SlaTerms(mql_per_month=0, business_hours=False)), "en"
    )
    assert "(calendar hours) | " + fmt_number(calendar.response_hours["median"], "en", 1) in (
        calendar_plan
    )
    assert "calendar hours (nights and weekends included)" in calendar_plan
