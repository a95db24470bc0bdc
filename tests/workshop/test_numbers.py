"""Numbers in the workshop's sentences are written the way the room's language writes them."""

from __future__ import annotations

import string

import pytest

from helpers.messages import LANGUAGES, catalogue, t
from helpers.results import fmt_number
from helpers.workshop.handouts import main as handouts_main


@pytest.mark.parametrize(("lang", "expected"), [("en", "10,000"), ("it", "10.000")])
def test_leads_read_sentence_formats_the_count_the_notebooks_pass(lang, expected):
    # the workshop notebooks pass len(crm.leads) as it is: the catalogue formats it
    sentence = t("workshop.data_loaded", lang, leads=10000, folder="data/samples")
    assert sentence.startswith(f"{expected} ")
    assert "10000" not in sentence


@pytest.mark.parametrize("lang", LANGUAGES)
def test_counts_in_workshop_sentences_follow_the_language(lang):
    big = fmt_number(1200, lang)
    assert big in t("workshop.participants.written", lang, count=1200, folder="x")
    assert big in t("workshop.handouts.written", lang, count=1200, folder="x")
    assert big in t("workshop.persona.added", lang, count=1200)
    assert big in t("workshop.survey.added", lang, count=1200)
    # a number the caller already wrote for the reader is left as it is
    written = t("workshop.persona.added", lang, count="1")
    assert written == t("workshop.persona.added", lang, count=1)
    # identifiers that are numbers are not quantities: a port is never "8.866"
    assert "8866" in t("workshop.app.port_busy", lang, port=8866)


def test_quantity_placeholders_are_the_same_in_every_language():
    def specs(text: str) -> set[tuple[str, str]]:
        return {(f, s) for _, f, s, _ in string.Formatter().parse(text) if f and s == "number"}

    english = catalogue("en")
    for lang in LANGUAGES:
        other = catalogue(lang)
        for key, text in english.items():
            assert specs(other[key]) == specs(text), f"{lang}:{key}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_handouts_command_reports_its_count_in_the_language(tmp_path, capsys, lang):
    assert handouts_main(["--lang", lang, "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.strip() == t("workshop.handouts.written", lang, count=5, folder=str(tmp_path))
