"""Participant copies: same notebooks as the facilitator's, without solutions or outputs."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from helpers.messages import LANGUAGES, t
from helpers.workshop.localise import LANGUAGE_LINK, text_key
from helpers.workshop.participants import (
    PLACEHOLDER_TAG,
    SOLUTION_TAG,
    main,
    make_participant_copies,
    participant_notebook,
)

ROOT = Path(__file__).resolve().parents[2]
WORKSHOP = ROOT / "playbook" / "workshop"
SECRET = "planted_solution_value = 4242"


def _solved_notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    intro = nbformat.v4.new_markdown_cell("## Exercise\nCompute the target.")
    task = nbformat.v4.new_code_cell("x = 1")
    task.outputs = [nbformat.v4.new_output("stream", text="printed output\n")]
    task.execution_count = 3
    code_solution = nbformat.v4.new_code_cell(SECRET)
    code_solution.metadata["tags"] = [SOLUTION_TAG]
    code_solution.outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "4242"})]
    text_solution = nbformat.v4.new_markdown_cell("The answer is forty-two hundred.")
    text_solution.metadata["tags"] = ["solution", "other"]
    nb.cells = [intro, task, code_solution, text_solution]
    return nb


def test_solutions_are_replaced_and_outputs_cleared():
    source = _solved_notebook()
    out = participant_notebook(source, "en")
    text = json.dumps(out)
    assert SECRET not in text
    assert "forty-two hundred" not in text
    assert "printed output" not in text
    assert [c.cell_type for c in out.cells] == ["markdown", "code", "code", "markdown"]
    assert all(
        not c.get("outputs") and c.get("execution_count") is None
        for c in out.cells
        if c.cell_type == "code"
    )
    placeholders = [c for c in out.cells if PLACEHOLDER_TAG in c.metadata.get("tags", [])]
    assert len(placeholders) == 2
    assert t("workshop.participants.code_placeholder", "en") in placeholders[0].source
    # the facilitator's notebook is left untouched
    assert source.cells[2].source == SECRET and source.cells[1].outputs


def test_placeholder_follows_the_language():
    out = participant_notebook(_solved_notebook(), "it")
    assert t("workshop.participants.code_placeholder", "it") in out.cells[2].source


def test_copies_of_a_folder_are_valid_notebooks(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    nbformat.write(_solved_notebook(), src / "a.ipynb")
    written = make_participant_copies(src, tmp_path / "out")
    assert [p.name for p in written] == ["a.ipynb"]
    nb = nbformat.read(written[0], as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"


@pytest.mark.skipif(not any(WORKSHOP.glob("*.ipynb")), reason="no workshop notebooks yet")
def test_playbook_participant_copies_hold_no_solutions_and_no_outputs(tmp_path, capsys):
    sources = sorted(WORKSHOP.glob("*.ipynb"))
    solutions = {
        p.name: [
            c.source
            for c in nbformat.read(p, as_version=4).cells
            if SOLUTION_TAG in c.metadata.get("tags", [])
        ]
        for p in sources
    }
    # every workshop notebook carries at least one exercise with its solution
    assert all(solutions.values()), solutions
    assert main(["--src", str(WORKSHOP), "--out", str(tmp_path), "--lang", "en"]) == 0
    assert str(tmp_path) in capsys.readouterr().out
    for source in sources:
        copy = nbformat.read(tmp_path / source.name, as_version=4)
        text = "\n".join(c.source for c in copy.cells)
        for solution in solutions[source.name]:
            assert solution.strip() not in text
        for cell in copy.cells:
            assert SOLUTION_TAG not in cell.metadata.get("tags", [])
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None
        n_placeholders = sum(PLACEHOLDER_TAG in c.metadata.get("tags", []) for c in copy.cells)
        assert n_placeholders == len(solutions[source.name])


def _with_parameters(lang_line: str) -> nbformat.NotebookNode:
    nb = _solved_notebook()
    params = nbformat.v4.new_code_cell(f'{lang_line}\ndata_dir: str = "data/samples"  # folder')
    params.metadata["tags"] = ["parameters"]
    plain = nbformat.v4.new_code_cell('lang = "en"  # not a parameters cell: left alone')
    nb.cells = [params, plain, *nb.cells]
    return nb


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            'lang: str = "en"  # "it": tools in Italian',
            'lang: str = "it"  # "it": tools in Italian',
        ),
        ("lang = 'en'", 'lang = "it"'),
        ('lang="en"', 'lang="it"'),
    ],
)
def test_participant_copy_runs_in_the_chosen_language(line, expected):
    out = participant_notebook(_with_parameters(line), "it")
    assert out.cells[0].source.splitlines() == [
        expected,
        'data_dir: str = "data/samples"  # folder',
    ]
    assert out.cells[1].source.startswith('lang = "en"')
    assert "parameters" in out.cells[0].metadata["tags"]  # papermill still finds it
    english = participant_notebook(_with_parameters(line), "en")
    assert english.cells[0].source.splitlines()[0] == expected.replace('"it"', '"en"', 1)


@pytest.mark.skipif(not any(WORKSHOP.glob("*.ipynb")), reason="no workshop notebooks yet")
def test_italian_copies_of_the_playbook_set_lang_it(tmp_path):
    assert main(["--src", str(WORKSHOP), "--out", str(tmp_path), "--lang", "it"]) == 0
    for copy in sorted(tmp_path.glob("*.ipynb")):
        nb = nbformat.read(copy, as_version=4)
        params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(params) == 1, copy.name
        lines = [x for x in params[0].source.splitlines() if x.startswith("lang")]
        assert lines and all(x.split("#")[0].rstrip().endswith('= "it"') for x in lines), lines
        # the parameters are explained in Italian too
        assert t("workshop_notebooks.parameters.data_dir", "it") in params[0].source
        # one language asked for: no link to copies that were not made
        link = t(LANGUAGE_LINK, "en", path="").split("]")[0]
        assert not [c for c in nb.cells if link in c.source], copy.name


@pytest.mark.skipif(not any(WORKSHOP.glob("*.ipynb")), reason="no workshop notebooks yet")
def test_make_participants_writes_every_language_in_its_own_words(tmp_path, capsys):
    """``make participants``: build/participants/en/ and build/participants/it/."""
    assert main(["--src", str(WORKSHOP), "--out", str(tmp_path), "--lang", "all"]) == 0
    said = capsys.readouterr().out
    for lang in LANGUAGES:
        folder = tmp_path / lang
        assert str(folder) in said
        for source in sorted(WORKSHOP.glob("*.ipynb")):
            keys = {c.get("id"): text_key(c) for c in nbformat.read(source, as_version=4).cells}
            copy = nbformat.read(folder / source.name, as_version=4)
            assert [c for c in copy.cells if PLACEHOLDER_TAG in c.metadata.get("tags", [])]
            for cell in copy.cells:
                if cell.cell_type != "markdown" or PLACEHOLDER_TAG in cell.metadata.get("tags", []):
                    continue
                key = keys[cell.get("id")]
                if key == LANGUAGE_LINK:  # to the same notebook in the other language
                    (other,) = [x for x in LANGUAGES if x != lang]
                    path = f"../{other}/{source.name}"
                    assert cell.source == t(LANGUAGE_LINK, other, path=path)
                    assert (folder / path).is_file()
                else:
                    assert cell.source == t(key, lang), (lang, source.name, key)
