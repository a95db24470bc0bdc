"""A dry run of the half-day agenda, in Italian: the Italian facilitator notebooks
(``playbook/workshop/it/``, which set ``lang = "it"`` themselves), run unattended on the sample
company, write every take-home artefact the playbook promises (persona cards, the SLA to sign,
the handoff action list, the measurement plan), and everything they show is in Italian."""

from __future__ import annotations

import os
import re
import string
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
import yaml

from helpers.messages import catalogue, t
from helpers.sla import SlaTerms
from helpers.workshop.localise import LANGUAGE_LINK, text_key

# one group: the notebooks run once, on one worker (make test: --dist loadgroup)
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("workshop_dry_run")]

ROOT = Path(__file__).resolve().parents[2]
WORKSHOP = ROOT / "playbook" / "workshop" / "it"
HALF_DAY = (
    "04_live_survey_and_words.ipynb",
    "02_persona_builder.ipynb",
    "01_sla_calculator.ipynb",
    "03_funnel_explorer.ipynb",
)
LANG = "it"
# the cards the room wrote before the session (notebook 02's ``cards_file``)
ROOM_CARDS = [
    {
        "name": "Acquisti Anna",
        "role": "Responsabile acquisti",
        "goals": ["Fornitori affidabili"],
        "challenges": [],
        "objections": ["Costa troppo"],
        "where_they_learn": [],
        "decision_criteria": [],
        "buying_triggers": [],
    }
]


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory) -> Path:
    """The bundled sample company, or one generated the same way when it is not there yet."""
    bundled = ROOT / "data" / "samples"
    if (bundled / "leads.csv").is_file():
        return bundled
    from helpers.sample import generate, write_export

    out = tmp_path_factory.mktemp("sample")
    write_export(generate(3000, seed=2024), out)
    return out


@pytest.fixture(scope="module")
def takehome(sample_dir, tmp_path_factory) -> tuple[Path, Path]:
    import papermill as pm

    out = tmp_path_factory.mktemp("takehome")
    executed = tmp_path_factory.mktemp("executed")
    cards = tmp_path_factory.mktemp("cards") / "cards.yaml"
    cards.write_text(yaml.safe_dump(ROOM_CARDS, allow_unicode=True), encoding="utf-8")
    os.environ.setdefault("MPLBACKEND", "Agg")

    def run(name: str) -> None:
        # no "lang": the Italian copies must speak Italian by themselves
        parameters = {"data_dir": str(sample_dir), "out_dir": str(out)}
        if name.startswith("02_"):
            parameters["cards_file"] = str(cards)
        pm.execute_notebook(
            str(WORKSHOP / name),
            str(executed / name),
            parameters=parameters,
            kernel_name="python3",
            cwd=str(WORKSHOP),
            progress_bar=False,
            log_output=False,
            execution_timeout=300,
        )

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(run, HALF_DAY))
    return out, executed


def test_the_notebooks_ran_without_errors(takehome):
    _, executed = takehome
    for name in HALF_DAY:
        nb = nbformat.read(executed / name, as_version=4)
        errors = [
            o
            for c in nb.cells
            if c.cell_type == "code"
            for o in c.outputs
            if o.output_type == "error"
        ]
        assert not errors, (name, errors)


def _shown(executed: Path, name: str, markdown: bool = False) -> str:
    """Everything a notebook showed: printed text and displayed HTML/plain text, and with
    ``markdown`` its text cells too."""
    nb = nbformat.read(executed / name, as_version=4)
    parts = []
    for cell in nb.cells:
        if markdown and cell.cell_type == "markdown" and text_key(cell) != LANGUAGE_LINK:
            parts.append(cell.source)
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                parts.append(output.text)
            data = output.get("data", {})
            parts += [data.get("text/html", ""), data.get("text/plain", "")]
    return "\n".join(parts)


def test_persona_cards(takehome):
    out, _ = takehome
    page = (out / "persona_cards.html").read_text(encoding="utf-8")
    # only the room's card: the facilitator's example is shown, never taken home
    assert page.count('class="persona-card"') == len(ROOM_CARDS)
    assert "Acquisti Anna" in page
    assert t("workshop.persona.example.role", LANG) not in page
    assert t("workshop.persona.example.role", "en") not in page
    assert t("personas.card_objections", LANG) in page
    markdown = (out / "persona_cards.md").read_text(encoding="utf-8")
    assert markdown.startswith(f"# {t('workshop.takehome.persona_title', LANG)}")
    assert "### " in markdown


def test_signed_sla(takehome):
    out, _ = takehome
    terms = SlaTerms.from_dict(yaml.safe_load((out / "sla.yaml").read_text(encoding="utf-8")))
    assert terms.mql_per_month > 0 and terms.mql_per_rep_per_month > 0
    document = (out / "sla.md").read_text(encoding="utf-8")
    assert t("workshop.takehome.sla_signatures", LANG) in document
    assert str(int(terms.mql_per_month)) in document
    assert (out / "sla.html").is_file()


def test_handoff_action_list(takehome):
    out, _ = takehome
    text = (out / "handoff_actions.md").read_text(encoding="utf-8")
    assert text.startswith(f"# {t('workshop.takehome.actions_title', LANG)}")
    rows = [line for line in text.splitlines() if line.startswith("| ") and "→" in line]
    assert 1 <= len(rows) <= 3
    assert (out / "handoff_actions.html").is_file()


def test_measurement_plan(takehome):
    out, _ = takehome
    text = (out / "measurement_plan.md").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert len(rows) >= 6
    missing = t("workshop.takehome.not_measured", LANG)
    # the sample has stage history, activities, survey and words: every metric is measured
    assert not [row for row in rows if missing in row], rows
    assert t("workshop.takehome.plan_note", LANG) in text
    assert (out / "measurement_plan.html").is_file()


def test_what_the_room_reads_is_translated_and_formatted(takehome):
    _, executed = takehome
    sla_shown = _shown(executed, "01_sla_calculator.ipynb")
    assert not re.search(r"\b(fits|tight|over)\b", sla_shown)  # verdict keys, not sentences
    assert re.search(r"^Con 4 venditori: ", sla_shown, re.M)
    prefix = t("workshop.sla.range_line", LANG, low="", high="").split(" tra")[0]
    ranges = [line for line in sla_shown.splitlines() if line.startswith(prefix)]
    assert ranges and not re.search(r"\d{4}", ranges[0]), ranges  # 1.146, not 1146
    personas_shown = _shown(executed, "02_persona_builder.ipynb")
    for raw in ("mql_to_sql_low", "wrong_company_size", "0.149", "Operations Olivia</h3>"):
        assert raw not in personas_shown, raw
    assert t("personas.col_win_rate", LANG) in personas_shown
    funnel_shown = _shown(executed, "03_funnel_explorer.ipynb")
    assert "same_as_whole" not in funnel_shown and "->" not in funnel_shown
    assert t("workshop.funnel.col_leak", LANG) in funnel_shown


def _english_only_phrases() -> set[str]:
    """Phrases of three words or more of the English catalogue that no Italian message has."""
    italian = "\n".join(catalogue(LANG).values())
    phrases = set()
    for text in catalogue("en").values():
        for literal, _, _, _ in string.Formatter().parse(text):
            for piece in re.split(r"[\n|*#`]", literal or ""):
                piece = piece.strip(" .,:;()-")
                if len(piece.split()) >= 3 and piece not in italian:
                    phrases.add(piece)
    return phrases


def test_the_italian_notebooks_speak_italian_by_themselves(takehome):
    _, executed = takehome
    english = _english_only_phrases()
    for name in HALF_DAY:
        nb = nbformat.read(executed / name, as_version=4)
        params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert re.search(r'^lang: str = "it"', params[0].source, re.M), name
        injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
        assert injected and "lang" not in injected[0].source, name
        for cell in nb.cells:
            key = text_key(cell)
            if cell.cell_type == "markdown" and key != LANGUAGE_LINK:
                assert key and cell.source == t(key, LANG), (name, cell.get("id"))
        shown = _shown(executed, name, markdown=True)
        assert not [phrase for phrase in english if phrase in shown], name
        loaded = catalogue(LANG)["workshop.data_loaded"]  # "{leads} lead letti da {folder}."
        words = max((lit for lit, *_ in string.Formatter().parse(loaded)), key=len)
        assert words.strip() and words in shown, name
