"""Errors that reach users carry a catalogue key, so they read the same in every language."""

from __future__ import annotations

from typing import Any

from helpers.messages import t


class KitError(Exception):
    """A problem a user must fix; ``str()`` gives the message in the current language."""

    exit_code: int = 2
    lang: str | None = None  # the language to speak when none is asked for (a config's)

    def __init__(self, key: str, /, **values: Any) -> None:
        self.key = key
        self.values = values
        super().__init__(key)

    def message(self, lang: str | None = None) -> str:
        return t(self.key, lang or self.lang, **self.values)

    def __str__(self) -> str:
        return self.message()


class FileProblemError(KitError):
    """A file the kit cannot use: ``key`` names the file (``source``) and ``problem`` is a second
    catalogue key saying what is wrong; both are rendered in the reader's language."""

    def __init__(self, key: str, source: str, problem: str, /, **values: Any) -> None:
        super().__init__(key, source=source, **values)
        self.problem = problem

    def message(self, lang: str | None = None) -> str:
        lang = lang or self.lang
        detail = t(self.problem, lang, **self.values)
        return t(self.key, lang, source=self.values["source"], problem=detail)


class MissingTableError(KitError):
    """An analysis needs a table (or column) the client's data does not have."""

    def __init__(self, table: str, analysis: str) -> None:
        super().__init__("common.missing_table", table=table, analysis=analysis)
        self.table = table
        self.analysis = analysis
