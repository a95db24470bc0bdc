"""``smarketing batch``: many clients, one failure stops no other, a table or JSON of outcomes."""

from __future__ import annotations

import json

import pytest
from report_factory import COMMON_PARAMS, make_notebook, tiny_notebook, write_client

from helpers import cli

pytestmark = [pytest.mark.usefixtures("ingest_ready"), pytest.mark.slow]


def test_one_broken_client_stops_no_other(tmp_path, capsys):
    good_nbs = tmp_path / "good_nbs"
    tiny_notebook(good_nbs, "00_first")
    broken_nbs = tmp_path / "broken_nbs"
    make_notebook(broken_nbs / "00_broken.ipynb", COMMON_PARAMS, "raise RuntimeError('stop')")
    good = write_client(tmp_path, "Good Client", good_nbs)
    broken = write_client(tmp_path, "Broken Client", broken_nbs)
    unusable = tmp_path / "unusable.yaml"
    unusable.write_text("client: Nobody\ndata: no/such/folder\n", encoding="utf-8")
    out = tmp_path / "runs"
    argv = ["batch", str(broken), str(good), str(unusable), "--jobs", "2", "--out", str(out),
            "--json"]  # fmt: skip
    code = cli.main(argv)
    captured = capsys.readouterr()
    assert code == 3
    rows = {row["config"]: row for row in json.loads(captured.out)}
    assert rows[str(good)]["status"] == "ok" and rows[str(good)]["exit_code"] == 0
    assert rows[str(good)]["run_dir"] == str(out / "good-client")
    assert (out / "good-client" / "index.html").is_file()
    assert rows[str(broken)]["status"] == "failed" and rows[str(broken)]["exit_code"] == 1
    assert "00_broken" in rows[str(broken)]["message"]
    assert rows[str(broken)]["run_dir"] == str(out / "broken-client.failed")
    assert rows[str(unusable)]["status"] == "unusable" and rows[str(unusable)]["exit_code"] == 2
    assert "'data'" in rows[str(unusable)]["message"]
    assert rows[str(unusable)]["client"] is None and rows[str(unusable)]["run_dir"] is None
    assert "Traceback" not in captured.out + captured.err


def test_all_configs_unusable_exits_2_with_a_table(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("client: X\ndata: .\ntargets:\n  reps: -1\n", encoding="utf-8")
    missing = tmp_path / "missing.yaml"
    code = cli.main(["batch", str(bad), str(missing), "--out", str(tmp_path / "runs")])
    out = capsys.readouterr().out
    assert code == 2
    header = out.splitlines()[0]
    assert header.split()[:2] == ["client", "status"] and "run folder" in header
    assert "targets.reps" in out and "missing.yaml" in out
    assert not (tmp_path / "runs").exists()


def test_an_unusable_client_names_its_validation_file_and_the_table_speaks_the_language(
    tmp_path, capsys
):
    nbs = tmp_path / "nbs"
    tiny_notebook(nbs, "00_first")
    empty = write_client(tmp_path, "Empty Co", nbs)
    (empty.parent / "data" / "leads.csv").write_text("", encoding="utf-8")
    out = tmp_path / "runs"
    code = cli.main(["batch", str(empty), "--out", str(out), "--lang", "it"])
    table = capsys.readouterr().out
    assert code == 2
    assert "input non utilizzabile" in table and "esito" in table.splitlines()[0]
    assert str(out / "empty-co.failed" / "validation.txt") in table
    assert "Segue il rapporto" not in table  # nothing follows in a table


def test_jobs_must_be_at_least_one(capsys):
    assert cli.main(["batch", "a.yaml", "--jobs", "0"]) == 2
    assert "--jobs" in capsys.readouterr().err
