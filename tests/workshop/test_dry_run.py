"""A dry run of the half-day agenda: the workshop notebooks, run unattended on the sample company,
write every take-home artefact the playbook promises (persona cards, the SLA to sign, the handoff
action list, the measurement plan)."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
import yaml

from helpers.messages import t
from helpers.sla import SlaTerms

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
WORKSHOP = ROOT / "playbook" / "workshop"
HALF_DAY = (
    "04_live_survey_and_words.ipynb",
    "02_persona_builder.ipynb",
    "01_sla_calculator.ipynb",
    "03_funnel_explorer.ipynb",
)
LANG = "it"


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
    os.environ.setdefault("MPLBACKEND", "Agg")

    def run(name: str) -> None:
        pm.execute_notebook(
            str(WORKSHOP / name),
            str(executed / name),
            parameters={"lang": LANG, "data_dir": str(sample_dir), "out_dir": str(out)},
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


def test_persona_cards(takehome):
    out, _ = takehome
    page = (out / "persona_cards.html").read_text(encoding="utf-8")
    assert page.count('class="persona-card"') >= 1
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
