"""The workshop notebooks' texts live in the message catalogue, and the Italian facilitator
copies in ``playbook/workshop/it/`` are what the English notebooks and the catalogue make."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from helpers.devtools.check_notebooks import notebook_problems
from helpers.messages import catalogue, t
from helpers.workshop.localise import (
    LANGUAGE_LINK,
    catalogue_problems,
    code_comments,
    comments_key,
    facilitator_copies,
    localised_notebook,
    main,
    set_language,
    source_problems,
    text_key,
    unused_keys,
)
from helpers.workshop.participants import main as participants_main

ROOT = Path(__file__).resolve().parents[2]
WORKSHOP = ROOT / "playbook" / "workshop"
NOTEBOOKS = sorted(WORKSHOP.glob("*.ipynb"))
ITALIAN = WORKSHOP / "it"


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_text_and_comment_of_a_notebook_is_its_english_message(path):
    nb = _read(path)
    assert catalogue_problems(nb, path.name, "en") == []
    markdown = [c for c in nb.cells if c.cell_type == "markdown"]
    assert markdown and all(text_key(c) for c in markdown)
    # the English notebook is its own rendering in English: nothing to regenerate in it
    links = {"it": f"it/{path.name}"}
    assert localised_notebook(nb, "en", links) == nb


def test_the_catalogue_holds_only_texts_the_notebooks_use():
    assert source_problems(WORKSHOP, "en") == []
    unused = unused_keys([_read(path) for path in NOTEBOOKS])
    assert not unused, [t("workshop_notebooks.problems.unused", "en", key=k) for k in unused]


def _notebook(*cells: nbformat.NotebookNode) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    return nb


def _markdown(text: str, key: str | None) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_markdown_cell(text)
    if key:
        cell.metadata["smarketing"] = {"text": key}
    return cell


KEY = "workshop_notebooks.sla.key_points"


def test_a_cell_edited_without_its_message_is_found():
    nb = _notebook(_markdown(t(KEY, "en") + "\n- A new point.", KEY))
    problems = catalogue_problems(nb, "x.ipynb", "en")
    assert len(problems) == 1 and KEY in problems[0] and "differs" in problems[0]


def test_a_markdown_cell_without_a_key_is_found():
    nb = _notebook(_markdown("## Untranslated", None))
    problems = catalogue_problems(nb, "x.ipynb", "en")
    assert len(problems) == 1 and "x.ipynb" in problems[0] and "no message" in problems[0]


def test_a_message_missing_in_italian_is_found(monkeypatch):
    monkeypatch.delitem(catalogue("it"), KEY)
    nb = _notebook(_markdown(t(KEY, "en"), KEY))
    problems = catalogue_problems(nb, "x.ipynb", "en")
    assert len(problems) == 1 and KEY in problems[0] and "'it'" in problems[0]
    assert "manca" in catalogue_problems(nb, "x.ipynb", "it")[0]  # said in the reader's language


def test_comments_without_messages_and_edited_comments_are_found():
    plain = nbformat.v4.new_code_cell("reps = 4  # number of sales reps")
    assert "comments" in catalogue_problems(_notebook(plain), "x.ipynb", "en")[0]
    edited = nbformat.v4.new_code_cell('lang: str = "en"  # the language')
    edited.metadata["smarketing"] = {"comments": "workshop_notebooks.parameters"}
    problems = catalogue_problems(_notebook(edited), "x.ipynb", "en")
    assert len(problems) == 1 and "workshop_notebooks.parameters.lang" in problems[0]
    unknown = nbformat.v4.new_code_cell("reps = 4  # number of sales reps")
    unknown.metadata["smarketing"] = {"comments": "workshop_notebooks.parameters"}
    problems = catalogue_problems(_notebook(unknown), "x.ipynb", "en")
    assert problems and all("workshop_notebooks.parameters.reps" in p for p in problems)


def test_comments_are_named_after_their_variable_or_as_notes():
    source = '# first note\n# still the first\nx = 1  # an x\n\n    # second note\ny = "#"  # why'
    comments = code_comments(source)
    assert [(c.name, c.first, c.last, c.inline) for c in comments] == [
        ("note", 0, 1, False),
        ("x", 2, 2, True),
        ("note_2", 4, 4, False),
        ("y", 5, 5, True),
    ]
    assert comments[0].text == "first note\nstill the first"
    assert code_comments("%%bash\necho 'unclosed") == []  # not Python: nothing to translate


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_the_italian_rendering_changes_words_never_code(path):
    english = _read(path)
    italian = localised_notebook(english, "it")
    assert len(italian.cells) == len(english.cells) - 1  # no link without a copy to link to
    for en_cell in english.cells:
        key = text_key(en_cell)
        it_cell = next((c for c in italian.cells if c.get("id") == en_cell.get("id")), None)
        if key == LANGUAGE_LINK:
            assert it_cell is None
        elif en_cell.cell_type == "markdown":
            assert it_cell.source == t(key, "it") != en_cell.source
        else:
            expected = en_cell.source
            if "parameters" in en_cell.metadata.get("tags", []):
                expected = set_language(expected, "it")
                assert 'lang: str = "it"' in it_cell.source
            assert ast.dump(ast.parse(it_cell.source)) == ast.dump(ast.parse(expected))
            section = comments_key(en_cell)
            for comment in code_comments(it_cell.source):
                assert comment.text == t(f"{section}.{comment.name}", "it")


def test_the_committed_italian_copies_are_up_to_date():
    """Regenerate with ``make playbook-it`` when this fails, and commit the copies."""
    copies = facilitator_copies(WORKSHOP, "it")
    assert sorted(copies) == sorted(ITALIAN.glob("*.ipynb"))
    stale = [p.name for p, text in copies.items() if p.read_text(encoding="utf-8") != text]
    assert not stale, f"out of date, run `make playbook-it`: {stale}"
    assert main(["--lang", "it", "--check"]) == 0


def test_the_italian_copies_keep_the_solutions_and_link_back():
    for path in NOTEBOOKS:
        english, italian = _read(path), _read(ITALIAN / path.name)
        solutions = [c for c in english.cells if "solution" in c.metadata.get("tags", [])]
        assert len(solutions) == sum(
            "solution" in c.metadata.get("tags", []) for c in italian.cells
        )
        link = next(c for c in italian.cells if text_key(c) == LANGUAGE_LINK)
        assert link.source == t(LANGUAGE_LINK, "en", path=f"../{path.name}")
        assert (ITALIAN / f"../{path.name}").resolve() == path.resolve()
        assert not notebook_problems(ITALIAN / path.name)  # no outputs, kernel python3


def test_the_italian_copies_pass_the_commit_hooks(tmp_path):
    nbstripout = pytest.importorskip("nbstripout")
    for path in sorted(ITALIAN.glob("*.ipynb")):
        nb = _read(path)
        stripped = nbstripout.strip_output(nbformat.from_dict(nb), False, False, keep_id=True)
        assert json.loads(nbformat.writes(stripped)) == json.loads(nbformat.writes(nb)), path
    ruff = Path(sys.executable).with_name("ruff")
    if not ruff.is_file():
        ruff = shutil.which("ruff")
    if not ruff:
        pytest.skip("ruff is not installed")
    done = subprocess.run(
        [str(ruff), "format", "--check", "--no-cache", str(ITALIAN)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_check_finds_a_hand_edited_copy_and_a_copy_without_source(tmp_path, capsys):
    src = tmp_path / "workshop"
    src.mkdir()
    shutil.copy(NOTEBOOKS[0], src / NOTEBOOKS[0].name)
    assert main(["--src", str(src), "--lang", "it", "--check"]) == 1  # not written yet
    assert main(["--src", str(src), "--lang", "it"]) == 0
    copy = src / "it" / NOTEBOOKS[0].name
    assert main(["--src", str(src), "--lang", "it", "--check"]) == 0
    nb = _read(copy)
    nb.cells[0].source += " (modificato a mano)"
    nbformat.write(nb, copy)
    shutil.copy(copy, src / "it" / "99_orphan.ipynb")
    capsys.readouterr()
    assert main(["--src", str(src), "--lang", "it", "--check"]) == 1
    said = capsys.readouterr().err
    assert copy.name in said and "make playbook-it" in said and "99_orphan" in said
    assert main(["--src", str(src), "--lang", "it"]) == 0
    assert main(["--src", str(src), "--lang", "it", "--check"]) == 1  # the orphan stays
    (src / "it" / "99_orphan.ipynb").unlink()
    assert main(["--src", str(src), "--lang", "it", "--check"]) == 0


def test_copies_are_not_written_from_a_notebook_that_disagrees_with_the_catalogue(tmp_path):
    src = tmp_path / "workshop"
    src.mkdir()
    nb = _read(NOTEBOOKS[0])
    nb.cells[0].source = "# A new title"
    nbformat.write(nb, src / NOTEBOOKS[0].name)
    assert main(["--src", str(src), "--lang", "it"]) == 2
    assert not (src / "it").exists()
    out = tmp_path / "participants"
    assert participants_main(["--src", str(src), "--out", str(out), "--lang", "all"]) == 2
    assert not out.exists()
