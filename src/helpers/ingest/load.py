"""From export files to canonical tables: read, map, parse, check, pseudonymise."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from helpers import privacy
from helpers.ingest.mapping import (
    ColumnSpec,
    Mapping,
    SourceSpec,
    column_index,
    detect_mapping,
    find_column,
    load_mapping,
    match_score,
    required_columns,
)
from helpers.ingest.parsing import (
    SLASH_RE,
    DateParse,
    clean_text,
    isin_text,
    parse_dates,
    parse_numbers,
)
from helpers.ingest.readers import RawFile, list_input_files, read_file
from helpers.ingest.report import MAX_EXAMPLES, Finding, ValidationReport, mask_value
from helpers.ingest.safety import regex_mask
from helpers.ingest.validate import (
    DERIVED,
    FILE,
    INTERNAL,
    ROW,
    Provenance,
    check_tables,
    files_of,
    row_finding,
    summarise,
)
from helpers.model import SCHEMAS, CrmData

CATEGORY_COLUMNS = {"outcome", "channel", "side", "team"}  # compared lower-cased
UNPARSEABLE_SHARE = 0.01  # more unreadable required dates than this makes the data unusable


@dataclass
class Mapped:
    """What one file contributed: rows for its table, derived stage and activity rows, and
    which of the file's columns fed each canonical column (per table; None: a value the mapping
    supplies)."""

    table: str
    source: SourceSpec
    frame: pd.DataFrame
    stage_rows: list[pd.DataFrame] = field(default_factory=list)
    activity_rows: list[pd.DataFrame] = field(default_factory=list)
    origins: dict[str, dict[str, list[str | None]]] = field(default_factory=dict)

    def fed(self, table: str, column: str, *names: str | None) -> None:
        have = self.origins.setdefault(table, {}).setdefault(column, [])
        have.extend(n for n in names if n not in have)


def _as_paths(paths: str | Path | Sequence[str | Path]) -> list[Path]:
    if isinstance(paths, str | Path):
        return [Path(paths)]
    return [Path(p) for p in paths]


def _convert(
    values: pd.Series,
    spec: ColumnSpec,
    raw: RawFile,
    mapping: Mapping,
    ctx: dict,
    findings: list[Finding],
    parsed: DateParse | None = None,
) -> pd.Series:
    """One source column in its target type; parse problems become findings.

    A date column already parsed with the file's day/month order comes as ``parsed``."""
    table, personal = ctx["table"], spec.name in mapping.personal_columns()
    base = {"table": table, "file": raw.name, "column": spec.name, "source_column": values.name}
    if spec.type == "date":
        if parsed is None:
            parsed = _parse_dates(values, raw, mapping, _day_first(raw, mapping))
        if parsed.unparseable.any():
            bad = int(parsed.unparseable.sum())
            required = spec.name in required_columns(table) or ctx.get("required", False)
            severity = "error" if required and bad > UNPARSEABLE_SHARE * len(values) else "warning"
            findings.append(
                Finding(
                    severity,
                    "unparseable_dates",
                    count=bad,
                    examples=_ex(values, parsed.unparseable, raw, personal),
                    params={"rows": len(values)},
                    **base,
                )
            )
        if parsed.mixed:
            odd = parsed.odd if parsed.odd is not None else values.notna()
            findings.append(
                Finding(
                    "warning",
                    "mixed_date_formats",
                    count=int(odd.sum()),
                    examples=_ex(values, odd, raw, personal),
                    **base,
                )
            )
        if parsed.ambiguous:
            severity = "info" if _user_date_order(mapping) else "warning"
            preset = mapping.preset is not None and mapping.preset == mapping.origin
            findings.append(
                Finding(
                    severity,
                    "ambiguous_date_order",
                    count=int(values.notna().sum()),
                    params={
                        "order": parsed.order,
                        "fix": "preset" if preset else "own_file",
                        "mapping": mapping.origin,
                    },
                    **base,
                )
            )
        return parsed.values
    if spec.type in ("number", "int"):
        parsed_n = parse_numbers(values, decimal_comma=raw.decimal_comma)
        bad = parsed_n.unparseable
        if spec.type == "int":
            bad = bad | (parsed_n.values.notna() & (parsed_n.values % 1 != 0))
        if bad.any():
            findings.append(
                Finding(
                    "warning",
                    "unparseable_numbers",
                    count=int(bad.sum()),
                    examples=_ex(values, bad, raw, personal),
                    **base,
                )
            )
        if parsed_n.currency.any():
            findings.append(
                Finding(
                    "warning",
                    "currency_symbols",
                    count=int(parsed_n.currency.sum()),
                    examples=_ex(values, parsed_n.currency, raw, personal),
                    **base,
                )
            )
        return parsed_n.values.where(~bad)
    text = clean_text(values)
    if spec.split:
        text = clean_text(text.str.split(spec.split, n=1, regex=False).str[0])
    if spec.values:
        norm = text.str.lower().str.replace(r"[\s_]+", " ", regex=True).str.strip()
        mapped = norm.map(spec.values)
        if spec.default is not None:
            mapped = mapped.where(mapped.notna() | text.isna(), spec.default)
        text = mapped.where(mapped.notna(), text).astype("str")
    if spec.name in CATEGORY_COLUMNS:
        text = text.str.lower()
    return text


def _ex(values: pd.Series, mask: pd.Series, raw: RawFile, personal: bool) -> list[dict]:
    idx = mask[mask].index[:MAX_EXAMPLES]
    return [
        {"row": int(i) + raw.first_row, "value": mask_value(values.loc[i], personal)} for i in idx
    ]


# numbers without leading zeros (codes like 00123 stay text), optionally with thousands groups
NUMBER_TEXT = r"^-?(?:0|[1-9]\d{0,2}(?:,\d{3})+|[1-9]\d*)(?:\.\d+)?$"
NUMBER_TEXT_COMMA = r"^-?(?:0|[1-9]\d{0,2}(?:\.\d{3})+|[1-9]\d*)(?:,\d+)?$"
ISO_DATE_TEXT = (
    r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?$"
)


HEAD_CELLS = 1_000  # cells looked at first: most text columns fail every pattern there


def _all_match(filled: pd.Series, pattern: str, head: int = HEAD_CELLS) -> bool:
    """Whether every cell matches ``pattern``; the whole column is read only if its head does."""
    if not regex_mask(filled.iloc[:head], pattern).all():
        return False
    return len(filled) <= head or bool(regex_mask(filled, pattern).all())


def infer_type(
    text: pd.Series, raw: RawFile, mapping: Mapping, day_first: bool | None = None
) -> pd.Series:
    """An extra (unmapped) text column as numbers or ISO dates when every value is one
    (``day_first``: the file's day/month order, for slash dates that do not settle it)."""
    filled = text.dropna()
    if filled.empty:
        return text
    pattern = NUMBER_TEXT_COMMA if raw.decimal_comma else NUMBER_TEXT
    if _all_match(filled, pattern):
        numbers = parse_numbers(text, decimal_comma=raw.decimal_comma).values
        whole = numbers.notna().all() and (numbers % 1 == 0).all()
        return numbers.astype("int64") if whole else numbers
    if _all_match(filled, ISO_DATE_TEXT) or _all_match(filled, SLASH_RE):
        day_first = _day_first(raw, mapping) if day_first is None else day_first
        parsed = parse_dates(text, tz=mapping.timezone, day_first=day_first)
        if not parsed.unparseable.any():
            return parsed.values
    return text


DATA_CELL = re.compile(r"@|^[\d\s+().,/:'-]+$")  # an email, or only digits and punctuation


def header_looks_like_data(columns: Sequence[str]) -> bool:
    """Whether a file's column names are really a data row (an export without its header):
    some name holds an email address or is only a number, a phone number or a date."""
    return any(DATA_CELL.search(c.strip()) for c in columns if c.strip())


def _user_date_order(mapping: Mapping) -> bool:
    """Whether the date order was set in the user's own mapping file (not a preset's default)."""
    return bool(mapping.date_order) and mapping.user_date_order


def _parse_dates(values: pd.Series, raw: RawFile, mapping: Mapping, day_first: bool) -> DateParse:
    return parse_dates(
        values, tz=mapping.timezone, day_first=day_first, excel_serial=raw.kind == "xlsx"
    )


def _date_columns(index: dict[str, str], src: SourceSpec) -> list[str]:
    """The file's columns that ``map_file`` reads as dates, each once."""
    cols = [find_column(index, s.candidates) for s in src.columns if s.type == "date"]
    for cands in src.stage_dates.values():
        cols += [find_column(index, (c,)) for c in cands]
    if src.stage_status and find_column(index, src.stage_status[0]):
        cols.append(find_column(index, src.stage_status[1]))
    cols += [find_column(index, a.candidates) for a in src.activities]
    return list(dict.fromkeys(c for c in cols if c))


def _file_dates(
    frame: pd.DataFrame, cols: list[str], raw: RawFile, mapping: Mapping
) -> tuple[dict[str, DateParse], bool]:
    """The date columns of one file parsed with one day/month order, and that order
    (``day_first``).

    A file is written in one order: when the values of some columns settle it (a day above 12
    in ``Created Date``) and no column says the other order, the columns whose values settle
    nothing (``Converted Date`` with days up to 12 only) are read in it and are not ambiguous.
    Only when nothing in the file settles it does the default of :func:`_day_first` apply.
    """
    default = _day_first(raw, mapping)
    parses = {c: _parse_dates(frame[c], raw, mapping, default) for c in cols}
    settled = {p.order for p in parses.values() if p.order and not (p.ambiguous or p.mixed)}
    if len(settled) != 1:
        return parses, default
    order = settled.pop()
    day_first = order == "dmy"
    for col, parsed in parses.items():
        if parsed.ambiguous:
            if parsed.order != order:
                parsed = _parse_dates(frame[col], raw, mapping, day_first)
            parsed.ambiguous = False
            parses[col] = parsed
    return parses, day_first


def _day_first(raw: RawFile, mapping: Mapping) -> bool:
    """The day/month order used when no value settles it."""
    if _user_date_order(mapping):
        return mapping.date_order == "dmy"
    if raw.decimal_comma or raw.delimiter == ";":
        return True
    if mapping.date_order:
        return mapping.date_order == "dmy"
    return raw.delimiter not in (",", None) or raw.kind != "csv"


TOTAL_RE = re.compile(
    r"^(?:(?:grand\s+)?totals?|totale(?:\s+(?:complessivo|generale))?|totali|somma|sum)"
    r"\s*:?\s*(?:\(.*\))?$",
    re.IGNORECASE,
)
AMOUNT_RE = re.compile(
    r"^[-+(]?\s*(?:[€$£¥]|R\$|EUR|USD|GBP|CHF|BRL)?\s*-?[\d.,'\s\u00a0\u202f]*\d"
    r"[\d.,'\s\u00a0\u202f]*\s*(?:[€$£¥%]|EUR|USD|GBP|CHF|BRL)?\s*\)?$",
    re.IGNORECASE,
)
TAIL_ROWS = 5  # blank rows looked past at the end of a file


def _totals_row(
    frame: pd.DataFrame, raw: RawFile, index: dict[str, str], src: SourceSpec
) -> int | None:
    """The index of a totals row closing a CSV or sheet, else None.

    It is the last non-blank row; its first non-empty cell says Total / Totals / Grand Total /
    Totale / Somma (optionally with a colon or a bracket, as in "Grand Totals (12 records)"),
    every other non-empty cell is a number, and the source's id column is blank in it (or is the
    cell holding the word). Only the last rows are looked at, so this costs nothing on big files.
    """
    if raw.kind not in ("csv", "xlsx") or frame.empty:
        return None
    tail = frame.tail(TAIL_ROWS)
    for label in reversed(tail.index):
        cells = [
            (col, v.strip())
            for col, v in tail.loc[label].items()
            if isinstance(v, str) and v.strip()
        ]
        if cells:
            break
    else:
        return None
    first_col, word = cells[0]
    if not TOTAL_RE.match(word) or not all(AMOUNT_RE.match(v) for _, v in cells[1:]):
        return None
    key = src.merge_on or next((c for c in required_columns(src.table) if c.endswith("_id")), None)
    spec = src.column(key) if key else None
    key_col = find_column(index, spec.candidates) if spec else None
    if key_col is not None and key_col != first_col and any(c == key_col for c, _ in cells):
        return None
    return int(label)


def map_file(raw: RawFile, src: SourceSpec, mapping: Mapping, findings: list[Finding]) -> Mapped:
    """Apply one source of the mapping to one file."""
    frame = raw.frame
    assert frame is not None
    index = column_index(list(frame.columns))
    total = _totals_row(frame, raw, index, src)
    if total is not None:
        frame = frame.drop(index=total)
        findings.append(
            Finding(
                "info",
                "totals_row",
                table=src.table,
                file=raw.name,
                examples=[{"row": int(total) + raw.first_row, "value": ""}],
            )
        )
    ctx = {"table": src.table}
    out: dict[str, pd.Series] = {}
    used: set[str] = set()
    fed: dict[str, str] = {}  # canonical column -> the file's column
    dates: dict[str, pd.Series] = {}  # a source column read as dates once, however often used
    parsed_dates, day_first = _file_dates(frame, _date_columns(index, src), raw, mapping)

    def date_of(col: str, context: dict) -> pd.Series:
        if col not in dates:
            spec = ColumnSpec(col, (col,), "date")
            dates[col] = _convert(
                frame[col], spec, raw, mapping, context, findings, parsed_dates.get(col)
            )
        return dates[col]

    needed = {src.merge_on} if src.merge_on else set(required_columns(src.table))
    derived = src.table == "opportunities" and src.column("outcome") is not None
    for spec in src.columns:
        col = find_column(index, spec.candidates)
        if col is None:
            required = spec.name in needed and not (derived and spec.name == "outcome")
            # a deal file without a lead column (contact names only): none of it counts as won
            unlinked = spec.name == "lead_id" and not src.merge_on
            if required or unlinked:
                severity, code = (
                    ("error", "missing_column") if required else ("warning", "no_lead_link")
                )
                findings.append(
                    Finding(
                        severity,
                        code,
                        table=src.table,
                        file=raw.name,
                        column=spec.name,
                        count=1 if required else len(frame),
                        params={"candidates": ", ".join(spec.candidates)},
                    )
                )
            continue
        used.add(col)
        fed[spec.name] = col
        parsed = parsed_dates.get(col) if spec.type == "date" else None
        out[spec.name] = _convert(frame[col], spec, raw, mapping, ctx, findings, parsed)
        if spec.type == "date":
            dates[col] = out[spec.name]
    if src.keep_unmapped:
        claimed = {
            find_column(index, (c,))
            for cands in [
                *src.stage_dates.values(),
                *(src.stage_status or ()),
                *(a.candidates for a in src.activities),
            ]
            for c in cands
        }
        for col in frame.columns:
            if col in used or col in out or col in claimed or col.startswith("__"):
                continue
            values = frame[col]
            textual = pd.api.types.is_string_dtype(values) or pd.api.types.is_object_dtype(values)
            personal = col in mapping.personal_columns()
            out[col] = (
                infer_type(clean_text(values), raw, mapping, day_first)
                if textual and not personal
                else (clean_text(values) if textual else values)
            )
    mapped = pd.DataFrame(out, index=frame.index)
    mapped[FILE] = raw.name
    mapped[ROW] = frame.index.to_numpy(dtype="int64") + raw.first_row  # the reader's positions
    result = Mapped(src.table, src, mapped)
    for name in out:
        result.fed(src.table, name, fed.get(name, name))
    if src.outcome_flags:
        flags = _outcome_from_flags(mapped, frame, index, src)
        if flags:  # they decide the outcome, whatever column the mapping names for it
            result.origins.setdefault(src.table, {})["outcome"] = flags
    if "lead_id" not in mapped:
        return result
    lead = mapped["lead_id"]
    lead_col = fed.get("lead_id", "lead_id")
    stage_ctx = {"table": "stage_history", "required": True}
    stage_specs = {
        k: ColumnSpec("entered_at", cands, "date") for k, cands in src.stage_dates.items()
    }
    for label, spec in stage_specs.items():
        cols = [c for c in spec.candidates if find_column(index, (c,))]
        if not cols:
            continue
        when = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[us, UTC]")
        for cand in dict.fromkeys(find_column(index, (c,)) for c in cols):
            used.add(cand)
            when = when.fillna(date_of(cand, stage_ctx))
            result.fed("stage_history", "entered_at", cand)
        result.fed("stage_history", "lead_id", lead_col)
        result.fed("stage_history", "stage", None)
        keep = when.notna() & lead.notna()
        result.stage_rows.append(
            pd.DataFrame(
                {
                    "lead_id": lead[keep],
                    "stage": label,
                    "entered_at": when[keep],
                    FILE: raw.name,
                    ROW: mapped.loc[keep, ROW],
                    DERIVED: True,
                }
            )
        )
    if src.stage_status:
        status_col = find_column(index, src.stage_status[0])
        date_col = find_column(index, src.stage_status[1])
        if status_col and date_col:
            status = clean_text(frame[status_col])
            when = date_of(date_col, stage_ctx)
            for column, name in zip(
                ("lead_id", "stage", "entered_at"), (lead_col, status_col, date_col), strict=True
            ):
                result.fed("stage_history", column, name)
            keep = status.notna() & when.notna() & lead.notna()
            result.stage_rows.append(
                pd.DataFrame(
                    {
                        "lead_id": lead[keep],
                        "stage": status[keep],
                        "entered_at": when[keep],
                        FILE: raw.name,
                        ROW: mapped.loc[keep, ROW],
                        DERIVED: True,
                    }
                )
            )
        elif status_col:
            findings.append(
                Finding(
                    "info",
                    "status_without_date",
                    table="stage_history",
                    file=raw.name,
                    column=status_col,
                )
            )
    if src.stage_dates and not result.stage_rows:
        # e.g. a default HubSpot contacts export: its Lifecycle Stage is each contact's stage
        # now, without the date it was reached; the "Became a ... Date" columns give the history
        findings.append(
            Finding(
                "info",
                "no_stage_dates",
                table="stage_history",
                file=raw.name,
                params={"columns": ", ".join(c[0] for c in src.stage_dates.values())},
            )
        )
    for act in src.activities:
        col = find_column(index, act.candidates)
        if not col:
            continue
        when = date_of(col, {"table": "activities", "required": True})
        for column, name in (("at", col), ("lead_id", lead_col)):
            result.fed("activities", column, name)
        for column in ("activity_id", "side", "type"):
            result.fed("activities", column, None)
        keep = when.notna() & lead.notna()
        result.activity_rows.append(
            pd.DataFrame(
                {
                    "activity_id": lead[keep] + ":" + act.type,
                    "lead_id": lead[keep],
                    "side": act.side,
                    "type": act.type,
                    "at": when[keep],
                    FILE: raw.name,
                    ROW: mapped.loc[keep, ROW],
                    DERIVED: True,
                }
            )
        )
    return result


TRUE_WORDS = {"true", "1", "yes", "y", "vero", "si", "sì", "x"}


def _outcome_from_flags(
    mapped: pd.DataFrame, frame: pd.DataFrame, index: dict[str, str], src: SourceSpec
) -> list[str | None]:
    """Outcome from won / closed flag columns (Salesforce ``Won``, ``Closed``) where present;
    the columns it was read from (none: the flags are not in the file)."""
    flags, cols = {}, []
    for name, cands in src.outcome_flags.items():
        col = find_column(index, cands)
        if col is not None:
            flags[name] = clean_text(frame[col]).str.lower().isin(TRUE_WORDS)
            cols.append(col)
    if "won" not in flags:
        return []
    outcome = pd.Series("open", index=mapped.index, dtype="str")
    if "closed" in flags:
        outcome = outcome.mask(flags["closed"], "lost")
    outcome = outcome.mask(flags["won"], "won")
    mapped["outcome"] = outcome
    return cols


def _outcome_stage_rows(opps: pd.DataFrame, mapping: Mapping) -> pd.DataFrame | None:
    """Opportunity, won and lost stage entries from an opportunities table linked to leads."""
    if "lead_id" not in opps or "created_at" not in opps:
        return None
    model = mapping.stage_model
    parts = []
    linked = opps["lead_id"].notna()
    if model.role("opportunity"):
        keep = linked & opps["created_at"].notna()
        parts.append(
            opps.loc[keep, ["lead_id", "created_at", FILE, ROW]]
            .rename(columns={"created_at": "entered_at"})
            .assign(stage=model.role("opportunity"))
        )
    if "closed_at" in opps and "outcome" in opps:
        for outcome in ("won", "lost"):
            if not model.role(outcome):
                continue
            keep = linked & opps["closed_at"].notna() & (opps["outcome"] == outcome)
            parts.append(
                opps.loc[keep, ["lead_id", "closed_at", FILE, ROW]]
                .rename(columns={"closed_at": "entered_at"})
                .assign(stage=model.role(outcome))
            )
    parts = [p.assign(**{DERIVED: True}) for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True) if parts else None


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame | None:
    frames = [f for f in frames if f is not None]
    if not frames:
        return None
    if len(frames) == 1:
        return frames[0].reset_index(drop=True)
    return pd.concat(frames, ignore_index=True)


def _merge_into(
    base: pd.DataFrame,
    extra: pd.DataFrame,
    key: str,
    table: str,
    findings: list[Finding],
    sources: Provenance,
) -> tuple[pd.DataFrame, list[str]]:
    """Add ``extra``'s columns to ``base`` rows with the same ``key`` (blanks are filled); also
    the columns only ``extra`` has, blank on the rows it has no match for (said in one finding).
    """
    files = ", ".join(sorted(extra[FILE].unique()))
    dup = extra[key].duplicated(keep="first") & extra[key].notna()
    if dup.any():
        findings.append(
            row_finding(
                "warning", "duplicate_ids", table, extra, dup, key, personal=False, sources=sources
            )
        )
    extra = extra[~dup & extra[key].notna()]
    orphan = ~isin_text(extra[key], base[key])
    if orphan.any():
        findings.append(
            row_finding(
                "warning", "orphan_rows", table, extra, orphan, key, personal=False, sources=sources
            )
        )
    add = extra.drop(columns=list(INTERNAL), errors="ignore").set_index(key)
    new = [c for c in add.columns if c not in base.columns]
    unmatched = base[key].notna() & ~isin_text(base[key], extra[key])
    if new and unmatched.any():  # e.g. a won-deals file: the other leads have no row there
        findings.append(
            Finding(
                "info",
                "merge_unmatched",
                table=table,
                file=files_of(base, unmatched),  # where those rows are
                count=int(unmatched.sum()),
                params={
                    "merged": files,
                    "columns": ", ".join(new[:5]) + (", ..." if len(new) > 5 else ""),
                },
            )
        )
    joined = base.merge(
        add, left_on=key, right_index=True, how="left", suffixes=("", "__extra")
    ).reset_index(drop=True)
    for col in add.columns:
        if f"{col}__extra" in joined:
            joined[col] = joined[col].fillna(joined.pop(f"{col}__extra"))
    return joined, new


def _provenance(readable: list[RawFile], mapped: list[Mapped]) -> Provenance:
    """Which file column fed each canonical column, per file, and the files' cells as read."""
    sources = Provenance()
    names = [raw.name for raw in readable]
    for raw in readable:
        if names.count(raw.name) == 1:  # two inputs of one name: their cells are not told apart
            sources.cells[raw.name] = (raw.frame, raw.first_row)
    for m in mapped:
        file = str(m.frame[FILE].iloc[0]) if len(m.frame) else ""
        for table, columns in m.origins.items():
            for column, fed in columns.items():
                sources.add(table, file, column, fed)
        own = m.origins.get(m.table, {})
        if m.source.outcome_stages and m.table == "opportunities":  # see _outcome_stage_rows
            sources.add("stage_history", file, "lead_id", own.get("lead_id", []))
            sources.add("stage_history", file, "stage", [None])
            for column in ("created_at", "closed_at"):
                sources.add("stage_history", file, "entered_at", own.get(column, []))
    return sources


MAP_THREADS = 4  # files mapped at once: Arrow and NumPy work outside the interpreter lock


def _map_all(readable: list[RawFile], mp: Mapping) -> list[tuple[Mapped | None, list[Finding]]]:
    """Each readable file mapped by its best-matching source, with its own findings.

    Files are mapped in threads (up to ``MAP_THREADS``, no more than the machine's cores); the
    results come back in file order, so the findings do not depend on which thread ends first.
    """
    workers = min(len(readable), MAP_THREADS, os.cpu_count() or 1)
    if workers < 2:
        return [_map_one(raw, mp) for raw in readable]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda raw: _map_one(raw, mp), readable))


def _map_one(raw: RawFile, mp: Mapping) -> tuple[Mapped | None, list[Finding]]:
    """One file mapped by the source that matches it best; None when no source fits."""
    findings: list[Finding] = []
    scores = [
        (match_score(src, raw.name, list(raw.frame.columns)), i) for i, src in enumerate(mp.sources)
    ]
    scores = [(s, i) for s, i in scores if s is not None]
    if not scores:
        columns = [str(c) for c in raw.frame.columns]
        if header_looks_like_data(columns):  # its "names" are a row: personal data, unshown
            findings.append(Finding("warning", "header_is_data", file=raw.name))
        else:
            shown = {"columns": ", ".join(columns[:8])}
            findings.append(Finding("warning", "unrecognised_file", file=raw.name, params=shown))
        return None, findings
    src = mp.sources[max(scores)[1]]
    if len(raw.frame) == 0:
        primary = src.table == "leads" and not src.merge_on
        findings.append(
            Finding(
                "error" if primary else "warning", "header_only", table=src.table, file=raw.name
            )
        )
        return None, findings
    return map_file(raw, src, mp, findings), findings


def load_crm(
    paths: str | Path | Sequence[str | Path],
    mapping: str | Path | None = None,
    *,
    pseudonymise: bool = True,
    key: bytes | None = None,
    now: pd.Timestamp | None = None,
) -> tuple[CrmData, ValidationReport]:
    """Read, map, parse, check and pseudonymise a CRM export.

    Data problems never raise: they are findings in the report (``usable`` is False on any
    error). A mapping that cannot be used raises :class:`helpers.errors.KitError`.
    """
    findings: list[Finding] = []
    files, missing = list_input_files(_as_paths(paths))
    for m in missing:
        findings.append(Finding("error", "path_not_found", file=str(m)))
    raws = [raw for f in files for raw in read_file(f)]
    for raw in raws:
        for p in raw.problems:
            findings.append(
                Finding(
                    p.severity,
                    p.code,
                    file=raw.name,
                    count=p.count,
                    examples=p.examples,
                    params=p.params,
                )
            )
    readable = [r for r in raws if r.frame is not None]
    if mapping is None:
        name = detect_mapping([(r.name, list(r.frame.columns)) for r in readable])
        if readable:
            findings.append(Finding("info", "mapping_detected", params={"mapping": name}))
        mp = load_mapping(name)
    else:
        mp = load_mapping(mapping)
    if files == [] and not missing:
        findings.append(Finding("error", "no_files"))
    mapped: list[Mapped] = []
    for result, own in _map_all(readable, mp):  # each file's findings, in file order
        findings.extend(own)
        if result is not None:
            mapped.append(result)
    sources = _provenance(readable, mapped)
    tables: dict[str, pd.DataFrame] = {}
    for table in SCHEMAS:
        frames = [m.frame for m in mapped if m.table == table and not m.source.merge_on]
        combined = _concat(frames)
        if combined is not None:
            tables[table] = combined
    merged: dict[str, set[str]] = {}  # per table, the columns only a merged file brings
    for m in mapped:
        if m.source.merge_on and m.table in tables and m.source.merge_on in m.frame:
            tables[m.table], new = _merge_into(
                tables[m.table], m.frame, m.source.merge_on, m.table, findings, sources
            )
            merged.setdefault(m.table, set()).update(new)
    if "stage_history" in tables:  # a stage history file of its own: no columns are missing
        findings[:] = [f for f in findings if f.code != "no_stage_dates"]
    stage_parts = [tables.get("stage_history")] + [r for m in mapped for r in m.stage_rows]
    if "opportunities" in tables and any(m.source.outcome_stages for m in mapped):
        stage_parts.append(_outcome_stage_rows(tables["opportunities"], mp))
    stage = _concat([p for p in stage_parts if p is not None and len(p)])
    if stage is not None:
        tables["stage_history"] = stage
    acts = _concat([tables.get("activities")] + [r for m in mapped for r in m.activity_rows])
    if acts is not None:
        tables["activities"] = acts
    now = now if now is not None else pd.Timestamp.now(tz="UTC")
    tables, more = check_tables(tables, mp, now, merged=merged, sources=sources)
    if any(f.code == "no_stage_dates" for f in findings):  # it already says what to add
        more = [f for f in more if not (f.code == "table_absent" and f.table == "stage_history")]
    findings.extend(more)
    files_by_table = {
        name: sorted(df[FILE].dropna().unique().tolist()) for name, df in tables.items()
    }
    clean = {name: df.drop(columns=list(INTERNAL), errors="ignore") for name, df in tables.items()}
    if pseudonymise:
        secret = key if key is not None else privacy.load_key()
        personal = sorted(mp.personal_columns())
        # without errors the checks have looked for phone numbers in every text column: only
        # where they found some is a column read again (every column costs seconds on millions
        # of rows); with errors a table may have skipped its checks, so every column is read
        phones = {(f.table, f.column) for f in findings if f.code == "phone_in_column"}
        checked = not any(f.severity == "error" for f in findings)
        clean = {
            name: privacy.pseudonymise_stray_phones(
                privacy.pseudonymise_stray_emails(
                    privacy.pseudonymise(df, personal, secret), personal, secret
                ),
                [c for c in df.columns if (name, c) not in phones] if checked else personal,
                secret,
            )
            for name, df in clean.items()
        }
    leads = clean.pop("leads", None)
    usable = (
        leads is not None and len(leads) > 0 and not any(f.severity == "error" for f in findings)
    )
    if leads is None:
        if not any(f.code in ("no_files", "path_not_found") for f in findings):
            findings.append(Finding("error", "no_leads", params={"mapping": mp.name}))
        leads = pd.DataFrame(
            {
                "lead_id": pd.Series([], dtype="str"),
                "created_at": pd.Series([], dtype="datetime64[us, UTC]"),
            }
        )
        usable = False
    crm = CrmData(leads=leads, stage_model=mp.stage_model, **clean)  # lead keys set by the checks
    tables_summary, stage_counts = summarise(crm, files_by_table)
    findings.sort(key=lambda f: ("error", "warning", "info").index(f.severity))
    report = ValidationReport(
        usable=usable,
        mapping=mp.name,
        tables=tables_summary,
        stage_counts=stage_counts,
        findings=findings,
        stage_model=mp.stage_model,
    )
    return crm, report
