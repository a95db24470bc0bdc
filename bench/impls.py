"""The benchmarked analyses, each written three ways: the kit, DuckDB SQL and plain pandas.

Every implementation takes the same canonical tables (:class:`helpers.model.CrmData` with the
default stage model) and the same ``as_of`` and returns a dict of small DataFrames with the same
columns, sorted the same way, so :func:`compare` can assert that the three agree before any
timing is published. The plain pandas versions are written as an analyst would: a
``groupby("lead_id").apply`` with a Python function per lead.

Metrics (the default stage model; MQL -> SQL is the handoff every analysis looks at):

- ``cohort``: MQL -> SQL conversion on monthly MQL entry cohorts by channel, ever and within 30
  days (counts, rate and Wilson 95% interval), as ``helpers.funnel.cohort_conversion``.
- ``time_to_convert``: days MQL -> SQL by persona: n, converted, median / p75 / p90 among
  converters and the Kaplan-Meier share converted within 30 / 60 / 90 days.
- ``sla``: ``helpers.sla.sla_compliance`` with calendar hours: per period MQLs delivered,
  accepted, rejected; per rep and period MQLs received, median response hours and the leads
  breaching each rule.
- ``persona``: ``helpers.personas.persona_scorecard``: leads, MQLs, SQLs, win rate, median cycle
  days and deal size per persona.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from helpers import funnel, personas, sla
from helpers.model import CrmData

Result = dict[str, pd.DataFrame]
Z95 = 1.959963984540054  # two-sided 95% normal quantile, as statsmodels uses for Wilson
WITHIN_DAYS = 30
HORIZONS = (30, 60, 90)
TERMS = sla.SlaTerms(mql_per_month=1000.0)  # calendar hours, 24 h / 5 in 14 days / 48 h
MQL, SAL, SQL = "mql", "sal", "sql"
MISSING = funnel.MISSING

COHORT_COLS = ["cohort", "channel", "n", "converted", "n_mature", "converted_within", "rate"]
COHORT_COLS += ["ci_low", "ci_high", "within_rate"]
TTC_COLS = ["persona", "n", "converted", "median_days", "p75_days", "p90_days"]
TTC_COLS += [f"p_within_{h}d" for h in HORIZONS]
MARKETING_COLS = ["period", "mql_delivered", "accepted", "rejected"]
SALES_COLS = ["rep", "period", "mql_received", "median_response_hours", "first_touch_breaches"]
SALES_COLS += ["attempts_breaches", "decision_breaches", "reason_missing", "leads_with_breach"]
PERSONA_COLS = ["persona", "leads", "mql", "sql", "mql_to_sql", "closed", "won", "win_rate"]
PERSONA_COLS += ["cycle_days_median", "deal_median", "deal_mean"]
INT_COLS = {"n", "converted", "n_mature", "converted_within", "mql_delivered", "accepted"}
INT_COLS |= {"rejected", "mql_received", "first_touch_breaches", "attempts_breaches"}
INT_COLS |= {"decision_breaches", "reason_missing", "leads_with_breach", "leads", "mql", "sql"}
INT_COLS |= {"closed", "won"}


def as_of(crm: CrmData) -> pd.Timestamp:
    """The analysis date every implementation uses: the latest stage entry or activity."""
    latest = crm.stage_history["entered_at"].max()
    if crm.activities is not None and len(crm.activities):
        latest = max(latest, crm.activities["at"].max())
    return latest


def _tidy(df: pd.DataFrame, cols: list[str], keys: list[str]) -> pd.DataFrame:
    """Columns in a fixed order, rows sorted by ``keys``, integers as int64, floats as float64."""
    out = df[cols].sort_values(keys, kind="stable").reset_index(drop=True)
    for c in cols:
        if c in keys:
            out[c] = out[c].astype("str")
        elif c in INT_COLS:
            out[c] = out[c].astype("int64")
        else:
            out[c] = out[c].astype("float64")
    return out


def compare(a: Result, b: Result, rtol: float = 1e-9, atol: float = 1e-9) -> str | None:
    """None when the two results hold the same numbers (floats up to noise), else why not."""
    if sorted(a) != sorted(b):
        return f"different tables: {sorted(a)} vs {sorted(b)}"
    for name in a:
        try:
            pd.testing.assert_frame_equal(a[name], b[name], rtol=rtol, atol=atol)
        except AssertionError as exc:
            return f"{name}: {str(exc)[:400]}"
    return None


def _wilson_sql(k: str, n: str) -> tuple[str, str]:
    z2 = Z95 * Z95
    p = f"({k}::DOUBLE / {n})"
    centre = f"({p} + {z2} / (2 * {n}))"
    half = f"({Z95} * sqrt({p} * (1 - {p}) / {n} + {z2} / (4 * {n} * {n})))"
    denom = f"(1 + {z2} / {n})"
    return f"({centre} - {half}) / {denom}", f"({centre} + {half}) / {denom}"


# --------------------------------------------------------------------------------------------
# cohort conversion
# --------------------------------------------------------------------------------------------


def cohort_kit(crm: CrmData, when: pd.Timestamp) -> Result:
    out = funnel.cohort_conversion(
        crm.stage_history,
        crm.stage_model,
        MQL,
        SQL,
        by="channel",
        leads=crm.leads,
        within_days=WITHIN_DAYS,
        as_of=when,
    )
    return {"cohort": _tidy(out, COHORT_COLS, ["cohort", "channel"])}


def _reach_sql(model: Any, stages: tuple[str, ...]) -> str:
    """SQL for per-lead reach times: first entry at a stage or at any later funnel stage."""
    fun = list(model.funnel)
    cols = []
    for s in stages:
        later = ", ".join(f"'{x}'" for x in fun[fun.index(s) :])
        cols.append(f"min(entered_at) FILTER (WHERE stage IN ({later})) AS {s}_at")
    return f"SELECT lead_id, {', '.join(cols)} FROM sh GROUP BY lead_id"


def cohort_duckdb(crm: CrmData, when: pd.Timestamp) -> Result:
    con = duckdb.connect()
    con.register("sh", crm.stage_history[["lead_id", "stage", "entered_at"]])
    con.register("leads", crm.leads[["lead_id", "channel"]])
    lo, hi = _wilson_sql("converted", "n")
    sql = f"""
    WITH reach AS ({_reach_sql(crm.stage_model, (MQL, SQL))}),
    f AS (
      SELECT strftime(timezone('UTC', r.mql_at), '%Y-%m') AS cohort,
             coalesce(l.channel, '{MISSING}') AS channel,
             r.sql_at IS NOT NULL AND r.sql_at <= $when AS conv,
             r.mql_at + INTERVAL {WITHIN_DAYS} DAY <= $when AS mature,
             r.sql_at - r.mql_at <= INTERVAL {WITHIN_DAYS} DAY AS fast
      FROM reach r LEFT JOIN leads l USING (lead_id)
      WHERE r.mql_at IS NOT NULL AND r.mql_at <= $when
    ), g AS (
      SELECT cohort, channel, count(*) AS n, count(*) FILTER (WHERE conv) AS converted,
             count(*) FILTER (WHERE mature) AS n_mature,
             count(*) FILTER (WHERE mature AND conv AND fast) AS converted_within
      FROM f GROUP BY ALL
    )
    SELECT *, converted::DOUBLE / n AS rate, {lo} AS ci_low, {hi} AS ci_high,
           CASE WHEN n_mature > 0 THEN converted_within::DOUBLE / n_mature END AS within_rate
    FROM g
    """
    out = con.execute(sql, {"when": when.to_pydatetime()}).df()
    con.close()
    return {"cohort": _tidy(out, COHORT_COLS, ["cohort", "channel"])}


def _naive_reach(sh: pd.DataFrame, model: Any, stages: tuple[str, ...]) -> pd.DataFrame:
    """Per lead, with a Python function per group: when it reached each of ``stages``."""
    fun = list(model.funnel)
    later = {s: set(fun[fun.index(s) :]) for s in stages}

    def one_lead(g: pd.DataFrame) -> tuple:
        first: dict[str, Any] = dict.fromkeys(stages)
        for stage, at in zip(g["stage"], g["entered_at"], strict=True):
            for s in stages:
                if stage in later[s] and (first[s] is None or at < first[s]):
                    first[s] = at
        return tuple(first.values())

    per = sh.groupby("lead_id")[["stage", "entered_at"]].apply(one_lead)
    cols = [f"{s}_at" for s in stages]
    out = pd.DataFrame(per.tolist(), index=per.index, columns=cols)
    return out.apply(lambda c: pd.to_datetime(c, utc=True).astype("datetime64[us, UTC]"))


def _wilson_np(k: pd.Series, n: pd.Series) -> tuple[pd.Series, pd.Series]:
    z2 = Z95 * Z95
    p = k / n
    centre = p + z2 / (2 * n)
    half = Z95 * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return (centre - half) / (1 + z2 / n), (centre + half) / (1 + z2 / n)


def cohort_naive(crm: CrmData, when: pd.Timestamp) -> Result:
    reach = _naive_reach(crm.stage_history, crm.stage_model, (MQL, SQL))
    reach = reach[reach["mql_at"].notna() & (reach["mql_at"] <= when)].copy()
    channel = crm.leads.set_index("lead_id")["channel"]
    reach["channel"] = channel.reindex(reach.index).fillna(MISSING)
    reach["cohort"] = reach["mql_at"].dt.strftime("%Y-%m")
    window = pd.Timedelta(days=WITHIN_DAYS)
    reach["conv"] = reach["sql_at"].notna() & (reach["sql_at"] <= when)
    reach["mature"] = reach["mql_at"] + window <= when
    reach["fast"] = reach["mature"] & reach["conv"] & (reach["sql_at"] - reach["mql_at"] <= window)
    out = (
        reach.groupby(["cohort", "channel"])
        .agg(
            n=("conv", "size"),
            converted=("conv", "sum"),
            n_mature=("mature", "sum"),
            converted_within=("fast", "sum"),
        )
        .reset_index()
    )
    out["rate"] = out["converted"] / out["n"]
    out["ci_low"], out["ci_high"] = _wilson_np(out["converted"], out["n"])
    out["within_rate"] = out["converted_within"] / out["n_mature"].where(out["n_mature"] > 0)
    return {"cohort": _tidy(out, COHORT_COLS, ["cohort", "channel"])}


# --------------------------------------------------------------------------------------------
# time to convert
# --------------------------------------------------------------------------------------------


def ttc_kit(crm: CrmData, when: pd.Timestamp) -> Result:
    out = funnel.time_to_convert(
        crm.stage_history,
        crm.stage_model,
        MQL,
        SQL,
        by="persona",
        leads=crm.leads,
        as_of=when,
        horizons=HORIZONS,
    )
    return {"time_to_convert": _tidy(out, TTC_COLS, ["persona"])}


def ttc_duckdb(crm: CrmData, when: pd.Timestamp) -> Result:
    con = duckdb.connect()
    con.register("sh", crm.stage_history[["lead_id", "stage", "entered_at"]])
    con.register("leads", crm.leads[["lead_id", "persona"]])
    km = ", ".join(
        f"coalesce(1 - product(1 - d::DOUBLE / at_risk) FILTER (WHERE days <= {h}), 0)"
        f" AS p_within_{h}d"
        for h in HORIZONS
    )
    sql = f"""
    WITH reach AS ({_reach_sql(crm.stage_model, (MQL, SQL))}),
    f AS (
      SELECT coalesce(l.persona, '{MISSING}') AS persona,
             r.sql_at IS NOT NULL AND r.sql_at <= $when AS event,
             greatest(epoch_us(CASE WHEN r.sql_at IS NOT NULL AND r.sql_at <= $when
                                    THEN r.sql_at ELSE $when END - r.mql_at) / 86400e6, 0.0)
               AS days
      FROM reach r LEFT JOIN leads l USING (lead_id)
      WHERE r.mql_at IS NOT NULL AND r.mql_at <= $when
    ), q AS (
      SELECT persona, count(*) AS n, count(*) FILTER (WHERE event) AS converted,
             quantile_cont(days, 0.5) FILTER (WHERE event) AS median_days,
             quantile_cont(days, 0.75) FILTER (WHERE event) AS p75_days,
             quantile_cont(days, 0.9) FILTER (WHERE event) AS p90_days
      FROM f GROUP BY persona
    ), t AS (  -- Kaplan-Meier: events and risk set at each distinct time
      SELECT persona, days, count(*) FILTER (WHERE event) AS d,
             sum(count(*)) OVER (PARTITION BY persona ORDER BY days DESC) AS at_risk
      FROM f GROUP BY persona, days
    ), k AS (
      SELECT persona, {km} FROM t WHERE d > 0 GROUP BY persona
    )
    SELECT q.*, k.* EXCLUDE (persona) FROM q LEFT JOIN k USING (persona)
    """
    out = con.execute(sql, {"when": when.to_pydatetime()}).df()
    con.close()
    for h in HORIZONS:
        out[f"p_within_{h}d"] = out[f"p_within_{h}d"].fillna(0.0)
    return {"time_to_convert": _tidy(out, TTC_COLS, ["persona"])}


def ttc_naive(crm: CrmData, when: pd.Timestamp) -> Result:
    from statsmodels.duration.survfunc import SurvfuncRight

    reach = _naive_reach(crm.stage_history, crm.stage_model, (MQL, SQL))
    reach = reach[reach["mql_at"].notna() & (reach["mql_at"] <= when)].copy()
    reach["persona"] = crm.leads.set_index("lead_id")["persona"].reindex(reach.index)
    reach["persona"] = reach["persona"].fillna(MISSING)
    reach["event"] = reach["sql_at"].notna() & (reach["sql_at"] <= when)
    stop = reach["sql_at"].where(reach["event"], when)
    reach["days"] = ((stop - reach["mql_at"]).dt.total_seconds() / 86400).clip(lower=0)
    rows = []
    for persona, g in reach.groupby("persona"):
        conv = g.loc[g["event"], "days"]
        row = {"persona": persona, "n": len(g), "converted": len(conv)}
        row |= {
            "median_days": conv.quantile(0.5),
            "p75_days": conv.quantile(0.75),
            "p90_days": conv.quantile(0.9),
        }
        if len(conv):
            sf = SurvfuncRight(g["days"].to_numpy(float), g["event"].to_numpy(int))
            for h in HORIZONS:
                before = sf.surv_times <= h
                row[f"p_within_{h}d"] = 1 - sf.surv_prob[before][-1] if before.any() else 0.0
        else:
            row |= {f"p_within_{h}d": 0.0 for h in HORIZONS}
        rows.append(row)
    return {"time_to_convert": _tidy(pd.DataFrame(rows), TTC_COLS, ["persona"])}


# --------------------------------------------------------------------------------------------
# SLA compliance
# --------------------------------------------------------------------------------------------


def sla_kit(crm: CrmData, when: pd.Timestamp) -> Result:
    res = sla.sla_compliance(crm, TERMS, period="M", as_of=when)
    return {
        "marketing": _tidy(res.marketing, MARKETING_COLS, ["period"]),
        "sales": _tidy(res.sales, SALES_COLS, ["rep", "period"]),
    }


def sla_duckdb(crm: CrmData, when: pd.Timestamp) -> Result:
    con = duckdb.connect()
    sh = crm.stage_history
    con.register("sh", sh[["lead_id", "stage", "entered_at", "reason"]])
    con.register("leads", crm.leads[["lead_id", TERMS.rep_column]])
    con.register("acts", crm.activities[["lead_id", "side", "at"]])
    win = TERMS.attempts_days
    sql = f"""
    CREATE TEMP TABLE m AS
    WITH reach AS ({_reach_sql(crm.stage_model, (MQL, SAL))}),
    rej AS (
      SELECT r.lead_id, arg_min(s.entered_at, s.entered_at) AS rejected_at,
             arg_min(s.reason, s.entered_at) AS reason
      FROM reach r JOIN sh s ON s.lead_id = r.lead_id
      WHERE s.stage = 'rejected' AND s.entered_at >= r.mql_at AND r.mql_at IS NOT NULL
      GROUP BY r.lead_id
    ), sales AS (
      SELECT lead_id, "at" AS touch_at FROM acts WHERE side IS NULL OR side = 'sales'
    ), touch AS (
      SELECT r.lead_id, min(a.touch_at) FILTER (WHERE a.touch_at <= $when) AS first_touch_at,
             count(*) FILTER (WHERE a.touch_at < r.mql_at + INTERVAL {win} DAY) AS attempts
      FROM reach r JOIN sales a ON a.lead_id = r.lead_id AND a.touch_at >= r.mql_at
      GROUP BY r.lead_id
    )
    SELECT r.lead_id, r.mql_at, r.sal_at AS accepted_at, j.rejected_at, j.reason,
           least(r.sal_at, j.rejected_at) AS decided_at,
           strftime(timezone('UTC', r.mql_at), '%Y-%m') AS period,
           coalesce(l.{TERMS.rep_column}, 'unassigned') AS rep,
           epoch_us(coalesce(t.first_touch_at, $when) - r.mql_at) / 3600e6 AS response_hours,
           coalesce(t.attempts, 0) AS attempts
    FROM reach r LEFT JOIN rej j USING (lead_id) LEFT JOIN touch t USING (lead_id)
         LEFT JOIN leads l USING (lead_id)
    WHERE r.mql_at IS NOT NULL AND r.mql_at <= $when
    """
    con.execute(sql, {"when": when.to_pydatetime()})
    marketing = con.execute(
        """SELECT period, count(*) AS mql_delivered, count(accepted_at) AS accepted,
                  count(rejected_at) AS rejected FROM m GROUP BY period"""
    ).df()
    rules = f"""
    WITH b AS (
      SELECT *,
        (response_hours > {TERMS.first_touch_hours})::INT AS ft,
        (mql_at + INTERVAL {win} DAY <= $when
           AND NOT coalesce(decided_at < mql_at + INTERVAL {win} DAY, false)
           AND attempts < {TERMS.attempts})::INT AS att,
        (epoch_us(coalesce(decided_at, $when) - mql_at) / 3600e6
           > {TERMS.decision_hours})::INT AS dc,
        (rejected_at IS NOT NULL AND reason IS NULL)::INT AS rm
      FROM m
    )
    SELECT rep, period, count(*) AS mql_received, median(response_hours) AS median_response_hours,
           sum(ft) AS first_touch_breaches, sum(att) AS attempts_breaches,
           sum(dc) AS decision_breaches, sum(rm) AS reason_missing,
           sum(greatest(ft, att, dc, rm)) AS leads_with_breach
    FROM b GROUP BY rep, period
    """
    sales = con.execute(rules, {"when": when.to_pydatetime()}).df()
    con.close()
    return {
        "marketing": _tidy(marketing, MARKETING_COLS, ["period"]),
        "sales": _tidy(sales, SALES_COLS, ["rep", "period"]),
    }


def sla_naive(crm: CrmData, when: pd.Timestamp) -> Result:
    fun = list(crm.stage_model.funnel)
    after_mql, after_sal = set(fun[fun.index(MQL) :]), set(fun[fun.index(SAL) :])
    acts = crm.activities
    sales_acts = acts[acts["side"].isna() | (acts["side"] == "sales")]
    touches: dict[str, list[pd.Timestamp]] = {}
    for lead, at in zip(sales_acts["lead_id"], sales_acts["at"], strict=True):
        touches.setdefault(lead, []).append(at)
    window = pd.Timedelta(days=TERMS.attempts_days)
    hour = pd.Timedelta(hours=1)

    def one_lead(g: pd.DataFrame) -> tuple | None:
        mql_at = accepted_at = None
        rejections = []
        for stage, at, reason in zip(g["stage"], g["entered_at"], g["reason"], strict=True):
            if stage in after_mql and (mql_at is None or at < mql_at):
                mql_at = at
            if stage in after_sal and (accepted_at is None or at < accepted_at):
                accepted_at = at
            if stage == "rejected":
                rejections.append((at, reason))
        if mql_at is None or mql_at > when:
            return None
        rejections = sorted(r for r in rejections if r[0] >= mql_at)
        rejected_at, reason = rejections[0] if rejections else (None, None)
        decided = [x for x in (accepted_at, rejected_at) if x is not None]
        decided_at = min(decided) if decided else None
        times = [at for at in touches.get(g.name, []) if at >= mql_at]
        seen = [at for at in times if at <= when]
        response = ((min(seen) if seen else when) - mql_at) / hour
        attempts = sum(1 for at in times if at < mql_at + window)
        early = decided_at is not None and decided_at < mql_at + window
        ft = response > TERMS.first_touch_hours
        att = (mql_at + window <= when) and not early and attempts < TERMS.attempts
        dc = ((decided_at or when) - mql_at) / hour > TERMS.decision_hours
        rm = rejected_at is not None and pd.isna(reason)
        flags = (int(ft), int(att), int(dc), int(rm))
        return (mql_at, accepted_at is not None, rejected_at is not None, response, *flags)

    per = crm.stage_history.groupby("lead_id")[["stage", "entered_at", "reason"]].apply(one_lead)
    per = per.dropna()
    cols = ["mql_at", "accepted", "rejected", "response_hours", "ft", "at", "dc", "rm"]
    per = pd.DataFrame(per.tolist(), index=per.index, columns=cols)
    per["period"] = pd.to_datetime(per["mql_at"], utc=True).dt.strftime("%Y-%m")
    rep = crm.leads.set_index("lead_id")[TERMS.rep_column]
    per["rep"] = rep.reindex(per.index).fillna("unassigned")
    per["any"] = per[["ft", "at", "dc", "rm"]].max(axis=1)
    marketing = (
        per.groupby("period")
        .agg(
            mql_delivered=("mql_at", "size"),
            accepted=("accepted", "sum"),
            rejected=("rejected", "sum"),
        )
        .reset_index()
    )
    sales = (
        per.groupby(["rep", "period"])
        .agg(
            mql_received=("mql_at", "size"),
            median_response_hours=("response_hours", "median"),
            first_touch_breaches=("ft", "sum"),
            attempts_breaches=("at", "sum"),
            decision_breaches=("dc", "sum"),
            reason_missing=("rm", "sum"),
            leads_with_breach=("any", "sum"),
        )
        .reset_index()
    )
    return {
        "marketing": _tidy(marketing, MARKETING_COLS, ["period"]),
        "sales": _tidy(sales, SALES_COLS, ["rep", "period"]),
    }


# --------------------------------------------------------------------------------------------
# persona scorecard
# --------------------------------------------------------------------------------------------


def persona_kit(crm: CrmData, when: pd.Timestamp) -> Result:
    out = personas.persona_scorecard(crm)
    return {"persona": _tidy(out, PERSONA_COLS, ["persona"])}


def persona_duckdb(crm: CrmData, when: pd.Timestamp) -> Result:
    con = duckdb.connect()
    con.register("sh", crm.stage_history[["lead_id", "stage"]])
    con.register("leads", crm.leads[["lead_id", "persona", "created_at"]])
    con.register("opps", crm.opportunities[["lead_id", "outcome", "amount", "closed_at"]])
    sql = """
    WITH l AS (SELECT lead_id, created_at, coalesce(persona, '(none)') AS persona FROM leads),
    s AS (
      SELECT lead_id, bool_or(stage = 'mql') AS is_mql, bool_or(stage = 'sql') AS is_sql
      FROM sh GROUP BY lead_id
    ), funnel AS (
      SELECT l.persona, count(*) FILTER (WHERE is_mql) AS mql,
             count(*) FILTER (WHERE is_mql AND is_sql) AS sql
      FROM s JOIN l USING (lead_id) GROUP BY l.persona
    ), deals AS (
      SELECT l.persona, count(*) AS closed, count(*) FILTER (WHERE o.outcome = 'won') AS won,
             median(epoch_us(o.closed_at - l.created_at) / 86400e6)
               FILTER (WHERE o.outcome = 'won') AS cycle_days_median,
             median(o.amount) FILTER (WHERE o.outcome = 'won') AS deal_median,
             avg(o.amount) FILTER (WHERE o.outcome = 'won') AS deal_mean
      FROM opps o JOIN l USING (lead_id) WHERE o.outcome IN ('won', 'lost') GROUP BY l.persona
    ), n AS (SELECT persona, count(*) AS leads FROM l GROUP BY persona)
    SELECT n.persona, n.leads, coalesce(f.mql, 0) AS mql, coalesce(f.sql, 0) AS sql,
           CASE WHEN f.mql > 0 THEN f.sql::DOUBLE / f.mql END AS mql_to_sql,
           coalesce(d.closed, 0) AS closed, coalesce(d.won, 0) AS won,
           CASE WHEN d.closed > 0 THEN d.won::DOUBLE / d.closed END AS win_rate,
           d.cycle_days_median, d.deal_median, d.deal_mean
    FROM n LEFT JOIN funnel f USING (persona) LEFT JOIN deals d USING (persona)
    """
    out = con.execute(sql).df()
    con.close()
    return {"persona": _tidy(out, PERSONA_COLS, ["persona"])}


def persona_naive(crm: CrmData, when: pd.Timestamp) -> Result:
    def one_lead(stages: pd.Series) -> tuple[bool, bool]:
        seen = set(stages)
        return "mql" in seen, "sql" in seen

    per = crm.stage_history.groupby("lead_id")["stage"].apply(one_lead)
    flags = pd.DataFrame(per.tolist(), index=per.index, columns=["is_mql", "is_sql"])
    leads = crm.leads.set_index("lead_id")
    persona = leads["persona"].fillna("(none)")
    flags["persona"] = persona.reindex(flags.index)
    flags["both"] = flags["is_mql"].astype(bool) & flags["is_sql"].astype(bool)
    out = persona.value_counts().rename("leads").to_frame()
    out["mql"] = flags.groupby("persona")["is_mql"].sum()
    out["sql"] = flags.groupby("persona")["both"].sum()
    out[["mql", "sql"]] = out[["mql", "sql"]].fillna(0)
    out["mql_to_sql"] = out["sql"] / out["mql"].where(out["mql"] > 0)
    opps = crm.opportunities
    closed = opps.loc[opps["outcome"].isin(["won", "lost"]), ["lead_id", "outcome", "amount"]]
    deals = closed.assign(closed_at=opps["closed_at"]).merge(
        crm.leads[["lead_id", "created_at", "persona"]], on="lead_id"
    )
    deals["persona"] = deals["persona"].fillna("(none)")

    def per_persona(g: pd.DataFrame) -> pd.Series:
        won = g[g["outcome"] == "won"]
        cycle = (won["closed_at"] - won["created_at"]).dt.total_seconds() / 86400
        return pd.Series(
            {
                "closed": len(g),
                "won": len(won),
                "cycle_days_median": cycle.median(),
                "deal_median": won["amount"].median(),
                "deal_mean": won["amount"].mean(),
            }
        )

    d = deals.groupby("persona")[["outcome", "closed_at", "created_at", "amount"]].apply(
        per_persona
    )
    out = out.join(d)
    out[["closed", "won"]] = out[["closed", "won"]].fillna(0)
    out["win_rate"] = out["won"] / out["closed"].where(out["closed"] > 0)
    out.index.name = "persona"
    return {"persona": _tidy(out.reset_index(), PERSONA_COLS, ["persona"])}


ANALYSES: dict[str, dict[str, Callable[[CrmData, pd.Timestamp], Result]]] = {
    "cohort_conversion": {"kit": cohort_kit, "duckdb": cohort_duckdb, "naive": cohort_naive},
    "time_to_convert": {"kit": ttc_kit, "duckdb": ttc_duckdb, "naive": ttc_naive},
    "sla_compliance": {"kit": sla_kit, "duckdb": sla_duckdb, "naive": sla_naive},
    "persona_scorecard": {"kit": persona_kit, "duckdb": persona_duckdb, "naive": persona_naive},
}
