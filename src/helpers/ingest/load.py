"""From export files to canonical tables: read, map, parse, check, pseudonymise."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from helpers import privacy
from helpers.ingest.mapping import (
    PRESETS,
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
from helpers.ingest.parsing import SLASH_RE, clean_text, isin_text, parse_dates, parse_numbers
from helpers.ingest.readers import RawFile, list_input_files, read_file
from helpers.ingest.report import MAX_EXAMPLES, Finding, ValidationReport, mask_value
from helpers.ingest.safety import regex_mask
from helpers.ingest.validate import (
    DERIVED,
    FILE,
    INTERNAL,
    ROW,
    check_tables,
    row_examples,
    summarise,
)
from helpers.model import SCHEMAS, CrmData

CATEGORY_COLUMNS = {"outcome", "channel", "side", "team"}  # compared lower-cased
UNPARSEABLE_SHARE = 0.01  # more unreadable required dates than this makes the data unusable


@dataclass
class Mapped:
    """What one file contributed: rows for its table, derived stage and activity rows."""

    table: str
    source: SourceSpec
    frame: pd.DataFrame
    stage_rows: list[pd.DataFrame] = field(default_factory=list)
    activity_rows: list[pd.DataFrame] = field(default_factory=list)


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
) -> pd.Series:
    """One source column in its target type; parse problems become findings."""
    table, personal = ctx["table"], spec.name in mapping.personal_columns()
    base = {"table": table, "file": raw.name, "column": spec.name}
    if spec.type == "date":
        parsed = parse_dates(
            values,
            tz=mapping.timezone,
            day_first=_day_first(raw, mapping),
            excel_serial=raw.kind == "xlsx",
        )
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
            findings.append(
                Finding("warning", "mixed_date_formats", count=int(values.notna().sum()), **base)
            )
        if parsed.ambiguous:
            severity = "info" if _user_date_order(mapping) else "warning"
            findings.append(
                Finding(
                    severity,
                    "ambiguous_date_order",
                    count=int(values.notna().sum()),
                    params={"order": parsed.order},
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


def infer_type(text: pd.Series, raw: RawFile, mapping: Mapping) -> pd.Series:
    """An extra (unmapped) text column as numbers or ISO dates when every value is one."""
    filled = text.dropna()
    if filled.empty:
        return text
    pattern = NUMBER_TEXT_COMMA if raw.decimal_comma else NUMBER_TEXT
    if _all_match(filled, pattern):
        numbers = parse_numbers(text, decimal_comma=raw.decimal_comma).values
        whole = numbers.notna().all() and (numbers % 1 == 0).all()
        return numbers.astype("int64") if whole else numbers
    if _all_match(filled, ISO_DATE_TEXT) or _all_match(filled, SLASH_RE):
        parsed = parse_dates(text, tz=mapping.timezone, day_first=_day_first(raw, mapping))
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
    return bool(mapping.date_order) and mapping.origin not in PRESETS


def _day_first(raw: RawFile, mapping: Mapping) -> bool:
    """The day/month order used when no value settles it."""
    if _user_date_order(mapping):
        return mapping.date_order == "dmy"
    if raw.decimal_comma or raw.delimiter == ";":
        return True
    if mapping.date_order:
        return mapping.date_order == "dmy"
    return raw.delimiter not in (",", None) or raw.kind != "csv"


def map_file(raw: RawFile, src: SourceSpec, mapping: Mapping, findings: list[Finding]) -> Mapped:
    """Apply one source of the mapping to one file."""
    frame = raw.frame
    assert frame is not None
    index = column_index(list(frame.columns))
    ctx = {"table": src.table}
    out: dict[str, pd.Series] = {}
    used: set[str] = set()
    dates: dict[str, pd.Series] = {}  # a source column read as dates once, however often used

    def date_of(col: str, context: dict) -> pd.Series:
        if col not in dates:
            spec = ColumnSpec(col, (col,), "date")
            dates[col] = _convert(frame[col], spec, raw, mapping, context, findings)
        return dates[col]

    needed = {src.merge_on} if src.merge_on else set(required_columns(src.table))
    derived = src.table == "opportunities" and src.column("outcome") is not None
    for spec in src.columns:
        col = find_column(index, spec.candidates)
        if col is None:
            if spec.name in needed and not (derived and spec.name == "outcome"):
                findings.append(
                    Finding(
                        "error",
                        "missing_column",
                        table=src.table,
                        file=raw.name,
                        column=spec.name,
                        params={"candidates": ", ".join(spec.candidates)},
                    )
                )
            continue
        used.add(col)
        out[spec.name] = _convert(frame[col], spec, raw, mapping, ctx, findings)
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
                infer_type(clean_text(values), raw, mapping)
                if textual and not personal
                else (clean_text(values) if textual else values)
            )
    mapped = pd.DataFrame(out, index=frame.index)
    mapped[FILE] = raw.name
    mapped[ROW] = np.arange(len(frame), dtype="int64") + raw.first_row
    result = Mapped(src.table, src, mapped)
    if src.outcome_flags:
        _outcome_from_flags(mapped, frame, index, src)
    if "lead_id" not in mapped:
        return result
    lead = mapped["lead_id"]
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
    for act in src.activities:
        col = find_column(index, act.candidates)
        if not col:
            continue
        when = date_of(col, {"table": "activities", "required": True})
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
) -> None:
    """Outcome from won / closed flag columns (Salesforce ``Won``, ``Closed``) where present."""
    flags = {}
    for name, cands in src.outcome_flags.items():
        col = find_column(index, cands)
        if col is not None:
            flags[name] = clean_text(frame[col]).str.lower().isin(TRUE_WORDS)
    if "won" not in flags:
        return
    outcome = pd.Series("open", index=mapped.index, dtype="str")
    if "closed" in flags:
        outcome = outcome.mask(flags["closed"], "lost")
    outcome = outcome.mask(flags["won"], "won")
    mapped["outcome"] = outcome


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
    base: pd.DataFrame, extra: pd.DataFrame, key: str, table: str, findings: list[Finding]
) -> tuple[pd.DataFrame, list[str]]:
    """Add ``extra``'s columns to ``base`` rows with the same ``key`` (blanks are filled); also
    the columns only ``extra`` has, blank on the rows it has no match for (said in one finding).
    """
    files = ", ".join(sorted(extra[FILE].unique()))
    dup = extra[key].duplicated(keep="first") & extra[key].notna()
    if dup.any():
        findings.append(
            Finding(
                "warning",
                "duplicate_ids",
                table=table,
                file=files,
                column=key,
                count=int(dup.sum()),
                examples=row_examples(extra, dup, key, False),
            )
        )
    extra = extra[~dup & extra[key].notna()]
    orphan = ~isin_text(extra[key], base[key])
    if orphan.any():
        findings.append(
            Finding(
                "warning",
                "orphan_rows",
                table=table,
                file=files,
                column=key,
                count=int(orphan.sum()),
                examples=row_examples(extra, orphan, key, False),
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
                file=files,
                count=int(unmatched.sum()),
                params={"columns": ", ".join(new[:5]) + (", ..." if len(new) > 5 else "")},
            )
        )
    joined = base.merge(
        add, left_on=key, right_index=True, how="left", suffixes=("", "__extra")
    ).reset_index(drop=True)
    for col in add.columns:
        if f"{col}__extra" in joined:
            joined[col] = joined[col].fillna(joined.pop(f"{col}__extra"))
    return joined, new


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
    raws = [read_file(f) for f in files]
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
    for raw in readable:
        scores = [
            (match_score(src, raw.name, list(raw.frame.columns)), i)
            for i, src in enumerate(mp.sources)
        ]
        scores = [(s, i) for s, i in scores if s is not None]
        if not scores:
            columns = [str(c) for c in raw.frame.columns]
            if header_looks_like_data(columns):  # its "names" are a row: personal data, unshown
                findings.append(Finding("warning", "header_is_data", file=raw.name))
            else:
                shown = {"columns": ", ".join(columns[:8])}
                findings.append(
                    Finding("warning", "unrecognised_file", file=raw.name, params=shown)
                )
            continue
        src = mp.sources[max(scores)[1]]
        if len(raw.frame) == 0:
            primary = src.table == "leads" and not src.merge_on
            findings.append(
                Finding(
                    "error" if primary else "warning", "header_only", table=src.table, file=raw.name
                )
            )
            continue
        mapped.append(map_file(raw, src, mp, findings))
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
                tables[m.table], m.frame, m.source.merge_on, m.table, findings
            )
            merged.setdefault(m.table, set()).update(new)
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
    tables, more = check_tables(tables, mp, now, merged=merged)
    findings.extend(more)
    files_by_table = {
        name: sorted(df[FILE].dropna().unique().tolist()) for name, df in tables.items()
    }
    clean = {name: df.drop(columns=list(INTERNAL), errors="ignore") for name, df in tables.items()}
    if pseudonymise:
        secret = key if key is not None else privacy.load_key()
        personal = sorted(mp.personal_columns())
        clean = {
            name: privacy.pseudonymise_stray_emails(
                privacy.pseudonymise(df, personal, secret), personal, secret
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
    )
    return crm, report
