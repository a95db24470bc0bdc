"""The report runner on throwaway notebooks: what a run writes, and how it fails."""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil

import nbformat
import pytest
from report_factory import COMMON_PARAMS, make_notebook, report_args, tiny_notebook, write_client

from helpers import runner
from helpers.errors import KitError
from helpers.runner import NotebookSpec, report_command, sha256

pytestmark = [pytest.mark.usefixtures("ingest_ready"), pytest.mark.slow]


@contextlib.contextmanager
def capture_stdout():
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        yield buffer


EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)
CSS_URL = re.compile(r"""url\(\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


@pytest.fixture(scope="module")
def good_run(tmp_path_factory, ingest_ready):
    """One successful run shared by the tests that only read what it wrote."""
    tmp_path = tmp_path_factory.mktemp("good")
    folder = tmp_path / "notebooks"
    tiny_notebook(folder, "00_first", 0.4)
    tiny_notebook(folder, "01_second", 0.9)
    config = write_client(tmp_path, "Acme Demo", folder)
    out = tmp_path / "runs" / "acme"
    with capture_stdout() as stdout:
        code = report_command(report_args(config, out))
    return code, out, config, stdout.getvalue()


def test_a_successful_run_writes_the_whole_folder(good_run):
    code, out, _, stdout = good_run
    assert code == 0
    assert str(out / "index.html") in stdout
    for name in ("index.html", "00_first.html", "01_second.html", "results.json",
                 "manifest.json", "validation.json", "validation.txt",
                 "notebooks/00_first.ipynb", "notebooks/01_second.ipynb",
                 "figures/00_first_count.png", "figures/01_second_count.png"):  # fmt: skip
        assert (out / name).is_file(), name
    assert any((out / "canonical").iterdir())
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert results["00_first"]["leads"] == 3 and results["01_second"]["leads"] == 3
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "ok"
    assert set(manifest["notebooks"]) == {"00_first", "01_second"}
    assert all(nb["status"] == "ok" and nb["seconds"] > 0 for nb in manifest["notebooks"].values())
    assert manifest["packages"]["papermill"] and manifest["python"]
    assert manifest["parameters"]["client"] == "Acme Demo"
    assert not (out.parent / "acme.failed").exists()
    assert [p.name for p in out.parent.iterdir()] == ["acme"]  # no temporary folder left


def test_manifest_hashes_match_the_input_files(good_run):
    _, out, config, _ = good_run
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    leads = config.parent / "data" / "leads.csv"
    assert manifest["inputs"]["data/leads.csv"]["sha256"] == sha256(leads)
    assert manifest["inputs"]["Acme Demo/client.yaml"]["sha256"] == sha256(config)
    import hashlib

    assert sha256(leads) == hashlib.sha256(leads.read_bytes()).hexdigest()


def test_html_reports_have_no_code_and_no_external_requests(good_run):
    _, out, _, _ = good_run
    for page in ("index.html", "00_first.html", "01_second.html"):
        html = (out / page).read_text(encoding="utf-8")
        assert not EXTERNAL.search(html), page
        assert not CSS_URL.search(html), page
        assert "<script src" not in html
    html = (out / "00_first.html").read_text(encoding="utf-8")
    assert "secret_marker_in_code" not in html  # code cells are not shown
    assert "load_canonical" not in html
    assert '<div class="highlight' not in html and 'class="jp-InputPrompt' not in html
    assert "injected-parameters" not in html
    assert "Parameters of this run" in html and "Acme Demo" in html  # the readable table
    assert "data:image/png;base64," in html  # the figure is embedded
    assert "Leads read: 3" in html
    index = (out / "index.html").read_text(encoding="utf-8")
    # the gaps are ranked over every notebook: 0.9 (second) before 0.4 (first)
    assert index.index("Gap from 01_second") < index.index("Gap from 00_first")
    assert 'href="00_first.html"' in index


def test_rerunning_replaces_the_folder_and_gives_the_same_reports(tmp_path, good_run, capsys):
    _, first_out, config, _ = good_run
    out = tmp_path / "copy"
    shutil.copytree(first_out, out)
    kept = ("results.json", "00_first.html", "index.html", "notebooks/00_first.ipynb")
    first = {p: (out / p).read_bytes() for p in kept}
    (out / "stale.txt").write_text("from an older run", encoding="utf-8")
    assert report_command(report_args(config, out)) == 0
    assert not (out / "stale.txt").exists()
    for name, content in first.items():
        assert (out / name).read_bytes() == content, name


def test_unknown_parameter_is_an_error_before_anything_runs(tmp_path, tiny_notebooks):
    marker = tmp_path / "executed.txt"
    lean = make_notebook(
        tmp_path / "lean" / "00_lean.ipynb",
        'client: str = "x"  # only one parameter\n',
        f"open({str(marker)!r}, 'w').write('ran')",
    )
    config = write_client(tmp_path, "Lean", tiny_notebooks)
    specs = [NotebookSpec("00_lean", lean)]
    with pytest.raises(KitError) as info:
        report_command(report_args(config, tmp_path / "out"), specs=specs)
    message = info.value.message("en")
    assert info.value.key == "report.unknown_parameter"
    assert "00_lean" in message and "canonical_dir" in message and "lang" in message
    assert info.value.exit_code == 2
    assert not marker.exists()
    assert not (tmp_path / "out").exists()


def test_a_failing_cell_names_notebook_and_cell_and_marks_the_folder(tmp_path, capsys):
    tiny_notebooks = tmp_path / "notebooks"
    tiny_notebook(tiny_notebooks, "00_first")
    make_notebook(
        tiny_notebooks / "02_broken.ipynb",
        COMMON_PARAMS,
        "x = 1",
        "raise ValueError('the planted failure')",
    )
    config = write_client(tmp_path, "Broken", tiny_notebooks)
    out = tmp_path / "runs" / "broken"
    code = report_command(report_args(config, out))
    err = capsys.readouterr().err
    assert code == 1
    assert "02_broken" in err and "cell 4" in err  # title, parameters, x = 1, raise (1-based)
    assert "ValueError: the planted failure" in err
    assert "Traceback" not in err
    failed = out.parent / "broken.failed"
    assert str(failed) in err
    assert not out.exists()  # nothing that looks like a complete run
    assert "02_broken" in (failed / "FAILED.txt").read_text(encoding="utf-8")
    manifest = json.loads((failed / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "failed"
    assert manifest["notebooks"]["02_broken"]["status"] == "failed"
    assert manifest["notebooks"]["00_first"]["status"] == "ok"  # the others still ran
    assert not (failed / "index.html").exists()
    executed = nbformat.read(failed / "notebooks" / "02_broken.ipynb", as_version=4)
    failing = [c for c in executed.cells if "planted failure" in c.source]
    assert failing[0].outputs[0]["ename"] == "ValueError"
    assert runner.source_cell_index(failed / "notebooks" / "02_broken.ipynb", 4) == 3


def test_a_failed_run_keeps_the_last_good_run(tmp_path, capsys):
    tiny_notebooks = tmp_path / "notebooks"
    tiny_notebook(tiny_notebooks, "00_first")
    config = write_client(tmp_path, "Keep", tiny_notebooks)
    out = tmp_path / "runs" / "keep"
    assert report_command(report_args(config, out)) == 0
    good_index = (out / "index.html").read_bytes()
    make_notebook(tiny_notebooks / "09_boom.ipynb", COMMON_PARAMS, "1 / 0")
    assert report_command(report_args(config, out)) == 1
    assert (out / "index.html").read_bytes() == good_index
    assert (out.parent / "keep.failed" / "FAILED.txt").is_file()
    (tiny_notebooks / "09_boom.ipynb").unlink()
    assert report_command(report_args(config, out)) == 0
    assert not (out.parent / "keep.failed").exists()  # a good run clears the failure marker


def test_unusable_data_stops_with_exit_2_and_the_validation_report(tmp_path, tiny_notebooks,
                                                                    capsys):  # fmt: skip
    config = write_client(tmp_path, "Empty", tiny_notebooks)
    (config.parent / "data" / "leads.csv").write_text("", encoding="utf-8")
    out = tmp_path / "runs" / "empty"
    code = report_command(report_args(config, out))
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err
    failed = out.parent / "empty.failed"
    assert (failed / "validation.json").is_file() and (failed / "validation.txt").is_file()
    assert json.loads((failed / "validation.json").read_text(encoding="utf-8"))["usable"] is False
    assert not (failed / "notebooks").exists() or not any((failed / "notebooks").iterdir())
    assert not out.exists()


def test_kernels_receive_the_environment_and_the_run_folder(tmp_path, tiny_notebooks):
    probe = make_notebook(
        tiny_notebooks / "05_probe.ipynb",
        COMMON_PARAMS,
        "import os\nfrom pathlib import Path\nfrom helpers.results import write_results\n"
        "here = Path.cwd() == Path(run_dir).resolve()\n"
        "write_results(run_dir, '05_probe', {'lang': os.environ['SMARKETING_LANG'],"
        " 'tqdm': os.environ['TQDM_DISABLE'], 'cwd_is_run': here})",
    )
    config = write_client(tmp_path, "Probe", tiny_notebooks, language="it")
    out = tmp_path / "probe"
    assert report_command(report_args(config, out), specs=[NotebookSpec("05_probe", probe)]) == 0
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))["05_probe"]
    assert results == {"lang": "it", "tqdm": "1", "cwd_is_run": True}


@pytest.mark.parametrize("lang", ["en", "it"])
def test_an_output_folder_that_cannot_be_made_is_exit_2_in_plain_words(tmp_path, tiny_notebooks,
                                                                       lang):  # fmt: skip
    config = write_client(tmp_path, "Blocked", tiny_notebooks)
    (tmp_path / "afile").write_text("in the way", encoding="utf-8")
    with pytest.raises(KitError) as info:
        report_command(report_args(config, tmp_path / "afile" / "run"))
    assert info.value.key == "report.out_unusable.file_in_the_way" and info.value.exit_code == 2
    message = info.value.message(lang)
    assert str(tmp_path / "afile" / "run") in message
    reason = {"en": "a file with that name", "it": "c'è già un file con quel nome"}[lang]
    assert reason in message
    assert (tmp_path / "afile").read_text(encoding="utf-8") == "in the way"


def test_an_out_folder_holding_other_files_is_refused_before_any_work(tmp_path, tiny_notebooks):
    config = write_client(tmp_path, "Careful", tiny_notebooks)
    mine = tmp_path / "mydocs"
    mine.mkdir()
    (mine / "important.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(KitError) as info:
        report_command(report_args(config, mine))
    assert info.value.key == "report.out_unusable.not_a_run" and info.value.exit_code == 2
    assert (mine / "important.txt").read_text(encoding="utf-8") == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    afile = tmp_path / "afile"
    afile.write_text("in the way", encoding="utf-8")
    with pytest.raises(KitError) as info:
        report_command(report_args(config, afile))
    assert info.value.key == "report.out_unusable.file_in_the_way"
    assert afile.read_text(encoding="utf-8") == "in the way"
    empty = tmp_path / "empty"
    empty.mkdir()
    with capture_stdout():
        assert report_command(report_args(config, empty)) == 0  # an empty folder is fine
        assert report_command(report_args(config, empty)) == 0  # and so is an earlier report


def test_sigterm_stops_a_report_cleanly_with_exit_143(tmp_path, tiny_notebooks):
    import os
    import signal
    import subprocess
    import sys
    import time

    slow = make_notebook(
        tiny_notebooks / "09_slow.ipynb", COMMON_PARAMS, "import time\ntime.sleep(60)"
    )
    config = write_client(tmp_path, "Slow", slow.parent)
    out = tmp_path / "runs" / "slow"
    cmd = [sys.executable, "-m", "helpers.cli", "report", "--config", str(config),
           "--out", str(out), "--only", "09_slow"]  # fmt: skip
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and not any(
        (p / "notebooks").exists() for p in (tmp_path / "runs").glob(".slow.building-*")
    ):
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert "SIGTERM" in err and "Traceback" not in err
    assert list((tmp_path / "runs").iterdir()) == []  # no half-built folder left
