"""The canonical CRM data model: six tables every analysis reads, with their pandera schemas.

Only ``leads`` is required. Timestamps are timezone-aware UTC (``datetime64[us, UTC]``);
identifiers and categories are pandas strings; money is float in the client's currency.
Columns not listed here are kept (``strict=False``) so a client's extra attributes survive.
See ``docs/data-model.md`` for the readable version of this page.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow.compute as pc
from pyarrow import ChunkedArray
from pyarrow import array as pa_array
from pyarrow import chunked_array as pa_chunked_array
from pyarrow import concat_arrays as pa_concat_arrays
from pyarrow import large_string as pa_large_string
from pyarrow import string as pa_string

from helpers.errors import MissingTableError
from helpers.stages import StageModel, load_stage_model

UTC_TS = pd.DatetimeTZDtype("us", "UTC")  # pandas 3 default resolution
TEAMS: tuple[str, ...] = ("sales", "marketing")
OUTCOMES: tuple[str, ...] = ("won", "lost", "open")
CHANNELS: tuple[str, ...] = ("inbound", "outbound", "relational")

# Integer key of the lead a row belongs to, assigned once by :func:`with_lead_keys` (ingestion
# and ``save_canonical``) so analyses join tables on integers instead of hashing text ids.
LEAD_KEY = "lead_key"

# Columns holding personal data; ingestion pseudonymises them (see helpers.privacy).
PERSONAL_COLUMNS: tuple[str, ...] = ("email", "phone", "first_name", "last_name", "full_name")


def _s(nullable: bool = True, **kw: Any) -> pa.Column:
    return pa.Column("str", nullable=nullable, required=kw.pop("required", False), **kw)


def _ts(nullable: bool = True, required: bool = False) -> pa.Column:
    return pa.Column(UTC_TS, nullable=nullable, required=required)


LEADS_SCHEMA = pa.DataFrameSchema(
    {
        "lead_id": _s(nullable=False, required=True, unique=True),
        "created_at": _ts(nullable=False, required=True),
        "source": _s(),  # organic_search, paid_search, event, outbound_email, referral...
        "channel": _s(checks=pa.Check.isin(CHANNELS)),
        "persona": _s(),
        "segment": _s(),  # company size band or any client segment
        "region": _s(),
        "industry": _s(),
        "country": _s(),
        "company_size": pa.Column(float, nullable=True, required=False, checks=pa.Check.ge(0)),
        "sdr": _s(),  # marketing-side qualifier (SDR/BDR)
        "owner": _s(),  # sales rep (AE) who owns the lead
        "email": _s(),
        "phone": _s(),
        "first_name": _s(),
        "last_name": _s(),
        "full_name": _s(),
        "company": _s(),
    },
    strict=False,
    coerce=False,
    name="leads",
)

STAGE_HISTORY_SCHEMA = pa.DataFrameSchema(
    {
        "lead_id": _s(nullable=False, required=True),
        "stage": _s(nullable=False, required=True),
        "entered_at": _ts(nullable=False, required=True),
        "exited_at": _ts(),
        "reason": _s(),  # rejection / loss reason code
    },
    strict=False,
    name="stage_history",
    unique=["lead_id", "stage", "entered_at"],
)

OPPORTUNITIES_SCHEMA = pa.DataFrameSchema(
    {
        "opportunity_id": _s(nullable=False, required=True, unique=True),
        "lead_id": _s(),
        "owner": _s(),
        "amount": pa.Column(float, nullable=True, required=True, checks=pa.Check.ge(0)),
        "created_at": _ts(nullable=False, required=True),
        "closed_at": _ts(),
        "outcome": _s(nullable=False, required=True, checks=pa.Check.isin(OUTCOMES)),
        "stage": _s(),
        "lost_reason": _s(),
    },
    strict=False,
    name="opportunities",
)

ACTIVITIES_SCHEMA = pa.DataFrameSchema(
    {
        "activity_id": _s(nullable=False, required=True, unique=True),
        "lead_id": _s(nullable=False, required=True),
        "owner": _s(),
        "side": _s(checks=pa.Check.isin(TEAMS)),
        "type": _s(),  # call, email, meeting, ...
        "at": _ts(nullable=False, required=True),
    },
    strict=False,
    name="activities",
)

SURVEY_SCHEMA = pa.DataFrameSchema(
    {
        "respondent_id": _s(nullable=False, required=True),
        "team": _s(nullable=False, required=True, checks=pa.Check.isin(TEAMS)),
        "wave": _s(nullable=False, required=True),  # "before", "after" or a date
        "item_id": _s(nullable=False, required=True),
        "score": pa.Column(int, nullable=False, required=True, checks=pa.Check.in_range(1, 5)),
    },
    strict=False,
    name="survey",
)

WORDS_SCHEMA = pa.DataFrameSchema(
    {
        "respondent_id": _s(),
        "team": _s(nullable=False, required=True, checks=pa.Check.isin(TEAMS)),  # who wrote it
        "wave": _s(nullable=False, required=True),
        "word": _s(nullable=False, required=True),
        "lang": _s(),
    },
    strict=False,
    name="words",
)

SCHEMAS: dict[str, pa.DataFrameSchema] = {
    "leads": LEADS_SCHEMA,
    "stage_history": STAGE_HISTORY_SCHEMA,
    "opportunities": OPPORTUNITIES_SCHEMA,
    "activities": ACTIVITIES_SCHEMA,
    "survey": SURVEY_SCHEMA,
    "words": WORDS_SCHEMA,
}
TABLES: tuple[str, ...] = tuple(SCHEMAS)


@dataclass
class CrmData:
    """One client's data in canonical form. Every table but ``leads`` may be None."""

    leads: pd.DataFrame
    stage_history: pd.DataFrame | None = None
    opportunities: pd.DataFrame | None = None
    activities: pd.DataFrame | None = None
    survey: pd.DataFrame | None = None
    words: pd.DataFrame | None = None
    stage_model: StageModel = field(default_factory=load_stage_model)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables that are present, by name."""
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name in SCHEMAS and getattr(self, f.name) is not None
        }

    def require(self, table: str, analysis: str) -> pd.DataFrame:
        """The table, or a :class:`MissingTableError` naming the analysis that needs it."""
        df = getattr(self, table, None)
        if df is None or df.empty:
            raise MissingTableError(table, analysis)
        return df

    def has(self, table: str) -> bool:
        df = getattr(self, table, None)
        return df is not None and not df.empty


def event_span(
    columns: Iterable[pd.Series], now: Any = None
) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """The first and last of the dates in ``columns`` that are not after ``now`` (the current
    time by default); ``(None, None)`` when there is none.

    A date after ``now`` has not happened yet (a typo, or a date the CRM expects, such as an
    open deal's close date): it never ends the period the data covers.
    """
    limit = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)
    limit = limit.tz_localize("UTC") if limit.tzinfo is None else limit.tz_convert("UTC")
    first = last = None
    for values in columns:
        past = values[values <= limit]
        low, high = past.min(), past.max()
        if pd.notna(low):
            first = low if first is None else min(first, low)
            last = high if last is None else max(last, high)
    return first, last


def stage_wide(stage_history: pd.DataFrame, model: StageModel) -> pd.DataFrame:
    """Wide view of the stage history: one row per lead, first entry time per stage column.

    Rows follow the leads' first appearance; columns are the model's stages present in the
    data, in model order. Computed on integer codes (a string groupby and unstack cost several
    times as much on a million leads).
    """
    stages = list(model.stages)
    labels = pa_array(stage_history["stage"].array, type=pa_string(), from_pandas=True)
    stage_code = pc.index_in(labels, value_set=pa_array(stages, type=pa_string()))
    stage_code = pc.fill_null(stage_code, -1).to_numpy(zero_copy_only=False)  # -1: not a stage
    lead_code, leads = pd.factorize(stage_history["lead_id"], sort=False)
    entered = stage_history["entered_at"].dt.tz_convert("UTC").dt.tz_localize(None)
    ticks = entered.to_numpy("datetime64[us]").view("int64")
    nat, big = np.iinfo("int64").min, np.iinfo("int64").max
    keep = (stage_code >= 0) & (lead_code >= 0)
    grid = np.full(len(leads) * len(stages), big, dtype="int64")
    ticks = np.where(ticks[keep] == nat, big, ticks[keep])
    np.minimum.at(grid, lead_code[keep] * len(stages) + stage_code[keep], ticks)  # 1-D: fast
    grid[grid == big] = nat
    grid = grid.reshape(len(leads), len(stages)).view("datetime64[us]")
    present = np.zeros(len(stages), dtype=bool)
    present[np.unique(stage_code[keep])] = True
    index = pd.Index(leads, name="lead_id")
    data = {
        s: pd.Series(grid[:, i], index=index).dt.tz_localize("UTC")
        for i, s in enumerate(stages)
        if present[i]
    }
    cols = pd.Index([s for i, s in enumerate(stages) if present[i]], name="stage", dtype="str")
    return pd.DataFrame(data, index=index, columns=cols)


def _id_array(ids: pd.Series) -> ChunkedArray:
    """A text id column as one Arrow chunked array (no copy for pandas' Arrow strings)."""
    arr = pa_array(ids.array, from_pandas=True)
    arr = arr if isinstance(arr, ChunkedArray) else pa_chunked_array([arr])
    return arr if arr.type == pa_large_string() else arr.cast(pa_large_string())


def lead_key_columns(tables: Mapping[str, pd.DataFrame]) -> dict[str, np.ndarray] | None:
    """The ``lead_key`` of every row of every table with a ``lead_id`` (see
    :func:`with_lead_keys`), by table name; None when ``leads.lead_id`` has blanks or repeats.
    """
    tables = {n: df for n, df in tables.items() if "lead_id" in df.columns}
    if "leads" not in tables:
        return None
    names = ["leads", *[n for n in tables if n != "leads"]]
    chunks = [c for n in names for c in _id_array(tables[n]["lead_id"]).chunks]
    combined = pa_concat_arrays(chunks) if chunks else pa_array([], type=pa_large_string())
    codes = pc.fill_null(pc.dictionary_encode(combined).indices, -1)
    codes = codes.to_numpy(zero_copy_only=False).astype("int64", copy=False)
    n_leads = len(tables["leads"])
    if not np.array_equal(codes[:n_leads], np.arange(n_leads)):
        return None  # blank or repeated lead ids: leave the text ids as the only key
    bounds = np.cumsum([0, *[len(tables[n]) for n in names]])
    return {n: codes[a:b] for n, (a, b) in zip(names, itertools.pairwise(bounds), strict=True)}


def with_lead_keys(crm: CrmData) -> CrmData:
    """The same data with an integer ``lead_key`` column on every table that has ``lead_id``.

    ``leads`` get 0 to n-1 in table order; a row of another table gets its lead's key, or a
    key from n up (shared across tables) when its ``lead_id`` is not among the leads, or -1 when
    blank. Returns ``crm`` unchanged when ``leads.lead_id`` has blanks or repeats.
    """
    tables = crm.tables()
    keys = lead_key_columns(tables)
    if keys is None:
        return crm
    return replace(crm, **{n: tables[n].assign(**{LEAD_KEY: k}) for n, k in keys.items()})


def lead_codes(
    frames: Sequence[pd.DataFrame],
) -> tuple[list[np.ndarray], int, Callable[[], pd.Index]]:
    """One factorisation of ``lead_id`` over several tables.

    Returns, per frame, each row's lead code (-1 when the id is blank), the number of codes, and
    a function giving the ids, one per code (built only when asked for: on millions of leads
    that takes longer than the codes). When every frame carries ``lead_key`` (see
    :func:`with_lead_keys`) the codes come from the integer keys without hashing text; a spot
    check of ids against keys falls back to hashing when the two disagree (a table edited after
    the keys were assigned).
    """
    fast = _codes_from_keys(frames)
    if fast is None:
        parts = [f["lead_id"] for f in frames]
        ids = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
        codes, uniques = pd.factorize(ids)
        index = pd.Index(uniques, name="lead_id", dtype="str")
        n, labels = len(index), lambda: index
    else:
        codes, n, labels = fast
    bounds = np.cumsum([0, *[len(f) for f in frames]])
    return [codes[a:b] for a, b in itertools.pairwise(bounds)], n, labels


def _codes_from_keys(
    frames: Sequence[pd.DataFrame],
) -> tuple[np.ndarray, int, Callable[[], pd.Index]] | None:
    if not frames or not all(
        LEAD_KEY in f.columns
        and pd.api.types.is_integer_dtype(f[LEAD_KEY])
        and pd.api.types.is_string_dtype(f["lead_id"])
        for f in frames
    ):
        return None
    keys = np.concatenate([f[LEAD_KEY].to_numpy("int64") for f in frames])
    blank = keys < 0
    any_blank = bool(blank.any())
    if (any_blank and blank.all()) or keys.max() > 4 * len(keys) + 1024:
        return None  # no key, or keys far sparser than ``with_lead_keys`` gives: not ours
    present = np.zeros(int(keys.max()) + 1, dtype=bool)
    present[keys[~blank] if any_blank else keys] = True
    if present.all():  # the usual case: every key from 0 up is used, so keys are the codes
        codes, n = keys, len(present)
    else:
        compact = np.cumsum(present) - 1  # the keys present, renumbered 0..m-1 in key order
        codes, n = compact[np.maximum(keys, 0)], int(compact[-1]) + 1
    if any_blank:
        codes[blank] = -1
    ids = pa_chunked_array(
        [c for f in frames for c in _id_array(f["lead_id"]).chunks], pa_large_string()
    )
    # spot check: 1% of the rows (at least 1,024) against the first row of the same code
    rows = np.flatnonzero(~blank) if any_blank else np.arange(len(keys))
    checked = min(len(rows), max(1024, len(rows) // 100))
    probe = rows[np.linspace(0, len(rows) - 1, num=checked).astype("int64")]
    watched = np.zeros(n, dtype=bool)
    watched[codes[probe]] = True
    hits = np.flatnonzero(watched[np.maximum(codes, 0)] & ~blank)
    hit_codes, first_hit = np.unique(codes[hits], return_index=True)
    reference = hits[first_hit[np.searchsorted(hit_codes, codes[probe])]]
    same = pc.equal(ids.take(pa_array(probe)), ids.take(pa_array(reference)))
    if not pc.all(pc.fill_null(same, False)).as_py():
        return None

    def labels() -> pd.Index:
        first = np.empty(n, dtype="int64")
        first[codes[rows[::-1]]] = rows[::-1]  # each code's first row
        return pd.Index(pd.array(ids.take(pa_array(first)), dtype="str"), name="lead_id")

    return codes, n, labels


def lead_rows(leads: pd.DataFrame, other: pd.DataFrame) -> np.ndarray:
    """For each row of ``other``: the position of its lead in ``leads`` (-1 when absent)."""
    (lead_code, other_code), n, _ = lead_codes([leads, other])
    where = np.full(n + 1, -1, dtype="int64")  # the extra slot answers code -1
    where[lead_code] = np.arange(len(leads))
    return where[other_code]
