"""The canonical CRM data model: six tables every analysis reads, with their pandera schemas.

Only ``leads`` is required. Timestamps are timezone-aware UTC (``datetime64[us, UTC]``);
identifiers and categories are pandas strings; money is float in the client's currency.
Columns not listed here are kept (``strict=False``) so a client's extra attributes survive.
See ``docs/data-model.md`` for the readable version of this page.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow.compute as pc
from pyarrow import array as pa_array
from pyarrow import string as pa_string

from helpers.errors import MissingTableError
from helpers.stages import StageModel, load_stage_model

UTC_TS = pd.DatetimeTZDtype("us", "UTC")  # pandas 3 default resolution
TEAMS: tuple[str, ...] = ("sales", "marketing")
OUTCOMES: tuple[str, ...] = ("won", "lost", "open")
CHANNELS: tuple[str, ...] = ("inbound", "outbound", "relational")

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
    grid = np.full((len(leads), len(stages)), big, dtype="int64")
    ticks = np.where(ticks[keep] == nat, big, ticks[keep])
    np.minimum.at(grid, (lead_code[keep], stage_code[keep]), ticks)
    grid = np.where(grid == big, nat, grid).view("datetime64[us]")
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
