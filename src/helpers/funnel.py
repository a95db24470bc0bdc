"""Funnel and handoff analytics on the canonical tables.

Every function takes canonical DataFrames (or :class:`~helpers.model.CrmData`) and a
:class:`~helpers.stages.StageModel`, returns a DataFrame or a small frozen dataclass, and does no
I/O. Everything is vectorised (groupby / merge / numpy): cost grows linearly with the rows.

Reaching a stage. A lead *reaches* a funnel stage when it has an entry for that stage **or for
any later funnel stage**: a skipped stage counts as passed, at the time the lead entered the next
stage it did reach. Exit stages (lost, rejected, recycled...) never count as reaching anything.

Cohorts. Conversion is measured on *entry cohorts* (the leads that entered ``from_stage`` in a
period), never on a snapshot of current status, which undercounts early stages.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from statsmodels.stats.proportion import proportion_confint

from helpers.errors import KitError, MissingTableError
from helpers.messages import t, t_count
from helpers.model import CrmData, event_span, lead_codes
from helpers.results import fmt_number, fmt_pct
from helpers.stages import StageModel, stage_label

if TYPE_CHECKING:  # pragma: no cover
    from helpers.sla import SlaTerms

__all__ = [
    "HandoffMetrics",
    "PipelineCoverage",
    "ResponseEffect",
    "SalesVelocity",
    "StageNotRecordedError",
    "bottlenecks",
    "business_hours_between",
    "cohort_conversion",
    "conversion_curve",
    "conversion_span",
    "funnel_summary",
    "handoff_metrics",
    "holiday_dates",
    "open_deals",
    "pipeline_coverage",
    "reach_times",
    "recorded_stages",
    "response_time_effect",
    "response_times",
    "sales_velocity",
    "time_to_convert",
    "unrecorded_steps",
    "wilson",
]

HOUR = pd.Timedelta(hours=1)
DAY = pd.Timedelta(days=1)
RESPONSE_BINS: tuple[float, ...] = (0.0, 1.0, 4.0, 24.0, np.inf)
RESPONSE_BIN_LABELS: tuple[str, ...] = ("<=1h", "1-4h", "4-24h", ">24h")
RECYCLE_CAP = 3  # recycle loops are reported as 1, 2, "3+"
NEVER_WORKED = "never_worked"  # exit stage some CRMs set on MQLs nobody touched
MISSING = "(missing)"  # label of a blank segment value or reason code
STALE_FACTOR = 2.0  # stale = open in a stage over twice its median time


# --------------------------------------------------------------------------------------------
# small shared pieces
# --------------------------------------------------------------------------------------------


def wilson(successes: Any, trials: Any, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval (vectorised); NaN where ``trials`` is 0."""
    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    safe_n = np.where(n > 0, n, 1.0)
    low, high = proportion_confint(np.minimum(k, safe_n), safe_n, alpha=alpha, method="wilson")
    low = np.where(n > 0, low, np.nan)
    high = np.where(n > 0, high, np.nan)
    return np.asarray(low, dtype=float), np.asarray(high, dtype=float)


def _rate_columns(df: pd.DataFrame, k: str, n: str, prefix: str = "") -> pd.DataFrame:
    """Add ``<prefix>rate``, ``<prefix>ci_low``, ``<prefix>ci_high`` from count columns."""
    trials = df[n].to_numpy(dtype=float)
    succ = df[k].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(trials > 0, succ / np.where(trials > 0, trials, 1.0), np.nan)
    low, high = wilson(succ, trials)
    return df.assign(**{f"{prefix}rate": rate, f"{prefix}ci_low": low, f"{prefix}ci_high": high})


def _ts(value: Any) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _as_of(as_of: Any, *frames_cols: tuple[pd.DataFrame | None, str]) -> pd.Timestamp:
    """``as_of`` as a UTC timestamp; by default the latest timestamp seen in the data that is
    not in the future (:func:`helpers.model.event_span`), else now."""
    if as_of is not None:
        return _ts(as_of)
    latest = event_span(df[col] for df, col in frames_cols if df is not None and col in df)[1]
    return latest if latest is not None else pd.Timestamp.now(tz="UTC")


def _stage_key(model: StageModel, stage_or_role: str) -> str:
    """A funnel stage key from a stage key or a role name."""
    if stage_or_role in model.funnel:
        return stage_or_role
    key = model.role(stage_or_role)
    if key is None or key not in model.funnel:
        raise KitError("funnel.unknown_stage", stage=stage_or_role, funnel=", ".join(model.funnel))
    return key


HANDOFF_ROLES: tuple[str, ...] = ("mql", "sal", "sql", "opportunity", "won")


def conversion_span(model: StageModel, recorded: Sequence[str] | None = None) -> tuple[str, str]:
    """The stage keys a conversion analysis should follow on this model: from MQL (else the
    first funnel stage) to SQL, else won, else the last funnel stage.

    A model with fewer stages (an export that records only MQLs and won deals) still gets its
    end-to-end conversion instead of a lookup of a role it does not have. With ``recorded``
    (:func:`recorded_stages`) only the stages the data records count: a Salesforce leads report
    with no MQL date is followed from its first stage.
    """
    stages = [s for s in model.funnel if recorded is None or s in recorded] or [model.funnel[0]]
    src = model.role("mql")
    src = src if src in stages else stages[0]
    after = stages[stages.index(src) + 1 :]
    for role in ("sql", "won"):
        key = model.role(role)
        if key in after:
            return src, key
    if not after:
        raise KitError("funnel.single_stage", stage=src)
    return src, after[-1]


def unrecorded_steps(
    model: StageModel, roles: Sequence[str] = HANDOFF_ROLES, recorded: Sequence[str] | None = None
) -> list[str]:
    """The handoff roles (``roles``, in order) that no funnel stage of ``model`` plays or, with
    ``recorded`` (:func:`recorded_stages`), that no stage the data records plays."""
    stages = [s for s in model.funnel if recorded is None or s in recorded]
    return [r for r in roles if model.role(r) not in stages]


class StageNotRecordedError(MissingTableError):
    """An analysis needs a funnel stage the data never records (no lead has an entry for it).

    The reach rule would fill such a stage from the later ones and report an invented handoff
    (100% passed, 0 days, 0 lost), so the analysis stops and says the stage is not recorded.
    Like a missing column, the data lacks what the analysis needs (``table`` names
    ``stage_history.<stage>``).
    """

    def __init__(self, stage: str, model: StageModel) -> None:
        super().__init__(f"stage_history.{stage}", "funnel")
        self.key, self.values = "funnel.not_recorded", {"stage": stage}
        self.stage = stage
        self.model = model

    def message(self, lang: str | None = None) -> str:
        lang = lang or self.lang
        return t(self.key, lang, stage=stage_label(self.stage, lang, self.model))


def _need_columns(df: pd.DataFrame, cols: Sequence[str], table: str, analysis: str) -> None:
    for col in cols:
        if col not in df.columns:
            raise MissingTableError(f"{table}.{col}", analysis)


@dataclass(frozen=True)
class _Reach:
    """The stage history as integer arrays (internal). Times are microseconds since the epoch
    (UTC); ``_BIG`` marks "never"."""

    n: int  # leads (rows of ``first``)
    labels: Callable[[], pd.Index]  # builds ``ids``
    first: np.ndarray  # (leads, funnel stages): first entry per funnel stage
    reached: np.ndarray  # same, a skipped stage filled from the earliest later stage
    row_lead: np.ndarray  # per history row: its lead's row in ``ids`` (-1 when missing)
    row_stage: np.ndarray  # per history row: position in ``model.stages`` (-1 when unknown)
    row_time: np.ndarray  # per history row: entered_at
    recorded: np.ndarray  # per funnel stage: whether the data records it (see ``_reach``)
    lead_rows: np.ndarray | None = None  # per row of ``leads`` (when given): its row in ``ids``
    act_rows: np.ndarray | None = None  # per row of ``activities`` (when given): same

    @cached_property
    def ids(self) -> pd.Index:
        """The lead id of each row (built on first use)."""
        return self.labels()

    def column(self, model: StageModel, stage: str) -> int:
        """The position of funnel stage ``stage``; :class:`StageNotRecordedError` when the data
        does not record it."""
        j = model.funnel.index(stage)
        if not self.recorded[j]:
            raise StageNotRecordedError(stage, model)
        return j

    def role_column(self, model: StageModel, role: str) -> int | None:
        """The position of the funnel stage playing ``role``; None when the model has no such
        stage or the data does not record it."""
        key = model.role(role)
        j = model.funnel.index(key) if key in model.funnel else None
        return j if j is not None and self.recorded[j] else None

    def times(self, values: np.ndarray) -> pd.Series:
        """Integer times back to a UTC timestamp column (NaT for never)."""
        out = np.where(values == _BIG, _NAT, values).view("datetime64[us]")
        return pd.Series(out).dt.tz_localize("UTC")


def _reach(
    stage_history: pd.DataFrame,
    model: StageModel,
    leads: pd.DataFrame | None = None,
    activities: pd.DataFrame | None = None,
    *,
    created_at_top: bool = True,
) -> _Reach:
    """Factorise lead ids of the history (and of ``leads`` / ``activities``) once, together.

    With ``leads`` and ``created_at_top``, a lead with no entry at the top stage reaches it when
    created; without ``created_at_top`` the leads only share the factorisation (their rows in
    ``ids`` are ``lead_rows``), so segments attach without hashing the ids again.

    A funnel stage is *recorded* when at least one lead has an entry for it; with ``leads`` and
    ``created_at_top`` the top stage is recorded by the leads table. The top stage is the one
    playing the lead role (the first funnel stage when none does), or an earlier stage the
    history records: HubSpot's "subscriber" comes before "lead" but most exports have no date
    for it.
    """
    _need_columns(stage_history, ("lead_id", "stage", "entered_at"), "stage_history", "funnel")
    n_funnel = len(model.funnel)
    row_stage = _positions(stage_history["stage"], model.stages)
    row_time = _utc_int(stage_history["entered_at"])
    tables = [stage_history, *(df for df in (leads, activities) if df is not None)]
    codes, n_leads, labels = lead_codes(tables)
    row_lead = codes[0]
    lead_rows = codes[1] if leads is not None else None
    act_rows = codes[-1] if activities is not None else None
    first = np.full((n_leads, n_funnel), _BIG, dtype="int64")
    sel = (row_stage >= 0) & (row_stage < n_funnel) & (row_lead >= 0)
    np.minimum.at(first, (row_lead[sel], row_stage[sel]), row_time[sel])
    recorded = np.zeros(n_funnel, dtype=bool)
    recorded[np.unique(row_stage[sel])] = True
    if lead_rows is not None and created_at_top:  # no entry at the top stage: reached when created
        lead_role = model.role("lead")  # the top: the lead role's stage or an earlier recorded one
        j = model.funnel.index(lead_role) if lead_role in model.funnel else 0
        j = min(j, int(np.argmax(recorded))) if recorded.any() else j
        top = first[lead_rows, j]
        first[lead_rows, j] = np.where(top == _BIG, _utc_int(leads["created_at"]), top)
        recorded[j] = True
    reached = np.minimum.accumulate(first[:, ::-1], axis=1)[:, ::-1]  # earliest later entry
    np.copyto(reached, first, where=first != _BIG)  # a stage's own entry when it has one
    return _Reach(
        n_leads,
        labels,
        first,
        reached,
        row_lead,
        row_stage,
        row_time,
        recorded,
        lead_rows,
        act_rows,
    )


def reach_times(
    stage_history: pd.DataFrame, model: StageModel, *, leads: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One row per lead (index ``lead_id``), one column per funnel stage the data records
    (:func:`recorded_stages`): when it was reached.

    A stage is reached at its first entry or, when skipped, at the first entry of any later
    funnel stage (NaT when never reached). With ``leads``, every lead reaches the top stage at
    ``created_at`` at the latest, so leads with no history still count at the top.
    """
    r = _reach(stage_history, model, leads)
    out = pd.DataFrame(
        {s: r.times(r.reached[:, i]).array for i, s in enumerate(model.funnel) if r.recorded[i]},
        index=r.ids,
    )
    return out


def recorded_stages(
    stage_history: pd.DataFrame, model: StageModel, leads: pd.DataFrame | None = None
) -> tuple[str, ...]:
    """The funnel stages the data records, in funnel order: those at least one lead has an entry
    for and, with ``leads``, the top stage every lead enters when created.

    A stage with no entry at all is one the export never records (a Salesforce leads report has
    no MQL date): the reach rule would count it as passed by every lead that went further, so
    the analyses that need it raise :class:`StageNotRecordedError` instead.
    """
    r = _reach(stage_history, model, leads)
    return tuple(s for s, ok in zip(model.funnel, r.recorded, strict=True) if ok)


def stages_reached(
    stage_history: pd.DataFrame, model: StageModel, leads: pd.DataFrame
) -> tuple[pd.DataFrame, np.ndarray]:
    """Which funnel stages (bool columns, by the rule of :func:`reach_times`) each row of
    ``leads`` that appears in the history reached, and those rows' positions in ``leads``."""
    r = _reach(stage_history, model, leads, created_at_top=False)
    assert r.lead_rows is not None
    in_history = np.zeros(r.n, dtype=bool)
    in_history[r.row_lead[r.row_lead >= 0]] = True
    rows = np.flatnonzero((r.lead_rows >= 0) & in_history[np.maximum(r.lead_rows, 0)])
    hit = r.reached[r.lead_rows[rows]] != _BIG
    return pd.DataFrame(hit, columns=pd.Index(model.funnel, dtype="str")), rows


def _positions(values: pd.Series, keys: Sequence[str] | pd.Index) -> np.ndarray:
    """Position of each value in ``keys`` (-1 when absent), factorising the values once."""
    if pd.api.types.is_string_dtype(values.dtype) and not isinstance(values.dtype, np.dtype):
        cells = pa.array(values.array, from_pandas=True)  # Arrow: one lookup per cell
        found = pc.index_in(cells, value_set=pa.array([str(k) for k in keys], type=cells.type))
        return pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype("int64", copy=False)
    codes, uniques = pd.factorize(values)
    index = keys if isinstance(keys, pd.Index) else pd.Index(list(keys))
    lookup = np.append(index.get_indexer(pd.Index(uniques)), -1)
    return lookup[codes]  # code -1 (missing value) picks the appended -1


_NAT = np.iinfo("int64").min
_BIG = np.iinfo("int64").max


def _utc_int(col: pd.Series) -> np.ndarray:
    """Microseconds since the epoch (UTC) as int64, missing values as the largest int64."""
    arr = _utc_column(col).dt.tz_localize(None).to_numpy("datetime64[us]").view("int64")
    return np.where(arr == _NAT, _BIG, arr)


def _utc_column(col: pd.Series) -> pd.Series:
    """A column as ``datetime64[us, UTC]`` (an all-missing column becomes NaT)."""
    if isinstance(col.dtype, pd.DatetimeTZDtype):
        return col.dt.tz_convert("UTC").astype("datetime64[us, UTC]")
    return pd.to_datetime(col, utc=True).astype("datetime64[us, UTC]")


def _exit_times(stage_history: pd.DataFrame, model: StageModel) -> pd.Series:
    """First entry into a terminal exit (any exit but recycled) per lead."""
    recycled = model.role("recycled")
    exits = [s for s in model.exits if s != recycled]
    sh = stage_history.loc[stage_history["stage"].isin(exits)]
    return sh.groupby("lead_id")["entered_at"].min()


def _lead_positions(r: _Reach, rows: np.ndarray, n_leads: int) -> np.ndarray:
    """For ``r.ids[rows]``: the row of each lead in the ``leads`` table given to ``_reach``
    (-1 when absent). Uses the shared factorisation instead of hashing the ids again."""
    assert r.lead_rows is not None
    if n_leads and n_leads == r.n and r.lead_rows[0] == 0 and (np.diff(r.lead_rows) == 1).all():
        return rows  # the leads are the codes in order (integer lead keys): nothing to look up
    where = np.full(r.n, -1, dtype="int64")
    where[r.lead_rows] = np.arange(n_leads)
    return where[rows]


def _attach_segments(
    frame: pd.DataFrame,
    by: Sequence[str],
    leads: pd.DataFrame | None,
    analysis: str,
    positions: np.ndarray | None = None,
) -> pd.DataFrame:
    """Add lead columns named in ``by`` to ``frame`` (index ``lead_id``) as sorted categoricals;
    blank or unknown values read ``MISSING``. ``positions`` (each frame row's row in ``leads``,
    -1 when absent) saves looking the ids up again when the caller already knows them."""
    cols = [c for c in by if c not in frame.columns]
    if not cols:
        return frame
    if leads is None:
        raise MissingTableError("leads", analysis)
    _need_columns(leads, cols, "leads", analysis)
    pos = pd.Index(leads["lead_id"]).get_indexer(frame.index) if positions is None else positions
    out = frame.copy()
    for c in cols:
        codes, uniques = pd.factorize(leads[c])
        labels = np.append(np.asarray(uniques, dtype=object).astype(str), MISSING)
        at = np.where(pos >= 0, codes[np.maximum(pos, 0)], -1)
        at = np.where(at < 0, len(labels) - 1, at)
        cats, inverse = np.unique(labels, return_inverse=True)  # sorted, duplicates merged
        out[c] = pd.Categorical.from_codes(inverse[at], categories=cats)
    return out


def _labels_to_str(df: pd.DataFrame, cols: Sequence[str]) -> pd.DataFrame:
    """Categorical key columns of a grouped result back to plain strings."""
    for c in cols:
        if c in df and isinstance(df[c].dtype, pd.CategoricalDtype):
            df[c] = df[c].astype("str")
    return df


def _as_list(by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


# --------------------------------------------------------------------------------------------
# cohort conversion and time to convert
# --------------------------------------------------------------------------------------------


def cohort_conversion(
    stage_history: pd.DataFrame,
    model: StageModel,
    from_stage: str,
    to_stage: str,
    *,
    by: str | Sequence[str] | None = None,
    leads: pd.DataFrame | None = None,
    period: str | None = "M",
    within_days: float | None = None,
    as_of: Any = None,
    entered_between: tuple[Any, Any] | None = None,
) -> pd.DataFrame:
    """Conversion ``from_stage`` -> ``to_stage`` on entry cohorts, with Wilson 95% intervals.

    Rows: one per cohort ``period`` (the period the lead entered ``from_stage``; ``period=None``
    pools all) and per value of each ``by`` lead column. Columns ``n`` (cohort size),
    ``converted`` (reached ``to_stage`` by ``as_of``), ``rate``, ``ci_low``, ``ci_high``; with
    ``within_days`` also ``n_mature`` (leads whose window has fully elapsed by ``as_of``),
    ``converted_within`` and ``within_rate`` / ``within_ci_*`` computed on mature leads only.
    Stages may be given as keys or roles; ``entered_between=(start, end)`` keeps only leads
    that entered ``from_stage`` in that interval (inclusive). With ``leads``, every lead enters
    the top stage when created (as in :func:`funnel_summary`). A stage the data does not record
    raises :class:`StageNotRecordedError`.
    """
    src, dst = _stage_key(model, from_stage), _stage_key(model, to_stage)
    keys = _as_list(by)
    r = _reach(stage_history, model, leads)
    when = _as_of(as_of, (stage_history, "entered_at"))
    start = r.reached[:, r.column(model, src)]
    end = r.reached[:, r.column(model, dst)]
    keep = (start != _BIG) & (start <= _ts_int(when))
    if entered_between is not None:
        lo, hi = (_ts_int(_ts(x)) for x in entered_between)
        keep &= (start >= lo) & (start <= hi)
    rows = np.flatnonzero(keep)
    start, end = start[rows], end[rows]
    frame = pd.DataFrame({"converted": (end != _BIG) & (end <= _ts_int(when))})
    if period is None and ({"period", "cohort"} & set(keys)):
        period = "M"  # asking for the period as a segment means monthly cohorts
    if period is not None:
        months = pd.DatetimeIndex(start.view("datetime64[us]")).to_period(period)
        codes, uniques = pd.factorize(months, sort=True)
        frame["cohort"] = pd.Categorical.from_codes(codes, categories=uniques.astype("str"))
        keys = ["cohort", *[k for k in keys if k not in ("cohort", "period")]]
    segments = [k for k in keys if k != "cohort"]
    positions = _lead_positions(r, rows, len(leads)) if segments and leads is not None else None
    frame = _attach_segments(frame, segments, leads, "cohort_conversion", positions)
    aggs: dict[str, tuple[str, str]] = {
        "n": ("converted", "size"),
        "converted": ("converted", "sum"),
    }
    if within_days is not None:
        window = int(within_days * 86_400e6)
        frame["mature"] = start + window <= _ts_int(when)
        frame["within"] = (
            frame["mature"].to_numpy() & frame["converted"].to_numpy() & (end - start <= window)
        )
        aggs |= {"n_mature": ("mature", "sum"), "converted_within": ("within", "sum")}
    grouper = keys or np.zeros(len(frame), dtype="int8")
    out = frame.groupby(grouper, sort=True, observed=True).agg(**aggs)
    out = _labels_to_str(out.reset_index(), keys) if keys else out.reset_index(drop=True)
    if out.empty and not keys:
        out = pd.DataFrame({name: [0] for name in aggs})
    out = _rate_columns(out, "converted", "n")
    if within_days is not None:
        out = _rate_columns(out, "converted_within", "n_mature", prefix="within_")
    return out.astype(
        {c: "int64" for c in ("n", "converted", "n_mature", "converted_within") if c in out}
    )


def _durations(
    stage_history: pd.DataFrame,
    model: StageModel,
    from_stage: str,
    to_stage: str,
    by: Sequence[str],
    leads: pd.DataFrame | None,
    as_of: Any,
    entered_between: tuple[Any, Any] | None = None,
) -> pd.DataFrame:
    """Per lead: ``days`` from entering ``from_stage`` and ``event`` (converted) for survival.

    Leads that converted by ``as_of`` are events at their conversion time. Every other lead is
    censored at ``as_of``: open leads because they may still convert, and leads that left the
    funnel (lost, rejected) because they stay at risk without converting, which makes
    ``1 - KM`` the cumulative share converted. With ``leads``, every lead enters the top stage
    when created.
    """
    src, dst = _stage_key(model, from_stage), _stage_key(model, to_stage)
    r = _reach(stage_history, model, leads)
    now = _ts_int(_as_of(as_of, (stage_history, "entered_at")))
    start = r.reached[:, r.column(model, src)]
    end = r.reached[:, r.column(model, dst)]
    keep = (start != _BIG) & (start <= now)
    if entered_between is not None:
        lo, hi = (_ts_int(_ts(x)) for x in entered_between)
        keep &= (start >= lo) & (start <= hi)
    rows = np.flatnonzero(keep)
    start, end = start[rows], end[rows]
    event = (end != _BIG) & (end <= now)
    days = np.maximum((np.where(event, end, now) - start) / 86_400e6, 0.0)
    frame = pd.DataFrame({"event": event, "days": days})
    positions = _lead_positions(r, rows, len(leads)) if by and leads is not None else None
    return _attach_segments(frame, by, leads, "time_to_convert", positions)


def _km(days: np.ndarray, event: np.ndarray) -> Any:
    from statsmodels.duration.survfunc import SurvfuncRight

    return SurvfuncRight(days, event.astype(int))


def _km_prob(sf: Any, horizon: float) -> float:
    """P(converted within ``horizon`` days) = 1 - S(horizon) from a fitted KM."""
    times, surv = sf.surv_times, sf.surv_prob
    idx = np.searchsorted(times, horizon, side="right") - 1
    return float(1.0 - surv[idx]) if idx >= 0 else 0.0


def time_to_convert(
    stage_history: pd.DataFrame,
    model: StageModel,
    from_stage: str,
    to_stage: str,
    *,
    by: str | Sequence[str] | None = None,
    leads: pd.DataFrame | None = None,
    as_of: Any = None,
    horizons: Sequence[int] = (30, 60, 90),
    entered_between: tuple[Any, Any] | None = None,
) -> pd.DataFrame:
    """Time from entering ``from_stage`` to reaching ``to_stage``, with censoring.

    Per group: ``n``, ``converted``, ``median_days`` / ``p75_days`` / ``p90_days`` among
    converters, Kaplan-Meier ``p_within_<h>d`` (share converted within ``h`` days, open leads
    censored), and ``km_median_days``: the time by which half the cohort has converted, NaN
    with ``km_median_reached = False`` when fewer than half ever do.

    Quantiles among converters lean short while cohorts are young (slow converters have not
    converted yet); ``entered_between=(start, end)`` restricts to cohorts that entered in a
    window, e.g. ending a long cycle before ``as_of``.
    """
    keys = _as_list(by)
    frame = _durations(
        stage_history, model, from_stage, to_stage, keys, leads, as_of, entered_between
    )
    gkeys = keys or ["_all"]
    if not keys:
        frame["_all"] = 0
    conv = frame.loc[frame["event"]]
    counts = frame.groupby(gkeys, observed=True).agg(
        n=("event", "size"), converted=("event", "sum")
    )
    q = conv.groupby(gkeys, observed=True)["days"].quantile([0.5, 0.75, 0.9]).unstack()
    q = q.reindex(columns=[0.5, 0.75, 0.9])
    q.columns = ["median_days", "p75_days", "p90_days"]
    out = counts.join(q, how="left")
    km_rows = []
    for key, grp in frame.groupby(gkeys, observed=True):
        row: dict[str, Any] = {}
        if grp["event"].any():
            sf = _km(grp["days"].to_numpy(float), grp["event"].to_numpy())
            for h in horizons:
                row[f"p_within_{h}d"] = _km_prob(sf, float(h))
            reached = bool(sf.surv_prob.min() <= 0.5)
            row["km_median_days"] = float(sf.quantile(0.5)) if reached else np.nan
            row["km_median_reached"] = reached
        else:
            row |= {f"p_within_{h}d": 0.0 for h in horizons}
            row |= {"km_median_days": np.nan, "km_median_reached": False}
        km_rows.append(pd.Series(row, name=key))
    km = pd.DataFrame(km_rows, index=out.index)
    out = out.join(km)
    out = _labels_to_str(out.reset_index(), keys) if keys else out.reset_index(drop=True)
    return out.astype({"n": "int64", "converted": "int64"})


def conversion_curve(
    stage_history: pd.DataFrame,
    model: StageModel,
    from_stage: str,
    to_stage: str,
    *,
    by: str | None = None,
    leads: pd.DataFrame | None = None,
    as_of: Any = None,
) -> pd.DataFrame:
    """Kaplan-Meier curve of the share converted over days since entering ``from_stage``.

    Columns: ``group`` (the ``by`` value, or "all"), ``days``, ``p_converted``, ``ci_low``,
    ``ci_high`` (pointwise 95% from the KM standard error, clipped to [0, 1]).
    """
    keys = _as_list(by)
    frame = _durations(stage_history, model, from_stage, to_stage, keys, leads, as_of)
    parts = []
    groups = frame.groupby(keys, observed=True) if keys else [("all", frame)]
    for key, grp in groups:
        label = key[0] if isinstance(key, tuple) else key
        if not grp["event"].any():
            continue
        sf = _km(grp["days"].to_numpy(float), grp["event"].to_numpy())
        p = 1.0 - sf.surv_prob
        se = np.nan_to_num(sf.surv_prob_se)
        parts.append(
            pd.DataFrame(
                {
                    "group": str(label),
                    "days": np.r_[0.0, sf.surv_times],
                    "p_converted": np.r_[0.0, p],
                    "ci_low": np.r_[0.0, np.clip(p - 1.96 * se, 0, 1)],
                    "ci_high": np.r_[0.0, np.clip(p + 1.96 * se, 0, 1)],
                }
            )
        )
    cols = ["group", "days", "p_converted", "ci_low", "ci_high"]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)


# --------------------------------------------------------------------------------------------
# funnel summary
# --------------------------------------------------------------------------------------------


def funnel_summary(crm: CrmData, *, as_of: Any = None) -> pd.DataFrame:
    """Leads reaching each funnel stage the data records, step conversion and conversion from
    the top.

    Columns: ``stage``, ``reached``, ``step_rate`` / ``step_ci_low`` / ``step_ci_high``
    (share of the previous stage listed that reached this one), ``from_top`` (share of the
    first stage). Every lead in ``leads`` counts at the first stage. Stages the data does not
    record (:func:`recorded_stages`) are left out rather than counted as passed.
    """
    sh = crm.require("stage_history", "funnel_summary")
    model = crm.stage_model
    reach = reach_times(sh, model, leads=crm.leads)
    when = _as_of(as_of, (sh, "entered_at"), (crm.leads, "created_at"))
    counts = (reach.notna() & (reach <= when)).sum().astype("int64")
    out = pd.DataFrame({"stage": list(reach.columns), "reached": counts.to_numpy()})
    out["previous"] = out["reached"].shift(1)
    out = _rate_columns(out, "reached", "previous", prefix="step_")
    out = out.rename(columns={"step_rate": "step_rate"})
    top = out["reached"].iloc[0]
    out["from_top"] = out["reached"] / top if top else np.nan
    return out.drop(columns="previous")


# --------------------------------------------------------------------------------------------
# response time (calendar or business hours)
# --------------------------------------------------------------------------------------------


def business_hours_between(
    start: pd.Series,
    end: pd.Series,
    *,
    tz: str = "UTC",
    open_hour: float = 9.0,
    close_hour: float = 18.0,
    holidays: Sequence[Any] = (),
) -> pd.Series:
    """Business hours between two timestamp columns (vectorised with ``numpy.busday_count``).

    Weekdays from ``open_hour`` to ``close_hour`` in local time ``tz``, minus ``holidays``
    (dates). Negative spans give 0; NaT gives NaN.
    """
    s = start.dt.tz_convert(tz).dt.tz_localize(None) if start.dt.tz is not None else start
    e = end.dt.tz_convert(tz).dt.tz_localize(None) if end.dt.tz is not None else end
    missing = (s.isna() | e.isna()).to_numpy()
    s_np = s.to_numpy("datetime64[us]")
    e_np = e.to_numpy("datetime64[us]")
    s_np = np.where(missing, np.datetime64("2000-01-03"), s_np).astype("datetime64[us]")
    e_np = np.where(missing, np.datetime64("2000-01-03"), e_np).astype("datetime64[us]")
    e_np = np.maximum(e_np, s_np)
    hol = np.array(
        [np.datetime64(pd.Timestamp(h).date(), "D") for h in holidays], dtype="datetime64[D]"
    )
    sd, ed = s_np.astype("datetime64[D]"), e_np.astype("datetime64[D]")
    hours_s = (s_np - sd).astype("timedelta64[us]").astype("int64") / 3.6e9
    hours_e = (e_np - ed).astype("timedelta64[us]").astype("int64") / 3.6e9
    day_len = close_hour - open_hour
    clip_s = np.clip(hours_s, open_hour, close_hour)
    clip_e = np.clip(hours_e, open_hour, close_hour)
    bus_s = np.is_busday(sd, holidays=hol)
    bus_e = np.is_busday(ed, holidays=hol)
    same = sd == ed
    between = np.busday_count(sd + 1, ed, holidays=hol)
    between = np.where(same, 0, np.maximum(between, 0))
    first = np.where(bus_s, close_hour - clip_s, 0.0)
    last = np.where(bus_e, clip_e - open_hour, 0.0)
    total = np.where(same, np.where(bus_s, clip_e - clip_s, 0.0), first + last + between * day_len)
    total = np.where(missing, np.nan, np.maximum(total, 0.0))
    return pd.Series(total, index=start.index, dtype=float)


def holiday_dates(country: str | None, years: Sequence[int]) -> list[Any]:
    """Public holidays of ``country`` (ISO code, e.g. "IT") for ``years`` via ``holidays``."""
    if not country:
        return []
    import holidays as hol

    return sorted(hol.country_holidays(country, years=list(years)).keys())


def _touches(r: _Reach, activities: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Sales touches as (lead row in ``r``, time) arrays: activities with ``side == "sales"``
    (or no side), of leads present in ``r``."""
    if r.act_rows is not None and len(r.act_rows) == len(activities):
        lead = r.act_rows  # factorised with the history
    else:
        lead = _positions(activities["lead_id"], r.ids)
    ok = lead >= 0
    if "side" in activities.columns:
        side = activities["side"]
        ok &= (side.isna() | (side == "sales")).to_numpy(dtype=bool)
    return lead[ok], _utc_int(activities["at"])[ok]


def response_times(
    crm: CrmData,
    *,
    from_role: str = "mql",
    business_hours: bool = False,
    tz: str = "UTC",
    open_hour: float = 9.0,
    close_hour: float = 18.0,
    holiday_country: str | None = None,
    as_of: Any = None,
) -> pd.DataFrame:
    """Per lead that reached ``from_role``: first sales touch at or after it, and the gap.

    Columns: ``lead_id``, ``start_at`` (reached ``from_role``), ``first_touch_at`` (NaT if none
    by ``as_of``), ``hours`` (calendar hours, or business hours when ``business_hours``),
    ``touched`` (bool). Sales touches are activities with ``side == "sales"`` (all activities
    when the table has no ``side``).
    """
    sh = crm.require("stage_history", "response_times")
    acts = crm.require("activities", "response_times")
    model = crm.stage_model
    stage = _stage_key(model, from_role)
    when = _as_of(as_of, (sh, "entered_at"), (acts, "at"))
    r = _reach(sh, model, activities=acts)
    return _response_frame(
        r,
        r.reached[:, r.column(model, stage)],
        acts,
        when,
        business_hours=business_hours,
        tz=tz,
        open_hour=open_hour,
        close_hour=close_hour,
        holiday_country=holiday_country,
    )


def _first_touch(
    r: _Reach, start: np.ndarray, touches: tuple[np.ndarray, np.ndarray], when: pd.Timestamp
) -> np.ndarray:
    """Per lead row of ``r``: first sales touch at or after ``start`` and by ``when``."""
    lead, at = touches
    begin = start[lead]
    ok = (begin != _BIG) & (at >= begin) & (at <= _ts_int(when))
    out = np.full(r.n, _BIG, dtype="int64")
    np.minimum.at(out, lead[ok], at[ok])
    return out


def _ts_int(ts: pd.Timestamp) -> int:
    """A timestamp as microseconds since the epoch (``Timestamp.value`` is nanoseconds)."""
    return int(ts.value // 1_000)


def _response_frame(
    r: _Reach,
    start: np.ndarray,
    acts: pd.DataFrame,
    when: pd.Timestamp,
    *,
    business_hours: bool = False,
    tz: str = "UTC",
    open_hour: float = 9.0,
    close_hour: float = 18.0,
    holiday_country: str | None = None,
) -> pd.DataFrame:
    rows = np.flatnonzero((start != _BIG) & (start <= _ts_int(when)))
    touch = _first_touch(r, start, _touches(r, acts), when)[rows]
    out = pd.DataFrame(
        {
            "lead_id": r.ids[rows],
            "start_at": r.times(start[rows]).array,
            "first_touch_at": r.times(touch).array,
        }
    )
    out["touched"] = touch != _BIG
    if business_hours:
        years = range(out["start_at"].min().year, when.year + 1) if len(out) else []
        out["hours"] = business_hours_between(
            out["start_at"],
            out["first_touch_at"],
            tz=tz,
            open_hour=open_hour,
            close_hour=close_hour,
            holidays=holiday_dates(holiday_country, list(years)),
        )
    else:
        out["hours"] = np.where(out["touched"], (touch - start[rows]) / 3.6e9, np.nan)
    return out


# --------------------------------------------------------------------------------------------
# handoff metrics
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HandoffMetrics:
    """Health of the marketing -> sales handoff. ``None`` fields could not be computed:
    ``not_computed`` says why (catalogue keys)."""

    as_of: str
    mql_handed_over: int
    accepted: int | None
    acceptance_rate: float | None
    acceptance_ci: tuple[float, float] | None
    rejected: int | None
    rejection_rate: float | None
    rejection_ci: tuple[float, float] | None
    rejection_reasons: pd.DataFrame
    recycled_leads: int
    recycle_loops: pd.DataFrame
    never_worked: int | None
    no_disposition: int
    skipped_stages: pd.DataFrame
    stale: pd.DataFrame
    response_hours: dict[str, float] | None
    response_basis: str
    breaches: pd.DataFrame | None = None
    not_computed: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key, value in list(out.items()):
            if isinstance(value, pd.DataFrame):
                out[key] = _records(value)
        return out


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    clean = df.copy()
    for col in clean.columns:
        if isinstance(clean[col].dtype, pd.DatetimeTZDtype):
            clean[col] = clean[col].astype("str")
    return [
        {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()}
        for row in clean.to_dict(orient="records")
    ]


def _quantiles(values: pd.Series) -> dict[str, float] | None:
    v = values.dropna()
    if v.empty:
        return None
    q = v.quantile([0.5, 0.75, 0.9]).to_numpy()
    return {"median": float(q[0]), "p75": float(q[1]), "p90": float(q[2]), "n": len(v)}


def _after(r: _Reach, lead_time: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """History rows (all, or those at positions ``rows``) at or after their lead's
    ``lead_time`` (rows of leads without one: False)."""
    row_lead = r.row_lead if rows is None else r.row_lead[rows]
    row_time = r.row_time if rows is None else r.row_time[rows]
    lead_ok = row_lead >= 0
    row_ref = np.where(lead_ok, lead_time[np.where(lead_ok, row_lead, 0)], _BIG)
    return lead_ok & (row_ref != _BIG) & (row_time >= row_ref)


def _first_rows(r: _Reach, mask: np.ndarray) -> np.ndarray:
    """Among history rows in ``mask``, the earliest one of each lead (row positions)."""
    rows = np.flatnonzero(mask)
    rows = rows[np.lexsort((r.row_time[rows], r.row_lead[rows]))]
    _, first = np.unique(r.row_lead[rows], return_index=True)
    return rows[first]


def _stage_position(model: StageModel, role: str) -> int:
    """Position of the stage playing ``role`` in ``model.stages`` (-2 when there is none)."""
    key = model.role(role)
    return model.stages.index(key) if key in model.stages else -2


def _stale(crm: CrmData, r: _Reach, sh: pd.DataFrame, when: pd.Timestamp) -> pd.DataFrame:
    """Open stage visits and deals older than ``STALE_FACTOR`` x the median completed time.

    A visit ends at its ``exited_at`` or, when blank, at the lead's next stage entry.
    """
    cols = ["kind", "id", "stage", "days_open", "usual_days"]
    parts: list[pd.DataFrame] = []
    day_us = 86_400e6
    n_funnel = len(model_funnel := crm.stage_model.funnel)
    rows = np.flatnonzero((r.row_lead >= 0) & (r.row_stage >= 0))
    if len(rows):
        lead, st, tm = r.row_lead[rows], r.row_stage[rows], r.row_time[rows]
        order = np.lexsort((st, tm, lead))
        lead, st, tm, rows = lead[order], st[order], tm[order], rows[order]
        same_next = np.r_[lead[1:] == lead[:-1], False]
        nxt = np.where(same_next, np.r_[tm[1:], _BIG], _BIG)
        if "exited_at" in sh:
            ex = _utc_int(sh["exited_at"])[rows]
            left = np.where(ex != _BIG, ex, nxt)
        else:
            left = nxt
        done = left != _BIG
        usual = pd.Series((left[done] - tm[done]) / day_us).groupby(st[done]).median()
        won = model_funnel.index(crm.stage_model.role("won"))
        current = ~done & (st < n_funnel) & (st != won)
        usual_days = usual.reindex(st[current]).to_numpy(dtype=float)
        days_open = (_ts_int(when) - tm[current]) / day_us
        hit = days_open > STALE_FACTOR * usual_days
        parts.append(
            pd.DataFrame(
                {
                    "kind": "lead",
                    "id": r.ids[lead[current][hit]],
                    "stage": np.asarray(crm.stage_model.stages, dtype=object)[st[current][hit]],
                    "days_open": days_open[hit],
                    "usual_days": usual_days[hit],
                }
            )
        )
    opps = crm.opportunities
    if opps is not None and len(opps) and "closed_at" in opps:
        closed = opps.loc[opps["outcome"] != "open"]
        cycle = ((closed["closed_at"] - closed["created_at"]) / DAY).median()
        open_ = opps.loc[open_deals(opps, when)].copy()
        open_["days_open"] = (when - open_["created_at"]) / DAY
        open_["usual_days"] = cycle
        hit = open_.loc[open_["days_open"] > STALE_FACTOR * cycle]
        stage = hit["stage"] if "stage" in hit else pd.Series("open", index=hit.index)
        parts.append(
            hit.assign(kind="deal", stage=stage).rename(columns={"opportunity_id": "id"})[cols]
        )
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=cols)
    return pd.concat(parts, ignore_index=True).sort_values(
        ["days_open", "id"], ascending=[False, True], ignore_index=True
    )


def handoff_metrics(
    crm: CrmData, *, as_of: Any = None, sla: SlaTerms | None = None
) -> HandoffMetrics:
    """Acceptance and rejection, recycling, leakage, stale items, response time, SLA breaches.

    - acceptance rate = MQLs that reached the SAL stage / MQLs handed over (skipped, with a
      ``not_computed`` note, when the stage model has no SAL or the data records none);
    - rejected = MQLs with a ``rejected`` entry after their MQL time, with the reason mix
      (``None``, with a ``not_computed`` note, when the stage model has no rejection stage);
    - recycle loops per lead, capped at ``RECYCLE_CAP`` ("3+");
    - never worked = MQLs with no sales touch that neither progressed nor took an exit other
      than ``never_worked``; without activities, the MQLs the CRM marked ``never_worked``;
    - no disposition = MQLs that neither progressed nor took any exit;
    - skipped stages = leads that reached a later stage without an entry for this one;
    - stale = open leads / deals older than twice the median time in that stage;
    - response time = first sales touch minus MQL time (business hours when ``sla`` says so).

    Data that records no MQL stage raises :class:`StageNotRecordedError`: every figure here
    starts at the MQL.
    """
    sh = crm.require("stage_history", "handoff_metrics")
    model = crm.stage_model
    when = _as_of(as_of, (sh, "entered_at"))
    sh = sh.loc[sh["entered_at"] <= when]
    r = _reach(sh, model, activities=crm.activities if crm.has("activities") else None)
    n_funnel = len(model.funnel)
    j_mql = r.column(model, model.role("mql"))
    mql_t = r.reached[:, j_mql]
    is_mql = mql_t != _BIG
    n_mql = int(is_mql.sum())
    notes: dict[str, str] = {}

    j_sal = r.role_column(model, "sal")
    accepted = acc_rate = acc_ci = None
    if j_sal is None:
        notes["acceptance_rate"] = "funnel.note_no_sal"
    else:
        accepted = int((r.reached[is_mql, j_sal] != _BIG).sum())
        lo, hi = wilson(accepted, n_mql)
        acc_rate = accepted / n_mql if n_mql else None
        acc_ci = (float(lo), float(hi)) if n_mql else None

    # history rows after the lead's MQL time (for MQLs only)
    lead_ok = r.row_lead >= 0
    after_mql = _after(r, mql_t)
    rej_pos = _stage_position(model, "rejected")
    rej_rows = _first_rows(r, after_mql & (r.row_stage == rej_pos))
    n_rej = len(rej_rows)
    lo, hi = wilson(n_rej, n_mql)
    if rej_pos < 0:  # a model without a rejection stage records none: that is not "0 rejected"
        notes["rejection_rate"] = "funnel.note_no_rejected"
    if "reason" in sh:
        reasons_src = sh["reason"].iloc[rej_rows].reset_index(drop=True)
    else:
        reasons_src = pd.Series(MISSING, index=range(n_rej), dtype="str")
    reasons = reasons_src.fillna(MISSING).value_counts().rename_axis("reason").reset_index(name="n")
    reasons["share"] = reasons["n"] / n_rej if n_rej else np.nan

    rec_pos = _stage_position(model, "recycled")
    per_lead = np.bincount(r.row_lead[lead_ok & (r.row_stage == rec_pos)], minlength=r.n)
    loops = np.minimum(per_lead[per_lead > 0], RECYCLE_CAP)
    loop_tab = pd.DataFrame(
        {
            "loops": [
                str(i) if i < RECYCLE_CAP else f"{RECYCLE_CAP}+" for i in range(1, RECYCLE_CAP + 1)
            ],
            "leads": np.bincount(loops, minlength=RECYCLE_CAP + 1)[1:].astype("int64"),
        }
    )

    # progressed beyond MQL, or took any exit after it
    progressed = (r.reached[:, j_mql + 1 :] != _BIG).any(axis=1)
    nw_pos = model.stages.index(NEVER_WORKED) if NEVER_WORKED in model.exits else -2
    exit_rows = after_mql & (r.row_stage >= n_funnel)
    exited = np.zeros(r.n, dtype=bool)
    exited[r.row_lead[exit_rows]] = True
    marked_nw = np.zeros(r.n, dtype=bool)  # the CRM itself says "never worked"
    marked_nw[r.row_lead[exit_rows & (r.row_stage == nw_pos)]] = True
    other_exit = np.zeros(r.n, dtype=bool)
    other_exit[r.row_lead[exit_rows & (r.row_stage != nw_pos)]] = True
    open_mql = is_mql & ~progressed & ~exited
    no_disposition = int(open_mql.sum())
    untouched_candidates = is_mql & ~progressed & ~other_exit

    never_worked = None
    resp: dict[str, float] | None = None
    basis = "calendar"
    if crm.has("activities"):
        kw: dict[str, Any] = {}
        if sla is not None and sla.business_hours:
            basis = "business"
            kw = dict(
                business_hours=True,
                tz=sla.timezone,
                open_hour=sla.open_hour,
                close_hour=sla.close_hour,
                holiday_country=sla.holiday_country,
            )
        rt = _response_frame(r, mql_t, crm.activities, when, **kw)
        touched = np.zeros(r.n, dtype=bool)
        touched[np.flatnonzero(is_mql)] = rt["touched"].to_numpy()
        never_worked = int((untouched_candidates & ~touched).sum())
        resp = _quantiles(rt["hours"])
    else:
        notes["response_hours"] = "funnel.note_no_activities"
        if nw_pos >= 0:
            never_worked = int((is_mql & marked_nw).sum())
        else:
            notes["never_worked"] = "funnel.note_no_activities"

    skipped_n = ((r.reached != _BIG) & (r.first == _BIG)).sum(axis=0)
    middle = np.flatnonzero(r.recorded[1:-1]) + 1  # a stage never recorded is not "skipped"
    skipped = pd.DataFrame(
        {
            "stage": [model.funnel[j] for j in middle],
            "leads": skipped_n[middle].astype("int64"),
        }
    )

    breaches = None
    if sla is not None:
        from helpers.sla import sla_compliance

        breaches = sla_compliance(crm, sla, as_of=when).breaches

    return HandoffMetrics(
        as_of=when.isoformat(),
        mql_handed_over=n_mql,
        accepted=accepted,
        acceptance_rate=acc_rate,
        acceptance_ci=acc_ci,
        rejected=n_rej if rej_pos >= 0 else None,
        rejection_rate=n_rej / n_mql if n_mql and rej_pos >= 0 else None,
        rejection_ci=(float(lo), float(hi)) if n_mql and rej_pos >= 0 else None,
        rejection_reasons=reasons,
        recycled_leads=len(loops),
        recycle_loops=loop_tab,
        never_worked=never_worked,
        no_disposition=no_disposition,
        skipped_stages=skipped,
        stale=_stale(crm, r, sh, when),
        response_hours=resp,
        response_basis=basis,
        breaches=breaches,
        not_computed=notes,
    )


# --------------------------------------------------------------------------------------------
# velocity and coverage
# --------------------------------------------------------------------------------------------


def open_deals(opportunities: pd.DataFrame, as_of: Any = None) -> pd.Series:
    """Which deals were open at ``as_of`` (bool, aligned with ``opportunities``).

    A deal whose outcome is "open" is open, whatever its ``closed_at`` says: CRMs fill that
    column with the *expected* close date of open deals. A won or lost deal was open at
    ``as_of`` when it had been created by then and closed after it. Without ``as_of``
    (or without ``closed_at``) the outcome alone decides.
    """
    o = opportunities
    is_open = o["outcome"] == "open"
    if as_of is None or "closed_at" not in o:
        return is_open
    when = _ts(as_of)
    return (o["created_at"] <= when) & (is_open | o["closed_at"].isna() | (o["closed_at"] > when))


@dataclass(frozen=True)
class SalesVelocity:
    """Sales velocity = open opportunities x average deal size x win rate / cycle (days)."""

    as_of: str
    window_days: int
    open_opportunities: int
    avg_deal_size: float
    win_rate: float
    win_rate_ci: tuple[float, float]
    cycle_days: float
    velocity_per_day: float
    velocity_range: tuple[float, float]
    closed_in_window: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def sales_velocity(
    opportunities: pd.DataFrame, *, as_of: Any, window_days: int = 365
) -> SalesVelocity:
    """Velocity from deals open at ``as_of`` and deals closed in the ``window_days`` before.

    Average deal size and cycle length come from deals won in the window; the win rate is
    won / (won + lost) there, and ``velocity_range`` uses its Wilson interval.
    """
    _need_columns(opportunities, ("closed_at",), "opportunities", "sales_velocity")
    when = _ts(as_of)
    o = opportunities
    is_open = open_deals(o, when)
    in_window = (o["closed_at"] <= when) & (o["closed_at"] > when - pd.Timedelta(days=window_days))
    closed = o.loc[in_window & o["outcome"].isin(["won", "lost"])]
    won = closed.loc[closed["outcome"] == "won"]
    if won.empty:
        raise KitError("funnel.no_won_deals", days=window_days)
    n_open = int(is_open.sum())
    avg = float(won["amount"].mean())
    rate = len(won) / len(closed)
    lo, hi = wilson(len(won), len(closed))
    cycle = float(((won["closed_at"] - won["created_at"]) / DAY).mean())
    cycle = max(cycle, 1.0 / 24)  # a same-hour close would divide by ~0
    v = n_open * avg * rate / cycle
    return SalesVelocity(
        as_of=when.isoformat(),
        window_days=int(window_days),
        open_opportunities=n_open,
        avg_deal_size=avg,
        win_rate=rate,
        win_rate_ci=(float(lo), float(hi)),
        cycle_days=cycle,
        velocity_per_day=v,
        velocity_range=(n_open * avg * float(lo) / cycle, n_open * avg * float(hi) / cycle),
        closed_in_window=len(closed),
    )


@dataclass(frozen=True)
class PipelineCoverage:
    """Open pipeline value / remaining target; ``rule_of_thumb`` is a convention, not a law."""

    open_value: float
    remaining_target: float
    coverage: float | None
    rule_of_thumb: tuple[float, float]
    verdict: str  # "below", "within", "above" the rule of thumb, or "no_target"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def sentence(self, lang: str = "en") -> str:
        return t(
            f"funnel.coverage_{self.verdict}",
            lang,
            coverage=fmt_number(self.coverage, lang, 1),
            low=fmt_number(self.rule_of_thumb[0], lang),
            high=fmt_number(self.rule_of_thumb[1], lang),
        )


def pipeline_coverage(
    opportunities: pd.DataFrame,
    remaining_target: float,
    *,
    as_of: Any = None,
    rule_of_thumb: tuple[float, float] = (3.0, 4.0),
) -> PipelineCoverage:
    """Coverage of the remaining target by the pipeline open at ``as_of`` (:func:`open_deals`;
    3-4x is a common rule of thumb)."""
    o = opportunities
    value = float(o.loc[open_deals(o, as_of), "amount"].fillna(0).sum())
    if remaining_target <= 0:
        return PipelineCoverage(value, float(remaining_target), None, rule_of_thumb, "no_target")
    cov = value / remaining_target
    verdict = "below" if cov < rule_of_thumb[0] else "above" if cov > rule_of_thumb[1] else "within"
    return PipelineCoverage(value, float(remaining_target), cov, rule_of_thumb, verdict)


# --------------------------------------------------------------------------------------------
# response-time effect
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResponseEffect:
    """Association of response speed with conversion. Observational: correlational only."""

    from_stage: str
    to_stage: str
    n: int
    n_converted: int
    n_untouched: int
    coefficient: float
    coefficient_ci: tuple[float, float]
    odds_ratio: float
    odds_ratio_ci: tuple[float, float]
    p_value: float
    controls: tuple[str, ...]
    bins: pd.DataFrame
    correlational: bool = True
    note_key: str = "funnel.response_effect_correlational"

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["bins"] = _records(self.bins)
        return out

    def sentence(self, lang: str = "en") -> str:
        """The estimate in words: who is counted, on which clock, and that it is correlational."""
        return t(
            self.note_key,
            lang,
            n=fmt_number(self.n, lang),
            from_stage=stage_label(self.from_stage, lang),
            to_stage=stage_label(self.to_stage, lang),
            odds_ratio=fmt_number(self.odds_ratio, lang, 2),
            low=fmt_number(self.odds_ratio_ci[0], lang, 2),
            high=fmt_number(self.odds_ratio_ci[1], lang, 2),
        )


def response_time_effect(
    crm: CrmData,
    from_role: str = "sal",
    to_role: str = "sql",
    *,
    controls: Sequence[str] = ("persona", "source", "region"),
    min_follow_up_days: float = 30.0,
    as_of: Any = None,
) -> ResponseEffect:
    """Logistic regression of reaching ``to_role`` on log1p(lead response hours).

    Population: leads that reached ``from_role`` at least ``min_follow_up_days`` before
    ``as_of`` (so recent ones have had time to convert) and had a sales touch after their MQL.
    Response hours = first sales touch minus MQL time (calendar hours), the usual lead response
    time. ``controls`` present in ``leads`` enter as dummies (persona, source and region by
    default: region or team often drives both speed and conversion). ``coefficient`` is per
    unit of log1p(hours); the odds ratio is its exponential. A model without ``from_role``
    (HubSpot has no SAL), or data that records none, uses the MQL. Binned table: ``<=1h``,
    ``1-4h``, ``4-24h``, ``>24h`` with Wilson intervals. Observational data: the effect is
    correlational.
    """
    from statsmodels.discrete.discrete_model import Logit

    model = crm.stage_model
    sh = crm.require("stage_history", "response_time_effect")
    when = _as_of(as_of, (sh, "entered_at"))
    reach = reach_times(sh, model)  # the stages the data records
    start = from_role if model.role(from_role) in reach.columns else "mql"
    src = _stage_key(model, start)
    dst = _stage_key(model, to_role)
    for stage in (src, dst):
        if stage not in reach.columns:
            raise StageNotRecordedError(stage, model)
    cutoff = when - pd.Timedelta(days=min_follow_up_days)
    population = reach.index[reach[src].notna() & (reach[src] <= cutoff)]
    rt = response_times(crm, from_role="mql", as_of=when).set_index("lead_id")
    rt = rt.loc[rt.index.intersection(population)]
    converted = reach[dst].notna() & (reach[dst] <= when)
    rt["converted"] = converted.reindex(rt.index, fill_value=False).astype(bool)
    data = rt.loc[rt["touched"]]
    used = [c for c in controls if c in crm.leads.columns]
    data = _attach_segments(data, used, crm.leads, "response_time_effect")
    x = pd.DataFrame({"log1p_hours": np.log1p(data["hours"].clip(lower=0))}, index=data.index)
    for c in used:
        dummies = pd.get_dummies(data[c].astype("str"), prefix=c, drop_first=True, dtype=float)
        x = x.join(dummies)
    x.insert(0, "const", 1.0)
    y = data["converted"].astype(float)
    if len(y) < 10 or y.nunique() < 2:
        raise KitError("funnel.too_few_for_model", n=len(y))
    try:
        exog = np.ascontiguousarray(x.to_numpy(dtype=float))
        fit = Logit(y.to_numpy(), exog).fit(method="newton", disp=False, maxiter=100)
    except (np.linalg.LinAlgError, ValueError) as exc:  # singular design or separation
        raise KitError("funnel.too_few_for_model", n=len(y)) from exc
    k = x.columns.get_loc("log1p_hours")
    b = float(fit.params[k])
    lo, hi = (float(v) for v in fit.conf_int()[k])
    bins = data.assign(
        bin=pd.cut(
            data["hours"],
            list(RESPONSE_BINS),
            labels=list(RESPONSE_BIN_LABELS),
            include_lowest=True,
        )
    )
    tab = bins.groupby("bin", observed=False).agg(
        n=("converted", "size"), converted=("converted", "sum")
    )
    tab = _rate_columns(tab.reset_index().astype({"bin": "str"}), "converted", "n")
    return ResponseEffect(
        from_stage=src,
        to_stage=dst,
        n=len(y),
        n_converted=int(y.sum()),
        n_untouched=int((~rt["touched"]).sum()),
        coefficient=b,
        coefficient_ci=(lo, hi),
        odds_ratio=float(np.exp(b)),
        odds_ratio_ci=(float(np.exp(lo)), float(np.exp(hi))),
        p_value=float(fit.pvalues[k]),
        controls=tuple(used),
        bins=tab,
    )


# --------------------------------------------------------------------------------------------
# bottlenecks
# --------------------------------------------------------------------------------------------


def bottlenecks(
    crm: CrmData, *, value_per_won: float | None = None, as_of: Any = None, lang: str = "en"
) -> pd.DataFrame:
    """Handoffs ranked by the revenue they lose.

    For each step a -> b from the MQL to the stage before won: ``lost`` = leads reaching a but
    not b;
    ``p_win_next`` = share of leads reaching b that are won; ``lost_value`` = lost x p_win_next x
    value per won deal (``value_per_won`` or the mean amount of won opportunities). An upper
    bound: it assumes the lost leads would have won like those that went on. The step into won
    is left out: there "those that went on" all won, so every lost deal would count as a win
    (win rates are in the conversion analyses). Empty when the model has no step before the one
    into won. Leads that never became MQLs are left out too: marketing's qualification turns
    them away by design, and valuing them as if they would win like MQLs says nothing.
    Steps join the stages the data records (:func:`recorded_stages`): with no SAL date the step
    is MQL -> SQL, not an invented MQL -> SAL that loses nothing. ``explanation`` is one
    catalogue sentence.
    """
    summary = funnel_summary(crm, as_of=as_of)
    model = crm.stage_model
    won = model.role("won")
    if value_per_won is None:
        opps = crm.require("opportunities", "bottlenecks")
        amounts = opps.loc[opps["outcome"] == "won", "amount"].dropna()
        if amounts.empty:
            raise KitError("funnel.no_won_deals", days="all")
        value_per_won = float(amounts.mean())
    reached = summary.set_index("stage")["reached"]  # the stages the data records
    if won not in reached.index:
        raise StageNotRecordedError(won, model)
    n_won = float(reached[won])
    start = model.funnel.index(model.role("mql")) if model.has_role("mql") else 0
    before_won = model.funnel[start : model.funnel.index(won)]  # from the MQL to before won
    stages = [s for s in before_won if s in reached.index]
    rows = []
    for a, b in itertools.pairwise(stages):
        lost = int(reached[a] - reached[b])
        p_next = n_won / reached[b] if reached[b] else np.nan
        value = lost * p_next * value_per_won if reached[b] else np.nan
        rows.append(
            {
                "from_stage": a,
                "to_stage": b,
                "reached": int(reached[a]),
                "lost": lost,
                "p_win_next": p_next,
                "lost_value": value,
            }
        )
    columns = ["from_stage", "to_stage", "reached", "lost", "p_win_next", "lost_value"]
    out = pd.DataFrame(rows, columns=columns).sort_values(
        "lost_value", ascending=False, ignore_index=True, na_position="last"
    )
    out["rank"] = np.arange(1, len(out) + 1)
    out["explanation"] = [
        t_count(
            "funnel.bottleneck_sentence",
            r.lost,
            lang,
            from_stage=stage_label(r.from_stage, lang, model),
            to_stage=stage_label(r.to_stage, lang, model),
            lost=fmt_number(r.lost, lang),
            p=fmt_pct(None if pd.isna(r.p_win_next) else r.p_win_next, lang, 1),
            value=fmt_number(None if pd.isna(r.lost_value) else r.lost_value, lang),
        )
        for r in out.itertuples()
    ]
    return out
