"""The message catalogue is complete in every language."""

import string

import pytest

from helpers.messages import LANGUAGES, MissingMessage, catalogue, t


def test_every_key_exists_in_every_language():
    keys = {lang: set(catalogue(lang)) for lang in LANGUAGES}
    for lang in LANGUAGES:
        for other in LANGUAGES:
            missing = keys[other] - keys[lang]
            assert not missing, f"keys missing in {lang}: {sorted(missing)}"


def test_placeholders_match_across_languages():
    def fields(text: str) -> set[str]:
        return {f for _, f, _, _ in string.Formatter().parse(text) if f}

    en = catalogue("en")
    for lang in LANGUAGES:
        other = catalogue(lang)
        for key, text in en.items():
            assert fields(other[key]) == fields(text), f"{lang}:{key} placeholders differ"


def test_no_empty_messages():
    for lang in LANGUAGES:
        empty = [k for k, v in catalogue(lang).items() if not v.strip()]
        assert not empty, f"empty messages in {lang}: {empty}"


def test_lookup_fills_values_and_fails_loudly_on_unknown_key():
    assert "orders" in t("common.missing_table", "en", table="orders", analysis="x")
    assert "orders" in t("common.missing_table", "it", table="orders", analysis="x")
    with pytest.raises(MissingMessage):
        t("common.no_such_key", "en")


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("il 83% era", "l'83% era"),
        ("Il 11,5% dei lead", "L'11,5% dei lead"),
        ("del 80%", "dell'80%"),
        ("dal 8 al 1%", "dall'8 all'1%"),
        ("nel 8.500", "nell'8.500"),
        ("il 1.000.000", "l'1.000.000"),  # un milione
        ("il 1.500", "il 1.500"),  # millecinquecento
        ("il 100%", "il 100%"),
        ("il 18%", "il 18%"),
        ("dal 2024-01-02 al 2025-12-31", "dal 2024-01-02 al 2025-12-31"),
    ],
)
def test_italian_articles_elide_before_numbers_read_with_a_vowel(text, want):
    from helpers.messages import _elide

    assert _elide(text) == want


def test_filled_in_italian_sentences_elide_and_english_ones_are_untouched():
    it = t("notebooks.funnel.gap_acceptance", "it", rate="83%", min_rate="80%")
    assert "accettano l'83% degli MQL, sotto l'80% concordato" in it
    assert "il 83%" not in t("assessment.words_share", "it", team="x", n=3, share="83%",
                             low="1%", high="99%")  # fmt: skip
    en = t("notebooks.funnel.gap_acceptance", "en", rate="83%", min_rate="80%")
    assert "83%" in en
