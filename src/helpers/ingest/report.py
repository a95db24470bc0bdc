"""The validation report: what was read, how far leads got, and every problem found at once."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from helpers.messages import current_language, has, t
from helpers.privacy import replace_phones
from helpers.results import fmt_date, fmt_number
from helpers.stages import StageModel, normalise_label, stage_label

SEVERITIES: tuple[str, ...] = ("error", "warning", "info")
MAX_EXAMPLES = 5
MAX_EXAMPLE_CHARS = 60
EMAIL_RE = re.compile(r"[^\s@]+@\S*")  # any word with an @ inside, even cut short
PHONE_RE = re.compile(r"^\+?[\d\s().\-/]{6,}$")
CUT_TAIL = re.compile(r"[\d\s.()+\-]*$")  # digits a cut went through: maybe half a phone


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or an array is a value, not a missing one
        return False


def _masked_phone(text: str) -> str:
    return "***" + text[-2:]


def mask_value(value: Any, personal: bool = False) -> str:
    """An example value safe to print: personal data masked (in any text: email addresses and
    phone numbers), long text cut, and of a text with line breaks only its first line (the lines
    after it may be rows that an unclosed quote swallowed, with other people's data in them)."""
    if _missing(value):  # None, NaN, NA and NaT all print as an empty example
        return ""
    full = str(value)
    if personal:
        text = full[:MAX_EXAMPLE_CHARS]
        if PHONE_RE.match(text):
            return _masked_phone(text)
        return (text[:1] + "***") if text else ""
    # cut first, so the patterns below stay cheap, but with room for a phone number or an email
    # address that starts before the shown part ends; digits that the cut goes through are dropped
    window = full[: 2 * MAX_EXAMPLE_CHARS]
    text, *more_lines = window.splitlines() or [""]
    if not more_lines and len(full) > len(window):
        text = CUT_TAIL.sub("", text)
    text = EMAIL_RE.sub(lambda m: m.group(0)[0] + "***@***", text)
    text = replace_phones(text, _masked_phone)
    if more_lines:
        return text[:MAX_EXAMPLE_CHARS] + " ..."
    if len(full) > MAX_EXAMPLE_CHARS:
        text = text[:MAX_EXAMPLE_CHARS] + "..."
    return text


@dataclass
class Finding:
    """One problem (or fact) about the input, counted over all the rows it concerns."""

    severity: str
    code: str
    table: str | None = None
    file: str | None = None
    column: str | None = None
    count: int = 1
    examples: list[dict[str, Any]] = field(default_factory=list)  # {"row": int, "value": str}
    params: dict[str, Any] = field(default_factory=dict)
    source_column: str | None = None  # the file's own name(s) of ``column``, when known

    @property
    def column_label(self) -> str:
        """The column as the reader knows it: the file's own name, followed by the kit's in
        brackets when the two differ (``Data creazione (created_at)``)."""
        column = self.column or ""
        if not self.source_column or normalise_label(self.source_column) == normalise_label(column):
            return self.source_column or column
        return f"{self.source_column} ({column})"

    def _values(self, lang: str | None) -> dict[str, Any]:
        """The placeholders; a parameter that is a code (``order: dmy``) is said in words when
        the catalogue has ``ingest.param.<name>.<code>`` (whose own placeholders are the other
        values: ``fix: preset`` says the ``{mapping}`` to extend)."""
        plain = {
            "table": self.table or "",
            "file": self.file or "",
            "column": self.column_label,
            "count": fmt_number(self.count, lang or current_language()),
            **self.params,
        }
        params = {}
        for name, value in self.params.items():
            key = f"ingest.param.{name}.{value}"
            if isinstance(value, str) and has(key, lang):
                params[name] = t(key, lang, **plain)
        return {**plain, **params}

    def message(self, lang: str | None = None) -> str:
        """What was found, in ``lang``."""
        return t(f"ingest.finding.{self.code}", lang, **self._values(lang))

    def advice(self, lang: str | None = None) -> str:
        """What to do about it, in ``lang``."""
        return t(f"ingest.advice.{self.code}", lang, **self._values(lang))

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        return {
            "severity": self.severity,
            "code": self.code,
            "table": self.table,
            "file": self.file,
            "column": self.column,
            "source_column": self.source_column,
            "count": int(self.count),
            "examples": [
                {"row": None if e.get("row") is None else int(e["row"]), "value": str(e["value"])}
                for e in self.examples
            ],
            "params": {k: _jsonable(v) for k, v in sorted(self.params.items())},
            "message": self.message(lang),
            "advice": self.advice(lang),
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)


def _example_text(example: dict[str, Any], lang: str) -> str:
    value = str(example.get("value") or "")
    if example.get("row") is None:
        return repr(value)
    row = t("ingest.text.row", lang, row=example["row"])
    return f"{row} ({value!r})" if value else row


@dataclass
class TableSummary:
    """What was read into one canonical table."""

    files: list[str]
    rows: int
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None
    date_column: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": list(self.files),
            "rows": int(self.rows),
            "date_column": self.date_column,
            "start": None if self.start is None else self.start.isoformat(),
            "end": None if self.end is None else self.end.isoformat(),
        }


@dataclass
class ValidationReport:
    """Everything ``smarketing validate`` tells the user; ``usable`` is False on any error."""

    usable: bool
    mapping: str
    tables: dict[str, TableSummary] = field(default_factory=dict)
    stage_counts: dict[str, int] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    # the stage model, for the stages' labels in the text (the JSON keeps the keys)
    stage_model: StageModel | None = field(default=None, repr=False, compare=False)

    def by_severity(self, severity: str) -> list[Finding]:
        return [f for f in self.findings if f.severity == severity]

    @property
    def errors(self) -> list[Finding]:
        return self.by_severity("error")

    @property
    def warnings(self) -> list[Finding]:
        return self.by_severity("warning")

    def codes(self, severity: str | None = None) -> set[str]:
        return {f.code for f in self.findings if severity is None or f.severity == severity}

    def get(self, code: str) -> Finding | None:
        """The first finding with ``code``."""
        return next((f for f in self.findings if f.code == code), None)

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        """JSON-ready, with a stable key order."""
        return {
            "usable": self.usable,
            "mapping": self.mapping,
            "tables": {name: s.to_dict() for name, s in self.tables.items()},
            "stage_counts": {k: int(v) for k, v in self.stage_counts.items()},
            "summary": {s: len(self.by_severity(s)) for s in SEVERITIES},
            "findings": [f.to_dict(lang) for f in self.findings],
        }

    def render_text(self, lang: str = "en") -> str:
        """The report as plain text for a terminal."""
        lines = [t("ingest.text.mapping", lang, mapping=self.mapping), ""]
        lines.append(t("ingest.text.tables", lang))
        if not self.tables:
            lines.append("  " + t("ingest.text.no_tables", lang))
        for name, s in self.tables.items():
            span = ""
            if s.start is not None and s.end is not None:
                span = t(
                    "ingest.text.date_range",
                    lang,
                    column=s.date_column,
                    start=fmt_date(s.start, lang),
                    end=fmt_date(s.end, lang),
                )
            lines.append(
                "  "
                + t(
                    "ingest.text.table_line_none"
                    if not s.files
                    else "ingest.text.table_line_one"
                    if s.rows == 1
                    else "ingest.text.table_line",
                    lang,
                    table=name,
                    rows=fmt_number(s.rows, lang),
                    files=", ".join(s.files),
                    span=span,
                ).rstrip()
            )
        if self.stage_counts:
            lines += ["", t("ingest.text.stages", lang)]
            labels = {k: stage_label(k, lang, self.stage_model) for k in self.stage_counts}
            width = max(len(label) for label in labels.values())
            for stage, n in self.stage_counts.items():
                lines.append(f"  {labels[stage]:<{width}}  {fmt_number(n, lang):>9}")
        for severity in SEVERITIES:
            found = self.by_severity(severity)
            if not found:
                continue
            lines += ["", t(f"ingest.text.heading_{severity}", lang, count=len(found))]
            for f in found:
                where = ", ".join(
                    p
                    for p in (
                        f.file,
                        t("ingest.text.column", lang, column=f.column_label) if f.column else "",
                    )
                    if p
                )
                lines.append(f"  - {where + ': ' if where else ''}{f.message(lang)}")
                if f.examples:
                    shown = "; ".join(_example_text(e, lang) for e in f.examples)
                    lines.append("      " + t("ingest.text.examples", lang, examples=shown))
                lines.append("      " + t("ingest.text.advice", lang, advice=f.advice(lang)))
        lines += ["", t("ingest.text.usable" if self.usable else "ingest.text.unusable", lang)]
        return "\n".join(lines) + "\n"
