"""The same data gives the same canonical tables whatever the export style it arrives in."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from ingest_exports import canonical_view, make_crm, write_hubspot, write_kit

from helpers import privacy
from helpers.ingest import load_crm
from helpers.model import PERSONAL_COLUMNS, SCHEMAS, CrmData

KEY = b"equivalence"

STYLES = {
    "kit_csv": lambda crm, d: write_kit(crm, d),
    "italian_cp1252": lambda crm, d: write_kit(crm, d, italian=True, encoding="cp1252"),
    "italian_utf8_bom": lambda crm, d: write_kit(crm, d, italian=True, bom=True),
    "italian_utf8": lambda crm, d: write_kit(crm, d, italian=True),
    "kit_utf8_bom": lambda crm, d: write_kit(crm, d, bom=True),
    "xlsx": lambda crm, d: write_kit(crm, d, "xlsx"),
    "parquet": lambda crm, d: write_kit(crm, d, "parquet"),
    "hubspot_ui_labels": lambda crm, d: write_hubspot(crm, d, "ui"),
    "hubspot_internal_names": lambda crm, d: write_hubspot(crm, d, "internal"),
}


@pytest.fixture(scope="module")
def crm():
    return make_crm()


@pytest.fixture(scope="module")
def reference(crm, tmp_path_factory):
    data, report = load_crm(write_kit(crm, tmp_path_factory.mktemp("kit")), key=KEY)
    assert report.usable and not report.warnings and not report.errors
    return data


def assert_same(a, b) -> None:
    left, right = canonical_view(a), canonical_view(b)
    assert set(left) == set(right)
    for name in left:
        pd.testing.assert_frame_equal(left[name], right[name], obj=name)


def test_kit_reading_returns_what_was_written(crm, reference):
    expected = {name: df.copy() for name, df in crm.tables().items()}
    expected["leads"] = privacy.pseudonymise(expected["leads"], PERSONAL_COLUMNS, KEY)
    got = canonical_view(reference)
    for name, df in expected.items():
        want = df[[c for c in got[name].columns]]
        want = want.sort_values(
            list(got[name].columns[:1])
            if name != "stage_history"
            else ["lead_id", "stage", "entered_at"]
        ).reset_index(drop=True)
        pd.testing.assert_frame_equal(got[name], want, obj=name)
    assert reference.leads["email"].str.startswith("anon_").all()


@pytest.mark.parametrize("style", sorted(STYLES))
def test_every_export_style_gives_the_same_tables(style, crm, reference, tmp_path):
    folder = STYLES[style](crm, tmp_path / style)
    data, report = load_crm(folder, key=KEY)
    assert report.usable, report.render_text()
    assert not report.errors and not report.warnings, report.render_text()
    if style.startswith("hubspot"):  # HubSpot owners are people's names: pseudonymised
        expected = {
            n: privacy.pseudonymise(df, ["owner"], KEY) for n, df in reference.tables().items()
        }
        reference = CrmData(stage_model=reference.stage_model, **expected)
        assert data.leads["owner"].str.startswith("anon_").all()
    assert_same(reference, data)
    expected_mapping = "hubspot" if style.startswith("hubspot") else "kit"
    assert report.mapping == expected_mapping
    assert report.stage_counts["won"] == (crm.stage_history["stage"] == "won").sum()


def test_italian_file_is_really_italian(crm, tmp_path):
    folder = write_kit(crm, tmp_path, italian=True, encoding="cp1252")
    raw = (folder / "opportunities.csv").read_bytes()
    assert b";" in raw and b"," in raw and b"Z" not in raw
    assert "Niccol\xf2".encode("latin-1") in (folder / "leads.csv").read_bytes()
    _, report = load_crm(folder, key=KEY)
    assert report.get("encoding_fallback").params["encoding"] == "cp1252"


def test_bundled_sample_reads_the_same_in_every_file_format(root: Path, tmp_path):
    sample = root / "data" / "samples"
    if not (sample / "leads.csv").is_file():
        pytest.skip("data/samples is not there yet")
    data, report = load_crm(sample, key=KEY)
    assert report.usable, report.render_text()
    raw = pd.read_csv(sample / "leads.csv", dtype=str)
    assert not data.leads["email"].isin(raw["email"]).any()
    assert not data.leads["phone"].isin(raw["phone"]).any()
    dumped = data.leads.to_csv() + report.render_text("it") + str(report.to_dict())
    assert not any(e in dumped for e in raw["email"].head(500))
    assert data.leads["email"].str.startswith("anon_").all()
    for style in ("italian_cp1252", "parquet", "xlsx"):
        subset = first_leads(data, 800) if style == "xlsx" else data  # openpyxl is slow
        again, rep2 = load_crm(STYLES[style](subset, tmp_path / style), key=KEY, pseudonymise=False)
        assert rep2.usable, rep2.render_text()
        assert not rep2.warnings, rep2.render_text()
        assert_same(subset, again)
        extras = [c for c in subset.leads.columns if c not in SCHEMAS["leads"].columns]
        assert (again.leads[extras].dtypes == subset.leads[extras].dtypes).all()


def first_leads(crm: CrmData, n: int) -> CrmData:
    """The first ``n`` leads and the rows of the other tables that belong to them."""
    ids = set(crm.leads["lead_id"].head(n))
    tables = {
        name: df[df["lead_id"].isin(ids)] if "lead_id" in df else df
        for name, df in crm.tables().items()
    }
    return CrmData(stage_model=crm.stage_model, **tables)


@pytest.mark.parametrize("style", ["italian_cp1252", "kit_utf8_bom", "xlsx", "parquet"])
def test_extra_columns_keep_their_types_in_every_kit_format(style, crm, reference, tmp_path):
    data, _ = load_crm(STYLES[style](crm, tmp_path / style), key=KEY)
    extras = ["web_visits", "annual_revenue", "postcode", "last_seen"]
    for name in (reference, data):
        assert str(name.leads["web_visits"].dtype) == "int64"
        assert str(name.leads["annual_revenue"].dtype) == "float64"
        assert str(name.leads["last_seen"].dtype) == "datetime64[us, UTC]"
        assert name.leads["postcode"].str.len().eq(5).all()  # a code, not a number
    pd.testing.assert_frame_equal(
        data.leads.set_index("lead_id")[extras].sort_index(),
        reference.leads.set_index("lead_id")[extras].sort_index(),
    )
    pd.testing.assert_series_equal(
        reference.leads.set_index("lead_id")["annual_revenue"].sort_index(),
        crm.leads.set_index("lead_id")["annual_revenue"].sort_index(),
    )
