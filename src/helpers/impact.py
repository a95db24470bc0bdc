"""The measured effect of a sales-marketing alignment programme on funnel outcomes.

Three designs, chosen by what the data allows:

* a pilot in some units (regions, teams) that started on one date and units that did not:
  difference-in-differences with unit and period fixed effects (:func:`did_effect`);
* a roll-out in waves: a stacked difference-in-differences (one sub-experiment per start date,
  each with clean comparison units only), which stays unbiased when effects differ by start date
  or grow over time, unlike a plain two-way fixed-effects regression (:func:`did_effect` switches
  to it by itself);
* one company, one start date: a segmented regression with seasonality and Newey-West errors
  (:func:`interrupted_time_series`).

Every result carries an estimate, a 95% interval, a pre-period check, the method, the assumptions
it rests on and a plain-language sentence from the catalogue. The panel every design reads comes
from :func:`outcome_panel`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
import statsmodels.formula.api as smf
from threadpoolctl import threadpool_limits

from helpers.errors import KitError, MissingTableError
from helpers.messages import column_label, t, value_label
from helpers.model import CrmData, stage_wide
from helpers.results import fmt_date, fmt_signed

METRICS: tuple[str, ...] = ("mql_to_sql", "response_time", "win_rate", "revenue")
RATE_METRICS: frozenset[str] = frozenset({"mql_to_sql", "win_rate"})
FEW_CLUSTERS = 30  # below this many units cluster-robust errors are unreliable
MAX_SCHEDULES = 199  # randomisation inference: at most this many start-date schedules
# the length of a panel period, from the days between consecutive period starts
PERIOD_UNITS: tuple[tuple[str, float, float], ...] = (
    ("day", 1, 1),
    ("week", 7, 7),
    ("month", 28, 31),
    ("quarter", 89, 92),
    ("year", 365, 366),
)


def period_unit(periods: Any) -> str | None:
    """What one step of a series of period starts is (``day``, ``week``, ``month``, ``quarter``,
    ``year``), from the most common gap between consecutive starts; None when it is none of
    these or there are fewer than two periods."""
    starts = pd.DatetimeIndex(pd.unique(pd.to_datetime(pd.Series(periods)).dropna())).sort_values()
    if len(starts) < 2:
        return None
    days = (starts[1:] - starts[:-1]).total_seconds().to_series() / 86_400
    step = float(days.mode().iloc[0])
    return next((name for name, lo, hi in PERIOD_UNITS if lo <= step <= hi), None)


def design_words(
    unit: str, starts: Mapping[str, Any], comparison: Sequence[str], lang: str = "en"
) -> dict[str, str]:
    """The programme's design as the report words it (``notebooks.impact.design_text``): the
    unit column's label, the units that joined and those that did not (the kit's own values
    translated, a client's as they are), and each joining unit with its start date."""

    def name(value: Any) -> str:
        return value_label(unit, value, lang)

    def start(day: Any) -> str:
        return fmt_date(day, lang) if day else str(day)

    return {
        "unit": column_label(unit, lang),
        "treated": ", ".join(name(u) for u in starts),
        "comparison": ", ".join(name(u) for u in comparison) or "–",
        "starts": ", ".join(f"{name(u)}: {start(s)}" for u, s in starts.items()),
    }


# ---------------------------------------------------------------------------------------------
# Panel builder
# ---------------------------------------------------------------------------------------------


def _period_start(ts: pd.Series, period: str) -> pd.Series:
    naive = ts.dt.tz_convert("UTC").dt.tz_localize(None) if ts.dt.tz is not None else ts
    return naive.dt.to_period(period).dt.start_time


def outcome_panel(
    crm: CrmData,
    metric: str = "mql_to_sql",
    unit: str | None = "region",
    period: str = "M",
    *,
    within_days: int | None = None,
) -> pd.DataFrame:
    """One row per unit and period: ``unit, period, value, n`` for ``metric``.

    ``mql_to_sql`` and ``response_time`` follow MQL entry cohorts (leads that became MQL in a
    period): the share that ever reached SQL (or within ``within_days``; cohorts too recent to be
    fully observed are then dropped), and the median hours from MQL to the first sales activity.
    ``win_rate`` and ``revenue`` use opportunities by close period (won / closed, won amount).
    ``n`` is the number of cases behind each value (MQLs, touched MQLs, closed or won deals).
    ``unit=None`` treats the whole company as one unit ``"all"`` (the series for
    :func:`interrupted_time_series`: ``panel.set_index("period")["value"]``).
    """
    if metric not in METRICS:
        raise KitError("impact.unknown_metric", metric=metric, metrics=", ".join(METRICS))
    leads = crm.leads
    if unit is None:  # the whole company as one unit (for an interrupted time series)
        units = pd.DataFrame({"lead_id": leads["lead_id"], "unit": "all"})
    elif unit not in leads.columns:
        raise MissingTableError(f"leads.{unit}", "impact")
    else:
        units = leads[["lead_id", unit]].rename(columns={unit: "unit"})
    if metric in ("mql_to_sql", "response_time"):
        out = _cohort_panel(crm, metric, units, period, within_days)
    else:
        out = _deal_panel(crm, metric, units, period)
    out = out.dropna(subset=["unit"]).sort_values(["unit", "period"]).reset_index(drop=True)
    out["unit"] = out["unit"].astype("str")
    out.attrs["metric"] = metric
    return out


def _cohort_panel(
    crm: CrmData, metric: str, units: pd.DataFrame, period: str, within_days: int | None
) -> pd.DataFrame:
    model = crm.stage_model
    history = crm.require("stage_history", "impact")
    mql = model.role("mql")
    wide = stage_wide(history, model)
    if mql not in wide.columns:
        raise MissingTableError(f"stage_history.{mql}", "impact")
    cohort = wide[[mql]].dropna().rename(columns={mql: "mql_at"})
    cohort = cohort.join(units.set_index("lead_id"), how="inner")
    cohort["period"] = _period_start(cohort["mql_at"], period)
    if metric == "mql_to_sql":
        sql = model.role("sql")
        if sql is None:
            raise KitError("impact.no_stage_role", role="sql")
        if sql not in wide.columns:  # no lead has an SQL date: the export does not record it
            raise MissingTableError(f"stage_history.{sql}", "impact")
        cohort["reached"] = wide[sql].reindex(cohort.index)
        delay = cohort["reached"] - cohort["mql_at"]
        ok = cohort["reached"].notna() & (delay >= pd.Timedelta(0))
        if within_days is not None:
            ok &= delay <= pd.Timedelta(days=within_days)
            last_seen = history["entered_at"].max().tz_convert("UTC").tz_localize(None)
            period_end = cohort["period"].dt.to_period(period).dt.end_time
            observed = period_end + pd.Timedelta(days=within_days) <= last_seen
            cohort, ok = cohort[observed], ok[observed]
        cohort["y"] = ok.astype(float)
        agg = cohort.groupby(["unit", "period"], observed=True)["y"].agg(["mean", "size"])
    else:
        acts = crm.require("activities", "impact")
        if "side" not in acts.columns:
            raise MissingTableError("activities.side", "impact")
        sales = acts.loc[acts["side"] == "sales", ["lead_id", "at"]]
        merged = sales.merge(cohort[["mql_at"]], left_on="lead_id", right_index=True)
        merged = merged[merged["at"] >= merged["mql_at"]]
        first = merged.groupby("lead_id")["at"].min()
        cohort["y"] = (first.reindex(cohort.index) - cohort["mql_at"]).dt.total_seconds() / 3600
        touched = cohort.dropna(subset=["y"])
        agg = touched.groupby(["unit", "period"], observed=True)["y"].agg(["median", "size"])
    agg.columns = ["value", "n"]
    return agg.reset_index()


def _deal_panel(crm: CrmData, metric: str, units: pd.DataFrame, period: str) -> pd.DataFrame:
    opps = crm.require("opportunities", "impact")
    if "lead_id" not in opps.columns:
        raise MissingTableError("opportunities.lead_id", "impact")
    closed = opps[opps["outcome"].isin(["won", "lost"]) & opps["closed_at"].notna()]
    closed = closed.merge(units, on="lead_id", how="inner")
    closed = closed.assign(period=_period_start(closed["closed_at"], period))
    won = (closed["outcome"] == "won").astype(float)
    if metric == "win_rate":
        agg = won.groupby([closed["unit"], closed["period"]]).agg(["mean", "size"])
    else:
        amount = closed["amount"].where(closed["outcome"] == "won", 0.0).fillna(0.0)
        agg = pd.DataFrame(
            {
                "value": amount.groupby([closed["unit"], closed["period"]]).sum(),
                "n": won.groupby([closed["unit"], closed["period"]]).sum(),
            }
        )
        # A unit with no won deal in a period earned nothing: fill the grid with zeros.
        grid = pd.MultiIndex.from_product(
            [agg.index.get_level_values(0).unique(), agg.index.get_level_values(1).unique()],
            names=["unit", "period"],
        )
        agg = agg.reindex(grid, fill_value=0.0)
    agg.columns = ["value", "n"]
    agg.index.names = ["unit", "period"]
    return agg.reset_index()


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckResult:
    """A pre-period check: a placebo effect that should be zero if the design holds."""

    name: str  # catalogue key under impact.check_*
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    passed: bool | None  # None when there is not enough pre-period data to check

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "estimate": self.estimate,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "passed": self.passed,
        }


@dataclass(frozen=True)
class EffectResult:
    """An estimated programme effect with its interval, check and caveats."""

    method: str  # catalogue key under impact.method_*
    metric: str
    estimate: float
    ci_low: float
    ci_high: float
    p_value: float | None
    inference: str  # catalogue key under impact.inference_*
    check: CheckResult
    assumptions: tuple[str, ...]  # catalogue keys under impact.assumption_*
    n_units: int
    n_treated: int
    n_periods: int
    alpha: float = 0.05
    start: pd.Timestamp | None = None
    period_unit: str | None = None  # one period of the panel: day, week, month... (see above)
    # Detail tables for plots: event-time effects, or the ITS fit and counterfactual.
    event_study: pd.DataFrame | None = field(default=None, compare=False, repr=False)
    fit: pd.DataFrame | None = field(default=None, compare=False, repr=False)

    @property
    def few_clusters(self) -> bool:
        return self.n_units < FEW_CLUSTERS and self.method != "its"

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies in the interval."""
        return self.ci_low <= value <= self.ci_high

    def sentence(self, lang: str = "en") -> str:
        """What the estimate says, what is causal and what it rests on, in plain words."""
        values = {
            "metric": t(f"impact.metric_{self.metric}", lang) if self.metric else "",
            "estimate": format_effect(self.estimate, self.metric, lang),
            "low": format_effect(self.ci_low, self.metric, lang),
            "high": format_effect(self.ci_high, self.metric, lang),
            "method": t(f"impact.method_{self.method}", lang),
        }
        parts = [t("impact.sentence_effect", lang, **values)]
        if self.ci_low <= 0 <= self.ci_high:
            parts.append(t("impact.sentence_includes_zero", lang))
        parts.append(t(f"impact.sentence_causal_{self.method}", lang))
        if self.check.passed is None:
            parts.append(t("impact.sentence_check_missing", lang))
        elif self.check.passed:
            parts.append(t(f"impact.sentence_check_passed_{self.method}", lang))
        else:
            parts.append(t(f"impact.sentence_check_failed_{self.method}", lang))
        if self.few_clusters:
            key = "sentence_few_units" if self.inference == "permutation" else "sentence_few_boot"
            parts.append(t(f"impact.{key}", lang, n=self.n_units))
        return " ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "method": self.method,
            "metric": self.metric,
            "estimate": self.estimate,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "alpha": self.alpha,
            "p_value": self.p_value,
            "inference": self.inference,
            "check": self.check.to_dict(),
            "assumptions": list(self.assumptions),
            "n_units": self.n_units,
            "n_treated": self.n_treated,
            "n_periods": self.n_periods,
            "start": None if self.start is None else self.start.isoformat(),
            "period_unit": self.period_unit,
        }
        if self.event_study is not None:
            out["event_study"] = self.event_study.to_dict(orient="records")
        return out


def format_effect(value: float, metric: str, lang: str = "en") -> str:
    """An effect in the metric's unit (percentage points for rates)."""
    if metric in RATE_METRICS:
        return t("impact.unit_pp", lang, value=fmt_signed(value * 100, lang, 1))
    if metric == "response_time":
        return t("impact.unit_hours", lang, value=fmt_signed(value, lang, 1))
    return fmt_signed(value, lang, 0 if abs(value) >= 100 else 2)


# ---------------------------------------------------------------------------------------------
# Difference-in-differences
# ---------------------------------------------------------------------------------------------


def _prepare(panel: pd.DataFrame, starts: Mapping[str, Any]) -> tuple[pd.DataFrame, np.ndarray]:
    for col in ("unit", "period", "value"):
        if col not in panel.columns:
            raise MissingTableError(f"panel.{col}", "impact")
    df = panel.dropna(subset=["value"]).copy()
    df["unit"] = df["unit"].astype("str")
    df["period"] = pd.to_datetime(df["period"])
    if "n" not in df.columns:
        df["n"] = 1.0
    periods = np.sort(df["period"].unique())
    df["t"] = np.searchsorted(periods, df["period"].to_numpy())
    start_idx = {}
    for u, s in starts.items():
        ts = pd.Timestamp(s)
        ts = ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo is not None else ts
        start_idx[str(u)] = int(np.searchsorted(periods, np.datetime64(ts), side="right") - 1)
    df["g"] = df["unit"].map(start_idx).astype("float")  # NaN = never treated
    treated = df["g"].notna()
    if not treated.any() or treated.all():
        raise KitError("impact.need_treated_and_control")
    if (df.loc[treated, "g"] < 1).any():
        raise KitError("impact.no_pre_period")
    df["d"] = (treated & (df["t"] >= df["g"])).astype(float)
    return df.sort_values(["unit", "t"], kind="stable").reset_index(drop=True), periods


def did_effect(
    panel: pd.DataFrame | CrmData,
    starts: Mapping[str, Any],
    *,
    metric: str | None = None,
    unit: str = "region",
    weighted: bool | None = None,
    alpha: float = 0.05,
    n_boot: int = 999,
    seed: int = 0,
    window: int = 4,
    permutation: bool = True,
) -> EffectResult:
    """Difference-in-differences of a unit x period panel (from :func:`outcome_panel`; given the
    CRM data instead, the panel of ``metric`` by ``unit`` is built first).

    ``starts`` maps each treated unit to its programme start date; the other units are the
    comparison. With one common start date this is a weighted least-squares regression with unit
    and period fixed effects (weights ``n``, the cases behind each value; unweighted for
    ``revenue`` or with ``weighted=False``). With start dates that
    differ (a roll-out in waves) it is a stacked difference-in-differences (Cengiz et al. 2019):
    one sub-experiment per start date, each with only clean controls (never treated, or not yet
    treated until the sub-experiment ends), fixed effects per sub-experiment; unlike a plain
    two-way fixed-effects regression it never uses already-treated units as controls, so it
    stays unbiased when effects differ by start date.

    Inference clusters by unit. With fewer than 30 units, cluster-robust errors are unreliable:
    the interval and p-value then come from randomisation inference (the same estimate with the
    start dates reassigned to units in every possible way, or 199 random ways; the
    interval collects the effects the data cannot reject, so it is valid whenever the schedule
    could as well have fallen on any units), and, when there are too few ways to reassign for a
    95% statement, from a wild cluster bootstrap-t (Webb six-point weights).
    The check is a placebo: the same estimate on pre-start data only, with a fake start half-way
    through it. ``event_study`` holds effects by period relative to the start (period -1 is the
    reference) with cluster-robust intervals, for the plot.
    """
    if isinstance(panel, CrmData):
        panel = outcome_panel(panel, metric or "mql_to_sql", unit)
    metric = metric or panel.attrs.get("metric", "")
    if weighted is None:
        weighted = metric != "revenue"  # a sum per period, not a mean of cases
    df, periods = _prepare(panel, starts)
    if weighted:
        df = df[df["n"] > 0]  # a cell with no cases carries no information
    stacked = _stack(df)
    # Many small matrix products: one BLAS thread is much faster than oversubscribed threads.
    with threadpool_limits(limits=1, user_api="blas"), np.errstate(invalid="ignore"):
        est, low, high, p, inference = _twfe(stacked, weighted, alpha, n_boot, seed)
        if inference == "wild_bootstrap" and permutation:
            perm = _permutation(df, weighted, alpha, min(n_boot, MAX_SCHEDULES), seed)
            if perm is not None:
                low, high, p = perm
                inference = "permutation"
        check = _placebo_check(df, weighted, alpha, n_boot, seed, permutation)
        events = _event_study(stacked, weighted, alpha, window)
    staggered = stacked["stack"].nunique() > 1
    return EffectResult(
        method="staggered" if staggered else "did",
        metric=metric,
        estimate=est,
        ci_low=low,
        ci_high=high,
        p_value=p,
        inference=inference,
        check=check,
        assumptions=("parallel_trends", "no_anticipation", "no_spillover"),
        n_units=df["unit"].nunique(),
        n_treated=df.loc[df["g"].notna(), "unit"].nunique(),
        n_periods=len(periods),
        alpha=alpha,
        start=pd.Timestamp(periods[int(df["g"].min())]),
        period_unit=period_unit(periods),
        event_study=events,
    )


def staggered_did(panel: pd.DataFrame, starts: Mapping[str, Any], **kwargs: Any) -> EffectResult:
    """Alias of :func:`did_effect`, which switches to the stacked design for staggered starts."""
    return did_effect(panel, starts, **kwargs)


def _stack_rows(
    unit: np.ndarray, t: np.ndarray, start: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows of the stacked design: per start date g, the units starting at g and the clean
    controls (never treated, or not before the stack ends), up to the stack's end.

    ``unit`` and ``t`` are per row (unit codes, period indices); ``start`` per unit code (NaN =
    never). Returns the selected row indices, their stack (start index) and treated flag.
    """
    starts = np.unique(start[~np.isnan(start)]).astype(int)
    has_never = bool(np.isnan(start).any())
    last = int(t.max())
    row_start = start[unit]
    idx, stack, treated = [], [], []
    for i, g in enumerate(starts):
        end = last if has_never or i == len(starts) - 1 else int(starts[i + 1]) - 1
        clean = np.isnan(row_start) | (row_start > end)
        if not (clean & (t <= end)).any():
            continue
        sel = np.flatnonzero(((row_start == g) | clean) & (t <= end))
        idx.append(sel)
        stack.append(np.full(len(sel), g))
        treated.append(row_start[sel] == g)
    if not idx:
        raise KitError("impact.no_comparison")
    return np.concatenate(idx), np.concatenate(stack), np.concatenate(treated)


def _fixed_effects(unit: np.ndarray, t: np.ndarray, stack: np.ndarray) -> np.ndarray:
    """Unit x stack and period x stack dummies (one unit and each stack's first period dropped),
    plus an intercept."""
    ukey = pd.factorize(unit.astype(np.int64) * 100_003 + stack, sort=True)[0]
    first = t == pd.Series(t).groupby(stack).transform("min").to_numpy()
    tkey = pd.factorize(np.where(first, -1, t.astype(np.int64) * 100_003 + stack), sort=True)[0]
    u_dum = np.zeros((len(t), ukey.max() + 1))
    u_dum[np.arange(len(t)), ukey] = 1.0
    t_dum = np.zeros((len(t), tkey.max() + 1))
    t_dum[np.arange(len(t)), tkey] = 1.0
    if first.any():
        t_dum = t_dum[:, 1:]  # code 0 is the stacks' first periods (key -1 sorts first)
    return np.hstack([u_dum[:, 1:], t_dum, np.ones((len(t), 1))])


def _unit_codes(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit code per row, the units in code order and each unit's start (NaN = never)."""
    codes, units = pd.factorize(df["unit"], sort=True)
    start = df.groupby("unit")["g"].first().reindex(units).to_numpy(float)
    return codes, np.asarray(units), start


def _stack(df: pd.DataFrame) -> pd.DataFrame:
    """The stacked panel (see :func:`_stack_rows`) with stack, treated and ``d`` columns."""
    codes, _, start = _unit_codes(df)
    idx, stack, treated = _stack_rows(codes, df["t"].to_numpy(), start)
    out = df.iloc[idx].reset_index(drop=True)
    out["stack"] = stack
    out["treated"] = treated
    out["d"] = (treated & (out["t"].to_numpy() >= stack)).astype(float)
    out["cluster"] = out["unit"]
    out["unit_code"] = codes[idx]
    return out


def _design(df: pd.DataFrame, extra: list[str]) -> np.ndarray:
    """Regressors of interest first, then the stacked fixed effects."""
    fe = _fixed_effects(df["unit_code"].to_numpy(), df["t"].to_numpy(), df["stack"].to_numpy())
    return np.hstack([df[extra].to_numpy(float), fe])


def _twfe(
    df: pd.DataFrame, weighted: bool, alpha: float, n_boot: int, seed: int
) -> tuple[float, float, float, float, str]:
    x = _design(df, ["d"])
    y = df["value"].to_numpy(float)
    w = df["n"].to_numpy(float) if weighted else np.ones(len(df))
    groups = pd.factorize(df["cluster"], sort=True)[0]
    fit = sm.WLS(y, x, weights=w).fit(cov_type="cluster", cov_kwds={"groups": groups})
    est = float(fit.params[0])
    n_clusters = int(groups.max() + 1)
    if n_clusters >= FEW_CLUSTERS:
        low, high = (float(v) for v in fit.conf_int(alpha)[0])
        return est, low, high, float(fit.pvalues[0]), "cluster"
    low, high, p = _wild_cluster_bootstrap(x, y, w, groups, alpha, n_boot, seed)
    return est, low, high, p, "wild_bootstrap"


def _schedules(labels: np.ndarray, limit: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Distinct reorderings of the units' start labels: all of them, or ``limit`` at random."""
    values, counts = np.unique(labels, return_counts=True)
    total = math.factorial(len(labels)) // math.prod(math.factorial(int(c)) for c in counts)
    if total > limit:
        return [labels, *(rng.permutation(labels) for _ in range(limit - 1))]
    out: list[np.ndarray] = []

    def build(prefix: list[float], left: np.ndarray) -> None:
        if len(prefix) == len(labels):
            out.append(np.array(prefix))
            return
        for i, v in enumerate(values):
            if left[i]:
                left[i] -= 1
                build([*prefix, v], left)
                left[i] += 1

    build([], counts.copy())
    return [labels, *(o for o in out if not np.array_equal(o, labels))]


def _permutation(
    df: pd.DataFrame, weighted: bool, alpha: float, n_perm: int, seed: int
) -> tuple[float, float, float] | None:
    """Randomisation interval and p-value: start dates reassigned across units.

    Under "the effect is tau everywhere", ``value - tau * d`` has no effect, so its estimate under
    the real schedule should not stand out among its estimates under reassigned schedules. Each
    estimate is linear in tau (``A - tau * B``), so the whole interval is read off one pass.
    None when there are too few distinct schedules to reach ``alpha``.
    """
    codes, _, start = _unit_codes(df)
    labels = np.nan_to_num(start, nan=-1.0)
    rng = np.random.default_rng(seed)
    schedules = _schedules(labels, max(n_perm, 1), rng)
    if len(schedules) * alpha < 1:
        return None
    t_all = df["t"].to_numpy()
    y_all = df["value"].to_numpy(float)
    w_all = df["n"].to_numpy(float) if weighted else np.ones(len(df))
    d_all = df["d"].to_numpy(float)  # the real treatment, whatever the schedule
    a_list, b_list = [], []
    for sched in schedules:
        try:
            idx, stack, treated = _stack_rows(codes, t_all, np.where(sched < 0, np.nan, sched))
        except KitError:
            continue
        t_rows = t_all[idx]
        d = (treated & (t_rows >= stack)).astype(float)
        x = np.hstack([d[:, None], _fixed_effects(codes[idx], t_rows, stack)])
        sw = np.sqrt(w_all[idx])
        row = np.linalg.pinv(x * sw[:, None])[0] * sw
        a_list.append(float(row @ y_all[idx]))
        b_list.append(float(row @ d_all[idx]))
    a, b = np.array(a_list), np.array(b_list)
    est = a[0]  # the first schedule is the real one
    spread = float(np.max(np.abs(a - est))) or 1.0
    taus = np.linspace(est - 6 * spread, est + 6 * spread, 4001)
    stat = np.abs(a[:, None] - taus[None, :] * b[:, None])
    p = (stat >= np.abs(est - taus)[None, :] - 1e-12).mean(axis=0)
    kept = taus[p > alpha]
    p0 = float((np.abs(a) >= abs(est) - 1e-12).mean())
    return float(kept.min()), float(kept.max()), p0


def _wild_cluster_bootstrap(
    x: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    groups: np.ndarray,
    alpha: float,
    n_boot: int,
    seed: int,
) -> tuple[float, float, float]:
    """Bootstrap-t interval and p-value for the first coefficient (unrestricted, Webb weights)."""
    sw = np.sqrt(w)
    xw, yw = x * sw[:, None], y * sw
    pinv = np.linalg.pinv(xw)  # rows: (X'WX)^-1 X'W^(1/2)
    a = pinv[0]
    beta = pinv @ yw
    resid = yw - xw @ beta
    n_g = int(groups.max() + 1)
    n = x.shape[0]
    rank = np.linalg.matrix_rank(xw)
    corr = n_g / (n_g - 1) * (n - 1) / (n - rank) if n > rank else 1.0

    def se(res: np.ndarray) -> np.ndarray:
        # res: n x B residuals -> cluster-robust standard error of coefficient 0 per column
        scores = np.zeros((n_g, res.shape[1]))
        np.add.at(scores, groups, a[:, None] * res)
        return np.sqrt(corr * (scores**2).sum(axis=0))

    se0 = float(se(resid[:, None])[0])
    est = float(beta[0])
    if se0 < 1e-12:  # an exact fit: nothing to resample
        return est, est, (1.0 if abs(est) < 1e-9 else 0.0)
    rng = np.random.default_rng(seed)
    webb = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])
    v = rng.choice(webb, size=(n_g, n_boot))[groups]  # n x B
    y_star = (xw @ beta)[:, None] + resid[:, None] * v
    b_star = pinv @ y_star
    res_star = y_star - xw @ b_star
    t_star = (b_star[0] - est) / np.maximum(se(res_star), 1e-300)
    q_low, q_high = np.quantile(t_star, [alpha / 2, 1 - alpha / 2])
    low, high = est - q_high * se0, est - q_low * se0
    p = float(np.mean(np.abs(t_star) >= abs(est / se0)))
    return float(low), float(high), p


def _placebo_check(
    df: pd.DataFrame, weighted: bool, alpha: float, n_boot: int, seed: int, permutation: bool
) -> CheckResult:
    """The design re-run before the first start, with a fake common start half-way through."""
    first = int(df["g"].min())
    if first < 4:
        return CheckResult("placebo_start", None, None, None, None)
    pre = df[df["t"] < first].copy()
    pre["g"] = np.where(pre["g"].notna(), first - first // 2, np.nan)
    pre["d"] = (pre["g"].notna() & (pre["t"] >= pre["g"])).astype(float)
    est, low, high, _, inference = _twfe(_stack(pre), weighted, alpha, n_boot, seed + 1)
    if inference == "wild_bootstrap" and permutation:
        perm = _permutation(pre, weighted, alpha, min(n_boot, MAX_SCHEDULES), seed + 1)
        if perm is not None:
            low, high, _ = perm
    return CheckResult("placebo_start", est, low, high, bool(low <= 0 <= high))


def _event_study(df: pd.DataFrame, weighted: bool, alpha: float, window: int) -> pd.DataFrame:
    """Effects by period relative to the start (-1 is the reference), cluster-robust intervals."""
    rel = (df["t"] - df["stack"]).where(df["treated"]).clip(-window, window)
    names, cols = [], {}
    for e in range(-window, window + 1):
        if e != -1:
            name = f"e{e + window}"
            cols[name] = (rel == e).astype(float)
            names.append((e, name))
    data = df.assign(**cols)
    keep = [nm for _, nm in names if data[nm].sum() > 0]
    w = data["n"].to_numpy(float) if weighted else np.ones(len(data))
    fit = sm.WLS(data["value"].to_numpy(float), _design(data, keep), weights=w).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(data["cluster"], sort=True)[0]}
    )
    ci = fit.conf_int(alpha)
    rows = [{"event_time": -1, "estimate": 0.0, "ci_low": 0.0, "ci_high": 0.0}]
    for e, nm in names:
        if nm in keep:
            j = keep.index(nm)
            rows.append(
                {
                    "event_time": e,
                    "estimate": float(fit.params[j]),
                    "ci_low": float(ci[j, 0]),
                    "ci_high": float(ci[j, 1]),
                }
            )
    return pd.DataFrame(rows).sort_values("event_time").reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# Interrupted time series
# ---------------------------------------------------------------------------------------------


def _its_fit(
    series: pd.Series, start_t: int, seasonal: bool, maxlags: int | None
) -> tuple[Any, pd.DataFrame, np.ndarray]:
    n = len(series)
    tt = np.arange(n, dtype=float)
    post = (tt >= start_t).astype(float)
    data = pd.DataFrame(
        {"y": series.to_numpy(float), "time": tt, "post": post, "since": post * (tt - start_t)}
    )
    formula = "y ~ time + post + since"
    if seasonal and start_t >= 24:
        data["month"] = pd.DatetimeIndex(series.index).month.astype(str)
        formula += " + C(month)"
    lags = 1 if maxlags is None else maxlags
    fit = smf.ols(formula, data=data).fit(
        cov_type="HAC", cov_kwds={"maxlags": lags, "use_correction": True}, use_t=True
    )
    names = list(fit.params.index)
    contrast = np.zeros(len(names))
    post_rows = data["post"] == 1
    contrast[names.index("post")] = 1.0
    contrast[names.index("since")] = float(data.loc[post_rows, "since"].mean())
    return fit, data, contrast


def interrupted_time_series(
    series: pd.Series,
    start: Any,
    *,
    metric: str = "",
    seasonal: bool = True,
    maxlags: int | None = None,
    alpha: float = 0.05,
) -> EffectResult:
    """Segmented regression of one unit's series around the programme start.

    ``series`` is indexed by period start dates (one value per period, e.g. a column of
    :func:`outcome_panel` for one unit or the whole company). The model has a trend, a level
    change and a slope change at ``start``, month-of-year effects when there are two years of
    data, and Newey-West (HAC) errors with a small-sample correction and t quantiles
    (``maxlags`` 1 by default: in simulations of 4-year monthly series, more lags made the
    intervals too narrow; strongly autocorrelated residuals still make them optimistic, a
    known limit of HAC errors on short series). The estimate is the average gap
    between what was observed after the start and the extrapolated pre-start trend. The check
    refits on pre-start data only with a fake start half-way through it.
    """
    s = series.dropna().sort_index()
    idx = pd.DatetimeIndex(s.index)
    if idx.tz is not None:
        idx = idx.tz_convert("UTC").tz_localize(None)
    s.index = idx
    ts = pd.Timestamp(start)
    ts = ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo is not None else ts
    start_t = int(np.searchsorted(idx.to_numpy(), np.datetime64(ts), side="left"))
    if start_t < 3 or start_t >= len(s) - 1:
        raise KitError("impact.its_too_short", pre=start_t, post=len(s) - start_t)
    fit, data, contrast = _its_fit(s, start_t, seasonal, maxlags)
    test = fit.t_test(contrast)
    est = float(np.squeeze(test.effect))
    low, high = (float(v) for v in np.squeeze(test.conf_int(alpha)))
    p = float(np.squeeze(test.pvalue))
    counter = data.assign(post=0.0, since=0.0)
    pred = fit.get_prediction(counter).summary_frame(alpha)
    frame = pd.DataFrame(
        {
            "period": idx,
            "observed": data["y"].to_numpy(),
            "fitted": fit.fittedvalues.to_numpy(),
            "counterfactual": pred["mean"].to_numpy(),
            "cf_low": pred["mean_ci_lower"].to_numpy(),
            "cf_high": pred["mean_ci_upper"].to_numpy(),
            "post": data["post"].to_numpy() == 1,
        }
    )
    fake = start_t // 2
    if fake >= 3 and start_t - fake >= 2:
        pf, _, pc = _its_fit(s.iloc[:start_t], fake, seasonal, maxlags)
        pt = pf.t_test(pc)
        pl, ph = (float(v) for v in np.squeeze(pt.conf_int(alpha)))
        check = CheckResult("placebo_start", float(np.squeeze(pt.effect)), pl, ph, pl <= 0 <= ph)
    else:
        check = CheckResult("placebo_start", None, None, None, None)
    return EffectResult(
        method="its",
        metric=metric,
        estimate=est,
        ci_low=low,
        ci_high=high,
        p_value=p,
        inference="hac",
        check=check,
        assumptions=("trend_continues", "no_other_change"),
        n_units=1,
        n_treated=1,
        n_periods=len(s),
        alpha=alpha,
        start=pd.Timestamp(idx[start_t]),
        period_unit=period_unit(idx),
        fit=frame,
    )
