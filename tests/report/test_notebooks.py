"""The five notebooks run through the runner on the bundled sample (and on Olist when present).

One English and one Italian run per test session (session-scoped fixtures); the tests read what
the runs wrote. Slow: every notebook starts a kernel.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from html import unescape
from html.parser import HTMLParser
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


@pytest.fixture(scope="session")
def olist_run(tmp_path_factory, olist_dir, ingest_ready) -> Path:
    folder = tmp_path_factory.mktemp("olist")
    config = folder / "olist.yaml"
    config.write_text(
        yaml.safe_dump({"client": "Olist", "data": str(olist_dir), "mapping": "olist"}),
        encoding="utf-8",
    )
    out = folder / "run"
    code, _, stderr = _run(out, config=config)
    assert code == 0, stderr
    return out


class _Body(HTMLParser):
    """A report page as text (styles and scripts left out) and its outline: the headings in
    order, each followed by whether any content (text, table, image) comes before the next."""

    HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.outline: list[list] = []  # [level, heading text, has content]
        self._skip = 0
        self._heading: list | None = None

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "script", "title"):
            self._skip += 1
        elif tag in self.HEADINGS:
            self._heading = [int(tag[1]), "", False]
            self.outline.append(self._heading)
        elif tag in ("img", "table") and self.outline:
            self._content()

    def handle_endtag(self, tag):
        if tag in ("style", "script", "title"):
            self._skip -= 1
        elif tag in self.HEADINGS:
            self._heading = None

    def handle_data(self, data):
        if self._skip:
            return
        self.text.append(data)
        if self._heading is not None:
            self._heading[1] += data.replace("\u00b6", "").strip()
        elif data.strip() and self.outline:
            self._content()

    def _content(self) -> None:
        """Content after a heading belongs to it and to every open heading above it."""
        level = 7
        for entry in reversed(self.outline):
            if entry[0] < level:
                entry[2] = True
                level = entry[0]


def _body(path: Path) -> _Body:
    parser = _Body()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


RAW_VALUES = re.compile(r"\b(?:None|nan|NaN|NaT)\b|\{\}|\{[a-z_]+\}|\[\]")


def _assert_reads_cleanly(run: Path) -> None:
    pages = sorted(run.glob("*.html"))
    assert len(pages) == len(NOTEBOOKS) + 1
    for page in pages:
        body = _body(page)
        text = " ".join(body.text)
        assert not RAW_VALUES.search(text), f"{page.name}: {RAW_VALUES.search(text)[0]!r}"
        empty = [title for level, title, content in body.outline if level <= 3 and not content]
        assert not empty, f"{page.name}: headings with nothing under them: {empty}"


def test_sample_reports_show_no_raw_values_nor_empty_sections(sample_run, italian_run):
    _assert_reads_cleanly(sample_run)
    _assert_reads_cleanly(italian_run)


def _module_card(index_html: str, title: str) -> str:
    """The text of one module's card on the index page."""
    cards = re.findall(r'<section class="module">(.*?)</section>', index_html, re.DOTALL)
    card = next(c for c in cards if title in c)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", card)))


@pytest.mark.realdata
def test_olist_export_runs_and_says_what_it_cannot_support(olist_run):
    out = olist_run
    _assert_reads_cleanly(out)
    funnel = (out / "03_funnel_handoffs.html").read_text(encoding="utf-8")
    for table in ("activities", "opportunities"):
        assert f"This data has no <strong>{table}</strong> table" in funnel
    assert "neither a stage nor a role" not in funnel
    assert t("stages.labels.sql", "en") in funnel  # named among the steps it does not record
    alignment = (out / "00_alignment_assessment.html").read_text(encoding="utf-8")
    assert "This data has no <strong>survey</strong> table" in alignment
    assert "helpers.workshop.handouts" in alignment
    sla = (out / "02_sla.html").read_text(encoding="utf-8")
    assert "targets.avg_deal_size" in sla  # the reverse funnel says what it needs
    results = _results(out)
    assert results["03_funnel_handoffs"]["funnel"][0]["reached"] == 8000


@pytest.mark.realdata
def test_olist_index_shows_the_data_period_and_the_end_to_end_conversion(olist_run, olist_dir):
    from statsmodels.stats.proportion import proportion_confint

    from helpers.results import fmt_number, fmt_pct
    from helpers.stages import stage_label

    mqls = pd.read_csv(olist_dir / "olist_marketing_qualified_leads_dataset.csv")
    deals = pd.read_csv(olist_dir / "olist_closed_deals_dataset.csv")
    n = mqls["mql_id"].nunique()
    won = deals.loc[deals["mql_id"].isin(mqls["mql_id"]), "mql_id"].nunique()
    assert (won, n) == (842, 8000)
    low, high = proportion_confint(won, n, method="wilson")
    index = (olist_run / "index.html").read_text(encoding="utf-8")
    card = _module_card(index, t("report.title_03_funnel_handoffs", "en"))
    for number in (fmt_pct(won / n, "en", 1), fmt_pct(low, "en", 1), fmt_pct(high, "en", 1)):
        assert number in card
    assert f"{fmt_number(won, 'en')} of {fmt_number(n, 'en')}" in card
    both = deals.merge(mqls, on="mql_id")
    elapsed = pd.to_datetime(both["won_date"]) - pd.to_datetime(both["first_contact_date"])
    median = (elapsed.dt.total_seconds() / 86400).clip(lower=0).median()
    stages = {"from_stage": stage_label("mql", "en"), "to_stage": stage_label("won", "en")}
    label = t("notebooks.funnel.kn_time", "en", **stages)
    shown = re.search(re.escape(label) + r" (\d+)", card)
    assert shown and abs(int(shown[1]) - median) <= 1
    first = pd.to_datetime(mqls["first_contact_date"]).min().date().isoformat()
    last = pd.to_datetime(deals["won_date"]).max().date().isoformat()
    assert f"{first} to {last}" in index and "…" not in index
    for name, reason in (
        ("00_alignment_assessment", "notebooks.alignment.summary_missing"),
        ("02_sla", "notebooks.sla.summary_no_target"),
        ("04_collaboration_impact", "notebooks.impact.summary_no_programme"),
    ):
        assert t(reason, "en") in _module_card(index, t(f"report.title_{name}", "en"))
    assert t("report.index_no_numbers", "en") not in index


@pytest.mark.realdata
def test_olist_personas_show_the_win_mix_not_an_empty_chart(olist_run):
    page = (olist_run / "01_buyer_personas.html").read_text(encoding="utf-8")
    assert t("notebooks.personas.recorded_when_won", "en").split(" (")[0] in page
    assert not (olist_run / "figures" / "personas_scorecard.png").exists()
    rows = _results(olist_run)["01_buyer_personas"]["win_mix"]
    mix = {row["persona"]: row["won"] for row in rows}
    assert mix["cat"] > mix["eagle"] > mix["wolf"] > mix["shark"] and sum(mix.values()) == 842
    # the attribute named in words
    assert t("notebooks.personas.one_candidate_feature", "en", features="lead source") in page


def test_sample_personas_chart_draws_the_rates_with_data(sample_run):
    assert (sample_run / "figures" / "personas_scorecard.png").is_file()
    card = _results(sample_run)["01_buyer_personas"]["scorecard"]
    assert all(row["mql_to_won"] is not None for row in card)


def _section_numbers(page: Path) -> list[int]:
    titles = [title for level, title, _ in _body(page).outline if level == 2]
    return [int(m[1]) for title in titles if (m := re.match(r"(\d+)\.", title))]


@pytest.mark.realdata
def test_impact_sections_are_numbered_as_shown(olist_run, sample_run):
    for run in (olist_run, sample_run):
        numbers = _section_numbers(run / "04_collaboration_impact.html")
        assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 3
    assert (olist_run / "figures" / "impact_trend.png").is_file()


@pytest.mark.realdata
def test_olist_reverse_funnel_runs_once_a_deal_size_is_set(tmp_path, olist_dir, olist_run):
    config = tmp_path / "olist.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "client": "Olist",
                "data": str(olist_dir),
                "mapping": "olist",
                "targets": {"avg_deal_size": 5000},
            }
        ),
        encoding="utf-8",
    )
    out = tmp_path / "run"
    code, _, stderr = _run(out, config=config, only=["02_sla"])
    assert code == 0, stderr
    sla = _results(out)["02_sla"]
    rates = sla["inputs"]["rates"]
    assert list(rates["rates"]) == ["mql_to_won"]
    assert rates["rates"]["mql_to_won"] == pytest.approx(842 / 8000)
    plan = sla["reverse_funnel"]
    assert plan is not None and sla["inputs"]["avg_deal_size"] == 5000
    assert plan["per_month"]["mql"] > 0
    assert "targets.avg_deal_size" not in (out / "02_sla.html").read_text(encoding="utf-8")


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


@pytest.mark.parametrize("lang", ["en", "it"])
def test_a_leads_only_export_runs_and_each_section_says_it_needs_the_stage_history(tmp_path, lang):
    data = tmp_path / "export"
    data.mkdir()
    leads = pd.read_csv(SAMPLES / "leads.csv", dtype=str)
    leads.loc[:99, "persona"] = None  # leads without a persona are not one more persona
    leads.to_csv(data / "leads.csv", index=False)
    only = ["01_buyer_personas", "02_sla", "03_funnel_handoffs"]
    code, _, stderr = _run(tmp_path / "run", None, data=str(data), lang=lang, only=only)
    assert code == 0, stderr
    run = tmp_path / "run"
    sla = (run / "02_sla.html").read_text(encoding="utf-8")
    funnel = (run / "03_funnel_handoffs.html").read_text(encoding="utf-8")
    no_table = t("notebooks.common.no_table", lang, table="stage_history", consequence="")
    no_table = no_table.replace("**stage_history**", "<strong>stage_history</strong>").strip()
    assert no_table in sla and no_table in funnel
    assert funnel.count(t("notebooks.funnel.needs_history", lang)) == 3  # handoff, speed, leaks
    assert t("notebooks.sla.compliance_needs_history", lang) in sla
    results = _results(run)
    assert t("notebooks.sla.summary_no_history", lang) in results["02_sla"]["summary"]
    funnel_summary = results["03_funnel_handoffs"]["summary"]
    assert t("notebooks.funnel.summary_no_history", lang) in funnel_summary
    assert results["02_sla"]["inputs"]["rates"] is None
    personas = results["01_buyer_personas"]["key_numbers"]["a_personas"]["value"]
    assert personas == str(leads["persona"].nunique())


def _export_without_mql_dates(folder: Path) -> dict[str, object]:
    """A kit-format export like a Salesforce leads report: lead, SQL (= opportunity), won and
    lost dates, no MQL or SAL date. Two deals are open: one expected to close before the last
    event (L12), one in 2099 (L28); one lead is dated 2099 (a typo). Returns what the report
    should say."""
    day = pd.Timestamp("2024-01-01", tz="UTC")
    leads, history, deals = [], [], []
    for i in range(1, 41):
        lid, created = f"L{i:02d}", day + pd.Timedelta(days=5 * i)
        leads.append((lid, created))
        history.append((lid, "lead", created))
        if i % 2:
            continue
        sql = created + pd.Timedelta(days=10)
        history.append((lid, "sql", sql))
        if i % 4:
            continue
        history.append((lid, "opportunity", sql))
        if i in (12, 28):
            closed = pd.Timestamp("2024-04-01" if i == 12 else "2099-06-30", tz="UTC")
            deals.append((f"O{i}", lid, 1000.0, sql, closed, "open"))
            continue
        outcome, closed = ("won" if i % 8 == 0 else "lost"), sql + pd.Timedelta(days=30)
        history.append((lid, outcome, closed))
        deals.append((f"O{i}", lid, 1000.0, sql, closed, outcome))
    leads.append(("L99", pd.Timestamp("2099-01-01", tz="UTC")))
    folder.mkdir()
    iso = "%Y-%m-%dT%H:%M:%SZ"
    tables = {
        "leads": pd.DataFrame(leads, columns=["lead_id", "created_at"]),
        "stage_history": pd.DataFrame(history, columns=["lead_id", "stage", "entered_at"]),
        "opportunities": pd.DataFrame(
            deals,
            columns=["opportunity_id", "lead_id", "amount", "created_at", "closed_at", "outcome"],
        ),
    }
    for name, frame in tables.items():
        for col in ("created_at", "entered_at", "closed_at"):
            if col in frame:
                frame[col] = frame[col].dt.strftime(iso)
        frame.to_csv(folder / f"{name}.csv", index=False)
    last = max(t for _, _, t in history)  # the 2099 dates never end the period
    return {"end": last.strftime("%Y-%m-%d"), "open_value": 2000.0}


def test_an_export_without_mql_dates_invents_no_handoff(tmp_path):
    expected = _export_without_mql_dates(tmp_path / "export")
    only = ["02_sla", "03_funnel_handoffs"]
    run = tmp_path / "run"
    code, _, stderr = _run(run, None, data=str(tmp_path / "export"), only=only)
    assert code == 0, stderr
    results = _results(run)
    funnel = results["03_funnel_handoffs"]
    # the funnel and the conversion follow the stages the export records
    assert [row["stage"] for row in funnel["funnel"]] == ["lead", "sql", "opportunity", "won"]
    assert (funnel["conversion"]["from_stage"], funnel["conversion"]["to_stage"]) == (
        "lead",
        "sql",
    )
    steps = ", ".join(t(f"stages.labels.{s}", "en") for s in ("mql", "sal"))
    assert t("notebooks.funnel.summary_unrecorded", "en", steps=steps) in funnel["summary"]
    # no acceptance, no MQL -> SAL leak, no gap made of a step that loses nothing
    assert "b_acceptance" not in funnel["key_numbers"] and "handoff" not in funnel
    assert [(b["from_stage"], b["to_stage"]) for b in funnel["bottlenecks"]] == [
        ("sql", "opportunity")
    ]
    page = (run / "03_funnel_handoffs.html").read_text(encoding="utf-8")
    assert "does not record the MQL stage" in page
    # both open deals are pipeline, the one past its expected close date too
    assert funnel["coverage"]["open_value"] == expected["open_value"]
    assert funnel["velocity"]["open_opportunities"] == 2
    # the SLA's rates skip the unrecorded stages and the MQL target is not made up
    sla = results["02_sla"]
    assert set(sla["inputs"]["rates"]["rates"]) == {
        "lead_to_sql",
        "sql_to_opportunity",
        "opportunity_to_won",
    }
    assert sla["reverse_funnel"] is None and sla["mql_per_month_committed"] is None
    # the period ends at the last event that happened, not at a 2099 date
    index = (run / "index.html").read_text(encoding="utf-8")
    assert f"to {expected['end']} (from the dates in the data)" in index
