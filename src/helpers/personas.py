"""Buyer personas: a facilitator's persona cards, data-driven candidates and per-persona results.

Qualitative cards (role, goals, challenges, objections, where they learn, decision criteria,
buying triggers) come from interviews and are loaded from a YAML or CSV file. Data-driven
candidates cluster leads on firmographic and behavioural attributes of mixed type and describe
each cluster in words. The scorecard reports each persona's volume, conversion, win rate, cycle
and deal size with intervals, and the rejection mix closes the feedback loop to marketing.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from scipy import stats
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint
from threadpoolctl import threadpool_limits

from helpers.errors import KitError, MissingTableError
from helpers.funnel import stages_reached
from helpers.messages import column_label, t, t_count, value_label
from helpers.model import LEAD_KEY, PERSONAL_COLUMNS, CrmData, lead_rows, stage_wide
from helpers.results import fmt_number, fmt_pct

# ---------------------------------------------------------------------------------------------
# Persona cards
# ---------------------------------------------------------------------------------------------

CARD_LISTS: tuple[str, ...] = (
    "goals",
    "challenges",
    "objections",
    "where_they_learn",
    "decision_criteria",
    "buying_triggers",
)


@dataclass(frozen=True)
class PersonaCard:
    """One buyer persona as a workshop writes it (lists are short bullet points)."""

    name: str
    role: str
    goals: tuple[str, ...]
    challenges: tuple[str, ...]
    objections: tuple[str, ...]
    where_they_learn: tuple[str, ...]
    decision_criteria: tuple[str, ...]
    buying_triggers: tuple[str, ...]
    summary: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v)
            for f in fields(self)
        }


def _as_list(value: Any) -> tuple[str, ...]:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ()
    if isinstance(value, str):
        parts = re.split(r"[;|\n]", value)
        return tuple(p.strip(" -•\t\r") for p in parts if p.strip(" -•\t\r"))
    return tuple(str(v).strip() for v in value if str(v).strip())


def card_from_dict(data: Any, index: int = 1) -> PersonaCard:
    """A validated card from one mapping; list fields accept a list or ``;``-separated text."""
    if not isinstance(data, dict):
        raise KitError("personas.card_not_mapping", index=index)
    name = str(data.get("name") or "").strip()
    if not name:
        raise KitError("personas.card_empty_name", index=index)
    for key in ("role", *CARD_LISTS):
        if key not in data:
            raise KitError("personas.card_missing_field", card=name, field=key)
    role = str(data.get("role") or "").strip()
    if not role:
        raise KitError("personas.card_missing_field", card=name, field="role")
    lists = {key: _as_list(data[key]) for key in CARD_LISTS}
    summary = data.get("summary")
    return PersonaCard(
        name=name,
        role=role,
        summary="" if summary is None or summary != summary else str(summary).strip(),
        **lists,
    )


def load_persona_cards(path: str | Path) -> list[PersonaCard]:
    """Persona cards from a YAML file (a list, or ``personas:`` list) or a CSV (one card a row).

    In a CSV, list fields hold items separated by ``;``, ``|`` or new lines (use ``|`` in a
    CSV whose columns are separated by ``;``, as Excel saves them in Italy). Raises a
    :class:`KitError` naming the card and field when something is missing.
    """
    p = Path(path)
    if not p.is_file():
        raise KitError("personas.file_not_found", path=str(p))
    if p.suffix.lower() == ".csv":
        frame = pd.read_csv(p, dtype=str, sep=None, engine="python", encoding="utf-8-sig")
        records: Any = frame.to_dict(orient="records")
    else:
        records = yaml.safe_load(p.read_text(encoding="utf-8"))
        if isinstance(records, dict):
            records = records.get("personas")
    if not isinstance(records, list) or not records:
        raise KitError("personas.cards_empty", path=p.name)
    cards = [card_from_dict(r, i) for i, r in enumerate(records, start=1)]
    names = [c.name for c in cards]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise KitError("personas.cards_duplicate", names=", ".join(dupes))
    return cards


def render_card_markdown(card: PersonaCard, lang: str = "en") -> str:
    """A persona card as Markdown (headings from the catalogue)."""
    lines = [f"### {card.name}", "", f"**{t('personas.card_role', lang)}:** {card.role}"]
    if card.summary:
        lines += ["", f"_{card.summary}_"]
    for key in CARD_LISTS:
        lines += ["", f"**{t(f'personas.card_{key}', lang)}**"]
        values = getattr(card, key)
        lines += [f"- {v}" for v in values] if values else [f"- {t('common.none', lang)}"]
    return "\n".join(lines) + "\n"


def render_card_html(card: PersonaCard, lang: str = "en") -> str:
    """A printable persona card as a self-contained HTML fragment (all text escaped)."""
    e = html.escape
    parts = [
        '<article class="persona-card" style="border:1px solid #8c8c8c;border-radius:8px;'
        "padding:12px 16px;max-width:640px;font-family:DejaVu Sans,sans-serif;"
        'page-break-inside:avoid">',
        f'<h3 style="margin:0 0 4px 0">{e(card.name)}</h3>',
        f'<p style="margin:0 0 8px 0"><strong>{e(t("personas.card_role", lang))}:</strong> '
        f"{e(card.role)}</p>",
    ]
    if card.summary:
        parts.append(f"<p><em>{e(card.summary)}</em></p>")
    for key in CARD_LISTS:
        values = getattr(card, key) or (t("common.none", lang),)
        items = "".join(f"<li>{e(v)}</li>" for v in values)
        parts.append(f'<h4 style="margin:8px 0 2px 0">{e(t(f"personas.card_{key}", lang))}</h4>')
        parts.append(f'<ul style="margin:0;padding-left:20px">{items}</ul>')
    parts.append("</article>")
    return "\n".join(parts)


# ---------------------------------------------------------------------------------------------
# Data-driven persona candidates
# ---------------------------------------------------------------------------------------------


def _encoder(ref: pd.DataFrame, numeric: list[str], categorical: list[str]) -> Pipeline:
    """Log (right-skewed non-negative numbers), median-impute and standardise the numbers;
    one-hot the categories, weighted 1/sqrt(2) so that two different levels are as far apart
    (squared distance 1) as two values one standard deviation apart."""
    skewed = [
        c
        for c in numeric
        if ref[c].min() >= 0 and stats.skew(ref[c].to_numpy(float), nan_policy="omit") > 1
    ]
    plain = [c for c in numeric if c not in skewed]
    scale = [("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]
    parts: list[tuple[str, Any, list[str]]] = []
    if skewed:
        parts.append(("log", Pipeline([("log1p", FunctionTransformer(np.log1p)), *scale]), skewed))
    if plain:
        parts.append(("num", Pipeline(scale), plain))
    if categorical:
        parts.append(
            ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), categorical)
        )
    design = ColumnTransformer(parts, transformer_weights={"cat": 1 / np.sqrt(2)})
    return Pipeline([("design", design)]).fit(_prepared(ref, categorical))


def _prepared(frame: pd.DataFrame, categorical: list[str]) -> pd.DataFrame:
    out = frame.copy()
    for c in categorical:
        out[c] = out[c].astype(object).where(out[c].notna(), "(missing)").astype(str)
    return out


@dataclass(frozen=True)
class PersonaClustering:
    """Candidate personas found in the data, with how k was chosen and what sets each apart."""

    k: int
    labels: pd.Series = field(repr=False, compare=False)  # cluster per lead (index of the input)
    selection: pd.DataFrame = field(repr=False, compare=False)  # k, silhouette, stability, chosen
    # cluster, feature, level, kind, values, score
    profile: pd.DataFrame = field(repr=False, compare=False)
    sizes: pd.Series = field(repr=False, compare=False)
    features: tuple[str, ...] = ()
    n_sampled: int = 0
    method: str = "kmeans_mixed"

    def describe(
        self, lang: str = "en", top: int = 3, min_score: float = 0.3
    ) -> dict[int, list[str]]:
        """Per cluster, up to ``top`` sentences on what sets it apart from all leads (standardised
        differences of at least ``min_score``)."""
        out: dict[int, list[str]] = {}
        for c in range(self.k):
            rows = self.profile[(self.profile["cluster"] == c)]
            # numbers that differ by at least min_score sd; levels over-represented as much
            rows = rows[
                ((rows["kind"] == "numeric") & (rows["score"].abs() >= min_score))
                | (rows["score"] >= min_score)
            ]
            rows = rows.reindex(rows["score"].abs().sort_values(ascending=False).index).head(top)
            sentences = []
            for r in rows.itertuples():
                if r.kind == "numeric":
                    key = "personas.desc_higher" if r.score > 0 else "personas.desc_lower"
                    sentences.append(
                        t(
                            key,
                            lang,
                            feature=column_label(r.feature, lang),
                            value=_num(r.cluster_value, lang),
                            overall=_num(r.overall_value, lang),
                        )
                    )
                else:
                    sentences.append(
                        t(
                            "personas.desc_category",
                            lang,
                            feature=column_label(r.feature, lang),
                            level=value_label(r.feature, r.level, lang),
                            share=f"{r.cluster_value:.0%}",
                            overall=f"{r.overall_value:.0%}",
                        )
                    )
            share = self.sizes.get(c, 0) / max(int(self.sizes.sum()), 1)
            head = t("personas.desc_size", lang, cluster=c + 1, share=f"{share:.0%}")
            out[c] = [head, *(sentences or [t("personas.desc_average", lang)])]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "method": self.method,
            "features": list(self.features),
            "n_sampled": self.n_sampled,
            "sizes": {int(k): int(v) for k, v in self.sizes.items()},
            "selection": self.selection.to_dict(orient="records"),
            "profile": self.profile.astype(object)
            .where(self.profile.notna(), None)
            .to_dict(orient="records"),
        }


def _num(x: float, lang: str) -> str:
    """A profile value for a sentence: whole above 100, else three significant digits."""
    if abs(x) >= 100:
        return fmt_number(x, lang)
    text = f"{x:.3g}"
    return text.replace(".", ",") if lang == "it" else text


def persona_candidates(
    leads: pd.DataFrame,
    features: Sequence[str],
    *,
    k_range: range = range(2, 9),
    seed: int = 0,
    bootstrap: int = 20,
    sample_size: int = 5000,
    stratify: str | None = None,
    min_stability: float = 0.85,
) -> PersonaClustering:
    """Cluster leads on attributes of mixed type into candidate personas.

    Method: a mixed-type design (right-skewed non-negative numbers such as company size are
    logged, numbers are standardised, categories one-hot encoded and weighted so one category
    mismatch counts like one standard deviation) clustered with k-means (scikit-learn). On the
    kit's planted sample this recovers personas better than Gower distance with k-medoids, which
    flattens logged sizes into a narrow range, and it assigns a million leads in seconds.
    For each k the silhouette and the stability (mean adjusted Rand index between the
    clustering and clusterings fitted on ``bootstrap`` resamples, both applied to the same
    leads) are computed; the chosen k has the highest silhouette among those with stability
    >= ``min_stability`` (0.85, "highly stable" in Hennig 2007); if no k is that stable, the
    highest silhouette x stability. Above ``sample_size`` leads the model is fitted on a sample
    stratified by ``stratify`` (default: the first categorical feature) and every lead is then
    assigned to its nearest centre.
    """
    features = list(features)
    missing = [f for f in features if f not in leads.columns]
    if missing:
        raise MissingTableError(f"leads.{', '.join(missing)}", "personas")
    if not features:
        raise KitError("personas.no_features")
    frame = leads[features]
    numeric = [
        f
        for f in features
        if pd.api.types.is_numeric_dtype(frame[f]) and not pd.api.types.is_bool_dtype(frame[f])
    ]
    categorical = [f for f in features if f not in numeric]
    rng = np.random.default_rng(seed)
    sample = frame
    if len(frame) > sample_size:
        strata_col = stratify or (categorical[0] if categorical else None)
        if strata_col is not None:
            strata = frame[strata_col].astype(object).where(frame[strata_col].notna(), "")
            sample = frame.groupby(strata.astype(str), group_keys=False).sample(
                frac=sample_size / len(frame), random_state=seed
            )
        else:
            sample = frame.sample(n=sample_size, random_state=seed)
    m = len(sample)
    ks = [k for k in k_range if 2 <= k < m]
    if not ks:
        raise KitError("personas.too_few_leads", n=m)
    encoder = _encoder(sample, numeric, categorical)
    x = encoder.transform(_prepared(sample, categorical))
    # many small fits: one OpenMP thread each is far faster than oversubscribed threads
    with threadpool_limits(limits=1, user_api="openmp"):
        selection, fits = _select_k(x, ks, seed, bootstrap, rng)
    stable = selection[selection["stability"] >= min_stability]
    if len(stable):
        k = int(stable.loc[stable["silhouette"].idxmax(), "k"])
    else:
        k = int(selection.loc[(selection["silhouette"] * selection["stability"]).idxmax(), "k"])
    selection["chosen"] = selection["k"] == k
    labels = _assign(frame, fits[k], encoder, categorical)
    profile = _profile(frame, labels, numeric, categorical)
    return PersonaClustering(
        k=k,
        labels=labels,
        selection=selection,
        profile=profile,
        sizes=labels.value_counts().sort_index(),
        features=tuple(features),
        n_sampled=m,
    )


def _select_k(
    x: np.ndarray, ks: list[int], seed: int, bootstrap: int, rng: np.random.Generator
) -> tuple[pd.DataFrame, dict[int, KMeans]]:
    """Silhouette and bootstrap stability of k-means for each k."""
    m = len(x)
    rows, fits = [], {}
    for k in ks:
        km = KMeans(k, n_init=4, random_state=seed).fit(x)
        fits[k] = km
        labels = km.labels_
        sil = (
            float(silhouette_score(x, labels, sample_size=min(m, 2000), random_state=seed))
            if len(set(labels)) > 1
            else np.nan
        )
        aris = []
        for b in range(bootstrap):
            idx = rng.choice(m, size=m, replace=True)
            boot = KMeans(k, n_init=1, random_state=seed + b + 1).fit(x[idx])
            aris.append(adjusted_rand_score(labels, boot.predict(x)))
        stability = float(np.mean(aris)) if aris else np.nan
        rows.append({"k": k, "silhouette": sil, "stability": stability})
    return pd.DataFrame(rows), fits


def _assign(
    frame: pd.DataFrame,
    km: KMeans,
    encoder: Pipeline,
    categorical: list[str],
    chunk: int = 200_000,
) -> pd.Series:
    """Nearest centre for every row, in chunks to bound memory."""
    out = np.empty(len(frame), dtype=np.int64)
    for start in range(0, len(frame), chunk):
        part = _prepared(frame.iloc[start : start + chunk], categorical)
        out[start : start + len(part)] = km.predict(encoder.transform(part))
    return pd.Series(out, index=frame.index, name="cluster")


def _profile(
    frame: pd.DataFrame, labels: pd.Series, numeric: list[str], categorical: list[str]
) -> pd.DataFrame:
    """What sets each cluster apart: standardised differences and over-represented levels."""
    rows = []
    for col in numeric:
        x = frame[col].astype(float)
        mean, sd = x.mean(), x.std(ddof=1)
        by = x.groupby(labels).mean()
        for c, v in by.items():
            rows.append(
                {
                    "cluster": int(c),
                    "feature": col,
                    "level": None,
                    "kind": "numeric",
                    "cluster_value": v,
                    "overall_value": mean,
                    "score": (v - mean) / sd if sd > 0 else 0.0,
                }
            )
    for col in categorical:
        x = frame[col].astype("str")
        overall = x.value_counts(normalize=True)
        shares = pd.crosstab(labels, x, normalize="index")
        for c in shares.index:
            for level, p in overall.items():
                share = float(shares.loc[c].get(level, 0.0))
                sd = np.sqrt(p * (1 - p))
                rows.append(
                    {
                        "cluster": int(c),
                        "feature": col,
                        "level": str(level),
                        "kind": "category",
                        "cluster_value": share,
                        "overall_value": p,
                        "score": (share - p) / sd if sd > 0 else 0.0,
                    }
                )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# Results per persona
# ---------------------------------------------------------------------------------------------


def _wilson(k: pd.Series, n: pd.Series, alpha: float = 0.05) -> tuple[pd.Series, pd.Series]:
    low, high = proportion_confint(
        k.to_numpy(float), n.to_numpy(float).clip(min=1), alpha, method="wilson"
    )
    bad = n.to_numpy() == 0
    return (
        pd.Series(np.where(bad, np.nan, low), index=k.index),
        pd.Series(np.where(bad, np.nan, high), index=k.index),
    )


def _closed_deals(crm: CrmData, lead_cols: Sequence[str]) -> pd.DataFrame | None:
    """Closed deals (won / lost) with lead attributes and creation time, if the data has them."""
    leads = crm.leads[["lead_id", "created_at", *[c for c in lead_cols if c != "created_at"]]]
    if crm.has("opportunities") and "lead_id" in crm.opportunities.columns:
        opps = crm.opportunities
        closed = opps[opps["outcome"].isin(["won", "lost"])]
        at = lead_rows(crm.leads, closed)  # an inner join on lead_id, on integer positions
        found = at >= 0
        deals = closed.loc[found, ["lead_id", "outcome", "amount", "closed_at"]]
        attrs = leads.drop(columns="lead_id").iloc[at[found]]
        return pd.concat([deals.reset_index(drop=True), attrs.reset_index(drop=True)], axis=1)
    won, lost = crm.stage_model.role("won"), crm.stage_model.role("lost")
    if crm.has("stage_history") and won and lost:
        wide = stage_wide(crm.stage_history, crm.stage_model)
        if won not in wide.columns:
            return None
        lost_at = wide[lost] if lost in wide.columns else pd.Series(pd.NaT, index=wide.index)
        out = pd.DataFrame({"won_at": wide[won], "lost_at": lost_at})
        out = out[out["won_at"].notna() | out["lost_at"].notna()]
        out = pd.DataFrame(
            {
                "lead_id": out.index.astype(str),
                "outcome": np.where(out["won_at"].notna(), "won", "lost"),
                "amount": np.nan,
                "closed_at": out["won_at"].fillna(out["lost_at"]).to_numpy(),
            }
        )
        return out.merge(leads, on="lead_id")
    return None


NO_PERSONA = "(none)"  # persona of leads whose label is blank

SCORECARD_COLUMNS: tuple[str, ...] = (
    "persona",
    "leads",
    "mql",
    "sql",
    "mql_to_sql",
    "mql_to_sql_low",
    "mql_to_sql_high",
    "mql_won",
    "mql_to_won",
    "mql_to_won_low",
    "mql_to_won_high",
    "closed",
    "won",
    "win_rate",
    "win_rate_low",
    "win_rate_high",
    "cycle_days_median",
    "cycle_days_n",
    "deal_median",
    "deal_n",
    "deal_mean",
)
# per median: the column counting the deals it rests on (won deals with dates, with amounts)
MEDIAN_COUNTS: dict[str, str] = {"cycle_days_median": "cycle_days_n", "deal_median": "deal_n"}


def _per(counts: pd.Series, personas: pd.Index) -> pd.Series:
    """Counts per persona, 0 for a persona without any."""
    return counts.reindex(personas).fillna(0).astype(int)


def persona_scorecard(
    crm: CrmData, persona_col: str = "persona", alpha: float = 0.05
) -> pd.DataFrame:
    """Per persona: leads, MQL->SQL, MQL->won, win rate, median cycle days and deal size.

    Rates carry Wilson intervals (small samples). MQL->SQL and MQL->won follow the MQLs of each
    persona to an SQL / won entry at any time, by the funnel's reach rule (a skipped stage counts
    as passed; a won opportunity of the lead counts as won too); win rate is won / (won + lost)
    closed deals; the cycle is lead creation to a won close, in days. ``cycle_days_n`` and
    ``deal_n`` count the won deals each median rests on (those with both dates, those with an
    amount), which can be fewer than ``won``. The columns are always
    :data:`SCORECARD_COLUMNS`; those the data cannot support are NaN and named in
    ``attrs["not_computed"]``. When the persona is recorded only on won leads (every labelled
    lead won, some leads unlabelled), conversion by persona would be 100% by construction:
    MQL->won is then not computed and ``attrs["recorded_when_won"]`` is True.
    """
    leads = crm.leads
    if persona_col not in leads.columns:
        raise MissingTableError(f"leads.{persona_col}", "personas")
    raw = leads[persona_col]
    code, names = pd.factorize(raw.astype("str").fillna(NO_PERSONA))
    names = pd.Index(names, name="persona", dtype="str")
    out = pd.DataFrame({"leads": np.bincount(code, minlength=len(names))}, index=names)
    out = out.sort_values("leads", ascending=False, kind="stable")
    not_computed: list[str] = []
    recorded_when_won = False
    model = crm.stage_model
    mql, sql, won_stage = model.role("mql"), model.role("sql"), model.role("won")
    reached, rows = (
        stages_reached(crm.stage_history, model, leads)
        if crm.has("stage_history")
        else (None, np.zeros(0, dtype="int64"))
    )

    def per_persona(mask: np.ndarray) -> pd.Series:  # how many leads of ``rows`` are in mask
        return pd.Series(np.bincount(code[rows][mask], minlength=len(names)), index=names)

    if reached is not None and mql in model.funnel:
        is_mql = reached[mql].to_numpy()
        out["mql"] = per_persona(is_mql)
        for role, count, rate in ((sql, "sql", "mql_to_sql"), (won_stage, "mql_won", "mql_to_won")):
            if role not in model.funnel:
                not_computed.append(rate)
                continue
            # the funnel's own definition of reaching a stage (a skipped stage counts as passed)
            hit = is_mql & reached[role].to_numpy()
            if rate == "mql_to_won" and crm.has("opportunities"):  # a won deal counts too
                opps = crm.opportunities
                if "lead_id" in opps:
                    won_at = lead_rows(leads, opps[opps["outcome"] == "won"])
                    won_lead = np.zeros(len(leads) + 1, dtype=bool)  # last slot: no lead
                    won_lead[won_at] = True
                    hit |= is_mql & won_lead[rows]
            if rate == "mql_to_won":
                labelled = raw.notna().to_numpy()[rows]
                recorded_when_won = bool(labelled.any() and hit[labelled].all() and (~hit).any())
                if recorded_when_won:
                    not_computed.append(rate)
                    continue
            out[count] = per_persona(hit)
            out[rate] = out[count] / out["mql"].where(out["mql"] > 0)
            out[f"{rate}_low"], out[f"{rate}_high"] = _wilson(out[count], out["mql"], alpha)
    else:
        not_computed += ["mql_to_sql", "mql_to_won"]
    deals = _closed_deals(crm, [persona_col])
    if deals is not None and len(deals):
        deals = deals.assign(persona=deals[persona_col].astype("str").fillna(NO_PERSONA))
        won = deals[deals["outcome"] == "won"]
        out["closed"] = _per(deals.groupby("persona").size(), out.index)
        out["won"] = _per(won.groupby("persona").size(), out.index)
        if (deals["outcome"] == "lost").any():
            out["win_rate"] = out["won"] / out["closed"].where(out["closed"] > 0)
            out["win_rate_low"], out["win_rate_high"] = _wilson(out["won"], out["closed"], alpha)
        else:  # no lost deal is recorded anywhere: a win rate would be 100% by construction
            not_computed.append("win_rate")
        cycle = (won["closed_at"] - won["created_at"]).dt.total_seconds() / 86400
        out["cycle_days_median"] = cycle.groupby(won["persona"]).median()
        out["cycle_days_n"] = _per(cycle.notna().groupby(won["persona"]).sum(), out.index)
        out["deal_median"] = won.groupby("persona")["amount"].median()
        out["deal_n"] = _per(won["amount"].notna().groupby(won["persona"]).sum(), out.index)
        out["deal_mean"] = won.groupby("persona")["amount"].mean()
        if won["amount"].isna().all():
            not_computed.append("deal_size")
    else:
        not_computed += ["win_rate", "cycle_days", "deal_size"]
    out = out.reindex(columns=SCORECARD_COLUMNS[1:])  # same columns whatever the data has
    out = out.reset_index().sort_values("leads", ascending=False, kind="stable")
    out = out.reset_index(drop=True)
    out.attrs["not_computed"] = not_computed
    out.attrs["recorded_when_won"] = recorded_when_won
    return out


SCORECARD_RATES: tuple[str, ...] = ("mql_to_sql", "mql_to_won", "win_rate")


def scorecard_rates(scorecard: pd.DataFrame) -> list[str]:
    """The rates of a :func:`persona_scorecard` that have at least one value, in display order."""
    return [r for r in SCORECARD_RATES if r in scorecard.columns and scorecard[r].notna().any()]


def win_mix(scorecard: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """How the won deals split by persona: ``persona``, ``won``, ``share`` of all won deals with
    its Wilson interval (``share_low``, ``share_high``), ``cycle_days_median`` and the deals it
    rests on (``cycle_days_n``), largest first.

    Meaningful even when the persona is recorded only on won deals, where conversion is not.
    """
    has_won = scorecard["won"].fillna(0) > 0
    won = scorecard.loc[has_won, ["persona", "won", "cycle_days_median"]]
    won = won.assign(cycle_days_n=_median_counts(scorecard, "cycle_days_n")[has_won])
    won = won.astype({"won": "int64"}).reset_index(drop=True)
    total = pd.Series(int(won["won"].sum()), index=won.index)
    won["share"] = won["won"] / total.where(total > 0)
    won["share_low"], won["share_high"] = _wilson(won["won"], total, alpha)
    columns = ["persona", "won", "share", "share_low", "share_high", "cycle_days_median"]
    columns.append("cycle_days_n")
    return won[columns].sort_values("won", ascending=False, kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# The scorecard in words and tables
# ---------------------------------------------------------------------------------------------

MIN_MEDIAN_DEALS = 10  # a median of fewer won deals than this is flagged as resting on too few
# per rate: the count of successes and the count it is a share of
RATE_COUNTS: dict[str, tuple[str, str]] = {
    "mql_to_sql": ("sql", "mql"),
    "mql_to_won": ("mql_won", "mql"),
    "win_rate": ("won", "closed"),
}
MISSING_CELL = "–"


def persona_label(name: Any, lang: str = "en") -> str:
    """A persona as the report shows it (leads with no persona recorded get a plain label)."""
    return t("personas.no_persona", lang) if name == NO_PERSONA else str(name)


def rate_spread(scorecard: pd.DataFrame, metric: str, alpha: float = 0.05) -> dict[str, Any] | None:
    """The best and the worst persona on ``metric`` (a rate of :data:`RATE_COUNTS`) and the
    difference between them with a Newcombe interval; None with fewer than two rated personas.

    Ties keep the scorecard's order (most leads first), so the pick is deterministic.
    """
    success, base = RATE_COUNTS[metric]
    if metric not in scorecard.columns or base not in scorecard.columns:
        return None
    rated = scorecard[scorecard[metric].notna() & (scorecard[base].fillna(0) > 0)]
    if len(rated) < 2:
        return None
    ranked = rated.sort_values(metric, ascending=False, kind="stable")
    best, worst = ranked.iloc[0], ranked.iloc[-1]
    kb, nb = int(best[success]), int(best[base])
    kw, nw = int(worst[success]), int(worst[base])
    with np.errstate(divide="ignore", invalid="ignore"):  # 0% or 100% shares
        low, high = confint_proportions_2indep(kb, nb, kw, nw, method="newcomb", alpha=alpha)
    return {
        "metric": metric,
        "best": best,
        "worst": worst,
        "difference": kb / nb - kw / nw,
        "ci_low": float(low),
        "ci_high": float(high),
    }


def spread_values(
    scorecard: pd.DataFrame, metric: str, lang: str = "en", alpha: float = 0.05
) -> dict[str, Any] | None:
    """:func:`rate_spread` worded for ``lang``: names, rates with intervals and counts, the
    difference in percentage points with its interval; ``clear`` is False when that interval
    includes zero, and ``score`` (for ranking findings) is then 0, else the difference."""
    spread = rate_spread(scorecard, metric, alpha)
    if spread is None:
        return None
    base = RATE_COUNTS[metric][1]
    values: dict[str, Any] = {"metric": t(f"personas.metric_{metric}", lang)}
    for side in ("best", "worst"):
        row = spread[side]
        n = int(row[base])
        values[side] = persona_label(row["persona"], lang)
        values[f"{side}_rate"] = fmt_pct(float(row[metric]), lang)
        values[f"{side}_low"] = fmt_pct(float(row[f"{metric}_low"]), lang)
        values[f"{side}_high"] = fmt_pct(float(row[f"{metric}_high"]), lang)
        values[f"{side}_n"] = t_count(f"personas.n_{base}", n, lang, n=fmt_number(n, lang))
    clear = not (spread["ci_low"] <= 0 <= spread["ci_high"])
    values.update(
        difference=fmt_number(100 * spread["difference"], lang, 1),
        low=fmt_number(100 * spread["ci_low"], lang, 1),
        high=fmt_number(100 * spread["ci_high"], lang, 1),
        clear=clear,
        score=float(spread["difference"]) if clear else 0.0,
    )
    return values


def spread_sentence(
    scorecard: pd.DataFrame, metric: str, lang: str = "en", alpha: float = 0.05
) -> str | None:
    """The best and worst persona on ``metric`` with their 95% intervals and counts, and whether
    the data can tell them apart (None with fewer than two rated personas)."""
    values = spread_values(scorecard, metric, lang, alpha)
    if values is None:
        return None
    tail = "personas.spread_clear" if values["clear"] else "personas.spread_unclear"
    return " ".join([t("personas.spread", lang, **values), t(tail, lang, **values)])


def rate_cell(value: Any, low: Any, high: Any, lang: str) -> str:
    """A share with its 95% interval as ``lang`` writes it ("15.0% (12.7%–17.6%)"); a dash if
    there is none."""
    if pd.isna(value):
        return MISSING_CELL
    return t(
        "personas.rate_cell",
        lang,
        rate=fmt_pct(float(value), lang, 1),
        low=fmt_pct(None if pd.isna(low) else float(low), lang, 1),
        high=fmt_pct(None if pd.isna(high) else float(high), lang, 1),
    )


def _median_cell(value: Any, n: Any, lang: str, decimals: int = 0) -> str:
    """A median, flagged when it rests on fewer than :data:`MIN_MEDIAN_DEALS` deals."""
    if pd.isna(value):
        return MISSING_CELL
    text = fmt_number(float(value), lang, decimals)
    n = 0 if pd.isna(n) else int(n)
    if n >= MIN_MEDIAN_DEALS:
        return text
    return t_count("personas.median_few", n, lang, value=text, n=fmt_number(n, lang))


def count_cell(value: Any, lang: str) -> str:
    """A count as ``lang`` writes it; a dash if there is none."""
    return MISSING_CELL if pd.isna(value) else fmt_number(int(value), lang)


def _note(flagged: bool, lang: str) -> str:
    return t("personas.median_few_note", lang, min=MIN_MEDIAN_DEALS) if flagged else ""


def _median_counts(frame: pd.DataFrame, count: str) -> pd.Series:
    """How many deals each median of ``frame`` rests on: ``count``, else the won deals."""
    if count in frame and frame[count].notna().any():
        return frame[count]
    return frame["won"]


def scorecard_table(scorecard: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """The :func:`persona_scorecard` as the report shows it: one row per persona with volume
    (leads, MQLs, won deals), each rate with its 95% interval, the median days from lead to won
    and the median won deal size; headings from the catalogue, numbers in ``lang``'s format,
    columns without any value left out. Medians of fewer than :data:`MIN_MEDIAN_DEALS` won deals
    are flagged in their cell; ``attrs["note"]`` then explains the flag (else it is "")."""
    cells: dict[str, list[str]] = {
        "persona": [persona_label(p, lang) for p in scorecard["persona"]],
        "leads": [count_cell(v, lang) for v in scorecard["leads"]],
    }
    for count in ("mql", "won"):
        if scorecard[count].notna().any():
            cells[count] = [count_cell(v, lang) for v in scorecard[count]]
    for rate in scorecard_rates(scorecard):
        cells[rate] = [
            rate_cell(v, lo, hi, lang)
            for v, lo, hi in zip(
                scorecard[rate], scorecard[f"{rate}_low"], scorecard[f"{rate}_high"], strict=True
            )
        ]
    flagged = False
    for median, count in MEDIAN_COUNTS.items():
        if scorecard[median].notna().any():
            counts = _median_counts(scorecard, count)
            cells[median] = [
                _median_cell(v, n, lang) for v, n in zip(scorecard[median], counts, strict=True)
            ]
            low_n = counts[scorecard[median].notna()].fillna(0)
            flagged |= bool((low_n < MIN_MEDIAN_DEALS).any())
    order = ["persona", "leads", "mql", "mql_to_sql", "mql_to_won", "won", "win_rate"]
    order += ["cycle_days_median", "deal_median"]
    table = pd.DataFrame({t(f"personas.col_{c}", lang): cells[c] for c in order if c in cells})
    table.attrs["note"] = _note(flagged, lang)
    return table


def win_mix_table(mix: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """The :func:`win_mix` as the report shows it: persona, won deals, share of won deals with
    its 95% interval and the median days to win, flagged when it rests on fewer than
    :data:`MIN_MEDIAN_DEALS` deals (``attrs["note"]`` then explains the flag, else "")."""
    counts = _median_counts(mix, "cycle_days_n")
    table = pd.DataFrame(
        {
            t("personas.col_persona", lang): [persona_label(p, lang) for p in mix["persona"]],
            t("personas.col_won", lang): [count_cell(v, lang) for v in mix["won"]],
            t("personas.col_share", lang): [
                rate_cell(v, lo, hi, lang)
                for v, lo, hi in zip(mix["share"], mix["share_low"], mix["share_high"], strict=True)
            ],
            t("personas.col_cycle_days_median", lang): [
                _median_cell(v, n, lang)
                for v, n in zip(mix["cycle_days_median"], counts, strict=True)
            ],
        }
    )
    flagged = bool(((counts < MIN_MEDIAN_DEALS) & mix["cycle_days_median"].notna()).any())
    table.attrs["note"] = _note(flagged, lang)
    return table


TEAM_COLUMNS: tuple[str, ...] = ("owner", "sdr", "sr", "rep", "persona", "segment_owner")
# a lead column with a word starting like this records how far the lead got, not who buys
OUTCOME_WORDS: tuple[str, ...] = (
    "stage",
    "status",
    "lifecycle",
    "convert",
    "won",
    "lost",
    "closed",
    "outcome",
    "reason",
    "fase",
    "stato",
    "esito",
)


def records_outcome(column: str) -> bool:
    """Whether a column's name says it records how far the lead got (``lifecycle_stage``,
    ``Lead Status``, ``is_won``), which would split buyers by outcome if clustered on."""
    words = re.split(r"[^0-9a-z]+", str(column).lower())
    return any(w.startswith(o) for w in words if w for o in OUTCOME_WORDS)


def feature_names(features: Sequence[str], lang: str = "en") -> str:
    """Lead attributes as a reader of ``lang`` names them, in a list ("company size, industry")."""
    return ", ".join(column_label(f, lang) for f in features)


def candidate_features(
    leads: pd.DataFrame,
    *,
    max_levels: int = 12,
    min_filled: float = 0.5,
    exclude: Sequence[str] = (),
) -> list[str]:
    """Lead columns worth clustering on: numbers and categories with few levels.

    Left out: ids (``lead_id``, ``lead_key``, ``*_id``, text unique on most rows), personal
    columns, the team's own people (owner, SDR), the persona label itself, dates, constant
    columns, text with more than ``max_levels`` values (free text, names), columns that record
    how far the lead got (a name with stage, status, lifecycle, converted, won, lost, closed,
    outcome, reason: HubSpot's ``lifecycle_stage``, Salesforce's ``lead_status``), and columns
    filled on fewer than ``min_filled`` of the leads (often attributes recorded only after a
    sale). Both last kinds would split won from not won rather than describe buyers.
    """
    skip = {*PERSONAL_COLUMNS, *TEAM_COLUMNS, *exclude, "lead_id", LEAD_KEY}
    out = []
    n = max(len(leads), 1)
    for col in leads.columns:
        values = leads[col]
        if col in skip or str(col).endswith("_id") or values.notna().sum() < min_filled * n:
            continue
        if records_outcome(col):
            continue
        if pd.api.types.is_datetime64_any_dtype(values):
            continue
        levels = values.nunique(dropna=True)
        if levels < 2:
            continue
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        if numeric or (levels <= max_levels and levels < 0.9 * values.notna().sum()):
            out.append(str(col))
    return out


def won_vs_lost(crm: CrmData, features: Sequence[str], alpha: float = 0.05) -> pd.DataFrame:
    """How won and lost deals differ on lead attributes (correlational, not causal).

    Numbers: mean among won minus mean among lost, Welch interval. Categories: share of each
    level among won minus among lost, Newcombe interval. One row per feature (and level).
    """
    features = list(features)
    missing = [f for f in features if f not in crm.leads.columns]
    if missing:
        raise MissingTableError(f"leads.{', '.join(missing)}", "personas")
    deals = _closed_deals(crm, features)
    if deals is None or deals.empty:
        raise MissingTableError("opportunities", "personas")
    won, lost = deals[deals["outcome"] == "won"], deals[deals["outcome"] == "lost"]
    rows = []
    for f in features:
        if pd.api.types.is_numeric_dtype(deals[f]) and not pd.api.types.is_bool_dtype(deals[f]):
            a, b = won[f].dropna().to_numpy(float), lost[f].dropna().to_numpy(float)
            low = high = np.nan
            if len(a) > 1 and len(b) > 1:
                ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval(1 - alpha)
                low, high = float(ci.low), float(ci.high)
            rows.append(
                {
                    "feature": f,
                    "level": None,
                    "won": a.mean() if len(a) else np.nan,
                    "lost": b.mean() if len(b) else np.nan,
                    "difference": a.mean() - b.mean() if len(a) and len(b) else np.nan,
                    "ci_low": low,
                    "ci_high": high,
                    "n_won": len(a),
                    "n_lost": len(b),
                }
            )
            continue
        a, b = won[f].astype("str").dropna(), lost[f].astype("str").dropna()
        for level in sorted(set(a) | set(b)):
            ka, kb = int((a == level).sum()), int((b == level).sum())
            low = high = np.nan
            if len(a) and len(b):
                low, high = confint_proportions_2indep(
                    ka, len(a), kb, len(b), method="newcomb", alpha=alpha
                )
            rows.append(
                {
                    "feature": f,
                    "level": level,
                    "won": ka / len(a) if len(a) else np.nan,
                    "lost": kb / len(b) if len(b) else np.nan,
                    "difference": ka / len(a) - kb / len(b) if len(a) and len(b) else np.nan,
                    "ci_low": float(low),
                    "ci_high": float(high),
                    "n_won": len(a),
                    "n_lost": len(b),
                }
            )
    return pd.DataFrame(rows)


def rejection_mix(crm: CrmData, persona_col: str = "persona", alpha: float = 0.05) -> pd.DataFrame:
    """Share of each sales rejection reason per persona, with Wilson intervals.

    The feedback loop to marketing: which personas sales turns back, and why. Rejections without
    a reason code are counted as ``unspecified``.
    """
    history = crm.require("stage_history", "personas")
    rejected = crm.stage_model.role("rejected")
    if rejected is None:
        raise KitError("personas.no_rejected_stage")
    if persona_col not in crm.leads.columns:
        raise MissingTableError(f"leads.{persona_col}", "personas")
    rows = history[history["stage"] == rejected]
    reason = rows["reason"] if "reason" in rows.columns else pd.Series(None, index=rows.index)
    rows = pd.DataFrame({"lead_id": rows["lead_id"], "reason": reason.fillna("unspecified")})
    rows = rows.merge(crm.leads[["lead_id", persona_col]], on="lead_id")
    rows["persona"] = rows[persona_col].astype("str").fillna(NO_PERSONA)
    counts = rows.groupby(["persona", "reason"]).size().rename("n").reset_index()
    counts["total"] = counts.groupby("persona")["n"].transform("sum")
    counts["share"] = counts["n"] / counts["total"]
    counts["ci_low"], counts["ci_high"] = _wilson(counts["n"], counts["total"], alpha)
    return counts.sort_values(["persona", "n"], ascending=[True, False]).reset_index(drop=True)
