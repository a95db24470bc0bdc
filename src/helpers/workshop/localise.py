"""The workshop notebooks in every language, from one source and the message catalogue.

The facilitator's notebooks in ``playbook/workshop/`` are written in English, but none of their
text is only there: every markdown cell names its message in its metadata
(``{"smarketing": {"text": "workshop_notebooks.sla.intro"}}``), and so does every code cell with
comments (``{"smarketing": {"comments": "workshop_notebooks.parameters"}}``: each comment is
the message named after the variable its line assigns, or ``note``, ``note_2``... for a block
of comment lines). The texts live in ``locales/<lang>/workshop_notebooks.yaml``.

:func:`localised_notebook` renders a notebook in a language (texts, comments and the
parameters cell's ``lang``); participant copies use it, and so do the Italian facilitator
copies committed in ``playbook/workshop/it/``::

    python -m helpers.workshop.localise --lang it           # write playbook/workshop/it/
    python -m helpers.workshop.localise --lang it --check   # exit 1 when they are out of date

Neither writes anything while a notebook disagrees with the catalogue (exit 2): the copies
would lose the change.

:func:`catalogue_problems` says where an English notebook and the catalogue disagree (a cell
edited in one place only, a markdown cell without a key, a key missing in a language).
"""

from __future__ import annotations

import argparse
import io
import re
import sys
import tokenize
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import nbformat

from helpers import exitcodes
from helpers.messages import LANGUAGES, catalogue, current_language, has, t
from helpers.results import write_text_atomic
from helpers.workshop import PROJECT_ROOT

DOMAIN = "workshop_notebooks"
META = "smarketing"  # the cell metadata that links a cell to its messages
LANGUAGE_LINK = f"{DOMAIN}.language_link"  # the cell that points to the other language's copy
LINE_LENGTH = 100  # ruff's line-length: a longer commented line would be reformatted
PARAMETERS_TAG = "parameters"  # papermill's tag for the cell that declares the parameters
SOURCE_DIR = PROJECT_ROOT / "playbook" / "workshop"
# ``lang: str = "en"`` (annotation optional) at the start of a line; the comment after it stays
_LANG_LINE = re.compile(
    r"""^(?P<head>lang\s*(?::[^=\n]*)?=\s*)(?:"[^"\n]*"|'[^'\n]*')""", re.MULTILINE
)
_FIRST_NAME = re.compile(r"\s*([A-Za-z_]\w*)")


def set_language(source: str, lang: str) -> str:
    """``source`` of a parameters cell with its ``lang = "..."`` line set to ``lang``."""
    return _LANG_LINE.sub(lambda m: f'{m["head"]}"{lang}"', source)


def text_key(cell: Mapping) -> str | None:
    """The catalogue key of a markdown cell's text, if the cell names one."""
    return cell.get("metadata", {}).get(META, {}).get("text")


def comments_key(cell: Mapping) -> str | None:
    """The catalogue section of a code cell's comments, if the cell names one."""
    return cell.get("metadata", {}).get(META, {}).get("comments")


@dataclass(frozen=True)
class Comment:
    """A comment of a code cell: an inline one (``first == last``, after code) or a block of
    whole comment lines; ``name`` is its message's name within the cell's section."""

    name: str
    first: int  # line index in the cell
    last: int
    column: int
    inline: bool
    text: str  # without the "# ", lines joined with newlines


def code_comments(source: str) -> list[Comment]:
    """The comments of ``source``, named: an inline comment after the variable its line starts
    with (``attempts = 5  # at least...`` -> ``attempts``), a block of whole comment lines
    ``note``, ``note_2``..."""
    lines = source.split("\n")
    found: list[tuple[int, int, str]] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT:
                found.append((token.start[0] - 1, token.start[1], token.string))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return []  # not Python (a cell magic, half-written code): nothing to translate
    comments: list[Comment] = []
    blocks = 0
    for row, column, string in found:
        text = re.sub(r"^#\s?", "", string)
        inline = bool(lines[row][:column].strip())
        previous = comments[-1] if comments else None
        if (
            not inline
            and previous is not None
            and not previous.inline
            and previous.last == row - 1
            and previous.column == column
        ):
            comments[-1] = Comment(
                previous.name, previous.first, row, column, False, f"{previous.text}\n{text}"
            )
            continue
        if inline:
            head = _FIRST_NAME.match(lines[row])
            name = head.group(1) if head else f"line_{row + 1}"
        else:
            blocks += 1
            name = "note" if blocks == 1 else f"note_{blocks}"
        comments.append(Comment(name, row, row, column, inline, text))
    return comments


def _with_comments(source: str, section: str, lang: str) -> str:
    lines = source.split("\n")
    for comment in reversed(code_comments(source)):
        text = t(f"{section}.{comment.name}", lang)
        if comment.inline:
            head = lines[comment.first][: comment.column]
            lines[comment.first] = f"{head}# {text}"
        else:
            indent = " " * comment.column
            block = [f"{indent}# {line}".rstrip() for line in text.split("\n")]
            lines[comment.first : comment.last + 1] = block
    return "\n".join(lines)


def _language_link(lang: str, links: Mapping[str, str]) -> str:
    return "\n\n".join(
        t(LANGUAGE_LINK, other, path=path) for other, path in links.items() if other != lang
    )


def localised_notebook(
    nb: nbformat.NotebookNode, lang: str, links: Mapping[str, str] | None = None
) -> nbformat.NotebookNode:
    """A copy of ``nb`` in ``lang``: every markdown cell that names a message shows it in
    ``lang``, every named code comment too, and ``lang`` is set in the parameters cell.

    ``links`` maps a language to the path of this notebook's version in it, relative to where
    the copy goes; the cell pointing to the other language shows them, and is left out when
    there is none. Cells that name no message are kept as they are. Outputs are kept.
    """
    nb = nbformat.from_dict(nb)  # work on a copy
    cells = []
    for cell in nb.cells:
        key = text_key(cell)
        if cell.cell_type == "markdown" and key == LANGUAGE_LINK:
            text = _language_link(lang, links or {})
            if not text:
                continue
            cell.source = text
        elif cell.cell_type == "markdown" and key:
            cell.source = t(key, lang)
        elif cell.cell_type == "code":
            section = comments_key(cell)
            if section:
                cell.source = _with_comments(cell.source, section, lang)
            if PARAMETERS_TAG in cell.get("metadata", {}).get("tags", []):
                cell.source = set_language(cell.source, lang)
        cells.append(cell)
    nb.cells = cells
    return nb


def _where(name: str, index: int, cell: Mapping, lang: str | None) -> str:
    number, cell_id = index + 1, cell.get("id", "-")
    return t(f"{DOMAIN}.problems.where", lang, notebook=name, number=number, id=cell_id)


def source_links(name: str) -> dict[str, str]:
    """Where the English notebook ``name`` links to its other languages: ``<lang>/<name>``."""
    return {lang: f"{lang}/{name}" for lang in LANGUAGES if lang != "en"}


def catalogue_problems(nb: nbformat.NotebookNode, name: str, lang: str | None = None) -> list[str]:
    """Where the English notebook ``nb`` (file ``name``) and the catalogue disagree: a markdown
    cell or a code comment with no message, a text that differs from the English message, a
    message missing in a language, a comment that would not fit on its line. Sentences in
    ``lang`` (default: ``SMARKETING_LANG``)."""
    problems: list[str] = []

    def problem(kind: str, index: int, cell: Mapping, **values: object) -> None:
        where = _where(name, index, cell, lang)
        problems.append(t(f"{DOMAIN}.problems.{kind}", lang, where=where, **values))

    def missing(key: str, index: int, cell: Mapping) -> bool:
        absent = [other for other in LANGUAGES if not has(key, other)]
        if not key.startswith(f"{DOMAIN}."):  # the notebooks' texts have a file of their own
            absent = list(LANGUAGES)
        for other in absent:
            problem("missing", index, cell, key=key, lang=other)
        return bool(absent)

    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            key = text_key(cell)
            if not key:
                problem("no_key", index, cell)
            elif missing(key, index, cell):
                continue
            elif key == LANGUAGE_LINK:
                if cell.source != _language_link("en", source_links(name)):
                    problem("differs", index, cell, key=key)
            elif cell.source != t(key, "en"):
                problem("differs", index, cell, key=key)
        elif cell.cell_type == "code":
            comments = code_comments(cell.source)
            section = comments_key(cell)
            if comments and not section:
                problem("comments_no_key", index, cell)
                continue
            names = [c.name for c in comments]
            for duplicate in sorted({n for n in names if names.count(n) > 1}):
                problem("comment_twice", index, cell, name=duplicate)
            for comment in comments:
                key = f"{section}.{comment.name}"
                if missing(key, index, cell):
                    continue
                if comment.text != t(key, "en"):
                    problem("differs", index, cell, key=key)
                if comment.inline and any("\n" in t(key, other) for other in LANGUAGES):
                    problem("inline_lines", index, cell, key=key)
                    continue
                head = len(cell.source.split("\n")[comment.first][: comment.column])
                for other in LANGUAGES:
                    lines = t(key, other).split("\n")
                    if head + 2 + max(len(line) for line in lines) > LINE_LENGTH:
                        problem("too_long", index, cell, key=key, lang=other, limit=LINE_LENGTH)
    return problems


def unused_keys(notebooks: Sequence[nbformat.NotebookNode]) -> list[str]:
    """Messages of the notebooks' part of the catalogue that no cell of ``notebooks`` uses."""
    used = {LANGUAGE_LINK}
    for nb in notebooks:
        for cell in nb.cells:
            if cell.cell_type == "markdown" and text_key(cell):
                used.add(text_key(cell))
            section = comments_key(cell) if cell.cell_type == "code" else None
            if section:
                used.update(f"{section}.{c.name}" for c in code_comments(cell.source))
    commands = (f"{DOMAIN}.problems.", f"{DOMAIN}.command.")
    return sorted(
        key
        for key in catalogue("en")
        if key.startswith(f"{DOMAIN}.") and not key.startswith(commands) and key not in used
    )


def notebook_text(nb: nbformat.NotebookNode) -> str:
    """A notebook as ``nbformat.write`` writes it to a file."""
    text = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"


def facilitator_notebook(nb: nbformat.NotebookNode, lang: str, name: str) -> nbformat.NotebookNode:
    """The facilitator's notebook ``name`` in ``lang``, for ``playbook/workshop/<lang>/``:
    solutions kept, no outputs, a link to the English source one folder up."""
    copy = localised_notebook(nb, lang, links={"en": f"../{name}"})
    for cell in copy.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return copy


def facilitator_copies(src_dir: str | Path = SOURCE_DIR, lang: str = "it") -> dict[Path, str]:
    """Every notebook of ``src_dir`` in ``lang``, for ``src_dir/<lang>/`` (file -> its text);
    nothing is written."""
    src_dir = Path(src_dir)
    out_dir = src_dir / lang
    copies = {}
    for source in sorted(src_dir.glob("*.ipynb")):
        nb = nbformat.read(source, as_version=4)
        copies[out_dir / source.name] = notebook_text(facilitator_notebook(nb, lang, source.name))
    return copies


def source_problems(src_dir: str | Path = SOURCE_DIR, lang: str | None = None) -> list[str]:
    """:func:`catalogue_problems` of every notebook in ``src_dir``."""
    problems = []
    for source in sorted(Path(src_dir).glob("*.ipynb")):
        problems += catalogue_problems(nbformat.read(source, as_version=4), source.name, lang)
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m helpers.workshop.localise [--lang it] [--src FOLDER] [--check]``:
    write (or check) the copies in ``FOLDER/<lang>/``."""
    parser = argparse.ArgumentParser(prog="python -m helpers.workshop.localise")
    parser.add_argument("--lang", choices=[x for x in LANGUAGES if x != "en"], default="it")
    parser.add_argument("--src", default=str(SOURCE_DIR))
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    say = current_language()
    problems = source_problems(args.src, say)
    if problems:  # a copy would lose or garble a text: say where, write nothing
        print("\n".join(problems), file=sys.stderr)
        return exitcodes.UNUSABLE
    copies = facilitator_copies(args.src, args.lang)
    folder = Path(args.src) / args.lang
    stale = [
        path
        for path, text in copies.items()
        if not path.is_file() or path.read_text(encoding="utf-8") != text
    ]
    extra = sorted(set(folder.glob("*.ipynb")) - set(copies)) if folder.is_dir() else []
    if args.check:
        for path in stale:
            print(t(f"{DOMAIN}.command.out_of_date", say, path=str(path)), file=sys.stderr)
        for path in extra:
            print(t(f"{DOMAIN}.command.no_source", say, path=str(path)), file=sys.stderr)
        if not stale and not extra:
            print(t(f"{DOMAIN}.command.up_to_date", say, count=len(copies), folder=str(folder)))
        return exitcodes.FAILED if stale or extra else exitcodes.OK
    folder.mkdir(parents=True, exist_ok=True)
    for path in stale:
        write_text_atomic(path, copies[path])
    for path in extra:
        print(t(f"{DOMAIN}.command.no_source", say, path=str(path)), file=sys.stderr)
    print(t(f"{DOMAIN}.command.written", say, count=len(stale), folder=str(folder)))
    return exitcodes.OK


if __name__ == "__main__":
    sys.exit(main())
