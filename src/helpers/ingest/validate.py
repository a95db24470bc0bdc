"""Checks on the mapped tables: every problem is counted, with examples, and the rows that cannot
be used are set aside so the canonical tables satisfy the pandera schemas of ``helpers.model``."""

from __future__ import annotations

import copy
import difflib
import functools
import os
import re
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandera.errors import SchemaErrors
from pandera.pandas import DataFrameSchema

from helpers.ingest.mapping import Mapping, required_columns
from helpers.ingest.parsing import isin_text
from helpers.ingest.report import MAX_EXAMPLES, Finding, TableSummary, mask_value
from helpers.ingest.safety import (
    arrow_text,
    formula_hits,
    may_contain,
    none_hit,
    regex_hits,
    to_mask,
)
from helpers.messages import LANGUAGES
from helpers.model import (
    CHANNELS,
    LEAD_KEY,
    OUTCOMES,
    SCHEMAS,
    TEAMS,
    UTC_TS,
    CrmData,
    lead_key_columns,
    stage_wide,
)
from helpers.privacy import EMAIL_PATTERN, phone_cells
from helpers.stages import StageModel, normalise_label, stage_label

FILE, ROW, DERIVED = "__file", "__row", "__derived"  # provenance, dropped at the end
INTERNAL = (FILE, ROW, DERIVED)
IMPORTANT = {"leads": ("source", "persona", "owner", "segment", "channel")}
ALLOWED = {"channel": CHANNELS, "outcome": OUTCOMES, "side": TEAMS, "team": TEAMS}
TEAM_WORDS = {
    "vendite": "sales",
    "commerciale": "sales",
    "sales": "sales",
    "marketing": "marketing",
}
MARKUP_RE = r"<\s*/?\s*[a-zA-Z!][^>]*>"
HUGE_CELL = 32_767  # the longest text an Excel cell holds
FUTURE_SLACK = pd.Timedelta(days=1)
DATE_COLUMN = {
    "leads": "created_at",
    "stage_history": "entered_at",
    "opportunities": "created_at",
    "activities": "at",
}


def files_of(df: pd.DataFrame, mask: pd.Series | None = None) -> str | None:
    """The files the rows in ``mask`` (default: all) come from, as a finding names them."""
    if FILE not in df:
        return None
    names = df.loc[mask, FILE] if mask is not None else df[FILE]
    uniq = [str(n) for n in names.dropna().unique()]  # in order of first appearance
    return ", ".join(uniq[:3]) + (", ..." if len(uniq) > 3 else "") if uniq else None


@dataclass
class Provenance:
    """Where the canonical columns came from, so findings name a file's own columns and show
    its cells as written (``-200``, ``03/02/2027``) rather than as parsed.

    ``columns``: per table, file and canonical column, the file's columns behind it (None for
    a value the mapping itself supplies, such as the stage of a ``stage_dates`` column).
    ``cells``: per file, its cells as read and the row number of its first data row.
    """

    columns: dict[str, dict[str, dict[str, list[str | None]]]] = field(default_factory=dict)
    cells: dict[str, tuple[pd.DataFrame, int]] = field(default_factory=dict)

    def add(self, table: str, file: str, column: str, names: Iterable[str | None]) -> None:
        have = self.columns.setdefault(table, {}).setdefault(file, {}).setdefault(column, [])
        have.extend(n for n in names if n not in have)

    def names(self, table: str, column: str | None, files: Iterable[str]) -> list[str]:
        """The file columns behind ``column`` in ``files`` (else in any file of the table: a
        column a merged file brings)."""
        by_file = self.columns.get(table, {})
        found = [n for f in files for n in by_file.get(f, {}).get(column, [])]
        if not found:
            found = [n for cols in by_file.values() for n in cols.get(column, [])]
        return [n for n in dict.fromkeys(found) if n is not None]

    def cell(self, table: str, column: str | None, file: Any, row: int) -> Any:
        """The cell as written behind ``column`` at ``row`` of ``file``; None when the value
        has no single cell behind it or the cell is blank."""
        names = self.columns.get(table, {}).get(file, {}).get(column, [])
        if len(names) != 1 or names[0] is None or file not in self.cells:
            return None
        frame, first_row = self.cells[file]
        position = row - first_row
        if names[0] not in frame.columns or not 0 <= position < len(frame):
            return None
        value = frame[names[0]].iloc[position]
        return value if isinstance(value, str) and value.strip() else None


def row_examples(
    df: pd.DataFrame,
    mask: pd.Series,
    column: str | None,
    personal: bool,
    cell: Callable[[Any, int], Any] | None = None,
) -> list[dict]:
    """Up to five ``{row, value}`` examples of the rows in ``mask`` (values masked if personal;
    ``cell(file, row)`` gives the cell as written, when at hand)."""
    idx = mask[mask].index[:MAX_EXAMPLES]
    rows = df.loc[idx]
    out = []
    for i in idx:
        value = rows.at[i, column] if column and column in rows else ""
        row = rows.at[i, ROW] if ROW in rows else None
        row = None if pd.isna(row) else int(row)
        written = cell(rows.at[i, FILE], row) if cell and FILE in rows and row is not None else None
        value = value if written is None else written
        out.append({"row": row, "value": mask_value(value, personal)})
    return out


def row_finding(
    severity: str,
    code: str,
    table: str,
    df: pd.DataFrame,
    mask: pd.Series,
    column: str | None,
    *,
    personal: bool,
    sources: Provenance | None = None,
    count: int | None = None,
    params: dict[str, Any] | None = None,
) -> Finding:
    """A finding about the rows of ``df`` in ``mask``, with examples; ``sources`` names the
    file's own column and gives the cells as written."""
    names, cell = [], None
    if sources is not None and column:
        files = df.loc[mask, FILE].dropna().unique() if FILE in df else []
        names = sources.names(table, column, files)
        cell = functools.partial(sources.cell, table, column)
    return Finding(
        severity,
        code,
        table=table,
        file=files_of(df, mask),
        column=column,
        count=int(mask.sum()) if count is None else count,
        examples=row_examples(df, mask, column, personal, cell),
        params=params or {},
        source_column=" / ".join(names) or None,
    )


class Checker:
    """Collects findings about one set of tables."""

    def __init__(
        self,
        mapping: Mapping,
        merged: dict[str, set[str]] | None = None,
        sources: Provenance | None = None,
    ) -> None:
        self.mapping = mapping
        self.personal = mapping.personal_columns()
        self.merged = merged or {}  # per table, columns only a merged file brings
        self.sources = sources
        self.blanked: dict[tuple[str, str], pd.Series] = {}  # cells a check emptied, reported
        self.findings: list[Finding] = []

    def add(
        self,
        severity: str,
        code: str,
        table: str,
        df: pd.DataFrame,
        mask: pd.Series,
        column: str | None = None,
        count: int | None = None,
        **params: object,
    ) -> None:
        self.findings.append(
            row_finding(
                severity,
                code,
                table,
                df,
                mask,
                column,
                personal=column in self.personal,
                sources=self.sources,
                count=count,
                params=dict(params),
            )
        )


def _drop_blank_required(ck: Checker, table: str, df: pd.DataFrame) -> pd.DataFrame:
    for col in required_columns(table):
        if col not in df or col == "amount":
            continue
        blank = df[col].isna()
        if blank.all() and len(df):
            ck.add("error", "all_blank", table, df, blank, col)
        elif blank.any():
            ck.add("warning", "blank_required", table, df, blank, col)
            df = df[~blank]
    return df


_MIX = np.uint64(0x9E3779B97F4A7C15)  # odd 64-bit constant: spreads codes across the hash


def _value_codes(values: pd.Series) -> np.ndarray:
    """Integers equal exactly where the values are equal (all missing values share one)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        if isinstance(values.dtype, pd.DatetimeTZDtype):  # the same instant in any zone
            values = values.dt.tz_convert("UTC").dt.tz_localize(None)
        return values.to_numpy().view("int64")  # NaT is one integer
    if pd.api.types.is_integer_dtype(values) and values.dtype.kind in "iu":
        return values.to_numpy().astype("int64", copy=False)
    if isinstance(values.dtype, pd.StringDtype):
        arr = pa.array(values.array, from_pandas=True)
        arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
        codes = pc.dictionary_encode(arr, null_encoding="encode").indices
        return codes.to_numpy(zero_copy_only=False).astype("int64", copy=False)
    return pd.factorize(values, use_na_sentinel=False)[0]


def duplicated_rows(df: pd.DataFrame, subset: list[str], keep: str | bool = "first") -> pd.Series:
    """``df.duplicated(subset=subset, keep=keep)``, faster on millions of rows.

    One text column: Arrow numbers its distinct values in order of first appearance, so a row
    repeats an earlier one exactly when its number is not above every number before it. Several
    columns: one integer hash of each row's key picks the rows that may repeat, and only those
    are compared in full.
    """
    if df.empty or not subset:
        return df.duplicated(subset=subset or None, keep=keep)
    if len(subset) == 1:
        values = df[subset[0]]
        if not isinstance(values.dtype, pd.StringDtype) or keep not in ("first", False):
            return df.duplicated(subset=subset, keep=keep)  # pandas hashes it as fast
        codes = _value_codes(values)
        if keep == "first":
            out = np.zeros(len(codes), dtype=bool)
            out[1:] = codes[1:] <= np.maximum.accumulate(codes)[:-1]
        else:
            out = np.bincount(codes)[codes] > 1
        return pd.Series(out, index=df.index)
    mixed = np.zeros(len(df), dtype=np.uint64)
    for col in subset:
        mixed = mixed * _MIX ^ _value_codes(df[col]).astype(np.uint64)
    maybe = pd.Series(mixed).duplicated(keep=False).to_numpy()
    out = np.zeros(len(df), dtype=bool)
    if maybe.any():  # rows with equal keys always share a hash: compare those exactly
        out[maybe] = df.loc[maybe, subset].duplicated(keep=keep).to_numpy()
    return pd.Series(out, index=df.index)


def _drop_duplicates(ck: Checker, table: str, df: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    data_cols = [c for c in df.columns if c not in INTERNAL]
    # exact copies can only be among rows sharing the key: compare whole rows only there.
    # One hashing pass over the key in the usual case (no repeated key): rows after the first
    # of their key; the rows sharing a key (first ones included) are only looked for if any
    present = [k for k in key if k in df]
    later = duplicated_rows(df, present, keep="first") if present else None
    if later is None or later.any():
        maybe = duplicated_rows(df, present, keep=False) if present else pd.Series(True, df.index)
        exact = (
            df[maybe].duplicated(subset=data_cols, keep="first").reindex(df.index, fill_value=False)
        )
        if exact.any():
            ck.add("warning", "duplicate_rows", table, df, exact, key[0])
            df = df[~exact]
            # a removed copy always follows a kept row with the same key, so ``later`` holds
            later = later[~exact] if later is not None else None
    if all(k in df for k in key):
        dup = later if later is not None else duplicated_rows(df, key, keep="first")
        if dup.any():
            ck.add("warning", "duplicate_ids", table, df, dup, key[0], keys=", ".join(key))
            df = df[~dup]
    return df


def _categories(ck: Checker, table: str, df: pd.DataFrame) -> pd.DataFrame:
    for col, allowed in ALLOWED.items():
        if col not in df:
            continue
        values = df[col]
        if col in ("team", "side"):
            values = values.replace(TEAM_WORDS).astype("str")  # whole-cell matches only
            df = df.assign(**{col: values})
        bad = values.notna() & ~values.isin(allowed)
        if not bad.any():
            continue
        shown = ", ".join(mask_value(v) for v in values[bad].unique()[:5])
        required = SCHEMAS[table].columns[col].required if col in SCHEMAS[table].columns else False
        ck.add(
            "warning",
            "unknown_values",
            table,
            df,
            bad,
            col,
            values=shown,
            allowed=", ".join(allowed),
        )
        if required:
            df = df[~bad]
        else:  # said once: not blank values again
            df = df.assign(**{col: values.where(~bad)})
            ck.blanked[(table, col)] = bad
    return df


def _negative(ck: Checker, table: str, df: pd.DataFrame) -> pd.DataFrame:
    for col in ("amount", "company_size"):
        if col in df:
            neg = df[col] < 0
            if neg.any():
                ck.add("warning", "negative_values", table, df, neg, col)
                df = df.assign(**{col: df[col].where(~neg)})
    return df


def _text_checks(ck: Checker, table: str, df: pd.DataFrame) -> pd.DataFrame:
    """Formula-like cells (neutralised with a leading quote), markup and huge cells."""
    for col in df.columns:
        if col in INTERNAL or not pd.api.types.is_string_dtype(df[col]):
            continue
        s = df[col]
        arr = arrow_text(s)  # once per column; every test below runs on it
        formula = formula_hits(arr)
        if formula is not None:
            mask = to_mask(formula, s.index)
            ck.add("warning", "formula_like", table, df, mask, col)
            df = df.assign(**{col: s.where(~mask, "'" + s)})
        if col not in ck.personal:
            emails = regex_hits(arr, EMAIL_PATTERN, literal="@")
            if emails is not None:
                ck.add("warning", "email_in_column", table, df, to_mask(emails, s.index), col)
            phones = phone_cells(s)
            if phones.any():
                ck.add("warning", "phone_in_column", table, df, phones, col)
        # a line break is "\n", "\r\n" or a bare "\r" (old Mac exports): plain substring tests
        if may_contain(arr, "\n", "\r"):
            lines = pc.or_(pc.match_substring(arr, "\n"), pc.match_substring(arr, "\r"))
            if not none_hit(lines):
                mask = to_mask(lines, s.index)
                ck.add("info", "multiline_cells", table, df, mask, col)
        markup = regex_hits(arr, MARKUP_RE, literal="<")
        if markup is not None:
            ck.add("warning", "markup_in_text", table, df, to_mask(markup, s.index), col)
        # a cell of at most HUGE_CELL bytes has at most as many characters: count only beyond
        longest = pc.max(pc.binary_length(arr)).as_py()
        if longest is not None and longest > HUGE_CELL:
            huge = pc.greater(pc.utf8_length(arr), HUGE_CELL)
            if not none_hit(huge):
                ck.add(
                    "warning", "huge_cell", table, df, to_mask(huge, s.index), col, limit=HUGE_CELL
                )
    return df


def _future(ck: Checker, table: str, df: pd.DataFrame, now: pd.Timestamp) -> None:
    for col in df.columns:
        if isinstance(df[col].dtype, pd.DatetimeTZDtype):
            future = df[col] > now + FUTURE_SLACK
            if future.any():
                ck.add(
                    "warning", "future_dates", table, df, future, col, now=now.date().isoformat()
                )


def _entered_out_of_order(first: pd.DataFrame) -> np.ndarray:
    """Per lead (row of first entry times, columns in funnel order): whether a stage was entered
    before the latest of the earlier stages the lead entered (a skipped stage hides nothing)."""
    ticks = np.column_stack(
        [first[c].dt.tz_localize(None).to_numpy("datetime64[us]").view("int64") for c in first]
    )
    entered = ticks != np.iinfo("int64").min  # NaT is the smallest integer: max skips it
    running = np.maximum.accumulate(ticks, axis=1)
    late = entered[:, 1:] & (ticks[:, 1:] < running[:, :-1])
    return late.any(axis=1)


NO_TARGET = "_none"  # not a stage key (keys never start with "_"): the advice's placeholder
WORD = re.compile(r"\w{4,}")


def similar_stage(label: str, model: StageModel) -> str:
    """The stage an unknown label most likely means, for the example in the advice: the one
    stage whose key, aliases or labels (in any language) share a word with the label
    (``Rifiutato`` -> ``rejected``, labelled "Rifiutato dalle vendite"), else the stage with
    a close name; ``NO_TARGET`` when none resembles it."""
    names: dict[str, str] = {}  # normalised name -> stage key
    for key in model.stages:
        own = [a for a, k in model.aliases.items() if k == key]
        for name in (key, *own, *(stage_label(key, lang, model) for lang in LANGUAGES)):
            names.setdefault(normalise_label(name), key)
    norm = normalise_label(label)
    words = set(WORD.findall(norm))
    sharing = {key for name, key in names.items() if words & set(WORD.findall(name))}
    if len(sharing) == 1:
        return sharing.pop()
    close = difflib.get_close_matches(norm, list(names), n=1, cutoff=0.75)
    return names[close[0]] if close else NO_TARGET


def _stages(ck: Checker, df: pd.DataFrame, leads: pd.DataFrame | None) -> pd.DataFrame:
    model = ck.mapping.stage_model
    labels = df["stage"].astype("str")
    codes, uniq = pd.factorize(labels)  # resolve each distinct label once, then take
    resolved = pa.array([model.resolve(u) for u in uniq], type=pa.large_string())
    keys = pd.Series(
        pd.array(resolved.take(pa.array(codes, mask=codes < 0)), dtype="str"), index=labels.index
    )
    unknown = keys.isna() & labels.notna()
    if unknown.any():
        counts = labels[unknown].value_counts()
        for label, n in counts.head(10).items():
            ck.add(
                "warning",
                "unknown_stage",
                "stage_history",
                df,
                unknown & (labels == label),
                "stage",
                count=int(n),
                stage=mask_value(label),
                target=similar_stage(label, model),
                model=model.name,
                stages=", ".join(model.stages),
            )
        df, keys = df[~unknown], keys[~unknown]
    df = df.assign(stage=keys.astype("str"))
    if DERIVED in df:  # an entry derived twice (wide date and deal outcome) is one visit
        key = ["lead_id", "stage", "entered_at"]
        df = df.sort_values(DERIVED, kind="stable")
        twice = duplicated_rows(df, key, keep="first") & df[DERIVED].fillna(False).astype(bool)
        df = df[~twice].sort_index()
    df = _drop_duplicates(ck, "stage_history", df, KEYS["stage_history"])
    # stages out of funnel order: a later stage entered before an earlier one
    first = stage_wide(df, model)  # per lead, the first entry of each stage
    funnel = [s for s in model.funnel if s in first.columns]
    if len(funnel) > 1:
        late = pd.Series(_entered_out_of_order(first[funnel]), index=first.index)
        if late.any():
            bad_leads = set(late[late].index)
            mask = df["lead_id"].isin(bad_leads) & ~df["lead_id"].duplicated()
            ck.add(
                "warning",
                "stages_out_of_order",
                "stage_history",
                df,
                mask,
                "lead_id",
                count=len(bad_leads),
            )
    won = model.role("won")
    if leads is not None and won and won in first.columns and "created_at" in leads:
        won_at = first[won].dropna()
        won_ids = pd.Series(won_at.index, dtype="str")
        winners = leads.loc[isin_text(leads["lead_id"], won_ids), ["lead_id", "created_at"]]
        created = winners.drop_duplicates("lead_id").set_index("lead_id")["created_at"]
        before = won_at < created.reindex(won_at.index)
        if before.any():
            ids = set(before[before].index)
            mask = (df["stage"] == won) & df["lead_id"].isin(ids)
            mask &= ~df["lead_id"].where(mask).duplicated() | ~mask
            ck.add(
                "warning",
                "won_before_created",
                "stage_history",
                df,
                mask,
                "lead_id",
                count=len(ids),
            )
    return df


def _lead_keys_and_orphans(ck: Checker, tables: dict[str, pd.DataFrame]) -> None:
    """Give every table with a ``lead_id`` its integer ``lead_key`` (one hashing pass over all
    ids) and warn about rows whose lead is not among the leads."""
    keys = lead_key_columns(tables)
    if keys is None:  # lead ids not usable as keys: look the ids up as text
        for table, df in tables.items():
            if table != "leads":
                _orphans(ck, table, df, tables.get("leads"))
        return
    n_leads = len(tables["leads"])
    for table in [t for t in tables if t in keys]:  # the tables' own order
        tables[table] = tables[table].assign(**{LEAD_KEY: keys[table]})
        orphan = keys[table] >= n_leads
        if table != "leads" and orphan.any():
            mask = pd.Series(orphan, index=tables[table].index)
            ck.add("warning", "orphan_rows", table, tables[table], mask, "lead_id")


def _orphans(ck: Checker, table: str, df: pd.DataFrame, leads: pd.DataFrame | None) -> None:
    if leads is None or "lead_id" not in df:
        return
    orphan = df["lead_id"].notna() & ~isin_text(df["lead_id"], leads["lead_id"])
    if orphan.any():
        ck.add("warning", "orphan_rows", table, df, orphan, "lead_id")


def _blanks(ck: Checker, table: str, df: pd.DataFrame) -> None:
    for col in IMPORTANT.get(table, ()):
        if col in ck.merged.get(table, ()):  # blank where the merged file has no row: said there
            continue
        if col in df and len(df):
            blank = df[col].isna()
            emptied = ck.blanked.get((table, col))
            if emptied is not None:  # a value not allowed, already reported as such
                blank &= ~emptied.reindex(df.index, fill_value=False)
            if blank.any() and not blank.all():
                ck.add(
                    "warning", "blank_values", table, df, blank, col, share=f"{blank.mean():.0%}"
                )


def unique_keys(table: str) -> list[list[str]]:
    """The column sets the pandera schema of ``table`` declares unique."""
    schema = SCHEMAS[table]
    keys = [[name] for name, column in schema.columns.items() if column.unique]
    return keys + ([list(schema.unique)] if schema.unique else [])


@functools.cache
def _checked_schema(table: str) -> DataFrameSchema:
    """The table's schema without its uniqueness rules, which the duplicate checks have already
    enforced on the same keys (a second hashing pass over millions of ids could never fail)."""
    schema = copy.deepcopy(SCHEMAS[table])
    columns = {name: {"unique": False} for name, c in schema.columns.items() if c.unique}
    schema = schema.update_columns(columns) if columns else schema
    schema.unique = None
    return schema


def _schema(ck: Checker, table: str, df: pd.DataFrame) -> None:
    """The pandera schema, lazily: every remaining failure is an error finding."""
    try:  # extra columns are allowed (strict=False) and nothing is coerced: no copy needed
        _checked_schema(table).validate(df, lazy=True, inplace=True)
    except SchemaErrors as exc:
        cases = exc.failure_cases
        for (column, check), group in cases.groupby(["column", "check"], dropna=False, sort=False):
            ck.findings.append(
                Finding(
                    "error",
                    "schema_check",
                    table=table,
                    column=None if pd.isna(column) else column,
                    count=len(group),
                    examples=[
                        {"row": None, "value": mask_value(v, column in ck.personal)}
                        for v in group["failure_case"].head(MAX_EXAMPLES)
                    ],
                    params={"check": str(check)},
                )
            )


def _finalise_types(table: str, df: pd.DataFrame) -> pd.DataFrame:
    out = {}
    for col in df.columns:
        s = df[col]
        spec = SCHEMAS[table].columns.get(col)
        if spec is not None and str(spec.dtype) == "int64":
            s = s.astype("int64")
        elif spec is not None and str(spec.dtype).startswith("float"):
            s = s.astype("float64")
        elif isinstance(s.dtype, pd.DatetimeTZDtype):
            s = s.astype(UTC_TS)
        elif pd.api.types.is_object_dtype(s) or (spec is not None and str(spec.dtype) == "str"):
            s = s.astype("str")
        out[col] = s
    return pd.DataFrame(out, index=df.index).reset_index(drop=True)


KEYS = {
    "leads": ["lead_id"],
    "stage_history": ["lead_id", "stage", "entered_at"],
    "opportunities": ["opportunity_id"],
    "activities": ["activity_id"],
    "survey": ["respondent_id", "wave", "item_id"],
    "words": [],
}


CHECK_THREADS = 4  # tables checked at once: Arrow and NumPy work outside the interpreter lock


def _check_table(
    ck: Checker, table: str, df: pd.DataFrame, leads: pd.DataFrame | None, now: pd.Timestamp
) -> pd.DataFrame | None:
    """One table checked: problem rows set aside, findings added to ``ck``.

    None when a required column is missing (already reported per file), except for the leads,
    which are kept as they are so the report can still say what they hold.
    """
    missing = [c for c in required_columns(table) if c not in df]
    if missing:
        return df if table == "leads" else None
    df = _drop_blank_required(ck, table, df)
    df = _text_checks(ck, table, df)
    df = _categories(ck, table, df)
    df = _negative(ck, table, df)
    if table == "survey" and "score" in df:
        bad = df["score"].isna() | (df["score"] < 1) | (df["score"] > 5) | (df["score"] % 1 != 0)
        if bad.any():
            ck.add("warning", "score_out_of_range", table, df, bad, "score")
            df = df[~bad]
    if table == "stage_history":
        df = _stages(ck, df, leads)
    elif KEYS.get(table):
        df = _drop_duplicates(ck, table, df, KEYS[table])
    if table == "opportunities" and {"closed_at", "created_at"} <= set(df.columns):
        early = df["closed_at"] < df["created_at"]
        if early.any():
            ck.add("warning", "closed_before_created", table, df, early, "closed_at")
    _future(ck, table, df, now)
    _blanks(ck, table, df)
    df = _finalise_types(table, df)
    _schema(ck, table, df)
    return df


def check_tables(
    tables: dict[str, pd.DataFrame],
    mapping: Mapping,
    now: pd.Timestamp,
    *,
    merged: dict[str, set[str]] | None = None,
    sources: Provenance | None = None,
) -> tuple[dict[str, pd.DataFrame], list[Finding]]:
    """Count every problem and set aside unusable rows; returns cleaned tables and findings.

    ``merged``: per table, the columns only a merged file brings (their blanks are expected);
    ``sources``: the files' own column names and cells, for the findings."""
    ck = Checker(mapping, merged, sources)
    out: dict[str, pd.DataFrame] = {}
    order = [
        t
        for t in ("leads", "stage_history", "opportunities", "activities", "survey", "words")
        if t in tables
    ]
    if "leads" in order:  # the stage history's checks look at the checked leads
        out["leads"] = _check_table(ck, "leads", tables["leads"], None, now)
    rest = [t for t in order if t != "leads"]

    def check_one(table: str) -> tuple[str, pd.DataFrame | None, list[Finding]]:
        own = Checker(mapping, merged, sources)
        df = _check_table(own, table, tables[table], out.get("leads"), now)
        return table, df, own.findings

    workers = min(len(rest), CHECK_THREADS, os.cpu_count() or 1)
    if workers < 2:
        results = [check_one(t) for t in rest]
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(check_one, rest))
    for table, df, found in results:  # findings in table order, whichever thread ends first
        ck.findings.extend(found)
        if df is not None:
            out[table] = df
    _lead_keys_and_orphans(ck, out)
    if "leads" in out:
        opps = out.get("opportunities")
        if opps is None or "amount" not in opps or opps["amount"].isna().all():
            ck.findings.append(Finding("info", "no_amounts", table="opportunities"))
        reasons = [
            df[c].notna().any()
            for name, c in (("opportunities", "lost_reason"), ("stage_history", "reason"))
            if (df := out.get(name)) is not None and c in df
        ]
        if not any(reasons):
            ck.findings.append(Finding("info", "no_lost_reasons", table="opportunities"))
        for table in ("stage_history", "opportunities", "activities"):
            if table not in out:
                ck.findings.append(Finding("info", "table_absent", table=table))
    return out, ck.findings


def summarise(
    crm: CrmData, files: dict[str, list[str]]
) -> tuple[dict[str, TableSummary], dict[str, int]]:
    """Per-table files, rows and date range; how many leads reached each stage."""
    summary: dict[str, TableSummary] = {}
    for name, df in crm.tables().items():
        col = DATE_COLUMN.get(name)
        start = end = None
        if col and col in df and df[col].notna().any():
            start, end = df[col].min(), df[col].max()
        summary[name] = TableSummary(
            files.get(name, []), len(df), start, end, col if start is not None else None
        )
    counts: dict[str, int] = {}
    sh = crm.stage_history
    if sh is not None and len(sh):
        lead = LEAD_KEY if LEAD_KEY in sh else "lead_id"  # integers count faster than text
        reached = sh.groupby("stage")[lead].nunique()
        model = crm.stage_model
        for stage in model.funnel:
            counts[stage] = int(reached.get(stage, 0))
        for stage in model.exits:
            if reached.get(stage, 0):
                counts[stage] = int(reached[stage])
    return summary, counts
