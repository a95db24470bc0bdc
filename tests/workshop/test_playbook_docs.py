"""The playbook's written pages: both languages, working links, outside figures with caveats."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PLAYBOOK = Path(__file__).resolve().parents[2] / "playbook"
ENGLISH = sorted(p for p in PLAYBOOK.glob("*.md") if not p.name.endswith(".it.md"))
ALL_PAGES = sorted(PLAYBOOK.glob("*.md"))
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
CAVEATS = {
    "en": {"87%": "source not located", "Aberdeen": "correlation"},
    "it": {"87%": "fonte non", "Aberdeen": "correlazione"},
}


def _paragraphs(text: str) -> list[str]:
    return [p for p in re.split(r"\n\s*\n|\n\|", text) if p.strip()]


def test_every_english_page_has_an_italian_version():
    assert {p.name for p in ENGLISH} >= {
        "README.md",
        "facilitator-guide.md",
        "consultant-assessment.md",
        "glossary.md",
        "sources.md",
    }
    for page in ENGLISH:
        italian = page.with_name(page.name.replace(".md", ".it.md"))
        assert italian.is_file(), italian.name
        # the two versions cover the same structure
        count = lambda p: len(re.findall(r"^#{1,3} ", p.read_text(encoding="utf-8"), re.M))  # noqa: E731
        assert count(page) == count(italian), page.name


@pytest.mark.parametrize("page", ALL_PAGES, ids=lambda p: p.name)
def test_relative_links_point_at_files_that_exist(page):
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        if "://" in target:
            continue
        assert (page.parent / target).exists(), f"{page.name} -> {target}"


@pytest.mark.parametrize("page", ALL_PAGES, ids=lambda p: p.name)
def test_outside_figures_are_never_quoted_without_their_caveat(page):
    lang = "it" if page.name.endswith(".it.md") else "en"
    for paragraph in _paragraphs(page.read_text(encoding="utf-8")):
        for figure, caveat in CAVEATS[lang].items():
            if figure in paragraph:
                flat = " ".join(paragraph.lower().split())
                assert caveat in flat, f"{page.name}: {paragraph[:120]}"


def test_the_agendas_name_the_four_take_home_artefacts():
    guide = (PLAYBOOK / "facilitator-guide.md").read_text(encoding="utf-8")
    half_day = guide.split("### Half day")[1].split("### Full day")[0]
    for artefact in ("persona cards", "signed SLA", "handoff action list", "measurement plan"):
        assert artefact in half_day
    for notebook in PLAYBOOK.glob("workshop/*.ipynb"):
        assert notebook.stem in (PLAYBOOK / "README.md").read_text(encoding="utf-8")
