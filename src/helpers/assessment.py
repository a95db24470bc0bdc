"""The alignment assessment: the kit's questionnaire and the word exercise.

Sales and marketing answer the questionnaire separately (20 statements, 1-5); the kit scores each
respondent, places the total in a band, compares the two teams (the gap is a finding in itself)
and compares waves (before / after a programme). In the word exercise each team writes words
that describe the other team; the kit counts them, scores their tone with a small bundled
lexicon and reports the share of negative words with intervals. Unknown words stay "unscored".
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from scipy import stats
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
    test_proportions_2indep,
)

from helpers.errors import FileProblemError, KitError, MissingTableError
from helpers.messages import has, t, t_count
from helpers.results import fmt_number, fmt_pct, fmt_signed

TONES: tuple[str, ...] = ("positive", "negative", "neutral")
WAVE_ORDER: tuple[str, ...] = ("before", "baseline", "during", "after", "follow-up")
GAP_DECIMALS = 2  # gaps are reported to two decimals: equal at that precision is a tie


# ---------------------------------------------------------------------------------------------
# The instrument
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    id: str
    dimension: str
    text: dict[str, str]


@dataclass(frozen=True)
class Band:
    key: str
    min: float
    max: float
    label: dict[str, str]


@dataclass(frozen=True)
class Instrument:
    """A questionnaire: items over dimensions, a response scale and bands for the total."""

    name: str
    scale_min: int
    scale_max: int
    dimensions: tuple[str, ...]
    dimension_labels: dict[str, dict[str, str]]
    items: tuple[Item, ...]
    bands: tuple[Band, ...]
    source: dict[str, str] = field(default_factory=dict)

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.items)

    @property
    def total_range(self) -> tuple[int, int]:
        n = len(self.items)
        return n * self.scale_min, n * self.scale_max

    def band(self, total: float) -> str | None:
        """The key of the band that holds ``total`` (None for a missing total)."""
        if total is None or np.isnan(total):
            return None
        for band in self.bands:
            if band.min <= total <= band.max:
                return band.key
        return None

    def band_label(self, key: str | None, lang: str = "en") -> str:
        """The band's name in ``lang`` ("not available" for a missing or unknown band)."""
        for b in self.bands:
            if b.key == key:
                return b.label.get(lang, b.key)
        return t("common.not_available", lang)

    def dimension_label(self, key: str, lang: str = "en") -> str:
        if key == "total":
            return t("assessment.total", lang)
        return self.dimension_labels[key].get(lang, key)

    def to_frame(self, lang: str = "en") -> pd.DataFrame:
        """The statements as a table (for a printable form)."""
        return pd.DataFrame(
            {
                "item_id": [i.id for i in self.items],
                "dimension": [self.dimension_label(i.dimension, lang) for i in self.items],
                "text": [i.text.get(lang, next(iter(i.text.values()))) for i in self.items],
            }
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "scale": {"min": self.scale_min, "max": self.scale_max},
            "source": dict(self.source),
            "dimensions": [
                {"key": d, "label": dict(self.dimension_labels[d])} for d in self.dimensions
            ],
            "bands": [
                {"key": b.key, "min": b.min, "max": b.max, "label": dict(b.label)}
                for b in self.bands
            ],
            "items": [
                {"id": i.id, "dimension": i.dimension, "text": dict(i.text)} for i in self.items
            ],
        }


def _invalid(source: str, key: str, **values: Any) -> KitError:
    return FileProblemError("assessment.instrument_invalid", source, key, **values)


def instrument_from_dict(data: Any, source: str = "instrument") -> Instrument:
    """Build and check an instrument from parsed YAML (see ``assets/questionnaire.yaml``)."""
    if not isinstance(data, dict):
        raise _invalid(source, "assessment.problem_not_mapping")
    for key in ("scale", "dimensions", "bands", "items"):
        if not data.get(key):
            raise _invalid(source, "assessment.problem_missing", field=key)
    scale = data["scale"]
    lo, hi = int(scale.get("min", 1)), int(scale.get("max", 5))
    if lo >= hi:
        raise _invalid(source, "assessment.problem_scale")
    dims, labels = [], {}
    for d in data["dimensions"]:
        key = str(d["key"]) if isinstance(d, dict) and d.get("key") else None
        if key is None:
            raise _invalid(source, "assessment.problem_missing", field="dimensions.key")
        dims.append(key)
        labels[key] = dict(d.get("label") or {"en": key})
    items = []
    for raw in data["items"]:
        if not isinstance(raw, dict) or not raw.get("id") or not raw.get("text"):
            raise _invalid(source, "assessment.problem_missing", field="items.id/text")
        if raw.get("dimension") not in dims:
            raise _invalid(source, "assessment.problem_dimension", item=raw["id"])
        text = raw["text"] if isinstance(raw["text"], dict) else {"en": str(raw["text"])}
        items.append(Item(str(raw["id"]), str(raw["dimension"]), dict(text)))
    ids = [i.id for i in items]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise _invalid(source, "assessment.problem_duplicate", items=", ".join(dupes))
    bands = tuple(
        Band(str(b["key"]), float(b["min"]), float(b["max"]), dict(b.get("label") or {}))
        for b in sorted(data["bands"], key=lambda b: b["min"])
    )
    total_lo, total_hi = len(items) * lo, len(items) * hi
    if bands[0].min > total_lo or bands[-1].max < total_hi:
        raise _invalid(source, "assessment.problem_bands", low=total_lo, high=total_hi)
    for a, b in itertools.pairwise(bands):
        if b.min > a.max + 1 or b.min < a.max:
            raise _invalid(source, "assessment.problem_bands", low=total_lo, high=total_hi)
    return Instrument(
        name=str(data.get("name", source)),
        scale_min=lo,
        scale_max=hi,
        dimensions=tuple(dims),
        dimension_labels=labels,
        items=tuple(items),
        bands=bands,
        source=dict(data.get("source") or {}),
    )


def load_instrument(path: str | Path | None = None) -> Instrument:
    """The bundled questionnaire, or a facilitator's YAML file with the same structure."""
    if path is None:
        text = (resources.files("helpers") / "assets" / "questionnaire.yaml").read_text("utf-8")
        return instrument_from_dict(yaml.safe_load(text), "questionnaire.yaml")
    p = Path(path)
    if not p.is_file():
        raise KitError("assessment.file_not_found", path=str(p))
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise _invalid(p.name, "assessment.problem_yaml", detail=str(exc).splitlines()[0]) from exc
    return instrument_from_dict(data, p.name)


# ---------------------------------------------------------------------------------------------
# Scoring the questionnaire
# ---------------------------------------------------------------------------------------------


def wave_label(wave: Any, lang: str = "en") -> str:
    """A survey wave as readers of ``lang`` say it, for charts and text alike.

    The kit's own wave names (``before``, ``baseline``, ``during``, ``after``, ``follow-up``, in
    any case) are translated through the catalogue (``assessment.wave_<name>``); any other name
    (a date, "Q3 2025") is the client's own and is shown as it is.
    """
    name = str(wave).strip()
    norm = name.lower().replace("-", "_").replace(" ", "_")
    known = {w.replace("-", "_") for w in WAVE_ORDER}
    key = f"assessment.wave_{norm}"
    return t(key, lang) if norm in known and has(key, lang) else name


def quoted_list(names: Any, lang: str = "en") -> str:
    """Names in quotes joined the way readers of ``lang`` list them: 'A', 'B' and 'C'."""
    quoted = [f"'{n}'" for n in names]
    if len(quoted) < 2:
        return "".join(quoted)
    return t("assessment.list_and", lang, head=", ".join(quoted[:-1]), last=quoted[-1])


def estimate_text(
    mean: float, low: float, high: float, n: int, lang: str = "en", decimals: int = 1
) -> str:
    """A mean with its 95% interval and the number of people behind it, for a key number."""
    return t(
        "assessment.estimate_short",
        lang,
        value=fmt_number(_finite(mean), lang, decimals),
        low=fmt_number(_finite(low), lang, decimals),
        high=fmt_number(_finite(high), lang, decimals),
        n=fmt_number(n, lang),
    )


def _finite(value: Any) -> float | None:
    """``value`` as a float, or None when it is missing (so it reads "not available")."""
    return None if value is None or pd.isna(value) else float(value)


def _includes_zero(low: Any, high: Any) -> bool:
    """Whether an interval includes zero; a missing interval cannot exclude it either."""
    return bool(pd.isna(low) or pd.isna(high) or low <= 0 <= high)


def wave_order(waves: pd.Series | list[str]) -> list[str]:
    """Waves in time order: before/after words first in their natural order, then sorted."""
    unique = list(dict.fromkeys(str(w) for w in waves))
    known = [w for w in WAVE_ORDER if w in unique]
    return known + sorted(w for w in unique if w not in WAVE_ORDER)


@dataclass(frozen=True)
class SurveyScores:
    """Scores of one questionnaire run (all tables are tidy DataFrames)."""

    # respondent_id, team, wave, n_items, total, band
    respondents: pd.DataFrame = field(repr=False, compare=False)
    # team, wave, dimension, mean, ci_low, ci_high, n
    by_team: pd.DataFrame = field(repr=False, compare=False)
    # wave, dimension, sales, marketing, difference, ci..., p
    gap: pd.DataFrame = field(repr=False, compare=False)
    # team, dimension, before, after, difference, ci..., p
    change: pd.DataFrame = field(repr=False, compare=False)
    waves: tuple[str, ...] = ()
    alpha: float = 0.05

    def _wave(self, wave: str | None) -> str | None:
        return wave or (self.waves[-1] if self.waves else None)

    def largest_gaps(self, wave: str | None = None) -> pd.DataFrame:
        """The dimension(s) of a wave with the largest sales-marketing gap (by absolute size).

        Gaps equal at the precision they are reported in (two decimals) tie: every tied
        dimension is returned, in the instrument's order, so the pick never depends on float
        noise or row order. ``includes_zero`` says whether a gap's 95% interval includes zero
        (the data cannot tell it from no gap). Empty when no dimension has a gap.
        """
        wave = self._wave(wave)
        if self.gap.empty:
            return self.gap.assign(includes_zero=pd.Series(dtype=bool))
        rows = self.gap[(self.gap["wave"] == wave) & (self.gap["dimension"] != "total")]
        rows = rows.dropna(subset=["difference"])
        size = rows["difference"].abs().round(9).round(GAP_DECIMALS)
        top = rows[size == size.max()].copy()
        top["includes_zero"] = [
            _includes_zero(lo, hi) for lo, hi in zip(top["ci_low"], top["ci_high"], strict=True)
        ]
        return top

    def gap_sentence(self, lang: str = "en", wave: str | None = None) -> str:
        """The largest sales-marketing gap of a wave, in words: its interval, how many people
        answered, ties named together, and whether the data can tell it from no gap at all."""
        top = self.largest_gaps(wave)
        if top.empty:
            return t("assessment.gap_none", lang)
        label = f"dimension_label_{lang}"
        common = {
            "difference": fmt_number(abs(float(top["difference"].iloc[0])), lang, GAP_DECIMALS),
            "n_sales": fmt_number(int(top["n_a"].max()), lang),
            "n_marketing": fmt_number(int(top["n_b"].max()), lang),
        }

        def interval(row: pd.Series) -> dict[str, str]:
            return {
                "low": fmt_signed(row["ci_low"], lang, GAP_DECIMALS),
                "high": fmt_signed(row["ci_high"], lang, GAP_DECIMALS),
            }

        def side(row: pd.Series) -> str:
            return "sales" if row["difference"] > 0 else "mkt"

        if len(top) == 1:
            row = top.iloc[0]
            key = f"assessment.gap_{side(row)}_higher"
            parts = [t(key, lang, dimension=row[label], **common, **interval(row))]
            if row["includes_zero"]:
                parts.append(t("assessment.gap_includes_zero", lang))
            return " ".join(parts)
        items = [
            t(f"assessment.gap_tie_item_{side(row)}", lang, dimension=row[label], **interval(row))
            for _, row in top.iterrows()
        ]
        parts = [t("assessment.gap_tie", lang, count=len(top), items="; ".join(items), **common)]
        unclear = top[top["includes_zero"]]
        if len(unclear) == len(top):
            parts.append(t("assessment.gap_tie_includes_zero", lang))
        elif len(unclear):
            parts.append(
                t(
                    "assessment.gap_some_include_zero",
                    lang,
                    dimensions=quoted_list(unclear[label], lang),
                )
            )
        return " ".join(parts)

    def largest_gap_finding(
        self, instrument: Instrument, lang: str = "en", wave: str | None = None
    ) -> dict[str, Any] | None:
        """The largest gap as a report finding (None when there is none).

        ``dimensions`` names every tied dimension; ``difference`` is the gap on the scale;
        ``clear`` is False when any tied gap's interval includes zero; ``score`` (0-1, for ranking
        findings) is the smallest gap the data supports (the interval bound nearest zero, as a
        share of the scale range): 0 when the data cannot tell the gap from no gap.
        """
        top = self.largest_gaps(wave)
        if top.empty:
            return None
        clear = not bool(top["includes_zero"].any())
        nearest = np.minimum(top["ci_low"].abs(), top["ci_high"].abs()).min() if clear else 0.0
        return {
            "score": float(nearest) / (instrument.scale_max - instrument.scale_min),
            "clear": clear,
            "tied": len(top) > 1,
            "dimensions": quoted_list(top[f"dimension_label_{lang}"], lang),
            "difference": fmt_number(abs(float(top["difference"].iloc[0])), lang, GAP_DECIMALS),
        }

    def team_totals(self, wave: str | None = None) -> pd.DataFrame:
        """Mean questionnaire total per team in a wave, with its 95% interval and ``n`` (people
        who answered every item), indexed by team (``sales``, ``marketing``; NaN when absent)."""
        wave = self._wave(wave)
        cols = ["mean", "ci_low", "ci_high", "n"]
        if self.by_team.empty:
            return pd.DataFrame(index=pd.Index(["sales", "marketing"], name="team"), columns=cols)
        rows = self.by_team[(self.by_team["wave"] == wave) & (self.by_team["dimension"] == "total")]
        out = rows.set_index("team")[cols].reindex(["sales", "marketing"])
        out["n"] = out["n"].fillna(0).astype(int)
        return out

    def totals_sentence(
        self, instrument: Instrument, lang: str = "en", wave: str | None = None
    ) -> str:
        """Each team's mean total and band in a wave, with interval and number of people, and
        whether the data can tell the two totals apart."""
        wave = self._wave(wave)
        totals = self.team_totals(wave)
        values: dict[str, str] = {"wave": wave_label(wave, lang)}
        for team, row in totals.iterrows():
            mean = _finite(row["mean"])
            values[f"{team}_total"] = fmt_number(mean, lang, 1)
            values[f"{team}_band"] = instrument.band_label(
                instrument.band(np.nan if mean is None else mean), lang
            )
            values[f"{team}_low"] = fmt_number(_finite(row["ci_low"]), lang, 1)
            values[f"{team}_high"] = fmt_number(_finite(row["ci_high"]), lang, 1)
            values[f"{team}_n"] = fmt_number(int(row["n"]), lang)
        parts = [t("assessment.totals", lang, **values)]
        diff = self.gap[(self.gap["wave"] == wave) & (self.gap["dimension"] == "total")]
        if len(diff) and pd.notna(diff["difference"].iloc[0]):
            row = diff.iloc[0]
            key = (
                "assessment.totals_no_difference"
                if _includes_zero(row["ci_low"], row["ci_high"])
                else "assessment.totals_difference"
            )
            parts.append(
                t(
                    key,
                    lang,
                    difference=fmt_signed(row["difference"], lang, 1),
                    low=fmt_signed(row["ci_low"], lang, 1),
                    high=fmt_signed(row["ci_high"], lang, 1),
                )
            )
        return " ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        def records(df: pd.DataFrame) -> list[dict[str, Any]]:
            return df.astype(object).where(df.notna(), None).to_dict(orient="records")

        return {
            "waves": list(self.waves),
            "alpha": self.alpha,
            "respondents": records(self.respondents),
            "by_team": records(self.by_team),
            "gap": records(self.gap),
            "change": records(self.change),
        }


def _check_survey(survey: pd.DataFrame, instrument: Instrument) -> pd.DataFrame:
    needed = ("respondent_id", "team", "wave", "item_id", "score")
    for col in needed:
        if col not in survey.columns:
            raise MissingTableError(f"survey.{col}", "assessment")
    df = survey[list(needed)].copy()
    df["respondent_id"] = df["respondent_id"].astype("str")
    df["wave"] = df["wave"].astype("str")
    df["team"] = df["team"].astype("str")
    unknown = sorted(set(df["item_id"]) - set(instrument.item_ids))
    if unknown:
        raise KitError("assessment.unknown_items", items=", ".join(map(str, unknown[:10])))
    out = df[(df["score"] < instrument.scale_min) | (df["score"] > instrument.scale_max)]
    if len(out):
        raise KitError(
            "assessment.score_out_of_range",
            n=len(out),
            low=instrument.scale_min,
            high=instrument.scale_max,
        )
    dup = df.duplicated(["respondent_id", "wave", "item_id"])
    if dup.any():
        raise KitError("assessment.duplicate_answers", n=int(dup.sum()))
    return df


def _mean_ci(
    x: np.ndarray, alpha: float, bounds: tuple[float, float]
) -> tuple[float, float, float]:
    """Mean and t interval, the interval cut to ``bounds`` (a mean cannot leave the scale; with
    two or three people the t interval alone reaches far beyond it)."""
    x = x[~np.isnan(x)]
    if len(x) == 0:
        return np.nan, np.nan, np.nan
    m = float(x.mean())
    if len(x) < 2:
        return m, np.nan, np.nan
    half = stats.t.ppf(1 - alpha / 2, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
    low, high = bounds
    return m, max(low, m - half), min(high, m + half)


def _boot_diff(
    a: np.ndarray, b: np.ndarray, alpha: float, n_boot: int, rng: np.random.Generator
) -> tuple[float, float]:
    """Percentile bootstrap interval of mean(a) - mean(b), resampling within each group."""
    if len(a) < 2 or len(b) < 2:
        return np.nan, np.nan
    ma = a[rng.integers(0, len(a), size=(n_boot, len(a)))].mean(axis=1)
    mb = b[rng.integers(0, len(b), size=(n_boot, len(b)))].mean(axis=1)
    low, high = np.quantile(ma - mb, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


def _compare(
    a: np.ndarray, b: np.ndarray, alpha: float, n_boot: int, rng: np.random.Generator
) -> dict[str, float]:
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    low, high = _boot_diff(a, b, alpha, n_boot, rng)
    p = (
        float(stats.mannwhitneyu(a, b, alternative="two-sided").pvalue)
        if len(a) and len(b)
        else np.nan
    )
    diff = float(a.mean() - b.mean()) if len(a) and len(b) else np.nan
    return {
        "difference": diff,
        "ci_low": low,
        "ci_high": high,
        "p_value": p,
        "n_a": len(a),
        "n_b": len(b),
    }


def score_survey(
    survey: pd.DataFrame,
    instrument: Instrument | None = None,
    *,
    alpha: float = 0.05,
    n_boot: int = 2000,
    seed: int = 0,
) -> SurveyScores:
    """Score a survey table (``respondent_id, team, wave, item_id, score``).

    Per respondent and wave: the total (only when every item was answered) and its band. Per
    team, wave and dimension: the mean of respondents' dimension means (1-5) with a t interval
    (cut to the scale);
    ``total`` rows use the total scale. The gap (sales minus marketing) and the change (last wave
    minus first, per team) carry a percentile bootstrap interval and a Mann-Whitney p-value;
    waves are treated as independent samples (answers are usually anonymous).
    """
    instrument = instrument or load_instrument()
    df = _check_survey(survey, instrument)
    dim_of = {i.id: i.dimension for i in instrument.items}
    df["dimension"] = df["item_id"].map(dim_of)
    keys = ["respondent_id", "team", "wave"]
    per = df.groupby(keys, observed=True)["score"].agg(n_items="size", total="sum").reset_index()
    complete = per["n_items"] == len(instrument.items)
    per["total"] = per["total"].astype(float).where(complete)
    per["band"] = per["total"].map(instrument.band)
    dims = df.pivot_table(index=keys, columns="dimension", values="score", aggfunc="mean")
    dims = dims.reindex(columns=list(instrument.dimensions))
    wide = per.set_index(keys)[["total"]].join(dims).reset_index()
    measures = [*instrument.dimensions, "total"]
    waves = wave_order(wide["wave"])
    rng = np.random.default_rng(seed)

    by_team = []
    scale = (instrument.scale_min, instrument.scale_max)
    for (team, wave), grp in wide.groupby(["team", "wave"], observed=True):
        for m in measures:
            bounds = scale if m != "total" else instrument.total_range
            mean, low, high = _mean_ci(grp[m].to_numpy(float), alpha, bounds)
            by_team.append(
                {
                    "team": team,
                    "wave": wave,
                    "dimension": m,
                    "mean": mean,
                    "ci_low": low,
                    "ci_high": high,
                    "n": int(grp[m].notna().sum()),
                }
            )
    gap = []
    for wave, grp in wide.groupby("wave", observed=True):
        s, mk = grp[grp["team"] == "sales"], grp[grp["team"] == "marketing"]
        for m in measures:
            res = _compare(s[m].to_numpy(float), mk[m].to_numpy(float), alpha, n_boot, rng)
            gap.append(
                {
                    "wave": wave,
                    "dimension": m,
                    "sales": s[m].mean(),
                    "marketing": mk[m].mean(),
                    **res,
                }
            )
    change = []
    if len(waves) >= 2:
        first, last = waves[0], waves[-1]
        for team, grp in wide.groupby("team", observed=True):
            b, a = grp[grp["wave"] == first], grp[grp["wave"] == last]
            for m in measures:
                res = _compare(a[m].to_numpy(float), b[m].to_numpy(float), alpha, n_boot, rng)
                change.append(
                    {
                        "team": team,
                        "dimension": m,
                        "wave_before": first,
                        "wave_after": last,
                        "before": b[m].mean(),
                        "after": a[m].mean(),
                        **res,
                    }
                )
    gap_df = pd.DataFrame(gap)
    for lang in ("en", "it"):
        if len(gap_df):
            gap_df[f"dimension_label_{lang}"] = gap_df["dimension"].map(
                lambda d, lg=lang: instrument.dimension_label(d, lg)
            )
    return SurveyScores(
        respondents=per,
        by_team=pd.DataFrame(by_team),
        gap=gap_df,
        change=pd.DataFrame(change),
        waves=tuple(waves),
        alpha=alpha,
    )


# ---------------------------------------------------------------------------------------------
# The word exercise
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lexicon:
    """Word -> tone, per language (words normalised, adjectives masculine singular)."""

    tones: dict[str, dict[str, str]]

    def languages(self) -> tuple[str, ...]:
        return tuple(self.tones)

    def size(self, lang: str) -> int:
        return len(self.tones.get(lang, {}))


def lexicon_from_dict(data: Any, source: str = "lexicon") -> Lexicon:
    """Build and check a lexicon ``{lang: {positive: [...], negative: [...], neutral: [...]}}``."""
    if not isinstance(data, dict) or not data:
        raise KitError("assessment.lexicon_invalid", source=source, word="-")
    tones: dict[str, dict[str, str]] = {}
    for lang, groups in data.items():
        table: dict[str, str] = {}
        for tone in TONES:
            for word in (groups or {}).get(tone) or []:
                norm = normalise_word(str(word))
                if table.get(norm, tone) != tone:
                    raise KitError("assessment.lexicon_invalid", source=source, word=norm)
                table[norm] = tone
        tones[str(lang)] = table
    return Lexicon(tones)


def load_lexicon(path: str | Path | None = None) -> Lexicon:
    """The bundled English and Italian tone lexicon, or one from a YAML file."""
    if path is None:
        text = (resources.files("helpers") / "assets" / "lexicon.yaml").read_text("utf-8")
        return lexicon_from_dict(yaml.safe_load(text), "lexicon.yaml")
    p = Path(path)
    if not p.is_file():
        raise KitError("assessment.file_not_found", path=str(p))
    return lexicon_from_dict(yaml.safe_load(p.read_text(encoding="utf-8")), p.name)


def normalise_word(word: str, *, strip_accents: bool = True) -> str:
    """Lower-case, trimmed, without surrounding punctuation and (by default) accents."""
    text = unicodedata.normalize("NFKC", str(word)).strip().lower()
    if strip_accents:
        text = "".join(
            c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
        )
    text = re.sub(r"^[\W_]+|[\W_]+$", "", text)
    return re.sub(r"\s+", " ", text)


def _candidates(word: str, lang: str) -> list[str]:
    """The word and cheap lemma guesses: Italian plural / feminine, English plural."""
    out = [word]
    if lang == "it" and len(word) > 3:
        for plural, singular in (("chi", "co"), ("ghi", "go"), ("che", "ca"), ("ghe", "ga")):
            if word.endswith(plural):
                out.append(word[: -len(plural)] + singular)
        if word[-1] in "aeio":
            stem = word[:-1]
            out += [stem + "o", stem + "e", stem + "a"]
    elif lang == "en" and len(word) > 3:
        if word.endswith("ies"):
            out.append(word[:-3] + "y")
        if word.endswith("es"):
            out.append(word[:-2])
        if word.endswith("s"):
            out.append(word[:-1])
    return out


def lemma_and_tone(word: str, lexicon: Lexicon, lang: str) -> tuple[str, str]:
    """The lexicon form of ``word`` and its tone, or the word itself and ``"unscored"``."""
    norm = normalise_word(word)
    table = lexicon.tones.get(lang, {})
    for cand in _candidates(norm, lang):
        if cand in table:
            return cand, table[cand]
    return norm, "unscored"


@dataclass(frozen=True)
class WordScores:
    """Word counts, tone shares with intervals, before/after change and unscored words."""

    counts: pd.DataFrame = field(repr=False, compare=False)  # team, wave, lang, word, tone, n
    # team, wave, n_words, n_scored, n_negative, share...
    tone: pd.DataFrame = field(repr=False, compare=False)
    # team, wave_before, wave_after, difference, ci, p
    change: pd.DataFrame = field(repr=False, compare=False)
    unscored: tuple[str, ...] = ()
    waves: tuple[str, ...] = ()
    alpha: float = 0.05

    def sentence(self, team: str, lang: str = "en", wave: str | None = None) -> str:
        """The share of negative words one team wrote, with the caveat on the 87% claim."""
        wave = wave or (self.waves[-1] if self.waves else None)
        row = self.tone[(self.tone["team"] == team) & (self.tone["wave"] == wave)]
        if row.empty or row["n_scored"].iloc[0] == 0:
            return t("assessment.words_none", lang)
        r = row.iloc[0]
        n = int(r["n_scored"])
        share = t_count(
            "assessment.words_share",
            n,
            lang,
            team=t(f"assessment.team_{team}", lang),
            n=fmt_number(n, lang),
            share=fmt_pct(float(r["share_negative"]), lang),
            low=fmt_pct(None if pd.isna(r["ci_low"]) else float(r["ci_low"]), lang),
            high=fmt_pct(None if pd.isna(r["ci_high"]) else float(r["ci_high"]), lang),
        )
        return " ".join([share, t("assessment.claim_87", lang), t("assessment.words_caveat", lang)])

    def to_dict(self) -> dict[str, Any]:
        def records(df: pd.DataFrame) -> list[dict[str, Any]]:
            return df.astype(object).where(df.notna(), None).to_dict(orient="records")

        return {
            "waves": list(self.waves),
            "alpha": self.alpha,
            "counts": records(self.counts),
            "tone": records(self.tone),
            "change": records(self.change),
            "unscored": list(self.unscored),
        }


def score_words(
    words: pd.DataFrame,
    lexicon: Lexicon | None = None,
    *,
    lang: str = "en",
    alpha: float = 0.05,
) -> WordScores:
    """Tally and score the word exercise (``team, wave, word`` and optional ``lang``).

    Each word is normalised and matched to the lexicon (with cheap plural and gender forms);
    unknown words are counted as ``unscored`` and listed, never guessed. The share of negative
    words among scored words per team and wave has a Wilson interval; the change between the
    first and last wave a Newcombe interval and a score-test p-value. Intervals treat words as
    independent, although one person writes several: read them as a lower bound on uncertainty.
    """
    lexicon = lexicon or load_lexicon()
    for col in ("team", "wave", "word"):
        if col not in words.columns:
            raise MissingTableError(f"words.{col}", "assessment")
    df = words.dropna(subset=["word"]).copy()
    df["wave"] = df["wave"].astype("str")
    df["lang"] = df["lang"].fillna(lang).astype("str") if "lang" in df.columns else lang
    scored = [lemma_and_tone(w, lexicon, lg) for w, lg in zip(df["word"], df["lang"], strict=True)]
    df["word"] = [s[0] for s in scored]
    df["tone"] = [s[1] for s in scored]
    df = df[df["word"] != ""]
    counts = (
        df.groupby(["team", "wave", "lang", "word", "tone"], observed=True)
        .size()
        .rename("n")
        .reset_index()
        .sort_values(["team", "wave", "n", "word"], ascending=[True, True, False, True])
        .reset_index(drop=True)
    )
    waves = wave_order(df["wave"])
    rows = []
    for (team, wave), grp in df.groupby(["team", "wave"], observed=True):
        tone = grp["tone"].value_counts()
        n_scored = int(tone.drop("unscored", errors="ignore").sum())
        n_neg, n_pos = int(tone.get("negative", 0)), int(tone.get("positive", 0))
        low, high = (
            proportion_confint(n_neg, n_scored, alpha, method="wilson")
            if n_scored
            else (np.nan,) * 2
        )
        rows.append(
            {
                "team": team,
                "wave": wave,
                "n_words": len(grp),
                "n_scored": n_scored,
                "n_unscored": int(tone.get("unscored", 0)),
                "n_negative": n_neg,
                "n_positive": n_pos,
                "share_negative": n_neg / n_scored if n_scored else np.nan,
                "share_positive": n_pos / n_scored if n_scored else np.nan,
                "ci_low": float(low),
                "ci_high": float(high),
            }
        )
    tone_df = pd.DataFrame(rows)
    change = []
    if len(waves) >= 2 and len(tone_df):
        first, last = waves[0], waves[-1]
        for team, grp in tone_df.groupby("team"):
            b, a = grp[grp["wave"] == first], grp[grp["wave"] == last]
            if b.empty or a.empty or not b["n_scored"].iloc[0] or not a["n_scored"].iloc[0]:
                continue
            c_a, n_a = int(a["n_negative"].iloc[0]), int(a["n_scored"].iloc[0])
            c_b, n_b = int(b["n_negative"].iloc[0]), int(b["n_scored"].iloc[0])
            with np.errstate(divide="ignore", invalid="ignore"):  # 0% or 100% shares
                low, high = confint_proportions_2indep(
                    c_a, n_a, c_b, n_b, method="newcomb", alpha=alpha
                )
                p = test_proportions_2indep(c_a, n_a, c_b, n_b, method="score").pvalue
            change.append(
                {
                    "team": team,
                    "wave_before": first,
                    "wave_after": last,
                    "before": c_b / n_b,
                    "after": c_a / n_a,
                    "difference": c_a / n_a - c_b / n_b,
                    "ci_low": float(low),
                    "ci_high": float(high),
                    "p_value": float(p),
                }
            )
    unscored = tuple(sorted(counts.loc[counts["tone"] == "unscored", "word"].unique()))
    return WordScores(
        counts=counts,
        tone=tone_df,
        change=pd.DataFrame(change),
        unscored=unscored,
        waves=tuple(waves),
        alpha=alpha,
    )
