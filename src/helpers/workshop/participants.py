"""Participant copies of the workshop notebooks, generated from the facilitator's solved source.

One source, two versions: the facilitator keeps the solved notebooks in ``playbook/workshop/``;
participants get copies without outputs in which every cell tagged ``solution`` is replaced by
an exercise placeholder (nbconvert preprocessors, so the two versions never drift). A copy is
in one language throughout: its texts and code comments come from the message catalogue
(:mod:`helpers.workshop.localise`) and its parameters cell sets ``lang``::

    python -m helpers.workshop.participants --lang it --out build/participants/it
    python -m helpers.workshop.participants --lang all   # build/participants/en/ and .../it/
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import nbformat
from nbconvert.preprocessors import ClearMetadataPreprocessor, ClearOutputPreprocessor, Preprocessor
from traitlets import Set, Unicode

from helpers import exitcodes
from helpers.files import replace_atomically
from helpers.messages import LANGUAGES, current_language, t
from helpers.workshop import PROJECT_ROOT
from helpers.workshop.localise import localised_notebook, set_language, source_problems

__all__ = [
    "PLACEHOLDER_TAG",
    "SOLUTION_TAG",
    "make_participant_copies",
    "participant_notebook",
    "set_language",
]

SOLUTION_TAG = "solution"
PLACEHOLDER_TAG = "exercise-placeholder"
ALL_LANGUAGES = "all"  # --lang all: one folder per language, each linking to the others


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


def participant_notebook(
    nb: nbformat.NotebookNode, lang: str = "en", links: Mapping[str, str] | None = None
) -> nbformat.NotebookNode:
    """The participant version of one solved notebook, in ``lang``: no outputs, solutions
    replaced, texts and comments from the catalogue, ``lang`` set in the parameters cell.
    ``links``: where this notebook's copies in other languages are (language -> path)."""
    resources: dict = {}
    nb = localised_notebook(nb, lang, links)  # a copy
    nb, resources = ClearOutputPreprocessor().preprocess(nb, resources)
    nb, resources = SolutionPlaceholderPreprocessor(lang=lang).preprocess(nb, resources)
    nb, resources = ClearMetadataPreprocessor(
        preserve_cell_metadata_mask={"tags"},
        preserve_nb_metadata_mask={("language_info", "name"), "kernelspec"},
    ).preprocess(nb, resources)
    return nb


def make_participant_copies(
    src_dir: str | Path,
    out_dir: str | Path,
    lang: str = "en",
    links: Mapping[str, str] | None = None,
) -> list[Path]:
    """Write the participant version of every notebook in ``src_dir`` into ``out_dir``.

    ``links`` maps another language to its copies' folder, relative to ``out_dir`` (``../it``).
    Other files next to the notebooks are not copied; notebooks find the sample data from
    wherever they are (:func:`helpers.workshop.find_data_dir`). Returns the written paths.
    """
    src_dir, out_dir = Path(src_dir), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for source in sorted(src_dir.glob("*.ipynb")):
        nb = nbformat.read(source, as_version=4)
        paths = {other: f"{folder}/{source.name}" for other, folder in (links or {}).items()}
        target = out_dir / source.name
        copy = participant_notebook(nb, lang, paths)
        written.append(replace_atomically(target, lambda tmp, c=copy: nbformat.write(c, tmp)))
    return written


def make_all_languages(src_dir: str | Path, out_dir: str | Path) -> dict[str, list[Path]]:
    """Participant copies in every language, in ``out_dir/<lang>/``, each linking to the same
    notebook in the other languages' folders."""
    return {
        lang: make_participant_copies(
            src_dir,
            Path(out_dir) / lang,
            lang,
            links={other: f"../{other}" for other in LANGUAGES if other != lang},
        )
        for lang in LANGUAGES
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m helpers.workshop.participants [--src] [--out] [--lang]``;
    ``--lang all`` writes one folder per language in ``--out``."""
    parser = argparse.ArgumentParser(prog="python -m helpers.workshop.participants")
    parser.add_argument("--src", default=str(PROJECT_ROOT / "playbook" / "workshop"))
    parser.add_argument("--out", default=str(PROJECT_ROOT / "build" / "participants"))
    parser.add_argument("--lang", choices=(*LANGUAGES, ALL_LANGUAGES), default=None)
    args = parser.parse_args(argv)
    say = current_language() if args.lang in (None, ALL_LANGUAGES) else args.lang
    problems = source_problems(args.src, say)
    if problems:  # a copy would lose the edited text or show it in English: write nothing
        print("\n".join(problems), file=sys.stderr)
        return exitcodes.UNUSABLE
    if args.lang == ALL_LANGUAGES:
        for lang, written in make_all_languages(args.src, args.out).items():
            folder = Path(args.out) / lang
            print(t("workshop.participants.written", say, count=len(written), folder=folder))
        return exitcodes.OK
    lang = args.lang or current_language()
    written = make_participant_copies(args.src, args.out, lang)
    print(t("workshop.participants.written", lang, count=len(written), folder=args.out))
    return exitcodes.OK


if __name__ == "__main__":
    sys.exit(main())
