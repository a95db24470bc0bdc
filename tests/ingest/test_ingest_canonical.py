"""Canonical Parquet round trip, mapping files and auto-detection."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from ingest_exports import make_crm, write_hubspot, write_kit

from helpers.errors import KitError, MissingTableError
from helpers.ingest import PRESETS, load_canonical, load_crm, load_mapping, save_canonical
from helpers.ingest.mapping import detect_mapping
from helpers.ingest.safety import neutralise_formulas


def test_save_and_load_round_trip_exactly(tmp_path):
    data, report = load_crm(write_hubspot(make_crm(), tmp_path / "hs"))
    assert report.usable
    save_canonical(data, tmp_path / "run")
    back = load_canonical(tmp_path / "run")
    assert set(back.tables()) == set(data.tables())
    for name, df in data.tables().items():
        pd.testing.assert_frame_equal(back.tables()[name], df, obj=name)
    assert back.stage_model == data.stage_model
    assert not list((tmp_path / "run").glob(".*.tmp"))


def test_save_removes_tables_that_are_gone(tmp_path):
    crm = make_crm()
    save_canonical(crm, tmp_path)
    crm.opportunities = None
    save_canonical(crm, tmp_path)
    assert load_canonical(tmp_path).opportunities is None


def test_load_canonical_without_leads_says_so(tmp_path):
    with pytest.raises(MissingTableError):
        load_canonical(tmp_path)


def test_every_preset_loads():
    for name in PRESETS:
        mapping = load_mapping(name)
        assert any(s.table == "leads" for s in mapping.sources)


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (["lead_id", "created_at", "source"], "kit"),
        (["Record ID", "Create Date", "Lifecycle Stage", "Email"], "hubspot"),
        (["hs_object_id", "createdate", "lifecyclestage"], "hubspot"),
        (["Lead ID", "Created Date", "Lead Status", "Lead Source"], "salesforce"),
        (["mql_id", "first_contact_date", "landing_page_id", "origin"], "olist"),
        (["foo", "bar"], "kit"),
    ],
)
def test_detect_mapping(columns, expected):
    assert detect_mapping([("export.csv", columns)]) == expected


def test_salesforce_leads_and_opportunities(tmp_path):
    (tmp_path / "leads_report.csv").write_text(
        "Lead ID,Lead Status,Lead Source,Created Date,Converted Date,Email,Company\n"
        "00Q1,Closed - Converted,Web,1/15/2024,2/1/2024,a@x.com,Acme\n"
        "00Q2,Working - Contacted,Event,1/20/2024,,b@x.com,Beta\n"
        "00Q3,Open - Not Contacted,Web,2/3/2024,,c@x.com,Gamma\n",
        encoding="utf-8",
    )
    (tmp_path / "opportunities_report.csv").write_text(
        "Opportunity ID,Converted Lead ID,Stage,Amount,Close Date,Created Date\n"
        '006A,00Q1,Closed Won,"$12,500.00",3/31/2024,2/1/2024\n',
        encoding="utf-8",
    )
    data, report = load_crm(tmp_path)
    assert report.mapping == "salesforce" and report.usable, report.render_text()
    opp = data.opportunities.iloc[0]
    assert opp["outcome"] == "won" and opp["amount"] == 12500.0
    assert opp["closed_at"] == pd.Timestamp("2024-03-31", tz="UTC")
    assert report.stage_counts == {
        "lead": 3,
        "mql": 0,
        "sal": 0,
        "sql": 1,
        "opportunity": 1,
        "won": 1,
    }
    assert report.get("currency_symbols").count == 1


def test_user_mapping_with_extra_stage_alias_and_time_zone(tmp_path):
    (tmp_path / "export.csv").write_text(
        "Id;Creato il;Fase;Data fase\nA1;31/01/2024 09:00;Qualified Lead;02/02/2024 10:00\n",
        encoding="utf-8",
    )
    (tmp_path / "m.yaml").write_text(
        "name: gestionale\ntimezone: Europe/Rome\nstages: {Qualified Lead: sql}\nsources:\n"
        "  - table: leads\n    files: ['export*']\n"
        "    columns: {lead_id: Id, created_at: Creato il}\n"
        "    stage_status: {column: Fase, date: Data fase}\n",
        encoding="utf-8",
    )
    data, report = load_crm(tmp_path / "export.csv", tmp_path / "m.yaml")
    assert report.usable, report.render_text()
    assert data.leads["created_at"].iloc[0] == pd.Timestamp("2024-01-31 08:00", tz="UTC")
    assert data.stage_history[["stage", "entered_at"]].values.tolist() == [
        ["sql", pd.Timestamp("2024-02-02 09:00", tz="UTC")]
    ]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("sources: {}", "sources"),
        ("sources:\n  - table: nonsense\n", "table"),
        ("sources:\n  - table: leads\n    columns: [a, b]\n", "columns"),
        ("timezone: Mars/Base\nsources:\n  - table: leads\n", "Mars/Base"),
        ("date_order: ymd\nsources:\n  - table: leads\n", "date_order"),
        ("sources:\n  - table: opportunities\n", "leads"),
    ],
)
def test_broken_mapping_files_name_the_key(tmp_path, text, needle):
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(KitError) as err:
        load_mapping(path)
    assert err.value.key == "ingest.mapping_invalid"
    assert needle in err.value.message("en") and needle in err.value.message("it")


def test_neutralise_formulas_for_csv_and_xlsx_writers():
    df = pd.DataFrame(
        {
            "a": pd.Series(["=1+1", "+39 02 123", "-5", "@x", "ok"], dtype="str"),
            "n": [1, 2, 3, 4, 5],
        }
    )
    out = neutralise_formulas(df)
    assert out["a"].tolist() == ["'=1+1", "+39 02 123", "-5", "'@x", "ok"]
    assert out["n"].tolist() == [1, 2, 3, 4, 5]


def test_xlsx_excel_serial_dates(tmp_path):
    crm = make_crm(n=5)
    write_kit(crm, tmp_path, "xlsx")
    leads = pd.read_excel(tmp_path / "leads.xlsx", dtype=str)
    serial = (
        crm.leads["created_at"].dt.tz_localize(None).dt.normalize() - pd.Timestamp("1899-12-30")
    ).dt.days
    leads["created_at"] = serial.astype(int)
    leads.to_excel(tmp_path / "leads.xlsx", index=False)
    data, report = load_crm(tmp_path / "leads.xlsx")
    assert report.usable, report.render_text()
    assert (data.leads["created_at"] == crm.leads["created_at"].dt.normalize()).all()


def test_the_documented_example_mapping_is_valid(root):
    import re

    import yaml

    from helpers.ingest.mapping import mapping_from_dict

    text = (root / "docs" / "mappings.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(.*?)```", text, re.S).group(1)
    mapping = mapping_from_dict(yaml.safe_load(block), "docs example")
    assert mapping.timezone == "Europe/Rome" and mapping.date_order == "dmy"
    assert mapping.stage_model.resolve("Qualified Lead") == "sql"
    assert {"mobile", "email"} <= mapping.personal_columns()
    assert [s.table for s in mapping.sources] == ["leads", "opportunities", "leads"]


def test_utf16_tab_delimited_text_from_excel(tmp_path):
    text = "lead_id\tcreated_at\tcompany\nL1\t31/01/2024\tCaffè Srl\nL2\t01/02/2024\tZoë\n"
    (tmp_path / "leads.txt").write_bytes(text.encode("utf-16"))
    data, report = load_crm(tmp_path / "leads.txt")
    assert report.usable and not report.warnings, report.render_text()
    assert data.leads["company"].tolist() == ["Caffè Srl", "Zoë"]
    assert data.leads["created_at"].tolist() == [
        pd.Timestamp("2024-01-31", tz="UTC"),
        pd.Timestamp("2024-02-01", tz="UTC"),
    ]


def test_json_report_has_a_stable_shape(tmp_path):
    _, report = load_crm(write_kit(make_crm(n=8), tmp_path))
    out = report.to_dict("it")
    assert list(out) == ["usable", "mapping", "tables", "stage_counts", "summary", "findings"]
    assert list(out["tables"]["leads"]) == ["files", "rows", "date_column", "start", "end"]
    assert list(out["findings"][0]) == [
        "severity",
        "code",
        "table",
        "file",
        "column",
        "source_column",
        "count",
        "examples",
        "params",
        "message",
        "advice",
    ]
    assert out["tables"]["leads"]["rows"] == 8 and out["tables"]["leads"]["files"] == ["leads.csv"]


def test_hubspot_deal_with_several_contacts_links_the_first(tmp_path):
    crm = make_crm(n=10)
    folder = write_hubspot(crm, tmp_path)
    deals_path = folder / "hubspot-crm-exports-all-deals.csv"
    deals = pd.read_csv(deals_path, dtype=str)
    first = deals.loc[0, "Associated Contact IDs"]
    deals.loc[0, "Associated Contact IDs"] = f"{first};L0009"
    deals.to_csv(deals_path, index=False)
    data, report = load_crm(folder)
    assert report.usable and not report.get("orphan_rows"), report.render_text()
    assert (
        data.opportunities.set_index("opportunity_id").loc[deals.loc[0, "Record ID"], "lead_id"]
        == first
    )


@pytest.mark.parametrize(
    ("order", "expected", "severity"),
    [(None, "2024-02-01", "warning"), ("mdy", "2024-01-02", "info"), ("dmy", "2024-02-01", "info")],
)
def test_user_date_order_beats_the_file_hint(tmp_path, order, expected, severity):
    (tmp_path / "leads.csv").write_text("lead_id;created_at\nL1;01/02/2024\n", encoding="utf-8")
    extra = f"date_order: {order}\n" if order else ""
    (tmp_path / "m.yaml").write_text(
        extra + "sources:\n  - {table: leads, files: ['leads.*']}\n", encoding="utf-8"
    )
    data, report = load_crm(tmp_path / "leads.csv", tmp_path / "m.yaml")
    assert data.leads["created_at"].iloc[0] == pd.Timestamp(expected, tz="UTC")
    finding = report.get("ambiguous_date_order")
    assert finding.severity == severity
    assert "giorno/mese (gg/mm/aaaa)" in finding.message("it") or "mese/giorno" in finding.message(
        "it"
    )
    assert "dmy" not in finding.message("it") and "mdy" not in finding.message("en")


def test_a_row_longer_than_a_read_block_is_read_by_retrying(tmp_path, monkeypatch):
    from helpers.ingest import readers

    monkeypatch.setattr(readers, "BLOCK_SIZE", 1024)
    long = "y" * 5000
    (tmp_path / "leads.csv").write_text(
        f"lead_id,created_at,notes\nL1,2024-01-01,{long}\nL2,2024-01-02,short\n", encoding="utf-8"
    )
    data, report = load_crm(tmp_path, pseudonymise=False)
    assert report.usable and data.leads["notes"].tolist() == [long, "short"]


def test_a_csv_parser_failure_is_a_finding_not_a_traceback(tmp_path, monkeypatch, capsys):
    import pyarrow as pa

    from helpers.cli import main
    from helpers.ingest import readers

    def broken(*args, **kwargs):
        raise pa.ArrowInvalid("CSV parse error: something unexpected\nmore detail")

    monkeypatch.setattr(readers.pacsv, "read_csv", broken)
    (tmp_path / "leads.csv").write_text("lead_id,created_at\nL1,2024-01-01\n", encoding="utf-8")
    assert main(["validate", str(tmp_path)]) == 2
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert "could not be read as CSV (CSV parse error: something unexpected)" in out


def test_salesforce_won_and_closed_flags_decide_custom_stages(tmp_path):
    (tmp_path / "leads.csv").write_text(
        "Lead ID,Created Date\n00Q1,1/15/2024\n00Q2,1/16/2024\n00Q3,1/17/2024\n",
        encoding="utf-8",
    )
    (tmp_path / "opportunities.csv").write_text(
        "Opportunity ID,Converted Lead ID,Stage,Amount,Created Date,Close Date,Won,Closed\n"
        "006A,00Q1,Contract Signed,100,2/1/2024,3/1/2024,true,true\n"
        "006B,00Q2,Went Dark,200,2/1/2024,3/2/2024,false,true\n"
        "006C,00Q3,Demo Booked,300,2/1/2024,,false,false\n",
        encoding="utf-8",
    )
    data, report = load_crm(tmp_path, "salesforce")
    assert report.usable, report.render_text()
    outcome = data.opportunities.set_index("opportunity_id")["outcome"]
    assert outcome.to_dict() == {"006A": "won", "006B": "lost", "006C": "open"}
    assert report.stage_counts["won"] == 1 and report.stage_counts["lost"] == 1


def test_columns_only_a_merged_file_has_are_blank_where_it_has_no_row_and_said_once(tmp_path):
    (tmp_path / "leads.csv").write_text(
        "lead_id,created_at\nL1,2024-01-01\nL2,2024-01-02\nL3,2024-01-03\n", encoding="utf-8"
    )
    (tmp_path / "deals.csv").write_text("mql_id,segment\nL1,retail\n", encoding="utf-8")
    (tmp_path / "m.yaml").write_text(
        "sources:\n"
        "  - {table: leads, files: ['leads.*']}\n"
        "  - {table: leads, files: ['deals.*'], merge_on: lead_id,"
        " columns: {lead_id: mql_id, segment: segment}}\n",
        encoding="utf-8",
    )
    data, report = load_crm(tmp_path, tmp_path / "m.yaml", key=b"k")
    segment = data.leads.sort_values("lead_id")["segment"]
    assert segment.isna().tolist() == [False, True, True] and segment.iloc[0] == "retail"
    finding = report.get("merge_unmatched")
    # the rows without a match are leads, in leads.csv; the file they have no match in is deals
    assert (finding.severity, finding.count, finding.file) == ("info", 2, "leads.csv")
    assert finding.params == {"merged": "deals.csv", "columns": "segment"}
    assert "leads.csv: 2 rows have no match in deals.csv" in report.render_text("en")
    assert "leads.csv: 2 righe non hanno corrispondenza in deals.csv" in report.render_text("it")
    assert "deals.csv lists only some" in finding.advice("en")
    assert report.get("blank_values") is None  # not a second, misleading "fill it in the CRM"


def test_validation_text_names_stages_dates_and_checks_in_the_readers_language(tmp_path):
    from helpers.ingest.report import Finding
    from helpers.stages import stage_label

    crm = make_crm()
    write_kit(crm, tmp_path)
    _, report = load_crm(tmp_path, "kit", pseudonymise=False)
    text = report.render_text("it")
    assert f"  {stage_label('sal', 'it')}" in text and "\n  sal " not in text  # labels, not keys
    assert re.search(r"dal \d\d/\d\d/\d{4} al \d\d/\d\d/\d{4}", text)  # Italian dates
    assert not re.search(r"\d{4}-\d\d-\d\d", text.split("\n\n")[1])
    blank = Finding(
        "error", "schema_check", table="leads", count=3, params={"check": "not_nullable"}
    )
    assert "not_nullable" not in blank.message("it") and "'nessun valore vuoto'" in blank.message(
        "it"
    )
    dates = Finding("warning", "unparseable_dates", count=3, params={"rows": 10_000})
    assert dates.message("it").endswith("3 su 10.000.")
