"""Vectorised generator of the synthetic company's CRM export, with planted effects.

All randomness comes from one ``numpy.random.default_rng(seed)``, drawn in a fixed order, so the
same arguments give identical tables. Event times are built in Italian local time (business hours
and holidays matter for response times), converted to UTC, rounded to seconds and censored at the
end of the period: leads created near the end are still open.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import holidays
import numpy as np
import pandas as pd

from helpers.errors import KitError
from helpers.model import CrmData
from helpers.sample import company as co
from helpers.stages import load_stage_model

GENERATOR_VERSION = "1.0"
DEFAULT_RESPONSE_EFFECT = -0.5  # change of log-odds of SAL -> SQL per unit of log1p(hours)
REFERENCE_HOURS = 4.0  # response time at which the persona's sal_to_sql rate holds
TIMEZONE = "Europe/Rome"
DAY = 86_400
HOUR = 3_600
MAX_LEADS = 5_000_000
LEAD_GROWTH_PER_YEAR = 0.15
QUALIFICATION_TREND_PER_MONTH = 0.01
FOREIGN_ACCEPTANCE_LOGIT = -2.0
RECYCLE_AFTER_REJECTION = 0.35
RECYCLE_AFTER_SAL = 0.6
RECYCLE_AFTER_SQL = 0.5
NEVER_WORKED_AFTER_DAYS = 30
LOST_REASON_FILLED = 0.8


@dataclass
class SampleExport:
    """A generated company: canonical tables plus the truth planted in them."""

    tables: dict[str, pd.DataFrame]
    truth: dict[str, Any] = field(default_factory=dict)

    def to_crm(self) -> CrmData:
        """The tables as :class:`helpers.model.CrmData` with the default stage model."""
        return CrmData(**self.tables, stage_model=load_stage_model("default"))


def _logit(p: np.ndarray | float) -> np.ndarray | float:
    return np.log(p) - np.log1p(-np.asarray(p))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _choice_rows(rng: np.random.Generator, probs: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """One category per element, drawn from the probability row ``probs[rows]``."""
    cdf = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(len(rows))
    out = np.zeros(len(rows), dtype=np.int64)
    for j in range(probs.shape[1] - 1):  # loop over categories, not over leads
        out += u >= cdf[rows, j]
    return out


def _weights(table: dict[str, float], keys: tuple[str, ...]) -> np.ndarray:
    return np.array([table.get(k, 0.0) for k in keys], dtype=float)


def _to_utc(local_s: np.ndarray) -> np.ndarray:
    """Seconds of Italian wall-clock time -> seconds since the epoch in UTC."""
    idx = pd.DatetimeIndex(local_s.astype("datetime64[s]"))
    utc = idx.tz_localize(
        TIMEZONE, ambiguous=np.zeros(len(idx), dtype=bool), nonexistent="shift_forward"
    ).tz_convert("UTC")
    return utc.tz_localize(None).as_unit("s").asi8


def _holidays(start: pd.Timestamp, end: pd.Timestamp) -> np.ndarray:
    years = range(start.year, end.year + 2)
    return np.array(sorted(holidays.Italy(years=years)), dtype="datetime64[D]")


def _roll_to_business_hours(
    local_s: np.ndarray, jitter_s: np.ndarray, hol: np.ndarray
) -> np.ndarray:
    """Times outside 08:30-18:00 on working days move to the next opening (plus a jitter)."""
    day = (local_s // DAY).astype("datetime64[D]")
    sec = local_s % DAY
    opening = 8 * HOUR + 30 * 60
    after = sec >= 18 * HOUR
    outside = after | (sec < opening) | ~np.is_busday(day, holidays=hol)
    candidate = np.where(after, day + np.timedelta64(1, "D"), day)
    next_day = np.busday_offset(candidate, 0, roll="forward", holidays=hol)
    rolled = next_day.astype(np.int64) * DAY + opening + jitter_s
    return np.where(outside, rolled, local_s)


def _check_args(
    leads: int, seed: int, months: int, programme_uplift: float, response_effect: float, start: str
) -> pd.Timestamp:
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise KitError("sample.bad_seed", value=seed)
    if not isinstance(leads, (int, np.integer)) or not 1 <= leads <= MAX_LEADS:
        raise KitError("sample.bad_leads", value=leads, maximum=MAX_LEADS)
    if not isinstance(months, (int, np.integer)) or not 6 <= months <= 120:
        raise KitError("sample.bad_months", value=months)
    if not -0.3 <= programme_uplift <= 0.3:
        raise KitError("sample.bad_uplift", value=programme_uplift)
    if not -3.0 <= response_effect <= 3.0:
        raise KitError("sample.bad_response_effect", value=response_effect)
    try:
        ts = pd.Timestamp(start)
    except (ValueError, TypeError):
        raise KitError("sample.bad_start", value=start) from None
    if ts is pd.NaT or ts.tzinfo is not None:
        raise KitError("sample.bad_start", value=start)
    return ts.normalize()


def generate(
    leads: int = 10_000,
    seed: int = 2024,
    *,
    programme_uplift: float = 0.10,
    response_effect: float = DEFAULT_RESPONSE_EFFECT,
    start: str = "2024-01-01",
    months: int = 24,
) -> SampleExport:
    """Generate the synthetic company: ``leads`` leads over ``months`` months from ``start``.

    ``programme_uplift`` is the planted absolute rise of the MQL -> SQL probability for MQLs of
    treated regions from their programme start; ``response_effect`` is the coefficient ``b`` of
    ``log1p(response_hours)`` in the log-odds of SAL -> SQL (negative: slower is worse).
    """
    start_ts = _check_args(leads, seed, months, programme_uplift, response_effect, start)
    end_ts = start_ts + pd.DateOffset(months=months)
    rng = np.random.default_rng(seed)
    g = _Generator(rng, int(leads), start_ts, end_ts, programme_uplift, response_effect)
    tables = g.run()
    truth = g.truth(seed, int(months))
    return SampleExport(tables=tables, truth=truth)


class _Generator:
    """Holds the per-lead arrays while the tables are drawn (internal)."""

    def __init__(
        self,
        rng: np.random.Generator,
        n: int,
        start: pd.Timestamp,
        end: pd.Timestamp,
        uplift: float,
        b: float,
    ) -> None:
        self.rng, self.n, self.start, self.end = rng, n, start, end
        self.uplift, self.b = float(uplift), float(b)
        self.hol = _holidays(start, end)
        self.start_local = int(start.value // 10**9)
        self.end_local = int(end.value // 10**9)
        self.end_utc = int(_to_utc(np.array([self.end_local]))[0])
        self.facts: dict[str, Any] = {}

    # ----------------------------------------------------------------- leads
    def _created(self) -> np.ndarray:
        rng = self.rng
        days = np.arange(np.datetime64(self.start.date(), "D"), np.datetime64(self.end.date(), "D"))
        years = (days - days[0]).astype(np.int64) / 365.25
        month = (days.astype("datetime64[M]").astype(np.int64) % 12).astype(int)
        dom = (days - days.astype("datetime64[M]")).astype(np.int64) + 1
        w = (1.0 + LEAD_GROWTH_PER_YEAR * years) * np.asarray(co.MONTH_SEASONALITY)[month]
        w = w * np.where(np.is_busday(days), 1.0, 0.3)
        w = w * np.where(np.isin(days, self.hol), 0.4, 1.0)
        holiday_break = ((month == 11) & (dom >= 22)) | ((month == 0) & (dom <= 6))
        w = w * np.where(holiday_break, 0.4, 1.0)
        day = rng.choice(len(days), size=self.n, p=w / w.sum())
        hw = np.asarray(co.HOUR_WEIGHTS)
        hour = rng.choice(24, size=self.n, p=hw / hw.sum())
        sec = rng.integers(0, HOUR, size=self.n)
        local = days[day].astype(np.int64) * DAY + hour * HOUR + sec
        # the first hours of the first day are still the previous day in UTC: move them on
        local = np.where(_to_utc(local) < self.start_local, local + DAY, local)
        return np.sort(local, kind="stable")

    def _leads(self) -> None:
        rng, n = self.rng, self.n
        P = co.PERSONAS
        self.created_local = self._created()
        self.created = _to_utc(self.created_local)
        self.persona = rng.choice(len(P), size=n, p=np.array([p.share for p in P]))
        shares = np.array([r.share for r in co.REGIONS])
        self.region = rng.choice(len(co.REGIONS), size=n, p=shares / shares.sum())
        u = rng.random(n)
        n_sdr = np.array([len(r.sdrs) for r in co.REGIONS])
        n_own = np.array([len(r.owners) for r in co.REGIONS])
        self.sdr_names = np.array([s for r in co.REGIONS for s in r.sdrs])
        self.owner_names = np.array([s for r in co.REGIONS for s in r.owners])
        sdr_off = np.concatenate([[0], np.cumsum(n_sdr)[:-1]])
        own_off = np.concatenate([[0], np.cumsum(n_own)[:-1]])
        self.sdr = sdr_off[self.region] + (u * n_sdr[self.region]).astype(np.int64)
        self.owner = own_off[self.region] + (rng.random(n) * n_own[self.region]).astype(np.int64)
        src_w = np.array([_weights(p.sources, co.SOURCES) for p in P])
        self.source = _choice_rows(rng, src_w, self.persona)
        ind_w = np.array([_weights(p.industries, co.INDUSTRIES) for p in P])
        self.industry = _choice_rows(rng, ind_w, self.persona)
        job_w = np.array([_weights(p.job_levels, co.JOB_LEVELS) for p in P])
        self.job = _choice_rows(rng, job_w, self.persona)
        med = np.array([p.size_median for p in P])[self.persona]
        sig = np.array([p.size_sigma for p in P])[self.persona]
        self.size = np.maximum(1.0, np.round(med * np.exp(sig * rng.standard_normal(n))))
        rpe = np.array([p.revenue_per_employee for p in P])[self.persona]
        revenue = self.size * rpe * np.exp(0.3 * rng.standard_normal(n))
        self.revenue = np.round(revenue / 1000.0) * 1000.0
        self.counts = {}
        for col in ("web_visits", "content_downloads", "email_opens"):
            mean = np.array([getattr(p, col) for p in P])[self.persona]
            lam = rng.gamma(shape=6.0, scale=mean / 6.0)
            self.counts[col] = rng.poisson(lam)
        countries = tuple(co.COUNTRIES)
        self.country = rng.choice(len(countries), size=n, p=_weights(co.COUNTRIES, countries))
        self.countries = np.array(countries)

    # --------------------------------------------------------------- funnel
    def _funnel(self) -> None:
        rng, n, P, b = self.rng, self.n, co.PERSONAS, self.b
        # lead -> MQL
        mult = _weights(co.SOURCE_MQL_MULTIPLIER, co.SOURCES)[self.source]
        p_mql = np.clip(np.array([p.lead_to_mql for p in P])[self.persona] * mult, 0, 0.95)
        self.p_mql = p_mql
        self.is_mql = rng.random(n) < p_mql
        # scoring fires on a later visit, often at a similar time of day as the first one
        mql_days = np.floor(np.exp(np.log(3.0) + 1.0 * rng.standard_normal(n)))
        mql_extra = rng.integers(60, 3 * HOUR, n)
        self.mql_local = self.created_local + (mql_days * DAY).astype(np.int64) + mql_extra
        self.mql = _to_utc(self.mql_local)
        # programme exposure: treated region and MQL on/after the region's start
        reg_names = [r.name for r in co.REGIONS]
        start_local = np.full(len(reg_names), np.iinfo(np.int64).max)
        self.programme_starts: dict[str, str] = {}
        for name, offset in co.PROGRAMME_WAVES.items():
            ts = self.start + pd.DateOffset(months=offset)
            start_local[reg_names.index(name)] = ts.value // 10**9
            self.programme_starts[name] = ts.strftime("%Y-%m-%d")
        self.treated_post = self.mql_local >= start_local[self.region]
        # response time: heavy-tailed by SDR, rolled to business hours
        speed = _weights(co.SDR_SPEED_HOURS, tuple(self.sdr_names))[self.sdr]
        delay_h = speed * np.exp(1.2 * rng.standard_normal(n))
        self.shrink = float(np.exp(-4.0 * max(self.uplift, 0.0)))
        jitter = np.minimum(rng.exponential(40 * 60, size=n), 2 * HOUR).astype(np.int64)
        touch0 = _roll_to_business_hours(
            self.mql_local + (delay_h * HOUR).astype(np.int64), jitter, self.hol
        )
        delay1 = np.where(self.treated_post, delay_h * self.shrink, delay_h)
        touch1 = _roll_to_business_hours(
            self.mql_local + (delay1 * HOUR).astype(np.int64), jitter, self.hol
        )
        self.touch = _to_utc(touch1)
        r0 = (_to_utc(touch0) - self.mql) / HOUR
        self.response_hours = (self.touch - self.mql) / HOUR
        # never worked, acceptance and qualification
        p_nw = _weights(co.SDR_NEVER_WORKED, tuple(self.sdr_names))[self.sdr]
        self.p_nw = p_nw
        self.never_worked = self.is_mql & (rng.random(n) < p_nw)
        self.worked = self.is_mql & ~self.never_worked
        mql_month = (self.mql_local // DAY).astype("datetime64[D]").astype("datetime64[M]")
        cal_month = (mql_month.astype(np.int64) % 12).astype(int)
        t_months = (self.mql_local - self.start_local) / (DAY * 30.4375)
        common = (
            np.asarray(co.MONTH_QUALIFICATION_LOGIT)[cal_month]
            + QUALIFICATION_TREND_PER_MONTH * t_months
            + np.array([r.logit_effect for r in co.REGIONS])[self.region]
        )
        foreign = self.countries[self.country] != "IT"
        la = (
            _logit(np.array([p.mql_to_sal for p in P]))[self.persona]
            + common
            + FOREIGN_ACCEPTANCE_LOGIT * foreign
        )
        lq = (
            _logit(np.array([p.sal_to_sql for p in P]))[self.persona]
            - b * np.log1p(REFERENCE_HOURS)
            + common
        )
        cohort = self.is_mql & self.treated_post
        self.delta = _solve_delta(
            self.uplift,
            1 - p_nw[cohort],
            la[cohort],
            lq[cohort],
            b,
            r0[cohort],
            self.response_hours[cohort],
        )
        tp = self.treated_post * self.delta
        self.p_sal = _sigmoid(la + tp)
        self.p_sql = _sigmoid(lq + b * np.log1p(self.response_hours) + tp)
        p0 = (1 - p_nw) * _sigmoid(la) * _sigmoid(lq + b * np.log1p(r0))
        p1 = (1 - p_nw) * self.p_sal * self.p_sql
        self.facts["realised_att"] = float(np.mean((p1 - p0)[cohort])) if cohort.any() else 0.0
        if abs(self.facts["realised_att"] - self.uplift) > 1e-4 and cohort.any():
            raise KitError(
                "sample.uplift_unreachable",
                value=self.uplift,
                achieved=round(self.facts["realised_att"], 3),
            )
        self.facts["treated_post_mqls"] = int(cohort.sum())
        self.accepted = self.worked & (rng.random(n) < self.p_sal)
        self.rejected = self.worked & ~self.accepted
        self.qualified = self.accepted & (rng.random(n) < self.p_sql)
        self.p_opp = np.array([p.sql_to_opportunity for p in P])[self.persona]
        self.has_opp = self.qualified & (rng.random(n) < self.p_opp)
        self.p_win = np.array([p.win_rate for p in P])[self.persona]
        self.won = self.has_opp & (rng.random(n) < self.p_win)
        # reasons
        rr = np.array([_weights(p.reject_reasons, co.REJECT_REASONS) for p in P])
        reason = _choice_rows(rng, rr, self.persona)
        geo = co.REJECT_REASONS.index("wrong_geography")
        self.reject_reason = np.where(foreign & (rng.random(n) < 0.8), geo, reason)
        lost_keys = tuple(co.LOST_REASONS)
        lr = _weights(co.LOST_REASONS, lost_keys)
        self.lost_reason = rng.choice(len(lost_keys), size=n, p=lr / lr.sum())
        self.lost_reason_filled = rng.random(n) < LOST_REASON_FILLED
        self.lost_keys = np.array(lost_keys)
        # times (UTC seconds)
        self.sal_t = self.touch + rng.exponential(6 * HOUR, n).astype(np.int64) + 60
        self.rej_t = self.touch + rng.exponential(12 * HOUR, n).astype(np.int64) + 60
        self.recycled_rej = self.rejected & (rng.random(n) < RECYCLE_AFTER_REJECTION)
        self.recycle_rej_t = self.rej_t + rng.integers(1 * DAY, 5 * DAY, n)
        self.nw_t = self.mql + NEVER_WORKED_AFTER_DAYS * DAY
        self.sql_t = self.sal_t + (np.exp(np.log(6.0) + 0.6 * rng.standard_normal(n)) * DAY).astype(
            np.int64
        )
        self.recycled_sal = self.accepted & ~self.qualified & (rng.random(n) < RECYCLE_AFTER_SAL)
        self.recycle_sal_t = self.sal_t + rng.integers(20 * DAY, 60 * DAY, n)
        self.opp_t = self.sql_t + (np.exp(np.log(5.0) + 0.5 * rng.standard_normal(n)) * DAY).astype(
            np.int64
        )
        self.recycled_sql = self.qualified & ~self.has_opp & (rng.random(n) < RECYCLE_AFTER_SQL)
        self.recycle_sql_t = self.sql_t + rng.integers(15 * DAY, 45 * DAY, n)
        cyc = np.array([p.cycle_median_days for p in P])[self.persona]
        ae_factor = _weights(co.AE_CYCLE_FACTOR, tuple(self.owner_names))[self.owner]
        self.cycle_days = cyc * ae_factor * np.exp(0.5 * rng.standard_normal(n))
        self.close_t = self.opp_t + (self.cycle_days * DAY).astype(np.int64)
        deal = np.array([p.deal_median for p in P])[self.persona]
        size_med = np.array([p.size_median for p in P])[self.persona]
        amount = deal * (self.size / size_med) ** 0.25 * np.exp(0.45 * rng.standard_normal(n))
        self.amount = np.round(amount, 2)

    # ---------------------------------------------------------------- tables
    def run(self) -> dict[str, pd.DataFrame]:
        self._leads()
        self._funnel()
        ids = _ids("L", self.n)
        self.lead_ids = ids
        leads = self._leads_table()
        stage_history = self._stage_history()
        opportunities = self._opportunities()
        activities = self._activities()
        survey, words = _survey_and_words(self.rng)
        return {
            "leads": leads,
            "stage_history": stage_history,
            "opportunities": opportunities,
            "activities": activities,
            "survey": survey,
            "words": words,
        }

    def _leads_table(self) -> pd.DataFrame:
        rng, n = self.rng, self.n
        first = rng.integers(0, len(co.FIRST_NAMES), n)
        last = rng.integers(0, len(co.LAST_NAMES), n)
        owner_last = rng.integers(0, len(co.LAST_NAMES), n)
        word_pick = rng.integers(0, 3, n)
        words = np.array([co.COMPANY_WORDS[i] for i in co.INDUSTRIES])[self.industry, word_pick]
        seg = _segment(self.size)
        legal = _take(("S.r.l.s.", "S.r.l.", "S.p.A."), seg)
        first_s = _take(co.FIRST_NAMES, first)
        last_s = _take(co.LAST_NAMES, last)
        own_s = _take(co.LAST_NAMES, owner_last)
        word_s = pd.Series(words, dtype="str")
        company = own_s.str.capitalize() + " " + word_s.str.title() + " " + legal
        slug = own_s + "-" + word_s.str.replace(" ", "-", regex=False)
        email = first_s + "." + last_s + "@" + slug + ".example"
        codes = np.array([c for r in co.REGIONS for c in r.area_codes])
        code_idx = self.region * 3 + rng.integers(0, 3, n)
        num = rng.integers(0, 10**8, n)
        phone = (
            "+39 "
            + pd.Series(codes[code_idx], dtype="str")
            + " "
            + pd.Series(num // 10**4, dtype="int64").astype("str").str.zfill(4)
            + " "
            + pd.Series(num % 10**4, dtype="int64").astype("str").str.zfill(4)
        )
        P = co.PERSONAS
        channels = [co.CHANNEL_OF_SOURCE[s] for s in co.SOURCES]
        return pd.DataFrame(
            {
                "lead_id": self.lead_ids,
                "created_at": _ts(self.created),
                "source": _take(co.SOURCES, self.source),
                "channel": _take(channels, self.source),
                "persona": _take([p.name for p in P], self.persona),
                "segment": _take(SEGMENTS, seg),
                "region": _take([r.name for r in co.REGIONS], self.region),
                "industry": _take(co.INDUSTRIES, self.industry),
                "country": _take(self.countries, self.country),
                "company_size": self.size.astype(float),
                "sdr": _take(self.sdr_names, self.sdr),
                "owner": _take(self.owner_names, self.owner),
                "email": email.astype("str"),
                "phone": phone.astype("str"),
                "first_name": first_s.str.capitalize(),
                "last_name": last_s.str.capitalize(),
                "company": company.astype("str"),
                "job_level": _take(co.JOB_LEVELS, self.job),
                "annual_revenue": self.revenue.astype(float),
                "web_visits": self.counts["web_visits"].astype(np.int64),
                "content_downloads": self.counts["content_downloads"].astype(np.int64),
                "email_opens": self.counts["email_opens"].astype(np.int64),
            }
        )

    def _stage_history(self) -> pd.DataFrame:
        end = self.end_utc
        order = {
            "lead": 0,
            "mql": 1,
            "sal": 2,
            "rejected": 2,
            "never_worked": 2,
            "sql": 3,
            "opportunity": 4,
            "won": 5,
            "lost": 5,
            "recycled": 6,
        }
        why_vocab = [*co.REJECT_REASONS, *self.lost_keys, None]
        reasons = self.reject_reason
        lost = np.where(self.lost_reason_filled, len(co.REJECT_REASONS) + self.lost_reason, -1)
        no_reason = np.full(self.n, -1)
        parts = [
            ("lead", np.ones(self.n, bool), self.created, no_reason),
            ("mql", self.is_mql, self.mql, no_reason),
            ("never_worked", self.never_worked, self.nw_t, no_reason),
            ("sal", self.accepted, self.sal_t, no_reason),
            ("rejected", self.rejected, self.rej_t, reasons),
            ("recycled", self.recycled_rej, self.recycle_rej_t, no_reason),
            ("recycled", self.recycled_sal, self.recycle_sal_t, no_reason),
            ("sql", self.qualified, self.sql_t, no_reason),
            ("recycled", self.recycled_sql, self.recycle_sql_t, no_reason),
            ("opportunity", self.has_opp, self.opp_t, no_reason),
            ("won", self.won, self.close_t, no_reason),
            (
                "lost",
                self.has_opp & ~self.won,
                self.close_t,
                lost,
            ),
        ]
        idx, stage, at, why, rank = [], [], [], [], []
        model = load_stage_model("default")  # keys as the model spells them
        stage_vocab = list(order)
        for name, mask, t, r in parts:
            keep = np.flatnonzero(mask & (t < end))
            idx.append(keep)
            stage.append(np.full(len(keep), stage_vocab.index(name)))
            at.append(t[keep])
            why.append(r[keep])
            rank.append(np.full(len(keep), order[name]))
        idx_a, at_a, rank_a = np.concatenate(idx), np.concatenate(at), np.concatenate(rank)
        srt = np.lexsort((rank_a, at_a, idx_a))
        idx_a, at_a = idx_a[srt], at_a[srt]
        stage_a = np.concatenate(stage)[srt]
        why_a = np.concatenate(why)[srt]
        same_next = np.r_[idx_a[1:] == idx_a[:-1], False]
        nxt = np.r_[at_a[1:], 0]
        exited_mask = same_next
        return pd.DataFrame(
            {
                "lead_id": self.lead_ids.take(idx_a).reset_index(drop=True),
                "stage": _take([model.resolve(k) for k in stage_vocab], stage_a),
                "entered_at": _ts(at_a),
                "exited_at": _ts(nxt, exited_mask),
                "reason": _take(why_vocab, np.where(why_a < 0, len(why_vocab) - 1, why_a)),
            }
        )

    def _opportunities(self) -> pd.DataFrame:
        end = self.end_utc
        idx = np.flatnonzero(self.has_opp & (self.opp_t < end))
        idx = idx[np.lexsort((idx, self.opp_t[idx]))]
        closed = self.close_t[idx] < end
        won = self.won[idx]
        outcome = np.where(closed, np.where(won, "won", "lost"), "open")
        stage = np.where(closed, outcome, "opportunity")
        lost = self.lost_keys[self.lost_reason[idx]]
        lost_reason = np.where((outcome == "lost") & self.lost_reason_filled[idx], lost, None)
        return pd.DataFrame(
            {
                "opportunity_id": _ids("O", len(idx)),
                "lead_id": self.lead_ids.take(idx).reset_index(drop=True),
                "owner": _str(self.owner_names[self.owner[idx]]),
                "amount": self.amount[idx].astype(float),
                "created_at": _ts(self.opp_t[idx]),
                "closed_at": _ts(self.close_t[idx], closed),
                "outcome": _str(outcome),
                "stage": _str(stage),
                "lost_reason": _str(lost_reason),
            }
        )

    def _activities(self) -> pd.DataFrame:
        rng, n, end = self.rng, self.n, self.end_utc
        # vocabularies in alphabetical order, so sorting codes sorts the words
        sides = ("marketing", "sales")
        types = ("call", "content", "email", "meeting", "webinar")
        owners = [*self.sdr_names, *self.owner_names, "marketing_team"]
        call, content, email, meeting, webinar = range(len(types))
        ae = len(self.sdr_names) + self.owner
        lead, at, side, typ, owner = [], [], [], [], []

        def add(i: np.ndarray, t: np.ndarray, s: int, ty: np.ndarray, ow: np.ndarray) -> None:
            lead.append(i), at.append(t), side.append(np.full(len(i), s))
            typ.append(ty), owner.append(ow)

        # first sales touch
        first_type = np.where(rng.random(n) < 0.6, call, email)
        i = np.flatnonzero(self.worked)
        add(i, self.touch[i], 1, first_type[i], self.sdr[i])
        # SDR follow-ups until a decision
        lam = np.where(self.qualified, 2.0, np.where(self.accepted, 3.0, 0.5)) * self.worked
        k = rng.poisson(lam)
        i = np.repeat(np.arange(n), k)
        gaps = rng.exponential(2 * DAY, len(i))
        csum = np.cumsum(gaps)
        starts = np.r_[0, np.cumsum(k)[:-1]][k > 0]
        base = np.repeat(np.r_[0.0, csum][starts], k[k > 0])
        t = self.touch[i] + (csum - base).astype(np.int64)
        kinds = np.array([call, email, meeting])
        add(i, t, 1, kinds[rng.choice(3, len(i), p=[0.5, 0.35, 0.15])], self.sdr[i])
        # account executive touches during the deal
        k = (1 + rng.poisson(2.0, n)) * self.has_opp
        i = np.repeat(np.arange(n), k)
        span = self.close_t[i] - self.opp_t[i]
        t = self.opp_t[i] + (rng.random(len(i)) * span).astype(np.int64)
        add(i, t, 1, kinds[rng.choice(3, len(i), p=[0.3, 0.2, 0.5])], ae[i])
        # marketing touches (nurture emails, webinars, content)
        k = rng.poisson(1.2, n)
        i = np.repeat(np.arange(n), k)
        t = self.created[i] + rng.integers(0, 60 * DAY, len(i))
        mkinds = np.array([email, webinar, content])
        marketing = np.full(len(i), len(owners) - 1)
        add(i, t, 0, mkinds[rng.choice(3, len(i), p=[0.5, 0.2, 0.3])], marketing)
        lead_a, at_a, side_a, typ_a, owner_a = (
            np.concatenate(x) for x in (lead, at, side, typ, owner)
        )
        keep = at_a < end
        lead_a, at_a, side_a, typ_a, owner_a = (
            x[keep] for x in (lead_a, at_a, side_a, typ_a, owner_a)
        )
        srt = np.lexsort((typ_a, side_a, lead_a, at_a))
        return pd.DataFrame(
            {
                "activity_id": _ids("A", len(srt)),
                "lead_id": self.lead_ids.take(lead_a[srt]).reset_index(drop=True),
                "owner": _take(owners, owner_a[srt]),
                "side": _take(sides, side_a[srt]),
                "type": _take(types, typ_a[srt]),
                "at": _ts(at_a[srt]),
            }
        )

    # ----------------------------------------------------------------- truth
    def truth(self, seed: int, months: int) -> dict[str, Any]:
        P = co.PERSONAS
        personas = {}
        for k, p in enumerate(P):
            m = self.persona == k
            personas[p.name] = {
                "description": p.description,
                "share": p.share,
                "company_size_median": p.size_median,
                "company_size_log_sigma": p.size_sigma,
                "revenue_per_employee_median": p.revenue_per_employee,
                "industries": p.industries,
                "job_levels": p.job_levels,
                "web_visits_mean": p.web_visits,
                "content_downloads_mean": p.content_downloads,
                "email_opens_mean": p.email_opens,
                "rates": {
                    "lead_to_mql_base": p.lead_to_mql,
                    "mql_to_sal_base": p.mql_to_sal,
                    "sal_to_sql_at_reference_hours": p.sal_to_sql,
                    "sql_to_opportunity": p.sql_to_opportunity,
                    "win_rate": p.win_rate,
                },
                "deal_median": p.deal_median,
                "avg_deal_size": round(p.deal_median * float(np.exp(0.45**2 / 2)), 2),
                "sales_cycle_days_median": p.cycle_median_days,
                "expected_mql_to_sql": _r(np.mean(_mql_to_sql_expected(self)[m & self.is_mql]))
                if (m & self.is_mql).any()
                else None,
            }
        won_amounts = self.amount[self.won]
        treated = dict(self.programme_starts)
        control = [r.name for r in co.REGIONS if r.name not in treated]
        expected = _mql_to_sql_expected(self)
        return {
            "generator_version": GENERATOR_VERSION,
            "seed": int(seed),
            "leads": int(self.n),
            "start": self.start.strftime("%Y-%m-%d"),
            "end": self.end.strftime("%Y-%m-%d"),
            "months": months,
            "timezone": TIMEZONE,
            "export_end_utc": pd.Timestamp(self.end_utc, unit="s").strftime("%Y-%m-%dT%H:%M:%SZ"),
            "censoring": "events after export_end_utc are not in the data; late leads are open",
            "personas": personas,
            "persona_features": list(co.PERSONA_FEATURES),
            "persona_column": "persona",
            "response_effect": {
                "coefficient_log1p_hours": self.b,
                "stage_from": "sal",
                "stage_to": "sql",
                "hours": "calendar hours from the MQL entry to the first sales activity",
                "reference_hours": REFERENCE_HOURS,
                "form": (
                    "logit P(sql | sal) = logit(sal_to_sql[persona]) - b*log1p(reference_hours)"
                    " + month_effect[calendar month of MQL] + trend_per_month*months_since_start"
                    " + region_effect[region] + b*log1p(response_hours)"
                    " + programme_logit_shift*treated_post"
                ),
                "month_effect": dict(zip(_MONTHS, co.MONTH_QUALIFICATION_LOGIT, strict=True)),
                "trend_per_month": QUALIFICATION_TREND_PER_MONTH,
                "region_effect": {r.name: r.logit_effect for r in co.REGIONS},
                "sdr_median_delay_hours_before_business_hours": co.SDR_SPEED_HOURS,
                "sources": [
                    "Oldroyd, McElheran, Elkington, The Short Life of Online Sales Leads, "
                    "HBR, March 2011",
                    "MIT / InsideSales Lead Response Management study, 2007",
                ],
            },
            "programme": {
                "metric": "mql_to_sql",
                "uplift": self.uplift,
                "unit": "region",
                "cohort": "MQLs entering on or after the region's start date (00:00 Europe/Rome)",
                "treated_regions": treated,
                "control_regions": control,
                "waves": sorted(set(treated.values())),
                "logit_shift": _r(self.delta),
                "applies_to": "log-odds of mql -> sal and of sal -> sql",
                "response_time_multiplier": _r(self.shrink),
                "expected_att": _r(self.facts["realised_att"]),
                "treated_post_mqls": self.facts["treated_post_mqls"],
                "note": "uplift 0 means no programme effect at all (same response times too)",
            },
            "stage_rates": {
                "lead_to_mql": _mean(self.p_mql, np.ones(self.n, bool)),
                "mql_to_sal": _mean((1 - self.p_nw) * self.p_sal, self.is_mql),
                "acceptance_of_worked_mqls": _mean(self.p_sal, self.worked),
                "never_worked_of_mqls": _mean(self.p_nw, self.is_mql),
                "sal_to_sql": _mean(self.p_sql, self.accepted),
                "mql_to_sql": _mean(expected, self.is_mql),
                "sql_to_opportunity": _mean(self.p_opp, self.qualified),
                "win_rate": _mean(self.p_win, self.has_opp),
                "never_worked_by_sdr": co.SDR_NEVER_WORKED,
                "recycled_after_rejection": RECYCLE_AFTER_REJECTION,
                "recycled_after_sal": RECYCLE_AFTER_SAL,
                "recycled_after_sql": RECYCLE_AFTER_SQL,
                "recycle_cap": 1,
                "note": "each rate is the mean planted probability over the leads that reached "
                "the earlier stage, before censoring (cohort rates, reached ever)",
            },
            "sales_cycle_days": {
                "median_planted": _r(float(np.median(self.cycle_days[self.won])), 1)
                if self.won.any()
                else None,
                "by_persona": {p.name: p.cycle_median_days for p in P},
                "account_executive_factor": co.AE_CYCLE_FACTOR,
                "definition": "opportunity created -> closed, won deals, before censoring",
            },
            "avg_deal_size": _r(float(np.mean(won_amounts)), 2) if len(won_amounts) else None,
            "skipped_stages": [],
            "seasonality": {
                "lead_volume_by_month": dict(zip(_MONTHS, co.MONTH_SEASONALITY, strict=True)),
                "lead_growth_per_year": LEAD_GROWTH_PER_YEAR,
            },
            "survey": {
                "items": [f"q{i:02d}" for i in range(1, 21)],
                "mean_before": {
                    "sales": SURVEY_MEANS[("sales", "before")],
                    "marketing": SURVEY_MEANS[("marketing", "before")],
                },
                "mean_after": {
                    "sales": SURVEY_MEANS[("sales", "after")],
                    "marketing": SURVEY_MEANS[("marketing", "after")],
                },
            },
            "words": {
                "negative_share": {
                    "before": WORDS_NEGATIVE["before"],
                    "after": WORDS_NEGATIVE["after"],
                }
            },
        }


_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
SURVEY_MEANS: dict[tuple[str, str], float] = {
    ("sales", "before"): 2.6,
    ("marketing", "before"): 3.1,
    ("sales", "after"): 3.5,
    ("marketing", "after"): 3.7,
}
SURVEY_TEAMS: dict[str, int] = {"sales": 12, "marketing": 10}
WORDS_PER_RESPONDENT = 5
WORDS_NEGATIVE: dict[str, float] = {"before": 0.75, "after": 0.25}


def _mql_to_sql_expected(g: _Generator) -> np.ndarray:
    return (1 - g.p_nw) * g.p_sal * g.p_sql


def _solve_delta(
    uplift: float,
    p_worked: np.ndarray,
    la: np.ndarray,
    lq: np.ndarray,
    b: float,
    r0: np.ndarray,
    r1: np.ndarray,
) -> float:
    """The logit shift that makes the mean MQL -> SQL rise on the cohort equal ``uplift``."""
    if uplift == 0.0 or len(la) == 0:
        return 0.0
    base = p_worked * _sigmoid(la) * _sigmoid(lq + b * np.log1p(r0))
    q1 = lq + b * np.log1p(r1)

    def gap(d: float) -> float:
        return float(np.mean(p_worked * _sigmoid(la + d) * _sigmoid(q1 + d) - base)) - uplift

    lo, hi = -10.0, 10.0
    for _ in range(80):
        mid = (lo + hi) / 2
        if gap(mid) > 0:
            hi = mid
        else:
            lo = mid
    return (lo + hi) / 2


def _survey_and_words(rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Alignment questionnaire (q01..q20, 1-5) and words about the other team, two waves."""
    teams = np.array([t for t, k in SURVEY_TEAMS.items() for _ in range(k)])
    resp = np.array(
        [f"{t[0].upper()}{i + 1:02d}" for t, k in SURVEY_TEAMS.items() for i in range(k)]
    )
    person = rng.normal(0, 0.35, len(resp))
    item = rng.normal(0, 0.3, 20)
    waves = ("before", "after")
    rows_r, rows_w, rows_i, score = [], [], [], []
    for wave in waves:
        mean = np.array([SURVEY_MEANS[(t, wave)] for t in teams])
        latent = (mean + person)[:, None] + item[None, :] + rng.normal(0, 0.6, (len(resp), 20))
        s = np.clip(np.rint(latent), 1, 5).astype(np.int64)
        rows_r.append(np.repeat(np.arange(len(resp)), 20))
        rows_w.append(np.full(len(resp) * 20, wave))
        rows_i.append(np.tile(np.arange(20), len(resp)))
        score.append(s.ravel())
    r, w, it = np.concatenate(rows_r), np.concatenate(rows_w), np.concatenate(rows_i)
    survey = pd.DataFrame(
        {
            "respondent_id": _str(resp[r]),
            "team": _str(teams[r]),
            "wave": _str(w),
            "item_id": _str(np.array([f"q{i:02d}" for i in range(1, 21)])[it]),
            "score": np.concatenate(score),
        }
    )
    lang = np.where(rng.random(len(resp)) < 0.5, "it", "en")
    other = np.where(teams == "sales", "marketing", "sales")
    out_r, out_w, out_word = [], [], []
    for wave in waves:
        negative = rng.random((len(resp), WORDS_PER_RESPONDENT)) < WORDS_NEGATIVE[wave]
        keys = rng.random((len(resp), 8)).argsort(axis=1)[:, :WORDS_PER_RESPONDENT]
        for j in range(len(resp)):  # 22 respondents: a tiny loop over people, not leads
            neg = np.array(co.WORDS[(other[j], "negative", lang[j])])
            pos = np.array(co.WORDS[(other[j], "positive", lang[j])])
            chosen = np.where(negative[j], neg[keys[j]], pos[keys[j]])
            out_r.append(np.full(WORDS_PER_RESPONDENT, j))
            out_w.append(np.full(WORDS_PER_RESPONDENT, wave))
            out_word.append(chosen)
    r = np.concatenate(out_r)
    words = pd.DataFrame(
        {
            "respondent_id": _str(resp[r]),
            "team": _str(teams[r]),
            "wave": _str(np.concatenate(out_w)),
            "word": _str(np.concatenate(out_word)),
            "lang": _str(lang[r]),
        }
    )
    return survey, words


SEGMENTS: tuple[str, ...] = ("smb", "mid", "enterprise")


def _segment(size: np.ndarray) -> np.ndarray:
    """Index into :data:`SEGMENTS`: under 50 employees, under 1,000, the rest."""
    return np.where(size < 50, 0, np.where(size < 1000, 1, 2))


def _ids(prefix: str, n: int) -> pd.Series:
    width = max(6, len(str(n)))
    numbers = pd.Series(np.arange(1, n + 1), dtype="int64").astype("str").str.zfill(width)
    return prefix + numbers


def _str(values: np.ndarray) -> pd.Series:
    return pd.Series(pd.array(np.asarray(values, dtype=object), dtype="str"))


def _take(vocab: Sequence[str | None], codes: np.ndarray) -> pd.Series:
    """Strings ``vocab[codes]`` as a pandas ``str`` Series (None gives a missing value)."""
    return pd.Series(pd.array(list(vocab), dtype="str")).take(codes).reset_index(drop=True)


def _ts(seconds: np.ndarray, mask: np.ndarray | None = None) -> pd.DatetimeIndex:
    a = np.asarray(seconds, dtype=np.int64).astype("datetime64[s]")
    if mask is not None:
        a = np.where(mask, a, np.datetime64("NaT"))
    return pd.DatetimeIndex(a).as_unit("us").tz_localize("UTC")


def _r(x: float, digits: int = 6) -> float:
    return round(float(x), digits)


def _mean(values: np.ndarray, mask: np.ndarray) -> float | None:
    """Rounded mean of ``values[mask]``, or None when nothing is selected."""
    return _r(np.mean(values[mask])) if mask.any() else None
