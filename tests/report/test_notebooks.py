"""The five notebooks run through the runner on the bundled sample (and on Olist when present).

One English and one Italian run per test session (session-scoped fixtures); the tests read what
the runs wrote. Slow: every notebook starts a kernel.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from report_factory import report_args

from helpers.messages import t
from helpers.runner import report_command, sha256

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("ingest_ready")]

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "data" / "samples"
CONFIG = SAMPLES / "client.yaml"
NOTEBOOKS = ("00_alignment_assessment", "01_buyer_personas", "02_sla", "03_funnel_handoffs",
             "04_collaboration_impact")  # fmt: skip
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


def _run(out: Path, config: Path = CONFIG, **kw) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = report_command(report_args(config, out, jobs=None, **kw))
    return code, stdout.getvalue(), stderr.getvalue()


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory, ingest_ready) -> Path:
    if not (SAMPLES / "leads.csv").is_file():
        pytest.skip("the bundled sample is not in data/samples")
    out = tmp_path_factory.mktemp("sample") / "run"
    code, stdout, stderr = _run(out)
    assert code == 0, stderr
    assert str(out / "index.html") in stdout
    return out


@pytest.fixture(scope="session")
def italian_run(tmp_path_factory, ingest_ready) -> Path:
    if not (SAMPLES / "leads.csv").is_file():
        pytest.skip("the bundled sample is not in data/samples")
    out = tmp_path_factory.mktemp("sample_it") / "run"
    code, _, stderr = _run(out, lang="it")
    assert code == 0, stderr
    return out


def _results(run: Path) -> dict:
    return json.loads((run / "results.json").read_text(encoding="utf-8"))


def test_every_notebook_ran_and_left_its_results(sample_run):
    results = _results(sample_run)
    assert sorted(results) == list(NOTEBOOKS)
    manifest = json.loads((sample_run / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "ok"
    assert {n: v["status"] for n, v in manifest["notebooks"].items()} == dict.fromkeys(
        NOTEBOOKS, "ok"
    )
    for name in NOTEBOOKS:
        assert (sample_run / f"{name}.html").is_file()
        assert results[name]["key_numbers"], name  # every module feeds the summary page
    figures = sorted(p.name for p in (sample_run / "figures").glob("*.png"))
    assert "sla_reverse_funnel.png" in figures and "funnel_stages.png" in figures


def test_sla_target_is_the_reverse_funnel_of_the_config(sample_run):
    from helpers.funnel import sales_velocity
    from helpers.ingest import load_canonical
    from helpers.results import to_jsonable
    from helpers.sla import rates_from_history, reverse_funnel

    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    targets = config["targets"]
    crm = load_canonical(sample_run / "canonical")
    as_of = str(config["period"]["end"])
    rates = rates_from_history(crm, as_of=as_of)
    velocity = sales_velocity(
        crm.opportunities, as_of=pd.Timestamp(as_of, tz="UTC"), window_days=3650
    )
    expected = reverse_funnel(
        targets["revenue_target"], targets["marketing_share"], velocity.avg_deal_size, rates,
        months=targets["months"], reps=targets["reps"], sales_cycle_days=velocity.cycle_days,
    )  # fmt: skip
    sla = _results(sample_run)["02_sla"]
    assert sla["reverse_funnel"] == json.loads(json.dumps(to_jsonable(expected.to_dict())))
    assert sla["mql_per_month_committed"] == expected.per_month["mql"]
    assert sla["inputs"]["revenue_target"] == targets["revenue_target"]
    assert sla["terms"]["first_touch_hours"] == config["sla"]["first_touch_hours"]
    html = (sample_run / "02_sla.html").read_text(encoding="utf-8")
    assert f"{expected.per_month['mql']} MQLs a month" in html


def test_impact_estimate_brackets_the_planted_uplift(sample_run):
    truth = json.loads((SAMPLES / "sample_truth.json").read_text(encoding="utf-8"))
    effect = _results(sample_run)["04_collaboration_impact"]["effect"]
    assert effect["ci_low"] <= truth["programme"]["uplift"] <= effect["ci_high"]
    assert effect["ci_low"] < effect["estimate"] < effect["ci_high"]


def test_reports_have_no_code_and_no_external_requests(sample_run):
    for page in sample_run.glob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert not EXTERNAL.search(html), page.name
        assert '<div class="highlight' not in html and "load_run_data" not in html, page.name
        assert "injected-parameters" not in html
        images = re.findall(r"<img [^>]*>", html)
        assert all(re.search(r'alt="[^"]+"', img) for img in images), page.name
    sla = (sample_run / "02_sla.html").read_text(encoding="utf-8")
    assert "Parameters of this run" in sla and "Revenue target" in sla
    assert "data:image/png;base64," in sla


def test_manifest_hashes_match_the_inputs(sample_run):
    manifest = json.loads((sample_run / "manifest.json").read_text(encoding="utf-8"))
    inputs = manifest["inputs"]
    for name in ("leads.csv", "stage_history.csv", "opportunities.csv", "client.yaml"):
        assert inputs[f"samples/{name}"]["sha256"] == sha256(SAMPLES / name)


def test_no_personal_data_anywhere_in_the_run_folder(sample_run):
    leads = pd.read_csv(SAMPLES / "leads.csv", dtype=str)
    emails = set(leads["email"].dropna())
    phones = set(leads["phone"].dropna())
    names = set((leads["first_name"] + " " + leads["last_name"]).dropna())
    assert emails and phones and names
    # candidate strings found by shape, then looked up in the sets of real values
    shapes = {
        "email": (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), emails),
        "phone": (re.compile(r"\+?\d[\d ]{6,}\d"), phones),
        "name": (re.compile(r"[A-ZÀ-Ý][a-zà-ÿ']+ [A-ZÀ-Ý][a-zà-ÿ']+"), names),
    }
    for shape, real in shapes.values():  # every real value has the shape searched for
        assert all(shape.fullmatch(value) for value in real)
    for path in sample_run.rglob("*"):
        if path.is_file() and path.suffix != ".parquet":
            text = path.read_text(encoding="utf-8", errors="ignore")
            for kind, (shape, real) in shapes.items():
                leaked = set(shape.findall(text)) & real
                assert not leaked, f"{path.relative_to(sample_run)}: {kind} {sorted(leaked)[:3]}"
    from helpers.ingest import load_canonical

    canonical = load_canonical(sample_run / "canonical").leads
    for column, raw in (("email", emails), ("phone", phones)):
        if column in canonical.columns:
            assert not set(canonical[column].dropna()) & raw


def test_the_italian_report_is_in_italian(italian_run):
    index = (italian_run / "index.html").read_text(encoding="utf-8")
    assert t("report.index_title", "it", client="Sample Company S.p.A.") in index
    assert t("report.index_gaps", "it") in index
    english = [t(k, "en") for k in ("report.index_gaps", "report.index_open_report")]
    assert not any(s in index for s in english)
    for name in NOTEBOOKS:
        html = (italian_run / f"{name}.html").read_text(encoding="utf-8")
        assert "Che cosa scoprirà il team" in html, name
        assert "What the team will learn" not in html, name
        assert t("report.parameters_title", "it") in html
    results = _results(italian_run)
    assert results["02_sla"]["key_numbers"]["a_mql_needed"]["label"] == t(
        "notebooks.sla.kn_mql_needed", "it"
    )


def test_same_input_same_results(sample_run, italian_run):
    # the language changes the words, never the numbers
    en, it = _results(sample_run), _results(italian_run)
    assert en["02_sla"]["reverse_funnel"] == it["02_sla"]["reverse_funnel"]
    assert en["04_collaboration_impact"]["effect"]["estimate"] == pytest.approx(
        it["04_collaboration_impact"]["effect"]["estimate"]
    )


@pytest.mark.realdata
def test_olist_export_runs_and_says_what_it_cannot_support(tmp_path, olist_dir):
    config = tmp_path / "olist.yaml"
    config.write_text(
        yaml.safe_dump({"client": "Olist", "data": str(olist_dir), "mapping": "olist"}),
        encoding="utf-8",
    )
    out = tmp_path / "run"
    code, _, stderr = _run(out, config=config)
    assert code == 0, stderr
    funnel = (out / "03_funnel_handoffs.html").read_text(encoding="utf-8")
    for table in ("activities", "opportunities"):
        assert f"This data has no <strong>{table}</strong> table" in funnel
    alignment = (out / "00_alignment_assessment.html").read_text(encoding="utf-8")
    assert "This data has no <strong>survey</strong> table" in alignment
    sla = (out / "02_sla.html").read_text(encoding="utf-8")
    assert "targets.avg_deal_size" in sla  # the reverse funnel says what it needs
    results = _results(out)
    assert results["03_funnel_handoffs"]["funnel"][0]["reached"] == 8000


def test_a_second_run_gives_byte_identical_reports(sample_run, tmp_path):
    out = tmp_path / "again"
    code, _, stderr = _run(out, only=["02_sla", "04_collaboration_impact"])
    assert code == 0, stderr
    for name in ("02_sla", "04_collaboration_impact"):
        assert (out / f"{name}.html").read_bytes() == (sample_run / f"{name}.html").read_bytes()
        again = (out / "results" / f"{name}.json").read_bytes()
        assert again == (sample_run / "results" / f"{name}.json").read_bytes()
    assert (out / "figures" / "sla_reverse_funnel.png").read_bytes() == (
        sample_run / "figures" / "sla_reverse_funnel.png"
    ).read_bytes()
