"""Quirks of real exports: one date order per file, clock changes, workbooks with several sheets,
totals rows, mixed date formats with examples, HubSpot contacts without stage dates, and the
``extends:`` key that lets a user fix a preset's date order."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from helpers.cli import main
from helpers.errors import KitError
from helpers.ingest import load_crm, load_mapping
from helpers.ingest.parsing import parse_dates
from helpers.ingest.report import mask_value


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


# an Italian Salesforce leads report saved as a comma CSV: only Created Date settles the order
SF_LEADS = (
    "Lead ID,Created Date,Converted Date,Lead Status,Email\n"
    "L1,02/03/2024 03:45,05/04/2024,Qualified,a@example.com\n"
    "L2,15/03/2024 10:00,,Open,b@example.com\n"
    "L3,20/03/2024 11:00,07/04/2024,Qualified,c@example.com\n"
)


def _sql_dates(data) -> dict[str, pd.Timestamp]:
    sh = data.stage_history
    return dict(sh.loc[sh["stage"] == "sql", ["lead_id", "entered_at"]].values.tolist())


def test_a_column_that_settles_nothing_follows_the_order_of_the_file(tmp_path):
    (tmp_path / "leads_report.csv").write_text(SF_LEADS, encoding="utf-8")
    data, report = load_crm(tmp_path, pseudonymise=False)
    assert report.mapping == "salesforce" and report.usable
    assert _sql_dates(data) == {"L1": ts("2024-04-05"), "L3": ts("2024-04-07")}
    assert data.leads.set_index("lead_id").loc["L1", "created_at"] == ts("2024-03-02 03:45")
    assert "ambiguous_date_order" not in report.codes()


def test_a_file_where_nothing_settles_the_order_still_warns(tmp_path):
    text = SF_LEADS.replace("15/03/2024", "11/03/2024").replace("20/03/2024", "12/03/2024")
    (tmp_path / "leads_report.csv").write_text(text, encoding="utf-8")
    data, report = load_crm(tmp_path, pseudonymise=False)
    found = [f for f in report.findings if f.code == "ambiguous_date_order"]
    assert {f.column for f in found} == {"created_at", "Converted Date"}
    assert {f.severity for f in found} == {"warning"}
    assert _sql_dates(data)["L1"] == ts("2024-05-04")  # the preset's month-first default


def test_columns_settling_opposite_orders_leave_the_undecided_ones_to_the_default(tmp_path):
    # Created Date says day first, Converted Date month first: nothing is imposed on Closed
    text = (
        "lead_id,created_at,converted,closed\n"
        "L1,13/01/2024,01/20/2024,02/03/2024\n"
        "L2,14/01/2024,01/21/2024,04/05/2024\n"
    )
    (tmp_path / "leads.csv").write_text(text, encoding="utf-8")
    (tmp_path / "m.yaml").write_text(
        "sources:\n  - table: leads\n    files: ['leads.*']\n"
        "    columns: {lead_id: [lead_id], created_at: [created_at],"
        " converted: {from: [converted], type: date}, closed: {from: [closed], type: date}}\n",
        encoding="utf-8",
    )
    data, report = load_crm(tmp_path / "leads.csv", tmp_path / "m.yaml", pseudonymise=False)
    assert data.leads["created_at"].iloc[0] == ts("2024-01-13")
    assert data.leads["converted"].iloc[0] == ts("2024-01-20")
    assert data.leads["closed"].iloc[0] == ts("2024-02-03")  # a comma CSV: month first
    assert [f.column for f in report.findings if f.code == "ambiguous_date_order"] == ["closed"]


def test_the_ambiguous_order_advice_for_a_preset_works_as_written(tmp_path):
    text = SF_LEADS.replace("15/03/2024", "11/03/2024").replace("20/03/2024", "12/03/2024")
    (tmp_path / "leads_report.csv").write_text(text, encoding="utf-8")
    _, report = load_crm(tmp_path / "leads_report.csv", pseudonymise=False)
    advice = report.get("ambiguous_date_order").advice("en")
    assert "extends: salesforce" in advice and "date_order: dmy" in advice
    assert "extends: salesforce" in report.get("ambiguous_date_order").advice("it")
    # doing what it says: a two-line mapping file
    (tmp_path / "mine.yaml").write_text("extends: salesforce\ndate_order: dmy\n", encoding="utf-8")
    data, report = load_crm(tmp_path / "leads_report.csv", tmp_path / "mine.yaml")
    assert report.usable and report.mapping == "mine"
    assert _sql_dates(data)["L1"] == ts("2024-04-05")
    assert {f.severity for f in report.findings if f.code == "ambiguous_date_order"} == {"info"}
    own = report.get("ambiguous_date_order").advice("en")
    assert "mine.yaml" in own and "extends" not in own


def test_extends_keeps_the_preset_and_adds_the_users_keys(tmp_path):
    path = tmp_path / "acme.yaml"
    path.write_text(
        "extends: hubspot\nname: acme\ntimezone: Europe/Rome\npersonal: [notes]\n"
        "stages:\n  Trattativa: opportunity\n"
        "sources:\n"
        "  - name: deals\n    table: opportunities\n    files: ['*trattative*']\n"
        "    columns: {opportunity_id: [ID], amount: [Importo], created_at: [Data],"
        " outcome: [Esito]}\n"
        "  - name: segments\n    table: leads\n    merge_on: lead_id\n    files: ['*seg*']\n",
        encoding="utf-8",
    )
    mp = load_mapping(path)
    hubspot = load_mapping("hubspot")
    assert mp.name == "acme" and mp.timezone == "Europe/Rome" and mp.date_order == "mdy"
    assert not mp.user_date_order and mp.preset == "hubspot"
    assert [s.name for s in mp.sources] == ["contacts", "deals", "segments"]
    assert mp.sources[0] == hubspot.sources[0]
    assert mp.sources[1].files == ("*trattative*",)
    assert {"notes", "owner", "email"} <= mp.personal_columns()
    assert mp.stage_model.resolve("Trattativa") == "opportunity"
    assert mp.stage_model.resolve("Marketing Qualified Lead") == hubspot.stage_model.resolve(
        "Marketing Qualified Lead"
    )


def test_extends_an_unknown_preset_names_the_presets(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("extends: salesforse\ndate_order: dmy\n", encoding="utf-8")
    with pytest.raises(KitError) as err:
        load_mapping(path)
    assert "salesforse" in err.value.message("en") and "salesforce" in err.value.message("it")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-10-27 02:30", "2024-10-27 00:30"),  # repeated hour: the summer-time instant
        ("27/10/2024 02:30", "2024-10-27 00:30"),
        ("2024-10-27 03:30", "2024-10-27 02:30"),  # after the change, winter time
        ("2024-03-31 02:30", "2024-03-31 01:00"),  # skipped hour: the end of the gap
        ("31/03/2024 02:15", "2024-03-31 01:00"),
    ],
)
def test_local_times_at_clock_changes_are_dates(text, expected):
    r = parse_dates(pd.Series([text, "2024-06-13 10:00"]), tz="Europe/Rome", day_first=True)
    assert not r.unparseable.any()
    assert r.values.iloc[0] == ts(expected)


def test_a_time_in_the_repeated_hour_does_not_make_the_file_unusable(tmp_path, capsys):
    (tmp_path / "leads.csv").write_text(
        "lead_id,created_at\nL1,2024-10-27 02:30\nL2,2024-10-26 10:00\n", encoding="utf-8"
    )
    (tmp_path / "m.yaml").write_text("extends: kit\ntimezone: Europe/Rome\n", encoding="utf-8")
    assert (
        main(["validate", str(tmp_path / "leads.csv"), "--mapping", str(tmp_path / "m.yaml")]) == 0
    )
    data, report = load_crm(tmp_path / "leads.csv", tmp_path / "m.yaml", pseudonymise=False)
    assert data.leads["created_at"].tolist() == [ts("2024-10-27 00:30"), ts("2024-10-26 08:00")]
    assert not report.errors


def _workbook(path, sheets: dict[str, pd.DataFrame]) -> None:
    with pd.ExcelWriter(path) as writer:
        for name, df in sheets.items():
            df.to_excel(writer, sheet_name=name, index=False)


def test_every_sheet_of_a_workbook_is_an_input(tmp_path):
    _workbook(
        tmp_path / "export.xlsx",
        {
            "Leads": pd.DataFrame(
                {"lead_id": ["L1", "L2"], "created_at": ["2024-01-05", "2024-01-06"]}
            ),
            "Opportunities": pd.DataFrame(
                {
                    "opportunity_id": ["O1"],
                    "lead_id": ["L1"],
                    "amount": [1200],
                    "created_at": ["2024-02-01"],
                    "outcome": ["won"],
                }
            ),
            "Note": pd.DataFrame({"appunti": ["da controllare"]}),
        },
    )
    data, report = load_crm(tmp_path, pseudonymise=False)
    assert data.leads["lead_id"].tolist() == ["L1", "L2"]
    assert data.opportunities["opportunity_id"].tolist() == ["O1"]
    assert report.tables["leads"].files == ["export.xlsx [Leads]"]
    assert report.tables["opportunities"].files == ["export.xlsx [Opportunities]"]
    ignored = report.get("unrecognised_file")
    assert ignored.file == "export.xlsx [Note]" and ignored.severity == "warning"
    assert "table_absent" not in {f.code for f in report.findings if f.table == "opportunities"}


def test_a_workbook_with_one_sheet_keeps_the_file_name(tmp_path):
    _workbook(
        tmp_path / "leads.xlsx",
        {"Foglio1": pd.DataFrame({"lead_id": ["L1"], "created_at": ["2024-01-05"]})},
    )
    _, report = load_crm(tmp_path, pseudonymise=False)
    assert report.usable and report.tables["leads"].files == ["leads.xlsx"]


@pytest.mark.parametrize("word", ["Totale", "Total", "Totals", "Grand Total", "Somma", "TOTALE:"])
def test_a_totals_row_at_the_end_of_a_csv_is_left_out(tmp_path, word):
    (tmp_path / "leads.csv").write_text(
        f"lead_id,created_at,company_size\nL1,2024-01-05,10\nL2,2024-01-06,20\n,{word},30\n",
        encoding="utf-8",
    )
    data, report = load_crm(tmp_path, pseudonymise=False)
    assert report.usable, report.render_text()
    assert data.leads["lead_id"].tolist() == ["L1", "L2"]
    note = report.get("totals_row")
    assert note.severity == "info" and note.file == "leads.csv"
    assert note.examples == [{"row": 4, "value": ""}]
    assert not report.warnings


def test_a_totals_row_closing_a_sheet_is_left_out(tmp_path):
    _workbook(
        tmp_path / "export.xlsx",
        {
            "Leads": pd.DataFrame({"lead_id": ["L1"], "created_at": ["2024-01-05"]}),
            "Trattative": pd.DataFrame(
                {
                    "Stage": ["Closed Won", "Closed Lost", "Grand Totals (2 records)"],
                    "Opportunity ID": ["O1", "O2", None],
                    "Amount": [100.0, 250.5, 350.5],
                    "Created Date": ["2024-02-01", "2024-02-02", None],
                }
            ),
        },
    )
    (tmp_path / "m.yaml").write_text(
        "extends: salesforce\nsources:\n"
        "  - {name: leads, table: leads, files: ['*leads*'],"
        " columns: {lead_id: [lead_id], created_at: [created_at]}}\n"
        "  - name: opportunities\n    table: opportunities\n    files: ['*trattative*']\n"
        "    columns: {opportunity_id: [Opportunity ID], amount: [Amount],"
        " created_at: [Created Date], stage: [Stage], outcome: {from: [Stage],"
        " values: {closed won: won, closed lost: lost}, default: open}}\n",
        encoding="utf-8",
    )
    data, report = load_crm(tmp_path, tmp_path / "m.yaml", pseudonymise=False)
    assert report.usable, report.render_text()
    assert data.opportunities["opportunity_id"].tolist() == ["O1", "O2"]
    note = report.get("totals_row")
    assert note.file == "export.xlsx [Trattative]" and note.examples[0]["row"] == 4
    assert not report.warnings, report.render_text()


@pytest.mark.parametrize(
    "last",
    [
        "L3,Total,30\n",  # the id is filled: a record
        ",Total,thirty\n",  # text besides the word: not a totals row
        ",Totale parziale di marzo,30\n",  # not only the word
    ],
)
def test_a_last_row_that_is_not_only_totals_is_kept(tmp_path, last):
    (tmp_path / "leads.csv").write_text(
        "lead_id,created_at,company_size\nL1,2024-01-05,10\nL2,2024-01-06,20\n" + last,
        encoding="utf-8",
    )
    _, report = load_crm(tmp_path, pseudonymise=False)
    assert "totals_row" not in report.codes()
    assert "unparseable_dates" in report.codes()


def test_a_totals_word_in_the_middle_is_a_row_like_any_other(tmp_path):
    (tmp_path / "leads.csv").write_text(
        "lead_id,created_at\nL1,2024-01-05\n,Totale\nL2,2024-01-06\n", encoding="utf-8"
    )
    _, report = load_crm(tmp_path, pseudonymise=False)
    assert "totals_row" not in report.codes()


def test_mixed_date_formats_show_the_odd_dates_as_examples(tmp_path):
    rows = "".join(f"L{i},2024-01-{10 + i:02d},2024-01-{10 + i:02d}\n" for i in range(6))
    (tmp_path / "leads.csv").write_text(
        "lead_id,created_at,birthday\n" + rows + "L8,25/03/2024,25/03/1980\n", encoding="utf-8"
    )
    (tmp_path / "m.yaml").write_text(
        "extends: kit\nsources:\n  - name: leads\n    table: leads\n    files: ['leads.*']\n"
        "    columns: {lead_id: [lead_id], created_at: [created_at],"
        " birthday: {from: [birthday], type: date, personal: true}}\n",
        encoding="utf-8",
    )
    _, report = load_crm(tmp_path / "leads.csv", tmp_path / "m.yaml", pseudonymise=False)
    mixed = {f.column: f for f in report.findings if f.code == "mixed_date_formats"}
    assert mixed["created_at"].count == 1
    assert mixed["created_at"].examples == [{"row": 8, "value": "25/03/2024"}]
    assert mixed["birthday"].examples == [{"row": 8, "value": mask_value("25/03/1980", True)}]
    text = report.render_text("en")
    assert "row 8 ('25/03/2024')" in text and "25/03/1980" not in text


def test_a_slash_column_mixing_both_orders_shows_the_rarer_one():
    r = parse_dates(pd.Series(["13/01/2024", "14/01/2024", "01/20/2024", "2024-01-01"]))
    assert r.mixed and r.odd.tolist() == [False, False, True, True]


def test_hubspot_contacts_without_stage_dates_say_which_columns_to_add(tmp_path):
    (tmp_path / "contacts.csv").write_text(
        "Record ID,First Name,Email,Create Date,Lifecycle Stage\n"
        "1,Anna,a@example.com,2024-01-02 10:00,lead\n"
        "2,Bea,b@example.com,2024-01-03 10:00,customer\n",
        encoding="utf-8",
    )
    _, report = load_crm(tmp_path, pseudonymise=False)
    assert report.mapping == "hubspot" and report.usable
    note = report.get("no_stage_dates")
    assert note.severity == "info" and note.file == "contacts.csv"
    for lang in ("en", "it"):
        assert "Became a Marketing Qualified Lead Date" in note.advice(lang)
    assert not [
        f for f in report.findings if f.code == "table_absent" and f.table == "stage_history"
    ]


def test_hubspot_contacts_with_a_stage_date_need_no_note(tmp_path):
    (tmp_path / "contacts.csv").write_text(
        "Record ID,Email,Create Date,Lifecycle Stage,Became a Customer Date\n"
        "1,a@example.com,2024-01-02 10:00,customer,2024-02-02 10:00\n",
        encoding="utf-8",
    )
    data, report = load_crm(tmp_path, pseudonymise=False)
    assert "no_stage_dates" not in report.codes()
    assert data.stage_history["entered_at"].tolist() == [ts("2024-02-02 10:00")]


def test_deals_without_a_lead_or_contact_id_column_are_said_not_to_count(tmp_path):
    (tmp_path / "hubspot-contacts.csv").write_text(
        "Record ID,Create Date,Lifecycle Stage\n1,2024-01-05 13:45,lead\n", encoding="utf-8"
    )
    (tmp_path / "hubspot-deals.csv").write_text(  # contact names only, no contact IDs
        "Record ID,Amount,Create Date,Close Date,Deal Stage,Associated Contact\n"
        "10,1000,2024-02-01,2024-03-01,Closed Won,Anna Rossi\n"
        "11,2000,2024-02-02,,Appointment scheduled,Marco Verdi\n",
        encoding="utf-8",
    )
    _, report = load_crm(tmp_path, "hubspot", key=b"k")
    finding = report.get("no_lead_link")
    assert finding is not None and finding.severity == "warning"
    assert (finding.file, finding.column, finding.count) == ("hubspot-deals.csv", "lead_id", 2)
    assert "Associated Contact IDs" in finding.advice("en")
    assert "Anna" not in report.render_text("en")


def test_column_names_below_a_title_and_group_headings_are_found(tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Report lead - marzo 2024"])  # row 1: a title
    sheet.append([])  # row 2: blank
    sheet.append(["Contatto", None, None, "Azienda"])  # row 3: headings over groups of columns
    sheet.merge_cells("A3:C3")
    sheet.append(["lead_id", "created_at", "email", "company"])  # row 4: the names
    sheet.append(["L1", "2024-03-01", "a@example.com", "Rossi Srl"])
    sheet.append(["L2", "not a date", "b@example.com", "Bianchi SpA"])  # row 6
    book.save(tmp_path / "leads.xlsx")
    data, report = load_crm(tmp_path, pseudonymise=False)
    assert data.leads["lead_id"].tolist() == ["L1"]
    assert data.leads["company"].tolist() == ["Rossi Srl"]
    note = report.get("header_below_titles")
    assert note.severity == "info" and note.file == "leads.xlsx"
    assert "4" in note.message("en") and "4" in note.message("it")
    bad = [f for f in report.findings if f.code == "unparseable_dates"]
    assert [e["row"] for e in bad[0].examples] == [6]  # the sheet's own row numbers


@pytest.mark.parametrize(
    ("rows", "header"),
    [
        ([["a", "b", "c"], ["1", "2", "3"]], 0),  # names on row 1
        ([["a", None, "c"], ["1", "2", "3"]], 0),  # a blank name is still row 1
        ([["Title"], ["a", "b", "c"], ["1", "2", "3"]], 1),
        ([[None], ["Group", None, None], ["a", "b", "c"], ["1", "2", "3"]], 2),
        ([["only one column"], ["x"]], 0),  # nothing wider: row 1
        ([["id", None, None, None], ["L1", 2, "2024-01-01", 4.5]], 0),  # data below: row 1
        ([["id", None, None, None], ["L1", "x", "a@b.it", "y"]], 0),
    ],
)
def test_header_row_is_the_first_row_as_wide_as_the_sheet(rows, header):
    from helpers.ingest.readers import header_row

    width = max(len(r) for r in rows)
    cells = pd.DataFrame([r + [None] * (width - len(r)) for r in rows], dtype=object)
    assert header_row(cells) == header


ROME_MAPPING = (
    "name: acme\ntimezone: Europe/Rome\ndate_order: dmy\nsources:\n"
    "  - table: leads\n    files: ['*']\n"
    "    columns: {lead_id: [ID Contatto], created_at: [Data creazione]}\n"
    "    stage_dates: {mql: [Data MQL]}\n"
)


def test_date_cells_and_dates_as_text_are_their_day_in_a_local_time_zone(tmp_path):
    # an Italian workbook: real date cells and dates typed as text, in a Europe/Rome mapping
    created = [dt.datetime(2024, 1, 1), "01/02/2024", dt.datetime(2024, 3, 1), "03/02/2027"]
    mql = ["01/01/2024", dt.datetime(2024, 2, 1), "01/03/2024 00:30", None]
    _workbook(
        tmp_path / "export.xlsx",
        {
            "Leads": pd.DataFrame(
                {
                    "ID Contatto": ["C1", "C2", "C3", "C4"],
                    "Data creazione": created,
                    "Data MQL": mql,
                }
            )
        },
    )
    (tmp_path / "m.yaml").write_text(ROME_MAPPING, encoding="utf-8")
    data, report = load_crm(
        tmp_path / "export.xlsx", tmp_path / "m.yaml", pseudonymise=False, now=ts("2025-01-01")
    )
    days = ["2024-01-01", "2024-02-01", "2024-03-01", "2027-02-03"]
    assert data.leads["created_at"].tolist() == [ts(d) for d in days]
    assert report.tables["leads"].start == ts("2024-01-01")
    mqls = data.stage_history.set_index("lead_id")["entered_at"]
    # a value with a time of day is still a local time: 00:30 in Rome is 23:30 UTC
    assert mqls.to_dict() == {
        "C1": ts("2024-01-01"),
        "C2": ts("2024-02-01"),
        "C3": ts("2024-02-29 23:30"),
    }
    assert report.get("future_dates").examples[0]["row"] == 5


SF_FOOTER = (
    '\n"Confidential Information - Do Not Distribute"\n'
    '"Copyright (c) 2000-2024 salesforce.com, inc. All rights reserved."\n'
)


def _sf_leads(n: int, totals: bool) -> str:
    rows = "".join(f'"L{i}","0{1 + i % 9}/03/2024","Open"\n' for i in range(1, n + 1))
    total = f'"Grand Totals ({n} records)","",""\n' if totals else ""
    return '"Lead ID","Created Date","Lead Status"\n' + rows + total + SF_FOOTER


@pytest.mark.parametrize("encoding", ["utf-8", "cp1252", "utf-16"])
@pytest.mark.parametrize("n", [3, 3000])  # 3000 rows: only the file's end is read for the footer
@pytest.mark.parametrize("totals", [True, False])
def test_a_salesforce_report_footer_is_a_footer_not_broken_rows(tmp_path, encoding, n, totals):
    (tmp_path / "report_leads.csv").write_text(_sf_leads(n, totals), encoding=encoding)
    data, report = load_crm(tmp_path, "salesforce", pseudonymise=False)
    assert len(data.leads) == n and "ragged_rows" not in report.codes(), report.render_text()
    footer = [f for f in report.findings if f.code == "report_footer"]
    assert [(f.severity, f.count, f.file) for f in footer] == [("info", 2, "report_leads.csv")]
    note = report.get("totals_row")
    assert (note is not None) == totals
    if totals:  # the footer follows it: it is not the file's last line and is not called so
        assert note.examples == [{"row": n + 2, "value": ""}]
        for lang in ("en", "it"):
            assert "last row" not in note.message(lang) and "ultima riga" not in note.message(lang)


@pytest.mark.parametrize(
    "text",
    [
        # a one-field line among the records is a broken row, even with a footer below
        '"Lead ID","Created Date"\n"L1","01/03/2024"\n"oops"\n"L2","02/03/2024"\n' + SF_FOOTER,
        # lines of several fields at the end are broken rows, not a footer
        '"Lead ID","Created Date","Lead Status"\n"L1","01/03/2024","Open"\n"x","y"\n"z","w"\n',
    ],
)
def test_only_one_field_lines_closing_the_file_are_a_footer(tmp_path, text):
    (tmp_path / "report_leads.csv").write_text(text, encoding="utf-8")
    _, report = load_crm(tmp_path, "salesforce", pseudonymise=False)
    ragged = report.get("ragged_rows")
    footer = report.get("report_footer")
    if "Confidential" in text:
        assert ragged.count == 1 and ragged.examples == [{"row": 3, "value": ""}]
        assert footer.count == 2
    else:
        assert ragged.count == 2 and footer is None


IT_MAPPING = (
    "name: acme\ntimezone: Europe/Rome\ndate_order: dmy\nsources:\n"
    "  - name: contacts\n    table: leads\n    files: ['*Leads*']\n"
    "    columns: {lead_id: [ID Contatto], created_at: [Data creazione], source: [Origine]}\n"
    "    stage_dates: {mql: [Data MQL], sql: [Data SQL]}\n"
    "  - name: deals\n    table: opportunities\n    files: ['*Trattative*']\n"
    "    columns: {opportunity_id: [ID], lead_id: [ID Contatto], amount: [Importo],"
    " created_at: [Data apertura], outcome: {from: [Esito], values: {vinta: won}, default: open}}\n"
)


def test_findings_name_the_files_columns_and_show_cells_as_written(tmp_path):
    leads = pd.DataFrame(
        {
            "ID Contatto": ["C1", "C2", "C3"],
            "Data creazione": ["01/02/2024", "02/02/2024", "03/02/2027"],
            "Origine": ["Web", None, "Fiera"],
            "Data MQL": ["05/02/2024", "06/02/2028", None],
            "Data SQL": [None, "07/02/2024", None],
        }
    )
    deals = pd.DataFrame(
        {
            "ID": ["T1", "T2"],
            "ID Contatto": ["C1", "C2"],
            "Importo": [-200, 1500],
            "Data apertura": ["10/02/2024", "11/02/2024"],
            "Esito": ["Vinta", "Aperta"],
        }
    )
    _workbook(tmp_path / "export.xlsx", {"Leads": leads, "Trattative": deals})
    (tmp_path / "m.yaml").write_text(IT_MAPPING, encoding="utf-8")
    _, report = load_crm(
        tmp_path / "export.xlsx", tmp_path / "m.yaml", pseudonymise=False, now=ts("2025-01-01")
    )
    by = {(f.code, f.table): f for f in report.findings}
    future = by[("future_dates", "leads")]
    assert (future.column, future.source_column) == ("created_at", "Data creazione")
    assert future.examples == [{"row": 4, "value": "03/02/2027"}]  # the cell, not 2027-02-03...
    negative = by[("negative_values", "opportunities")]
    assert (negative.source_column, negative.examples) == ("Importo", [{"row": 2, "value": "-200"}])
    blank = by[("blank_values", "leads")]
    assert "Rows where 'Origine (source)' is blank" in blank.message("en")
    text = report.render_text("it")
    assert "export.xlsx [Leads], colonna Data creazione (created_at): Date successive" in text
    assert "colonna Importo (amount): Valori negativi in 'Importo (amount)'" in text
    assert "colonna created_at" not in text and "colonna amount" not in text
    as_json = report.to_dict("en")["findings"]
    assert {(f["column"], f["source_column"]) for f in as_json if f["code"] == "future_dates"} == {
        ("created_at", "Data creazione"),
        ("entered_at", "Data MQL / Data SQL"),
    }
    # a stage entry fed by one of two date columns: no single cell to show, so the date as read
    stage = by[("future_dates", "stage_history")]
    assert stage.examples == [{"row": 3, "value": "2028-02-06 00:00:00+00:00"}]
