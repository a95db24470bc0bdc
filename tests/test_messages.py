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
