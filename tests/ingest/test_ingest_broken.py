"""Every broken input gets a clear message and the right exit code, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from make_broken import CASES, HERE, content, write_case

from helpers import exitcodes
from helpers.cli import main
from helpers.ingest import Finding, load_crm
from helpers.ingest.report import mask_value
from helpers.messages import t


def case_folder(name: str, tmp_path: Path) -> Path:
    case = CASES[name]
    if case.generated or not case.files:
        return write_case(name, tmp_path)
    return HERE / name


def run(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def test_corpus_is_large_enough():
    assert len(CASES) >= 30


@pytest.mark.parametrize("name", sorted(CASES))
def test_broken_input(name, tmp_path, capsys):
    case = CASES[name]
    folder = case_folder(name, tmp_path)
    args = ["validate", str(folder)]
    if case.mapping:
        mapping = folder / case.mapping
        args += ["--mapping", str(mapping) if mapping.is_file() else case.mapping]
    if case.code.startswith("ingest."):  # a mapping problem: one clear error on stderr
        code, out, err = run(args, capsys)
        assert code == case.exit == exitcodes.UNUSABLE
        prefix = t(case.code, "en").split("{")[0]
        assert prefix and prefix in err
        return
    code, out, _ = run([*args, "--json"], capsys)
    assert code == case.exit
    report = json.loads(out)
    found = [f for f in report["findings"] if f["code"] == case.code]
    assert found, f"{case.code} not in {[f['code'] for f in report['findings']]}"
    assert report["usable"] is (case.exit == exitcodes.OK)
    if case.exit == exitcodes.UNUSABLE:
        assert any(f["severity"] == "error" for f in report["findings"])
    wanted = Finding(
        **{
            k: found[0][k]
            for k in ("severity", "code", "table", "file", "column", "count", "examples", "params")
        }
    )
    for lang in ("en", "it"):
        code, text, _ = run([*args, "--lang", lang], capsys)
        assert code == case.exit
        assert wanted.message(lang) in text and wanted.advice(lang) in text
        for placeholder in ("'NaT'", "'nan'", "'None'", "'<NA>'"):  # a blank is shown as none
            assert placeholder not in text, f"{name}: {placeholder} shown as an example"


def test_all_problems_are_reported_at_once(tmp_path, capsys):
    folder = tmp_path / "many"
    folder.mkdir()
    (folder / "leads.csv").write_text(
        "lead_id,created_at,source,channel\nL1,2024-01-01,=1+1,inbound\nL1,2024-01-02,a,inbound\n"
        "L2,2099-01-01,b,telepathy\nL3,2024-01-03,<i>x</i>,outbound\n",
        encoding="utf-8",
    )
    (folder / "stage_history.csv").write_text(
        "lead_id,stage,entered_at\nL1,Qualified Lead,2024-01-05\nL9,mql,2024-01-05\n",
        encoding="utf-8",
    )
    code, out, _ = run(["validate", str(folder), "--json"], capsys)
    codes = {f["code"] for f in json.loads(out)["findings"]}
    assert code == exitcodes.OK
    assert {
        "formula_like",
        "duplicate_ids",
        "future_dates",
        "unknown_values",
        "markup_in_text",
        "unknown_stage",
        "orphan_rows",
    } <= codes


def test_examples_name_rows_and_values(capsys):
    _, report = load_crm(HERE / "unparseable_dates", pseudonymise=False)
    f = report.get("unparseable_dates")
    assert f.severity == "error" and f.count == 5 and f.column == "created_at"
    assert [e["row"] for e in f.examples] == [2, 3, 4, 5, 6]
    assert f.examples[0]["value"] == "sometime in spring"
    assert f.file == "leads.csv"


def test_example_values_print_blanks_as_nothing_and_cut_long_text():
    for blank in (None, float("nan"), pd.NA, pd.NaT):
        assert mask_value(blank) == ""
    assert mask_value("x" * 500).endswith("...") and len(mask_value("x" * 500)) < 500
    assert mask_value(["a", "b"]) == "['a', 'b']"
    # a cell with line breaks shows its first line only, whichever finding quotes it: the
    # lines after it may be rows that an unclosed quote swallowed
    swallowed = "Acme\nL2,2024-01-02,Beta,Mario,+39 333 1234567\r\nL3"
    assert mask_value(swallowed) == "Acme ..."


def test_unknown_stage_advice_names_the_stage_and_the_fix():
    _, report = load_crm(HERE / "unknown_stage", pseudonymise=False)
    f = report.get("unknown_stage")
    assert "Qualified Lead" in f.message("en") and "stages:" in f.advice("en")
    assert "Qualified Lead" in f.advice("it")


def test_formula_cells_are_neutralised_in_the_tables():
    data, report = load_crm(HERE / "formula_cells", pseudonymise=False)
    assert report.get("formula_like").count == 4
    source = data.leads.set_index("lead_id")["source"]
    assert source["L50"].startswith("'=HYPERLINK")
    assert source["L52"] == "'-2+3" and source["L53"] == "'@SUM(A1:A2)"


def test_a_missing_path_is_an_error(tmp_path, capsys):
    code, out, _ = run(["validate", str(tmp_path / "nope"), "--json"], capsys)
    assert code == exitcodes.UNUSABLE
    assert [f["code"] for f in json.loads(out)["findings"]] == ["path_not_found"]


def test_committed_corpus_matches_the_generator():
    for name, case in CASES.items():
        if case.generated:
            continue
        for fname, value in case.files.items():
            if fname.endswith(".xlsx") and callable(value):
                continue  # workbooks carry a creation time
            assert (HERE / name / fname).read_bytes() == content(value), f"{name}/{fname}"


def test_skipped_rows_are_named_by_line_and_none_of_their_text_is_shown(tmp_path, capsys):
    folder = tmp_path / "ragged"
    folder.mkdir()
    rows = [f"L{i},2024-01-0{i},web,p{i}@example.com" for i in range(1, 6)]
    leaky = "L9,2024-01-09,web,mario.rossi@example.com,Mario Rossi,+39 333 1234567"
    lines = ["lead_id,created_at,source,email", *rows[:2], leaky, *rows[2:], leaky, "L10,x"]
    (folder / "leads.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, _ = run(["validate", str(folder), "--json"], capsys)
    assert code == exitcodes.OK
    (ragged,) = [f for f in json.loads(out)["findings"] if f["code"] == "ragged_rows"]
    assert ragged["count"] == 3
    assert [e["row"] for e in ragged["examples"]] == [4, 8, 9]  # the header is line 1
    for lang in ("en", "it"):
        _, text, _ = run(["validate", str(folder), "--lang", lang], capsys)
        for personal in ("mario", "Rossi", "333 1234567"):
            assert personal not in text and personal not in out


@pytest.mark.parametrize(
    ("lang", "rows", "one"), [("en", "10,000 rows", "1 row "), ("it", "10.000 righe", "1 riga ")]
)
def test_validation_text_counts_in_the_readers_format(lang, rows, one, capsys):
    samples = Path(__file__).resolve().parents[2] / "data" / "samples"
    _, text, _ = run(["validate", str(samples), "--lang", lang], capsys)
    assert f"leads: {rows} " in text
    _, text, _ = run(["validate", str(HERE / "unclosed_quote"), "--lang", lang], capsys)
    assert f"leads: {one}" in text


def test_a_cell_that_swallowed_rows_shows_only_its_first_line(tmp_path, capsys):
    folder = tmp_path / "open_quote"
    folder.mkdir()
    (folder / "leads.csv").write_text(
        'lead_id,created_at,company,first_name,phone\nL1,2024-01-01,"Acme\n'
        'L2,2024-01-02,Beta,Mario,+39 333 1234567\nL3",Anna,+39 02 555\n'
        "L4,2024-01-04,Delta,Anna,+39 02 556\n",
        encoding="utf-8",
    )
    code, out, _ = run(["validate", str(folder), "--json"], capsys)
    assert code == exitcodes.OK
    (multiline,) = [f for f in json.loads(out)["findings"] if f["code"] == "multiline_cells"]
    assert [e["value"] for e in multiline["examples"]] == ["Acme ..."]
    _, text, _ = run(["validate", str(folder)], capsys)
    for personal in ("Mario", "333 1234567"):
        assert personal not in out and personal not in text


@pytest.mark.parametrize(
    ("channels", "blank"),
    [
        (["inbound", "partner", "partner", "", "outbound"], 1),  # one cell really blank
        (["inbound", "partner", "partner", "outbound", "inbound"], 0),
    ],
)
def test_a_value_not_allowed_is_reported_once_not_again_as_blank(tmp_path, channels, blank):
    rows = "".join(f"L{i},2024-01-0{i + 1},{c}\n" for i, c in enumerate(channels))
    (tmp_path / "leads.csv").write_text("lead_id,created_at,channel\n" + rows, encoding="utf-8")
    data, report = load_crm(tmp_path, "kit", pseudonymise=False)
    assert report.get("unknown_values").count == 2
    assert data.leads["channel"].isna().sum() == 2 + blank  # not allowed: left blank
    blanks = report.get("blank_values")
    if blank:
        assert (blanks.count, blanks.params["share"], blanks.examples) == (
            1,
            "20%",
            [{"row": 5, "value": ""}],
        )
    else:
        assert blanks is None


def test_unknown_stage_advice_suggests_a_stage_that_fits_or_a_placeholder(tmp_path):
    (tmp_path / "leads.csv").write_text(
        "lead_id,created_at\nL1,2024-01-05\nL2,2024-01-06\n", encoding="utf-8"
    )
    (tmp_path / "stage_history.csv").write_text(
        "lead_id,stage,entered_at\nL1,MQL,2024-01-06\nL1,Rifiutato,2024-01-08\n"
        "L2,Negoziazione,2024-01-09\n",
        encoding="utf-8",
    )
    _, report = load_crm(tmp_path, "kit", pseudonymise=False)
    advice = {f.params["stage"]: f for f in report.findings if f.code == "unknown_stage"}
    assert '"Rifiutato: rejected"' in advice["Rifiutato"].advice("it")  # "Rifiutato dalle vendite"
    assert '"Negoziazione: <stage key>"' in advice["Negoziazione"].advice("en")
    assert '"Negoziazione: <chiave della fase>"' in advice["Negoziazione"].advice("it")
    for f in advice.values():
        assert ": sql" not in f.advice("en") + f.advice("it")
        assert "lead, mql, sal, sql" in f.advice("en")  # the stages to choose from
