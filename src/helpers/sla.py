"""The sales-marketing SLA: reverse-funnel calculator, capacity check, terms, document, compliance.

Pure functions on canonical tables (no I/O). The reverse funnel follows HubSpot's "SLA lead goal"
method (see the domain brief, section 3) and adds two things public calculators lack: monthly
targets shifted earlier by the sales cycle, and a check that the reps can make the promised
attempts.

Rounding: every count is computed exactly along the chain, then rounded UP to a whole number
once, at the end, for each stage (``needed``) and for each split (per month, per rep per month).
Chained rounding would inflate the top of the funnel, so the rounded stages are not derived from
each other.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from helpers.errors import KitError
from helpers.funnel import (
    _BIG,
    HOUR,
    _after,
    _as_of,
    _first_rows,
    _first_touch,
    _reach,
    _records,
    _stage_position,
    _touches,
    business_hours_between,
    cohort_conversion,
    holiday_dates,
    recorded_stages,
    wilson,
)
from helpers.messages import t, t_count
from helpers.model import CrmData
from helpers.results import fmt_number, fmt_pct

__all__ = [
    "CapacityVerdict",
    "ReverseFunnel",
    "SlaCompliance",
    "SlaTerms",
    "StageRates",
    "capacity_check",
    "compliance_by_rep",
    "lead_value_by_segment",
    "rates_from_history",
    "reverse_funnel",
    "sla_compliance",
    "sla_document",
]

ROLE_CHAIN: tuple[str, ...] = ("lead", "mql", "sal", "sql", "opportunity", "won")
DAYS_PER_MONTH = 365.25 / 12
PERIOD_MONTHS: dict[str, float] = {"M": 1.0, "Q": 3.0, "W": 12.0 / 52.0, "Y": 12.0}


def _ceil(x: float) -> int:
    """Round up, ignoring floating-point dust (100.0000000001 -> 100)."""
    return math.ceil(x - 1e-9) if np.isfinite(x) else 0


# --------------------------------------------------------------------------------------------
# stage rates
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StageRates:
    """Step conversion rates keyed ``"<role>_to_<role>"`` (``"mql_to_sal"``), with intervals.

    ``low`` / ``high`` hold the 95% Wilson bounds when the rates come from history; ``n`` and
    ``k`` the cohort sizes and conversions behind them; ``immature`` the steps whose cohorts
    had not had time to convert (their rates are likely too low).
    """

    rates: dict[str, float]
    low: dict[str, float] = field(default_factory=dict)
    high: dict[str, float] = field(default_factory=dict)
    n: dict[str, int] = field(default_factory=dict)
    k: dict[str, int] = field(default_factory=dict)
    immature: tuple[str, ...] = ()  # steps measured on cohorts still in progress

    def scenario(self, which: str) -> dict[str, float]:
        """Rates under ``"point"``, ``"low"`` or ``"high"`` (missing bounds fall back to point)."""
        if which == "point":
            return dict(self.rates)
        bound = self.low if which == "low" else self.high
        return {key: bound.get(key, value) for key, value in self.rates.items()}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _path(rates: Mapping[str, float]) -> list[tuple[str, str]]:
    """Steps (from, to) from the top of the funnel down to ``won``, as far as ``rates`` reach."""
    steps: list[tuple[str, str]] = []
    cur = "won"
    while True:
        earlier = ROLE_CHAIN[: ROLE_CHAIN.index(cur)]
        prev = next((r for r in reversed(earlier) if f"{r}_to_{cur}" in rates), None)
        if prev is None:
            break
        steps.append((prev, cur))
        cur = prev
    if not steps:
        raise KitError("sla.missing_win_rate", keys=", ".join(sorted(rates)) or "-")
    for a, b in steps:
        rate = rates[f"{a}_to_{b}"]
        if not (0 < rate <= 1):
            raise KitError("sla.bad_rate", step=f"{a}_to_{b}", rate=rate)
    return steps[::-1]


def rates_from_history(
    crm: CrmData,
    *,
    window: tuple[Any, Any] | None = None,
    as_of: Any = None,
    min_follow_up_days: float = 90.0,
) -> StageRates:
    """Step rates between consecutive roles the data records
    (:func:`~helpers.funnel.recorded_stages`), from entry cohorts: with no SAL date the step is
    MQL -> SQL, never an invented 100% SAL -> SQL.

    Each rate is converted / entered with a Wilson 95% interval; every lead of ``crm.leads``
    entered the top stage when created, as in the funnel chart. Only leads that entered the
    step's first stage at least ``min_follow_up_days`` before ``as_of`` count, since cohorts
    still in progress pull rates down; a step with no such lead falls back to every lead and
    is listed in ``immature``. ``window=(start, end)`` further keeps leads that entered in
    that interval.
    """
    sh = crm.require("stage_history", "rates_from_history")
    model = crm.stage_model
    when = _as_of(as_of, (sh, "entered_at"))
    mature_end = when - pd.Timedelta(days=min_follow_up_days)
    start = window[0] if window is not None else pd.Timestamp.min.tz_localize("UTC")
    end = min(_as_ts(window[1]), mature_end) if window is not None else mature_end
    recorded = recorded_stages(sh, model, crm.leads)
    roles = [r for r in ROLE_CHAIN if model.role(r) in recorded]
    rates: dict[str, float] = {}
    low: dict[str, float] = {}
    high: dict[str, float] = {}
    n: dict[str, int] = {}
    k: dict[str, int] = {}
    immature: list[str] = []
    for a, b in itertools.pairwise(roles):
        key = f"{a}_to_{b}"
        row = cohort_conversion(
            sh, model, a, b, leads=crm.leads, period=None, as_of=when, entered_between=(start, end)
        ).iloc[0]
        if row["n"] == 0:
            immature.append(key)
            row = cohort_conversion(
                sh, model, a, b, leads=crm.leads, period=None, as_of=when, entered_between=window
            ).iloc[0]
        if row["n"] == 0 or row["converted"] == 0:
            continue
        rates[key], low[key], high[key] = row["rate"], row["ci_low"], row["ci_high"]
        n[key], k[key] = int(row["n"]), int(row["converted"])
    return StageRates(rates=rates, low=low, high=high, n=n, k=k, immature=tuple(immature))


def _as_ts(value: Any) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


# --------------------------------------------------------------------------------------------
# reverse funnel
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReverseFunnel:
    """What each stage must deliver to hit a revenue target.

    ``needed`` exact counts per role (``won`` = customers); ``rounded`` each rounded up;
    ``per_month`` and ``per_rep_per_month`` rounded up splits; ``range`` the (min, max) needed
    under the high / low rates when intervals are known; ``schedule`` monthly targets by the
    month work must happen (``month``), shifted ``shift_months`` earlier than ``close_month``.
    """

    stages: tuple[str, ...]
    needed: dict[str, float]
    rounded: dict[str, int]
    per_month: dict[str, int]
    per_rep_per_month: dict[str, int]
    range: dict[str, tuple[int, int]]
    months: int
    reps: int
    shift_months: int
    schedule: pd.DataFrame
    skipped: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["schedule"] = _records(self.schedule)
        return out


def _chain(customers: float, rates: Mapping[str, float], steps: list[tuple[str, str]]) -> dict:
    needed = {"won": customers}
    for a, b in reversed(steps):
        needed[a] = needed[b] / rates[f"{a}_to_{b}"]
    return needed


def reverse_funnel(
    revenue_target: float,
    marketing_share: float,
    avg_deal_size: float,
    rates: Mapping[str, float] | StageRates,
    *,
    months: int = 12,
    reps: int = 1,
    sales_cycle_days: float = 0,
    start: Any = None,
) -> ReverseFunnel:
    """customers -> opportunities -> SQLs -> SALs -> MQLs -> leads needed.

    ``rates`` maps ``"<role>_to_<role>"`` to a rate (e.g. ``opportunity_to_won`` is the win
    rate); a step with no rate (no ``mql_to_sal`` but ``mql_to_sql``) is skipped. Monthly
    targets are shifted earlier by ``sales_cycle_days`` (rounded to whole months): MQLs made in
    month t close around t + cycle. ``start`` is the first closing month (e.g. "2027-01");
    without it months are numbered from 0. Rates whose chain does not reach the MQL (data with
    no MQL date gives ``lead_to_sql``) cannot say how many MQLs are needed: a ``KitError``.
    """
    if revenue_target < 0 or avg_deal_size <= 0 or not (0 < marketing_share <= 1):
        raise KitError("sla.bad_inputs")
    if months < 1 or reps < 1:
        raise KitError("sla.bad_inputs")
    stage_rates = rates if isinstance(rates, StageRates) else StageRates(dict(rates))
    steps = _path(stage_rates.rates)
    customers = revenue_target * marketing_share / avg_deal_size
    needed = _chain(customers, stage_rates.rates, steps)
    order = [a for a, _ in steps] + ["won"]
    if "mql" not in order:
        raise KitError("sla.no_mql_rate", keys=", ".join(sorted(stage_rates.rates)))
    needed = {r: needed[r] for r in order}
    given = set(order)
    skipped = tuple(r for r in ROLE_CHAIN[ROLE_CHAIN.index(order[0]) :] if r not in given)
    rng: dict[str, tuple[int, int]] = {}
    if stage_rates.low and stage_rates.high:
        hi_need = _chain(customers, stage_rates.scenario("low"), steps)
        lo_need = _chain(customers, stage_rates.scenario("high"), steps)
        rng = {r: (_ceil(lo_need[r]), _ceil(hi_need[r])) for r in order}
    shift = round(sales_cycle_days / DAYS_PER_MONTH)
    if start is not None:
        close = pd.period_range(pd.Period(start, freq="M"), periods=months, freq="M")
        sched = pd.DataFrame(
            {"month": (close - shift).astype("str"), "close_month": close.astype("str")}
        )
    else:
        close_idx = np.arange(months)
        sched = pd.DataFrame({"month": close_idx - shift, "close_month": close_idx})
    for r in order:
        sched[r] = _ceil(needed[r] / months)
    return ReverseFunnel(
        stages=tuple(order),
        needed=needed,
        rounded={r: _ceil(v) for r, v in needed.items()},
        per_month={r: _ceil(v / months) for r, v in needed.items()},
        per_rep_per_month={r: _ceil(v / (months * reps)) for r, v in needed.items()},
        range=rng,
        months=int(months),
        reps=int(reps),
        shift_months=int(shift),
        schedule=sched,
        skipped=skipped,
    )


# --------------------------------------------------------------------------------------------
# capacity and lead value
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CapacityVerdict:
    """Can the reps make the promised attempts? ``verdict`` is fits / tight / over."""

    attempts_needed: float
    attempts_available: float
    utilisation: float
    max_mql_per_month: float
    verdict: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def sentence(self, lang: str = "en") -> str:
        return t(
            f"sla.capacity_{self.verdict}",
            lang,
            needed=fmt_number(self.attempts_needed, lang),
            available=fmt_number(self.attempts_available, lang),
            utilisation=fmt_pct(self.utilisation, lang),
            max_mql=fmt_number(math.floor(self.max_mql_per_month), lang),
        )


def capacity_check(
    mql_per_month: float,
    attempts_per_lead: float,
    reps: int,
    attempts_per_rep_per_month: float,
    *,
    tight_from: float = 0.85,
) -> CapacityVerdict:
    """Attempts needed (MQLs x attempts) against attempts the reps can make in a month.

    Utilisation above ``tight_from`` (85% by default) is "tight", above 100% "over".
    """
    if reps < 1 or attempts_per_rep_per_month <= 0 or attempts_per_lead <= 0:
        raise KitError("sla.bad_inputs")
    needed = float(mql_per_month) * attempts_per_lead
    available = float(reps) * attempts_per_rep_per_month
    use = needed / available
    verdict = "over" if use > 1 else "tight" if use > tight_from else "fits"
    return CapacityVerdict(needed, available, use, available / attempts_per_lead, verdict)


def lead_value_by_segment(
    crm: CrmData,
    segment_col: str,
    *,
    avg_deal_size: float | None = None,
    as_of: Any = None,
) -> pd.DataFrame:
    """Value of a lead per segment = P(won | segment) x average deal size, with a 95% interval.

    P(won) is the share of leads (every lead enters the top stage when created) that reached
    ``won``; the deal size is ``avg_deal_size`` or the mean amount of won opportunities, taken
    as known (the interval reflects the uncertainty of P(won) only). Columns: segment, ``n``,
    ``won``, ``p_won``, ``p_low``, ``p_high``, ``value``, ``value_low``, ``value_high``.
    """
    sh = crm.require("stage_history", "lead_value_by_segment")
    model = crm.stage_model
    if avg_deal_size is None:
        opps = crm.require("opportunities", "lead_value_by_segment")
        amounts = opps.loc[opps["outcome"] == "won", "amount"].dropna()
        if amounts.empty:
            raise KitError("funnel.no_won_deals", days="all")
        avg_deal_size = float(amounts.mean())
    out = cohort_conversion(
        sh,
        model,
        recorded_stages(sh, model, crm.leads)[0],
        model.role("won"),
        by=segment_col,
        leads=crm.leads,
        period=None,
        as_of=as_of,
    )
    out = out.rename(
        columns={"converted": "won", "rate": "p_won", "ci_low": "p_low", "ci_high": "p_high"}
    )
    out["avg_deal_size"] = avg_deal_size
    for src, dst in (("p_won", "value"), ("p_low", "value_low"), ("p_high", "value_high")):
        out[dst] = out[src] * avg_deal_size
    return out.sort_values("value", ascending=False, ignore_index=True)


# --------------------------------------------------------------------------------------------
# SLA terms and document
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlaTerms:
    """The written agreement, in numbers.

    Marketing: ``mql_per_month`` (and optionally per rep), ``min_acceptance_rate``.
    Sales: first touch within ``first_touch_hours`` (business hours when ``business_hours``,
    local ``timezone``, ``open_hour``-``close_hour``, holidays of ``holiday_country``),
    ``attempts`` touches within ``attempts_days`` days, accept or reject within
    ``decision_hours`` with a reason code when ``reason_required``. ``rep_column``: the leads
    column naming the responsible rep (``owner`` or ``sdr``).
    """

    mql_per_month: float
    mql_per_rep_per_month: float | None = None
    min_acceptance_rate: float = 0.5
    first_touch_hours: float = 24.0
    business_hours: bool = False
    attempts: int = 5
    attempts_days: int = 14
    decision_hours: float = 48.0
    reason_required: bool = True
    timezone: str = "UTC"
    open_hour: float = 9.0
    close_hour: float = 18.0
    holiday_country: str | None = None
    rep_column: str = "owner"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SlaTerms:
        """Terms from parsed YAML/JSON; unknown keys and impossible values are refused."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise KitError(
                "sla.unknown_terms", keys=", ".join(unknown), known=", ".join(sorted(names))
            )
        if "mql_per_month" not in data:
            raise KitError("sla.missing_term", term="mql_per_month")
        terms = cls(**{key: _coerce_term(key, value) for key, value in data.items()})
        numeric = (
            "mql_per_month",
            "first_touch_hours",
            "attempts",
            "attempts_days",
            "decision_hours",
        )
        if (
            any(float(getattr(terms, n)) < 0 for n in numeric)
            or not (0 <= terms.min_acceptance_rate <= 1)
            or not (0 <= terms.open_hour < terms.close_hour <= 24)
        ):
            raise KitError("sla.bad_terms")
        return terms

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _num(value: float, lang: str) -> str:
    """A whole number without decimals, otherwise one decimal, as ``lang`` writes it."""
    return fmt_number(value, lang, 0 if float(value).is_integer() else 1)


_TERM_TYPES: dict[str, type] = {
    "attempts": int,
    "attempts_days": int,
    "business_hours": bool,
    "reason_required": bool,
    "timezone": str,
    "holiday_country": str,
    "rep_column": str,
}
_TRUE = {"true", "yes", "y", "1", "sì", "si", "on"}
_FALSE = {"false", "no", "n", "0", "off"}


def _coerce_term(key: str, value: Any) -> Any:
    """A term value as its type (numbers written as text, "yes"/"no"); None stays None."""
    if value is None:
        return None
    kind = _TERM_TYPES.get(key, float)
    try:
        if kind is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in _TRUE | _FALSE:
                return text in _TRUE
            raise ValueError(text)
        if kind is str:
            return str(value)
        number = float(str(value).replace(",", ".")) if isinstance(value, str) else float(value)
        if kind is int and not number.is_integer():
            raise ValueError(value)
        return int(number) if kind is int else number
    except (TypeError, ValueError):
        raise KitError("sla.bad_term_value", term=key, value=value) from None


def sla_document(terms: SlaTerms, lang: str = "en") -> str:
    """The SLA as a Markdown document, every sentence from the catalogue."""
    hours_kind = t(
        "sla.doc.business_hours" if terms.business_hours else "sla.doc.calendar_hours", lang
    )
    lines = [
        f"# {t('sla.doc.title', lang)}",
        "",
        t("sla.doc.intro", lang),
        "",
        f"## {t('sla.doc.marketing_heading', lang)}",
        "",
        "- " + t("sla.doc.mql_volume", lang, mql=_num(terms.mql_per_month, lang)),
    ]
    if terms.mql_per_rep_per_month is not None:
        lines.append(
            "- " + t("sla.doc.mql_per_rep", lang, mql=_num(terms.mql_per_rep_per_month, lang))
        )
    lines += [
        "- " + t("sla.doc.acceptance", lang, rate=fmt_pct(terms.min_acceptance_rate, lang)),
        "",
        f"## {t('sla.doc.sales_heading', lang)}",
        "",
        "- "
        + t(
            "sla.doc.first_touch", lang, hours=_num(terms.first_touch_hours, lang), kind=hours_kind
        ),
        "- " + t("sla.doc.attempts", lang, attempts=terms.attempts, days=terms.attempts_days),
        "- " + t("sla.doc.decision", lang, hours=_num(terms.decision_hours, lang), kind=hours_kind),
    ]
    if terms.reason_required:
        lines.append("- " + t("sla.doc.reason", lang))
    if terms.business_hours:
        lines += [
            "",
            t(
                "sla.doc.business_hours_def",
                lang,
                open=terms.open_hour,
                close=terms.close_hour,
                tz=terms.timezone,
                holidays=terms.holiday_country or t("common.none", lang),
            ),
        ]
    lines += [
        "",
        f"## {t('sla.doc.review_heading', lang)}",
        "",
        t("sla.doc.review", lang),
        "",
        f"## {t('sla.doc.sources_heading', lang)}",
        "",
        "- " + t("sla.doc.source_roberge", lang),
        "- " + t("sla.doc.source_insidesales", lang),
        "- " + t("sla.doc.source_hbr", lang),
        "",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# compliance
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlaCompliance:
    """Delivered vs committed, per period (marketing) and per rep and period (sales).

    ``breaches`` is the "don't be on it" list: ``lead_id`` (pseudonymous id), ``rep``,
    ``period``, ``rule`` (first_touch / attempts / decision / reason_missing), ``by`` (how far
    over the rule) and ``unit``.
    """

    as_of: str
    period: str
    marketing: pd.DataFrame
    sales: pd.DataFrame
    breaches: pd.DataFrame
    terms: dict[str, Any]
    not_computed: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of,
            "period": self.period,
            "marketing": _records(self.marketing),
            "sales": _records(self.sales),
            "breaches": _records(self.breaches),
            "terms": dict(self.terms),
            "not_computed": dict(self.not_computed),
        }


def _elapsed_hours(start: pd.Series, end: pd.Series, terms: SlaTerms) -> pd.Series:
    if not terms.business_hours:
        return (end - start) / HOUR
    years = range(start.min().year, end.max().year + 1) if len(start) else []
    return business_hours_between(
        start,
        end,
        tz=terms.timezone,
        open_hour=terms.open_hour,
        close_hour=terms.close_hour,
        holidays=holiday_dates(terms.holiday_country, list(years)),
    )


def _text_at(labels: Sequence[str], codes: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """``labels[codes]`` as a text array (code -1: the last label), without Python objects."""
    table = pa.array(list(labels), type=pa.large_string())
    at = np.where(codes < 0, len(labels) - 1, codes)
    return pd.array(table.take(pa.array(at)), dtype="str")


def _mql_frame(
    crm: CrmData, terms: SlaTerms, when: pd.Timestamp, period: str
) -> tuple[pd.DataFrame, bool]:
    """One row per MQL (index ``lead_id``) with everything the SLA rules look at, and whether
    the data records the acceptance (SAL) stage. Without it ``accepted_at`` is the SQL entry,
    the decision's time; without an MQL stage, :class:`~helpers.funnel.StageNotRecordedError`."""
    sh = crm.require("stage_history", "sla_compliance")
    sh = sh.loc[sh["entered_at"] <= when]
    model = crm.stage_model
    acts = crm.activities if crm.has("activities") else None
    r = _reach(sh, model, crm.leads, acts)
    mql_t = r.reached[:, r.column(model, model.role("mql"))]
    rows = np.flatnonzero(mql_t != _BIG)
    j_sal = r.role_column(model, "sal")
    j_accept = j_sal if j_sal is not None else r.role_column(model, "sql")
    accepted = r.reached[rows, j_accept] if j_accept is not None else np.full(len(rows), _BIG)
    rejected = np.full(r.n, _BIG, dtype="int64")
    reason_row = np.full(r.n, -1, dtype="int64")  # per lead: history row of its rejection
    is_rejection = r.row_stage == _stage_position(model, "rejected")
    candidates = np.flatnonzero(is_rejection)  # only rejections after the lead's MQL count
    is_rejection[candidates] = _after(r, mql_t, candidates)
    rej_rows = _first_rows(r, is_rejection)
    rejected[r.row_lead[rej_rows]] = r.row_time[rej_rows]
    reason_row[r.row_lead[rej_rows]] = rej_rows
    rejected = rejected[rows]
    reason = (
        sh["reason"].astype("str").array.take(reason_row[rows], allow_fill=True)
        if "reason" in sh
        else pd.array(np.full(len(rows), None, dtype=object), dtype="str")
    )
    frame = pd.DataFrame(
        {
            "mql_at": r.times(mql_t[rows]).array,
            "accepted_at": r.times(accepted).array,
            "rejected_at": r.times(rejected).array,
            "reason": reason,
            "decided_at": r.times(np.minimum(accepted, rejected)).array,
        },
        index=r.ids[rows],
    )
    months = pd.DatetimeIndex(mql_t[rows].view("datetime64[us]")).to_period(period)
    codes, uniques = pd.factorize(months)
    frame["period"] = _text_at(uniques.astype("str"), codes)
    rep_col = (
        terms.rep_column
        if terms.rep_column in crm.leads
        else ("sdr" if "sdr" in crm.leads else None)
    )
    if rep_col is None:
        frame["rep"] = "unassigned"
    else:  # leads were factorised with the history: their rows in ``r`` are known
        codes, names = pd.factorize(crm.leads[rep_col].astype("str"))
        rep = np.full(r.n, -1, dtype="int64")
        rep[r.lead_rows] = codes
        frame["rep"] = _text_at([*names.astype("str"), "unassigned"], rep[rows])
    if acts is not None:
        touches = _touches(r, acts)
        touch = _first_touch(r, mql_t, touches, when)[rows]
        frame["first_touch_at"] = r.times(touch).array
        lead, at = touches
        start = mql_t[lead]
        window = int(terms.attempts_days * 86_400e6)
        inside = (start != _BIG) & (at >= start) & (at < start + window)
        frame["attempts"] = np.bincount(lead[inside], minlength=r.n)[rows]
    frame.index.name = "lead_id"
    return frame, j_sal is not None


BREACH_COLUMNS: tuple[str, ...] = ("lead_id", "rep", "period", "rule", "by", "unit")


def _breach_rows(
    frame: pd.DataFrame, hit: pd.Series, rule: str, by: pd.Series | float, unit: str
) -> pd.DataFrame:
    """The MQLs of ``frame`` (index ``lead_id``) in ``hit``, as rows of the breaches table."""
    mask = hit.to_numpy(dtype=bool, na_value=False)
    amount = by.to_numpy(dtype="float64")[mask] if isinstance(by, pd.Series) else by
    return pd.DataFrame(
        {
            "lead_id": frame.index.array[mask],
            "rep": frame["rep"].array[mask],
            "period": frame["period"].array[mask],
            "rule": rule,
            "by": amount,
            "unit": unit,
        },
        columns=list(BREACH_COLUMNS),
    )


def _sorted_breaches(breaches: pd.DataFrame) -> pd.DataFrame:
    """Breaches by rule, the largest overrun first, then lead id (Arrow's multi-key sort)."""
    if breaches.empty:
        return pd.DataFrame(columns=list(BREACH_COLUMNS))
    keys = pa.table(
        {
            "rule": pa.array(breaches["rule"].array, from_pandas=True),
            "by": pa.array(breaches["by"].to_numpy(dtype="float64"), from_pandas=True),
            "lead_id": pa.array(breaches["lead_id"].array, from_pandas=True),
        }
    )
    order = pc.sort_indices(
        keys, sort_keys=[("rule", "ascending"), ("by", "descending"), ("lead_id", "ascending")]
    )
    return breaches.take(order.to_numpy()).reset_index(drop=True)


def sla_compliance(
    crm: CrmData, terms: SlaTerms, *, period: str = "M", as_of: Any = None
) -> SlaCompliance:
    """Check both sides of the SLA.

    Rules (per MQL; a rule whose window has not yet elapsed by ``as_of`` is not judged):
    ``first_touch``: first sales touch later than ``first_touch_hours`` after the MQL time (or
    none while the window is over); ``attempts``: fewer than ``attempts`` sales touches within
    ``attempts_days`` for a lead neither accepted nor rejected in that window; ``decision``:
    accepted (SAL, or SQL when the model has no SAL or the data records none) or rejected later
    than ``decision_hours``; ``reason_missing``: a rejection without a reason code.

    Marketing's acceptance rate needs the SAL stage: without it the acceptance columns are
    missing values and ``not_computed`` says why. Data that records no MQL stage raises
    :class:`~helpers.funnel.StageNotRecordedError`.
    """
    if period not in PERIOD_MONTHS:
        raise KitError("sla.bad_period", period=period, periods=", ".join(PERIOD_MONTHS))
    acts = crm.activities
    when = _as_of(as_of, (crm.stage_history, "entered_at"), (acts, "at"))
    frame, sal_recorded = _mql_frame(crm, terms, when, period)
    now = pd.Series(when, index=frame.index)
    notes: dict[str, str] = {}

    # marketing side
    mk = (
        frame.groupby("period")
        .agg(
            mql_delivered=("mql_at", "size"),
            accepted=("accepted_at", "count"),
            rejected=("rejected_at", "count"),
        )
        .reset_index()
    )
    mk["mql_committed"] = terms.mql_per_month * PERIOD_MONTHS[period]
    mk["volume_ok"] = mk["mql_delivered"] >= mk["mql_committed"]
    low, high = wilson(mk["accepted"], mk["mql_delivered"])
    mk["acceptance_rate"] = mk["accepted"] / mk["mql_delivered"]
    mk["acceptance_ci_low"], mk["acceptance_ci_high"] = low, high
    mk["acceptance_ok"] = mk["acceptance_rate"] >= terms.min_acceptance_rate
    if not sal_recorded:  # an SQL is not an acceptance: "0 months at the minimum" would be made up
        notes["acceptance"] = "funnel.note_no_sal"
        mk[["accepted", "acceptance_rate", "acceptance_ci_low", "acceptance_ci_high"]] = np.nan
        mk["acceptance_ok"] = pd.array([pd.NA] * len(mk), dtype="boolean")

    rules: list[pd.DataFrame] = []
    hits: dict[str, pd.Series] = {}  # per rule, which MQLs breach it
    if acts is not None and len(acts):
        end = frame["first_touch_at"].where(frame["first_touch_at"].notna(), now)
        frame["response_hours"] = _elapsed_hours(frame["mql_at"], end, terms)
        over = frame["response_hours"] - terms.first_touch_hours
        hits["first_touch"] = over > 0
        rules.append(_breach_rows(frame, over > 0, "first_touch", over, "hours"))

        window = pd.Timedelta(days=terms.attempts_days)
        due = frame["mql_at"] + window <= when
        decided_early = frame["decided_at"].notna() & (
            frame["decided_at"] < frame["mql_at"] + window
        )
        short = terms.attempts - frame["attempts"]
        hit = due & ~decided_early & (short > 0)
        hits["attempts"] = hit
        rules.append(_breach_rows(frame, hit, "attempts", short, "attempts"))
    else:
        frame["response_hours"] = np.nan
        frame["attempts"] = np.nan
        notes["first_touch"] = notes["attempts"] = "funnel.note_no_activities"

    end = frame["decided_at"].where(frame["decided_at"].notna(), now)
    frame["decision_hours"] = _elapsed_hours(frame["mql_at"], end, terms)
    over = frame["decision_hours"] - terms.decision_hours
    hits["decision"] = over > 0
    rules.append(_breach_rows(frame, over > 0, "decision", over, "hours"))
    if terms.reason_required:
        missing = frame["rejected_at"].notna() & frame["reason"].isna()
        hits["reason_missing"] = missing
        rules.append(_breach_rows(frame, missing, "reason_missing", 1.0, "rejections"))

    breaches = _sorted_breaches(pd.concat(rules, ignore_index=True))

    # sales side, per rep and period
    rule_names = ["first_touch", "attempts", "decision", "reason_missing"]
    for rule in rule_names:  # one MQL breaches a rule at most once
        hit = hits.get(rule, pd.Series(False, index=frame.index))
        frame[f"breach_{rule}"] = hit.fillna(False).astype("int64")
    frame["any_breach"] = frame[[c for c in frame if c.startswith("breach_")]].max(axis=1)
    sales_tab = (
        frame.groupby(["rep", "period"])
        .agg(
            mql_received=("mql_at", "size"),
            median_response_hours=("response_hours", "median"),
            first_touch_breaches=("breach_first_touch", "sum"),
            attempts_breaches=("breach_attempts", "sum"),
            decision_breaches=("breach_decision", "sum"),
            reason_missing=("breach_reason_missing", "sum"),
            leads_with_breach=("any_breach", "sum"),
        )
        .reset_index()
    )
    sales_tab["compliance_rate"] = 1 - sales_tab["leads_with_breach"] / sales_tab["mql_received"]
    if terms.mql_per_rep_per_month is not None:
        committed = terms.mql_per_rep_per_month * PERIOD_MONTHS[period]
        sales_tab["mql_per_rep_committed"] = committed
        sales_tab["mql_per_rep_ok"] = sales_tab["mql_received"] >= committed
    return SlaCompliance(
        as_of=when.isoformat(),
        period=period,
        marketing=mk,
        sales=sales_tab,
        breaches=breaches,
        terms=terms.to_dict(),
        not_computed=notes,
    )


def compliance_by_rep(compliance: SlaCompliance) -> pd.DataFrame:
    """Per rep over all periods: MQLs received, leads with a breach, compliance with a 95% CI."""
    tab = compliance.sales.groupby("rep", sort=True).agg(
        mql_received=("mql_received", "sum"), leads_with_breach=("leads_with_breach", "sum")
    )
    tab = tab.reset_index()
    ok = tab["mql_received"] - tab["leads_with_breach"]
    low, high = wilson(ok, tab["mql_received"])
    tab["compliance_rate"] = ok / tab["mql_received"]
    tab["ci_low"], tab["ci_high"] = low, high
    return tab.sort_values("compliance_rate", ignore_index=True)


def lead_time_sentence(cycle_days: float, shift_months: int, lang: str = "en") -> str:
    """When the MQLs for a month's revenue must arrive, given the sales cycle in days and the
    months it shifts the MQLs earlier (``ReverseFunnel.shift_months``): the report's and the
    workshop's sentence."""
    days = fmt_number(cycle_days, lang)
    if cycle_days <= 0:
        return t("sla.lead_time_none", lang)
    if shift_months <= 0:
        return t_count("sla.lead_time_same_month", cycle_days, lang, days=days)
    shift = fmt_number(shift_months, lang)
    return t_count("sla.lead_time_shift", shift_months, lang, days=days, shift=shift)
