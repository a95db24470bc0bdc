"""Runner pieces that need no kernel: parameters, environment, pages, batch table."""

from __future__ import annotations

import nbformat
from report_factory import COMMON_PARAMS, make_notebook, tiny_notebook, write_client

from helpers import runner
from helpers.report.pages import format_value, parameters_markdown, report_notebook
from helpers.runner import BatchItem, batch_exit_code, render_batch_table


def test_kernel_environment_is_headless_and_reproducible():
    env = runner.kernel_environment("it")
    assert env["TQDM_DISABLE"] == "1" and env["MPLBACKEND"] == "Agg"
    assert env["PYTHONHASHSEED"] == "0" and env["SMARKETING_LANG"] == "it"


def test_declared_parameters_read_annotations_papermill_skips(tmp_path):
    nb = make_notebook(tmp_path / "p.ipynb", COMMON_PARAMS + "rate: float = 0.5  # 0 = none\n")
    assert runner.declared_parameters(nb) == {
        "client", "lang", "mapping", "period_start", "period_end", "data_dir",
        "canonical_dir", "run_dir", "rate",
    }  # fmt: skip


def test_tiny_notebook_helper_runs_standalone_parameters(tmp_path):
    # the throwaway notebook's parameters cell is valid Python on its own
    path = tiny_notebook(tmp_path, "00_x")
    nb = nbformat.read(path, as_version=4)
    namespace: dict = {}
    exec(nb.cells[1].source, namespace)
    assert namespace["run_dir"] == "../runs/notebook"


def test_parameters_table_is_readable_and_localised():
    md = parameters_markdown({"revenue_target": 1_200_000.0, "treated": ["north", "centre"],
                              "avg_deal_size": None, "marketing_share": 0.6}, "it")  # fmt: skip
    assert "| Obiettivo di fatturato | 1.200.000 |" in md
    assert "| Unità nel programma | north, centre |" in md
    assert "| Valore medio di un contratto | non indicato: il contratto medio vinto nei dati |" in (
        md
    )
    assert format_value(None, "en", "persona_cards") == "not set"
    assert "| Quota di fatturato dai lead del marketing | 60% |" in md  # a share, as a percentage
    assert format_value(["00_alignment_assessment", "02_sla"], "en", "notebooks") == (
        "Alignment assessment, The sales-marketing SLA"
    )
    assert format_value(1_200_000.0, "en") == "1,200,000"
    # an empty list agrees with its noun in Italian ("unità" is feminine)
    assert format_value({}, "it", "treated") == format_value([], "it", "comparison") == "nessuna"
    assert format_value([], "en", "comparison") == "none"
    starts = {"north_west": "2025-03-01", "Lombardia": "2025-07-01"}
    params = {"programme_unit": "region", "treated": starts, "comparison": ["islands"]}
    units = parameters_markdown(params, "it")
    assert "| Unità nel programma | Nord-Ovest: 01/03/2025; Lombardia: 01/07/2025 |" in units
    assert "| Unità di confronto | Isole |" in units
    assert "| Unità del programma | area geografica |" in units


def test_report_notebook_replaces_parameter_cells_and_drops_stderr(tmp_path):
    path = make_notebook(tmp_path / "n.ipynb", COMMON_PARAMS, "print('hello')")
    nb = nbformat.read(path, as_version=4)
    injected = nbformat.v4.new_code_cell("client = 'Real'")
    injected.metadata["tags"] = ["injected-parameters"]
    nb.cells.insert(2, injected)
    nb.cells[3].outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="hello\n"),
        nbformat.v4.new_output("stream", name="stderr", text="/home/someone/warning.py:1\n"),
    ]
    out = report_notebook(nb, {"client": "Real"}, "en")
    assert [c.cell_type for c in out.cells] == ["markdown", "markdown", "code"]
    assert "| Client | Real |" in out.cells[1].source
    assert [o.name for o in out.cells[2].outputs] == ["stdout"]
    assert [c.id for c in out.cells] == ["cell-0", "cell-1", "cell-2"]
    assert len(nb.cells) == 4  # the executed notebook itself is left as it was


def test_batch_exit_codes():
    ok, bad, unusable = (BatchItem("a", status="ok"), BatchItem("b", status="failed", exit_code=1),
                         BatchItem("c", status="unusable", exit_code=2))  # fmt: skip
    assert batch_exit_code([ok, ok]) == 0
    assert batch_exit_code([ok, bad]) == 3
    assert batch_exit_code([ok, unusable]) == 3
    assert batch_exit_code([unusable, unusable]) == 2
    table = render_batch_table([ok, bad], "en")
    assert table.splitlines()[0].split()[:2] == ["client", "status"]
    assert "failed" in table


def test_standard_specs_pass_each_kit_notebook_its_sections():
    specs = {s.name: s for s in runner.standard_specs()}
    assert specs["02_sla"].sections == ("common", "targets", "sla")
    assert specs["04_collaboration_impact"].sections == ("common", "programme")
    assert all(s.path.parent == runner.NOTEBOOKS_DIR for s in specs.values())


def test_input_files_lists_data_config_and_hashes(tmp_path):
    folder = tmp_path / "nbs"
    tiny_notebook(folder, "00_a")
    config_path = write_client(tmp_path, "Files", folder)
    from helpers.config import load_config

    files = runner.input_files(load_config(config_path))
    assert sorted(files) == ["Files/client.yaml", "data/leads.csv"]
