"""Participant copies of the workshop notebooks, generated from the facilitator's solved source.

One source, two versions: the facilitator keeps the solved notebooks in ``playbook/workshop/``;
participants get copies without outputs in which every cell tagged ``solution`` is replaced by
an exercise placeholder (nbconvert preprocessors, so the two versions never drift)::

    python -m helpers.workshop.participants --src playbook/workshop --out build/participants
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import nbformat
from nbconvert.preprocessors import ClearMetadataPreprocessor, ClearOutputPreprocessor, Preprocessor
from traitlets import Set, Unicode

from helpers.messages import LANGUAGES, current_language, t
from helpers.workshop import PROJECT_ROOT

SOLUTION_TAG = "solution"
PLACEHOLDER_TAG = "exercise-placeholder"
PARAMETERS_TAG = "parameters"  # papermill's tag for the cell that declares the parameters
# ``lang: str = "en"`` (annotation optional) at the start of a line; the comment after it stays
_LANG_LINE = re.compile(
    r"""^(?P<head>lang\s*(?::[^=\n]*)?=\s*)(?:"[^"\n]*"|'[^'\n]*')""", re.MULTILINE
)


def set_language(source: str, lang: str) -> str:
    """``source`` of a parameters cell with its ``lang = "..."`` line set to ``lang``."""
    return _LANG_LINE.sub(lambda m: f'{m["head"]}"{lang}"', source)


class LanguageParameterPreprocessor(Preprocessor):
    """Set ``lang`` in every cell tagged ``parameters``, so the copy runs in that language."""

    lang = Unicode("en", help="Language the participant copy runs in.").tag(config=True)

    def preprocess_cell(self, cell, resources, index):  # type: ignore[override]
        if cell.cell_type == "code" and PARAMETERS_TAG in cell.get("metadata", {}).get("tags", []):
            cell.source = set_language(cell.source, self.lang)
        return cell, resources


class SolutionPlaceholderPreprocessor(Preprocessor):
    """Replace each cell tagged ``solution`` with an empty exercise cell of the same kind."""

    solution_tags = Set({SOLUTION_TAG}, help="Tags that mark a solution cell.").tag(config=True)
    lang = Unicode("en", help="Language of the placeholder text.").tag(config=True)

    def preprocess(self, nb, resources):  # type: ignore[override]
        cells = []
        for cell in nb.cells:
            tags = set(cell.get("metadata", {}).get("tags", []))
            if tags & self.solution_tags:
                cells.append(self._placeholder(cell))
            else:
                cells.append(cell)
        nb.cells = cells
        return nb, resources

    def _placeholder(self, cell):  # type: ignore[no-untyped-def]
        if cell.cell_type == "code":
            text = "# " + t("workshop.participants.code_placeholder", self.lang)
            new = nbformat.v4.new_code_cell(text)
        else:
            text = "*" + t("workshop.participants.text_placeholder", self.lang) + "*"
            new = nbformat.v4.new_markdown_cell(text)
        new.metadata["tags"] = [PLACEHOLDER_TAG]
        if "id" in cell:
            new["id"] = cell["id"]
        return new


def participant_notebook(nb: nbformat.NotebookNode, lang: str = "en") -> nbformat.NotebookNode:
    """The participant version of one solved notebook: no outputs, solutions replaced, and
    ``lang`` set to ``lang`` in the parameters cell."""
    resources: dict = {}
    nb = nbformat.from_dict(nb)  # work on a copy
    nb, resources = ClearOutputPreprocessor().preprocess(nb, resources)
    nb, resources = LanguageParameterPreprocessor(lang=lang).preprocess(nb, resources)
    nb, resources = SolutionPlaceholderPreprocessor(lang=lang).preprocess(nb, resources)
    nb, resources = ClearMetadataPreprocessor(
        preserve_cell_metadata_mask={"tags"},
        preserve_nb_metadata_mask={("language_info", "name"), "kernelspec"},
    ).preprocess(nb, resources)
    return nb


def make_participant_copies(
    src_dir: str | Path, out_dir: str | Path, lang: str = "en"
) -> list[Path]:
    """Write the participant version of every notebook in ``src_dir`` into ``out_dir``.

    Other files next to the notebooks are not copied; notebooks find the sample data from
    wherever they are (:func:`helpers.workshop.find_data_dir`). Returns the written paths.
    """
    src_dir, out_dir = Path(src_dir), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for source in sorted(src_dir.glob("*.ipynb")):
        nb = nbformat.read(source, as_version=4)
        target = out_dir / source.name
        tmp = target.with_suffix(".tmp")
        nbformat.write(participant_notebook(nb, lang), tmp)
        tmp.replace(target)
        written.append(target)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m helpers.workshop.participants [--src] [--out] [--lang]``."""
    parser = argparse.ArgumentParser(prog="python -m helpers.workshop.participants")
    parser.add_argument("--src", default=str(PROJECT_ROOT / "playbook" / "workshop"))
    parser.add_argument("--out", default=str(PROJECT_ROOT / "build" / "participants"))
    parser.add_argument("--lang", choices=LANGUAGES, default=None)
    args = parser.parse_args(argv)
    lang = args.lang or current_language()
    written = make_participant_copies(args.src, args.out, lang)
    print(t("workshop.participants.written", lang, count=len(written), folder=args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
