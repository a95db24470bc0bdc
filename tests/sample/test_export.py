"""Writing the sample: kit export format, identical bytes, the committed files, the CLI."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

from helpers.cli import main
from helpers.ingest import load_crm
from helpers.model import SCHEMAS
from helpers.sample import TRUTH_FILE, generate, write_export

FILES = [f"{name}.csv" for name in SCHEMAS] + [TRUTH_FILE]


def _digests(folder: Path) -> dict[str, str]:
    return {f: hashlib.sha256((folder / f).read_bytes()).hexdigest() for f in FILES}


@pytest.fixture(scope="module")
def small():
    return generate(1_500, 99)


def test_write_export_writes_the_kit_files_and_nothing_else(small, tmp_path):
    paths = write_export(small, tmp_path)
    assert sorted(p.name for p in paths) == sorted(FILES)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(FILES)  # no temp folder left
    for name, df in small.tables.items():
        header = (tmp_path / f"{name}.csv").read_text(encoding="utf-8").splitlines()[0]
        assert header.split(",") == list(df.columns)
    opp = (tmp_path / "opportunities.csv").read_text(encoding="utf-8").splitlines()
    first = dict(zip(opp[0].split(","), opp[1].split(","), strict=True))
    assert first["created_at"].endswith("Z") and len(first["created_at"]) == 20
    assert first["amount"].split(".")[1].isdigit() and len(first["amount"].split(".")[1]) == 2
    assert json.loads((tmp_path / TRUTH_FILE).read_text(encoding="utf-8")) == small.truth


def test_same_seed_gives_identical_bytes(small, tmp_path):
    write_export(small, tmp_path / "a")
    write_export(generate(1_500, 99), tmp_path / "b")
    write_export(small, tmp_path / "b")  # overwriting in place gives the same files
    assert _digests(tmp_path / "a") == _digests(tmp_path / "b")


def test_committed_sample_is_the_regenerated_one(root: Path, tmp_path):
    committed = root / "data" / "samples"
    truth = json.loads((committed / TRUTH_FILE).read_text(encoding="utf-8"))
    again = generate(truth["leads"], truth["seed"])
    write_export(again, tmp_path)
    assert _digests(tmp_path) == _digests(committed)
    assert sum((committed / f).stat().st_size for f in FILES) < 8_000_000


def test_sample_travels_the_ingestion_path(small, tmp_path):
    write_export(small, tmp_path)
    data, report = load_crm(tmp_path, pseudonymise=False)
    assert report.usable, report.render_text()
    for name, df in small.tables.items():
        got = getattr(data, name)
        columns = [c for c in SCHEMAS[name].columns if c in df.columns]
        pd.testing.assert_frame_equal(
            got[columns].reset_index(drop=True), df[columns].reset_index(drop=True)
        )


def test_parquet_export_round_trips(small, tmp_path):
    paths = write_export(small, tmp_path, fmt="parquet")
    assert {p.suffix for p in paths} == {".parquet", ".json"}
    for name, df in small.tables.items():
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / f"{name}.parquet"), df)


def test_values_needing_quotes_are_quoted(small, tmp_path):
    tables = dict(small.tables)
    leads = tables["leads"].copy()
    leads.loc[0, "company"] = 'Rossi, Figli & "Soci" S.r.l.'
    tables["leads"] = leads
    write_export(type(small)(tables=tables, truth=small.truth), tmp_path)
    back = pd.read_csv(tmp_path / "leads.csv", dtype=str, keep_default_na=False)
    assert back.loc[0, "company"] == 'Rossi, Figli & "Soci" S.r.l.'
    assert len(back) == len(leads)


def test_cli_writes_a_sample(tmp_path, capsys):
    out = tmp_path / "company"
    assert main(["sample", "--leads", "300", "--seed", "5", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
    assert "300" in capsys.readouterr().out
    assert json.loads((out / TRUTH_FILE).read_text(encoding="utf-8"))["seed"] == 5
    pq = tmp_path / "pq"
    assert main(["sample", "--leads", "300", "--out", str(pq), "--format", "parquet"]) == 0
    assert (pq / "leads.parquet").is_file()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--leads", "0"], "between 1 and"),
        (["--leads", "-3"], "between 1 and"),
        (["--seed", "-1"], "seed"),
    ],
)
def test_cli_bad_arguments_exit_2_with_a_clear_message(tmp_path, capsys, args, needle):
    out = tmp_path / "never"
    assert main(["sample", *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err
    assert not out.exists()


def test_cli_usage_errors_exit_2(tmp_path):
    assert main(["sample", "--leads", "many", "--out", str(tmp_path)]) == 2
    assert main(["sample", "--out", str(tmp_path), "--format", "xlsx"]) == 2
    assert main(["sample", "--leads", "10"]) == 2  # --out is required


def test_cli_out_that_is_a_file_exits_2(tmp_path, capsys):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x", encoding="utf-8")
    assert main(["sample", "--leads", "50", "--out", str(blocker)]) == 2
    assert str(blocker) in capsys.readouterr().err


def test_cli_messages_in_italian(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SMARKETING_LANG", "it")
    assert main(["sample", "--leads", "0", "--out", str(tmp_path / "x")]) == 2
    assert "numero di lead" in capsys.readouterr().err
