"""Test helper: a small canonical dataset, and writers that save canonical data in the export
styles the kit reads (kit CSV, Italian Excel CSV, XLSX, Parquet, HubSpot UI labels or internal
names). Reading each back must give the same canonical tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from helpers.model import UTC_TS, CrmData

FIRST = ["Anna", "Niccolò", "Zoë", "Marco", "Giulia", "Luca"]
LAST = ["Rossi", "Bianchi", "D'Amico", "Ferrari", "Esposito", "Colombo"]


def make_crm(n: int = 40, seed: int = 7) -> CrmData:
    """A small funnel with stages every export style can express (lead, mql, sql, opp, won/lost)."""
    rng = np.random.default_rng(seed)
    ids = [f"L{i:04d}" for i in range(n)]
    created = pd.Timestamp("2024-01-02 09:00", tz="UTC") + pd.to_timedelta(
        rng.integers(0, 200 * 24 * 3600, n), unit="s"
    )
    first = [FIRST[i % len(FIRST)] for i in range(n)]
    last = [LAST[(i // 2) % len(LAST)] for i in range(n)]
    leads = pd.DataFrame(
        {
            "lead_id": ids,
            "created_at": pd.Series(created, dtype=UTC_TS),
            "source": rng.choice(["organic_search", "paid_search", "event", "referral"], n),
            "persona": rng.choice(["Operations Olga", "Finance Fabio"], n),
            "owner": rng.choice(["rep_a", "rep_b", "rep_c"], n),
            "company": [f"Azienda {i} S.r.l." for i in range(n)],
            "company_size": rng.integers(5, 5000, n).astype("float64"),
            "industry": rng.choice(["manufacturing", "retail"], n),
            "country": rng.choice(["IT", "DE", "US"], n),
            "email": [f"{f.lower()}.{i}@example.com" for i, f in enumerate(first)],
            "phone": [f"+39 02 5550 {i:04d}" for i in range(n)],
            "first_name": first,
            "last_name": last,
        }
    )
    # extra columns a client may have: kept by the kit format with their own types
    leads["web_visits"] = rng.integers(0, 40, n).astype("int64")
    leads["annual_revenue"] = rng.integers(10_000, 90_000_000, n) / 100
    leads["postcode"] = [f"{i % 7:05d}" for i in range(n)]
    leads["last_seen"] = leads["created_at"] + pd.Timedelta(days=2, seconds=5)
    for col in leads.columns:
        if leads[col].dtype == object:
            leads[col] = leads[col].astype("str")
    rows, opps, acts = [], [], []
    for i, (lid, t0) in enumerate(zip(ids, leads["created_at"], strict=True)):
        rows.append((lid, "lead", t0))
        if i % 10 < 7:
            rows.append((lid, "mql", t0 + pd.Timedelta(hours=26)))
            acts.append(
                (
                    f"{lid}:first_sales_touch",
                    lid,
                    "sales",
                    "first_sales_touch",
                    t0 + pd.Timedelta(hours=30),
                )
            )
        if i % 10 < 4:
            rows.append((lid, "sql", t0 + pd.Timedelta(days=3, minutes=7)))
        if i % 10 < 3:
            opened = t0 + pd.Timedelta(days=5, seconds=13)
            rows.append((lid, "opportunity", opened))
            won = i % 10 < 2
            closed = t0 + pd.Timedelta(days=20 + i % 7)
            rows.append((lid, "won" if won else "lost", closed))
            opps.append(
                (
                    f"D{i:04d}",
                    lid,
                    "rep_a",
                    round(1000 + 37.25 * i, 2),
                    opened,
                    closed,
                    "closedwon" if won else "closedlost",
                    "won" if won else "lost",
                )
            )
    stage_history = pd.DataFrame(rows, columns=["lead_id", "stage", "entered_at"])
    opportunities = pd.DataFrame(
        opps,
        columns=[
            "opportunity_id",
            "lead_id",
            "owner",
            "amount",
            "created_at",
            "closed_at",
            "stage",
            "outcome",
        ],
    )
    activities = pd.DataFrame(acts, columns=["activity_id", "lead_id", "side", "type", "at"])
    for df in (stage_history, opportunities, activities):
        for col in df.columns:
            if df[col].dtype == object or pd.api.types.is_string_dtype(df[col]):
                df[col] = df[col].astype("str")
            elif isinstance(df[col].dtype, pd.DatetimeTZDtype):
                df[col] = df[col].astype(UTC_TS)
    return CrmData(
        leads=leads, stage_history=stage_history, opportunities=opportunities, activities=activities
    )


def _text_frame(df: pd.DataFrame, date_fmt: str, decimal_comma: bool = False) -> pd.DataFrame:
    out = pd.DataFrame(index=df.index)
    for col in df.columns:
        s = df[col]
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            out[col] = s.dt.tz_convert("UTC").dt.strftime(date_fmt)
        elif pd.api.types.is_float_dtype(s):
            text = s.map(lambda v: "" if pd.isna(v) else f"{v:,.2f}")
            if decimal_comma:
                text = text.str.replace(",", "_").str.replace(".", ",").str.replace("_", ".")
            out[col] = text
        else:
            out[col] = s
    return out


def write_kit(
    crm: CrmData,
    folder: Path,
    fmt: str = "csv",
    *,
    italian: bool = False,
    encoding: str = "utf-8",
    bom: bool = False,
) -> Path:
    """The kit format: one file per table; ``italian`` = ``;``, decimal comma, dd/mm/yyyy."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in crm.tables().items():
        if fmt == "parquet":
            df.to_parquet(folder / f"{name}.parquet", index=False)
        elif fmt == "xlsx":
            plain = df.copy()
            for col in plain.columns:
                if isinstance(plain[col].dtype, pd.DatetimeTZDtype):
                    plain[col] = plain[col].dt.tz_localize(None)
            plain.to_excel(folder / f"{name}.xlsx", index=False)
        else:
            date_fmt = "%d/%m/%Y %H:%M:%S" if italian else "%Y-%m-%dT%H:%M:%SZ"
            text = _text_frame(df, date_fmt, decimal_comma=italian)
            if not italian:  # plain numbers without thousands separators
                for col in df.columns:
                    if pd.api.types.is_float_dtype(df[col]):
                        text[col] = df[col].map(lambda v: "" if pd.isna(v) else repr(float(v)))
            data = text.to_csv(index=False, sep=";" if italian else ",", lineterminator="\r\n")
            raw = data.encode(encoding)
            if bom:
                raw = b"\xef\xbb\xbf" + raw
            (folder / f"{name}.csv").write_bytes(raw)
    return folder


HUBSPOT_STAGES = {  # canonical stage -> (UI label column, internal name column)
    "lead": ("Became a Lead Date", "hs_lifecyclestage_lead_date"),
    "mql": ("Became a Marketing Qualified Lead Date", "hs_v2_date_entered_marketingqualifiedlead"),
    "sql": ("Became a Sales Qualified Lead Date", "hs_lifecyclestage_salesqualifiedlead_date"),
    "opportunity": ("Became an Opportunity Date", "hs_lifecyclestage_opportunity_date"),
    "won": ("Became a Customer Date", "hs_lifecyclestage_customer_date"),
}
HUBSPOT_CONTACT = {  # canonical -> (UI label, internal name)
    "lead_id": ("Record ID", "hs_object_id"),
    "created_at": ("Create Date", "createdate"),
    "source": ("Original Source", "hs_analytics_source"),
    "persona": ("Persona", "hs_persona"),
    "owner": ("Contact owner", "hubspot_owner_id"),
    "company": ("Company Name", "company"),
    "company_size": ("Number of Employees", "numemployees"),
    "industry": ("Industry", "industry"),
    "country": ("Country/Region", "country"),
    "email": ("Email", "email"),
    "phone": ("Phone Number", "phone"),
    "first_name": ("First Name", "firstname"),
    "last_name": ("Last Name", "lastname"),
}
HUBSPOT_DEAL = {
    "opportunity_id": ("Record ID", "hs_object_id"),
    "lead_id": ("Associated Contact IDs", "associated_contact_id"),
    "owner": ("Deal owner", "hubspot_owner_id"),
    "amount": ("Amount", "amount"),
    "created_at": ("Create Date", "createdate"),
    "closed_at": ("Close Date", "closedate"),
    "stage": ("Deal Stage", "dealstage"),
}


def write_hubspot(crm: CrmData, folder: Path, labels: str = "ui") -> Path:
    """Contacts (wide stage dates, first sales touch) and deals, as HubSpot exports them."""
    folder.mkdir(parents=True, exist_ok=True)
    k = 0 if labels == "ui" else 1
    date_fmt = "%m/%d/%Y %H:%M:%S" if labels == "ui" else "%Y-%m-%dT%H:%M:%S.000Z"
    leads = crm.leads
    contacts = pd.DataFrame({names[k]: leads[c] for c, names in HUBSPOT_CONTACT.items()})
    wide = crm.stage_history.pivot(index="lead_id", columns="stage", values="entered_at")
    for stage, names in HUBSPOT_STAGES.items():
        contacts[names[k]] = leads["lead_id"].map(wide[stage]) if stage in wide else pd.NaT
    touch = crm.activities.set_index("lead_id")["at"]
    contacts[("First Engagement Date", "hs_sa_first_engagement_date")[k]] = leads["lead_id"].map(
        touch
    )
    contacts["Lifecycle Stage"] = "lead"
    deals = pd.DataFrame({names[k]: crm.opportunities[c] for c, names in HUBSPOT_DEAL.items()})
    deals["Pipeline"] = "default"
    for name, df in (
        ("hubspot-crm-exports-all-contacts", contacts),
        ("hubspot-crm-exports-all-deals", deals),
    ):
        text = _text_frame(
            df.astype(
                {
                    c: "datetime64[us, UTC]"
                    for c in df.columns
                    if isinstance(df[c].dtype, pd.DatetimeTZDtype)
                }
            ),
            date_fmt,
        )
        if labels == "ui":
            for col in df.columns:
                if pd.api.types.is_float_dtype(df[col]):
                    text[col] = df[col].map(lambda v: "" if pd.isna(v) else repr(float(v)))
        else:
            for col in df.columns:
                if pd.api.types.is_float_dtype(df[col]):
                    text[col] = df[col].map(lambda v: "" if pd.isna(v) else repr(float(v)))
        text.to_csv(folder / f"{name}.csv", index=False)
    return folder


def canonical_view(crm: CrmData) -> dict[str, pd.DataFrame]:
    """Tables with canonical columns only, sorted, for comparing two readings."""
    from helpers.model import SCHEMAS

    keys = {
        "leads": ["lead_id"],
        "stage_history": ["lead_id", "stage", "entered_at"],
        "opportunities": ["opportunity_id"],
        "activities": ["activity_id"],
    }
    out = {}
    for name, df in crm.tables().items():
        cols = [c for c in SCHEMAS[name].columns if c in df.columns]
        out[name] = df[cols].sort_values(keys.get(name, cols)).reset_index(drop=True)
    return out
