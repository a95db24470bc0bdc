"""The message catalogue: every sentence a user reads, in English and Italian.

Messages live in ``locales/<lang>/<domain>.yaml``; a key is ``<domain>.<name>``
(``ingest.missing_column``). Placeholders use ``str.format`` syntax. A sentence about a count
has a ``<name>_one`` variant for exactly one, picked by :func:`t_count`.

A placeholder written ``{leads:number}`` is a quantity: a number passed for it is written the
way readers of the language write numbers (``10,000`` / ``10.000``, as
``helpers.results.fmt_number``), so a caller may pass ``len(frame)`` as it is; text passed for
it (a number the caller already formatted) is left alone. Identifiers that happen to be
numbers (a port, an exit code, a year) keep a plain ``{port}``.
"""

from __future__ import annotations

import os
import re
import string
from functools import cache
from importlib import resources
from typing import Any

import yaml

LANGUAGES: tuple[str, ...] = ("en", "it")
DEFAULT_LANGUAGE = "en"


class MissingMessage(KeyError):
    """A key that is not in the catalogue of a language."""


@cache
def catalogue(lang: str) -> dict[str, str]:
    """All messages of one language, keyed ``domain.name``."""
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r}; choose one of {', '.join(LANGUAGES)}")
    folder = resources.files("helpers") / "locales" / lang
    merged: dict[str, str] = {}
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if not entry.name.endswith(".yaml"):
            continue
        domain = entry.name.removesuffix(".yaml")
        data = yaml.safe_load(entry.read_text(encoding="utf-8")) or {}
        for name, text in _flatten(data).items():
            merged[f"{domain}.{name}"] = text
    return merged


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in data.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, f"{full}."))
        else:
            out[full] = str(value)
    return out


def current_language() -> str:
    """The language from ``SMARKETING_LANG`` (default English)."""
    lang = os.environ.get("SMARKETING_LANG", DEFAULT_LANGUAGE)
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def t(key: str, lang: str | None = None, /, **values: Any) -> str:
    """The message ``key`` in ``lang``, with ``values`` filled in."""
    lang = lang or current_language()
    try:
        text = catalogue(lang)[key]
    except KeyError:
        raise MissingMessage(f"message {key!r} is missing in language {lang!r}") from None
    if not values:
        return text
    text = _format(text, lang, values) if NUMBER_SPEC in text else text.format(**values)
    return _elide(text) if lang == "it" else text


NUMBER_SPEC = ":number}"  # the format spec of a quantity placeholder: {leads:number}


class _CatalogueFormatter(string.Formatter):
    """``str.format`` plus the ``number`` spec: a quantity written for ``lang``."""

    def __init__(self, lang: str) -> None:
        super().__init__()
        self.lang = lang

    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec != "number":
            return super().format_field(value, format_spec)
        if isinstance(value, str) or value is None:  # already written for the reader
            return "" if value is None else value
        from helpers.results import fmt_number  # results imports this module

        number = float(value)
        return fmt_number(value, self.lang, 0 if number.is_integer() else 1)


def _format(text: str, lang: str, values: dict[str, Any]) -> str:
    return _CatalogueFormatter(lang).vformat(text, (), values)


# Italian writes "l'83%", "dell'11%", "all'8": the article elides before a number read with a
# vowel (uno, undici, otto, ottanta, ottocento...), which only shows once the number is filled in
_ELIDING = {
    "il": "l'",
    "del": "dell'",
    "al": "all'",
    "dal": "dall'",
    "sul": "sull'",
    "nel": "nell'",
}
_ARTICLE_NUMBER = re.compile(r"\b(il|Il|del|al|dal|sul|nel) (\d+(?:\.\d{3})*(?:,\d+)?)")


def _read_with_a_vowel(number: str) -> bool:
    """Whether an Italian-formatted number ("83", "11,5", "8.000", "1.000.000") starts with a
    vowel when read: uno, undici, otto..., un milione."""
    groups = number.split(",")[0].split(".")
    lead = groups[0]
    if lead.startswith("8") or lead == "11":
        return True
    return lead == "1" and len(groups) != 2  # uno, un milione; but mille


def _elide(text: str) -> str:
    def fix(m: re.Match[str]) -> str:
        article, number = m.group(1), m.group(2)
        if not _read_with_a_vowel(number):
            return m.group(0)
        elided = _ELIDING[article.lower()]
        return (elided.capitalize() if article[0].isupper() else elided) + number

    return _ARTICLE_NUMBER.sub(fix, text)


def t_count(key: str, count: float, lang: str | None = None, /, **values: Any) -> str:
    """``t`` for a sentence about ``count`` things: ``{key}_one`` when ``count`` is 1 and the
    catalogue has that key ("1 lead", "1 mese"), else ``key``; ``count`` is not filled in."""
    one = f"{key}_one"
    return t(one if count == 1 and has(one, lang) else key, lang, **values)


def t_or(key: str, default: str, lang: str | None = None, /, **values: Any) -> str:
    """``t(key)`` when the catalogue has ``key`` in ``lang``, else ``default`` (a label for the
    kit's own names, the name itself for a client's)."""
    return t(key, lang, **values) if has(key, lang) else default


def column_label(column: str, lang: str | None = None, *, heading: bool = False) -> str:
    """A lead column as readers of ``lang`` name it in a sentence (``source``: "lead source",
    "fonte del lead"); a column the kit does not know keeps its name. ``heading``: the label
    starts with a capital, for a table heading or a menu."""
    key = f"common.column.{column}"
    if not has(key, lang):
        return str(column)
    text = t(key, lang)
    return text[:1].upper() + text[1:] if heading else text


def value_label(column: str, value: Any, lang: str | None = None) -> str:
    """A value of one of the kit's own categories as readers of ``lang`` say it (the sample
    company's ``north_west`` region: "North-West", "Nord-Ovest"); a client's value as it is."""
    return t_or(f"common.value.{column}.{value}", str(value), lang)


def has(key: str, lang: str | None = None) -> bool:
    """Whether ``key`` exists in ``lang``."""
    return key in catalogue(lang or current_language())
