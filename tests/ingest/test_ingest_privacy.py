"""Pseudonymisation: keyed, deterministic, and no personal value survives anywhere."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import stat
from pathlib import Path

import pandas as pd
import pytest
import reference_token
from hypothesis import given, settings
from hypothesis import strategies as st
from ingest_exports import make_crm, write_hubspot, write_kit

from helpers import privacy
from helpers.cli import main
from helpers.ingest import load_canonical, load_crm, save_canonical


def test_token_is_the_keyed_siphash_and_normalises_case_and_spaces():
    key = b"k"
    got = privacy.tokens(pd.Series([" Ann@X.com", "ann@x.com", None, ""]), key)
    want = reference_token.token(key, "ann@x.com")
    assert got.iloc[0] == got.iloc[1] == want
    assert got.iloc[2:].isna().all()
    assert privacy.tokens(pd.Series(["ann@x.com"]), b"other").iloc[0] != want


def test_reference_siphash_matches_the_published_test_vectors():
    key = bytes(range(16))
    assert reference_token.siphash24(key, b"") == 0x726FDB47DD0E0E31
    assert reference_token.siphash24(key, bytes(range(15))) == 0xA129CA6149BE45E5


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=150))
def test_siphash_key_keeps_112_bits_of_the_user_key(key):
    derived = privacy.siphash_key(key).encode("utf-8")
    assert len(derived) == 16 and max(derived) < 128
    assert derived == bytes(b & 0x7F for b in hashlib.sha256(key).digest()[:16])


def test_repeated_and_distinct_columns_get_the_same_tokens():
    names = [f"name {i % 7}" for i in range(30_000)]  # mostly repeated: hashed once per value
    emails = [f"name {i % 7}" if i < 7 else f"p{i}@x.it" for i in range(30_000)]  # mostly distinct
    by_name = privacy.tokens(pd.Series(names), b"k")
    by_email = privacy.tokens(pd.Series(emails), b"k")
    assert by_name.iloc[:7].tolist() == by_email.iloc[:7].tolist()
    assert by_name.iloc[3] == reference_token.token(b"k", "name 3")
    assert by_email.iloc[-1] == reference_token.token(b"k", "p29999@x.it")


def test_pseudonymise_leaves_other_columns_and_the_input_alone():
    df = pd.DataFrame({"lead_id": ["a", "b"], "email": ["x@y.it", "z@y.it"]})
    out = privacy.pseudonymise(df, ["email", "phone"], b"k")
    assert out["lead_id"].tolist() == ["a", "b"]
    assert df["email"].tolist() == ["x@y.it", "z@y.it"]
    assert out["email"].str.startswith("anon_").all() and out["email"].nunique() == 2


def test_key_file_is_created_once_with_owner_only_permissions(tmp_path, monkeypatch):
    monkeypatch.delenv("SMARKETING_PSEUDONYM_KEY", raising=False)
    key = privacy.load_key(tmp_path)
    path = tmp_path / ".smarketing-key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert privacy.load_key(tmp_path) == key and len(key) >= 32
    monkeypatch.setenv("SMARKETING_PSEUDONYM_KEY", "from-env")
    assert privacy.load_key(tmp_path) == b"from-env"


def test_no_email_or_phone_survives_in_tables_or_reports(tmp_path, capsys):
    crm = make_crm()
    folder = write_hubspot(crm, tmp_path / "export")
    # plant personal data where a report would quote it: a bad date row and a duplicate
    contacts = folder / "hubspot-crm-exports-all-contacts.csv"
    df = pd.read_csv(contacts, dtype=str)
    df.loc[3, "Create Date"] = "not a date"
    df.loc[7, "First Name"] = '=HYPERLINK("http://x")'  # quoted by a finding's examples
    df.loc[8, "Company Name"] = df.loc[8, "Email"]  # an email in a column that is not personal
    df.loc[9, "Company Name"] = "@SUM(A1:A9)"
    df = pd.concat([df, df.iloc[[5]]])
    df.to_csv(contacts, index=False)
    secrets = set(crm.leads["email"]) | set(crm.leads["phone"])
    secrets |= {p.replace(" ", "") for p in crm.leads["phone"]}
    data, report = load_crm(folder)
    out = tmp_path / "canonical"
    save_canonical(data, out)
    dumped = "".join(load_canonical(out).tables()[t].to_csv() for t in load_canonical(out).tables())
    texts = [
        dumped,
        json.dumps(report.to_dict()),
        report.render_text("en"),
        report.render_text("it"),
    ]
    for args in (["validate", str(folder)], ["validate", str(folder), "--json"]):
        main(args)
        texts.append(capsys.readouterr().out)
    assert report.get("unparseable_dates") and report.get("duplicate_rows")
    assert report.get("email_in_column").column == "company"
    formulas = {f.column: f for f in report.findings if f.code == "formula_like"}
    assert set(formulas) == {"first_name", "company"}
    assert formulas["first_name"].examples[0]["value"] == "=***"
    blob = "\n".join(texts)
    assert "HYPERLINK" not in blob
    leaked = [s for s in secrets if s in blob]
    assert not leaked
    assert not any(name in dumped for name in ("Niccolò", "Rossi"))


def test_same_email_gets_the_same_token_across_tables(tmp_path):
    crm = make_crm()
    crm.opportunities["contact_email"] = (
        crm.opportunities["lead_id"].map(crm.leads.set_index("lead_id")["email"]).astype("str")
    )
    folder = write_kit(crm, tmp_path / "kit")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        "name: kit-plus\nsources:\n"
        "  - {table: leads, files: ['leads.*'], keep_unmapped: true}\n"
        "  - {table: stage_history, files: ['stage_history.*']}\n"
        "  - table: opportunities\n    files: ['opportunities.*']\n    keep_unmapped: true\n"
        "    columns:\n      opportunity_id: opportunity_id\n      lead_id: lead_id\n"
        "      amount: amount\n      created_at: created_at\n      closed_at: closed_at\n"
        "      outcome: outcome\n      contact_email: {from: contact_email, personal: true}\n",
        encoding="utf-8",
    )
    data, report = load_crm(folder, mapping)
    assert report.usable, report.render_text()
    joined = data.opportunities.merge(data.leads[["lead_id", "email"]], on="lead_id")
    assert joined["contact_email"].str.startswith("anon_").all()
    assert (joined["contact_email"] == joined["email"]).all()


def test_validation_never_changes_or_adds_input_files(tmp_path):
    folder = write_kit(make_crm(), tmp_path / "in", italian=True, encoding="cp1252")
    write_hubspot(make_crm(), tmp_path / "in" / "hs")

    def digest() -> dict[str, str]:
        return {
            str(p.relative_to(tmp_path)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(tmp_path.rglob("*"))
            if p.is_file()
        }

    before = digest()
    load_crm(folder)
    load_crm(folder / "hs", "hubspot")
    assert main(["validate", str(folder), "--json"]) == 0
    assert digest() == before


@pytest.mark.skipif(os.name != "posix", reason="file modes")
def test_validate_command_needs_no_key(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("SMARKETING_PSEUDONYM_KEY", raising=False)
    monkeypatch.chdir(tmp_path)
    folder = write_kit(make_crm(), tmp_path / "kit")
    assert main(["validate", str(folder)]) == 0
    assert not (Path(tmp_path) / ".smarketing-key").exists()


def test_an_export_without_its_header_row_is_named_but_its_first_row_never_shown(tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "hubspot-contacts.csv").write_text(
        "1000,Alessandra,Russo,alessandra.russo@example-client.it,+39 347 555 0000,2024-01-05\n"
        "1001,Marco,Verdi,m.verdi@example.it,+39 333 1234567,2024-01-06\n",
        encoding="utf-8",
    )
    _, report = load_crm(folder, "hubspot", key=b"k")
    finding = report.get("header_is_data")
    assert finding is not None and finding.file == "hubspot-contacts.csv"
    assert report.get("unrecognised_file") is None
    for lang in ("en", "it"):
        shown = report.render_text(lang) + json.dumps(report.to_dict(lang))
        for personal in ("Alessandra", "Russo", "example-client", "347 555", "1000"):
            assert personal not in shown
    assert "leads: no rows read" in report.render_text("en")


def test_real_column_names_are_not_mistaken_for_data():
    from helpers.ingest.load import header_looks_like_data

    assert not header_looks_like_data(["Record ID", "First Name", "Create Date", "Q1 2024"])
    assert not header_looks_like_data(["Unnamed: 3", ""])
    for cell in ("a.b@example.it", "+39 347 555 0000", "1000", "05/01/2024", "3.504,00"):
        assert header_looks_like_data(["Name", cell])


PHONES = ["+39 333 1234567", "347 1234567", "338 765 4321", "+39 02 555 0001", "02-1234-5678"]


@pytest.mark.parametrize("phone", PHONES)
def test_examples_of_free_text_never_show_a_phone_number(phone):
    from helpers.ingest.report import MAX_EXAMPLE_CHARS, mask_value

    note = f"richiamare mario@example.it al {phone}, grazie"
    assert mask_value(note) == f"richiamare m***@*** al ***{phone[-2:]}, grazie"
    # a number that the cut of a long text goes through is not shown in part either
    for pad in range(MAX_EXAMPLE_CHARS - 20, 2 * MAX_EXAMPLE_CHARS + 5):
        shown = mask_value("x" * pad + " tel. " + phone + " e altro testo" * 5)
        digits = "".join(c for c in shown if c.isdigit())
        assert len(digits) <= 2, shown


DATES = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2040, 12, 31))
TIMES = st.sampled_from(["", " %H:%M", " %H:%M:%S", "T%H:%M:%S", " %H.%M", "T%H:%M:%SZ"])
DATE_FORMATS = st.sampled_from(["%d/%m/%Y", "%m/%d/%Y", "%Y-%m-%d", "%d.%m.%Y", "%d-%m-%Y"])


def _amount(value: float, style: int) -> str:
    plain = f"{value:,.2f}"  # 1,234,567.89
    return [
        plain,
        plain.replace(",", "X").replace(".", ",").replace("X", "."),  # 1.234.567,89
        plain.replace(",", " "),  # 1 234 567.89
        plain.replace(",", "'"),  # 1'234'567.89
        f"{value:.2f}",  # 1234567.89
        f"€ {value:,.0f}".replace(",", "."),  # € 1.234.568
        f"{value:,.0f} EUR".replace(",", " "),  # 1 234 568 EUR
    ][style]


@settings(max_examples=300, deadline=None)
@given(
    DATES,
    TIMES,
    DATE_FORMATS,
    st.floats(min_value=0, max_value=1e12, allow_nan=False),
    st.integers(0, 6),
    st.sampled_from(["", "Importo ", "del ", "(", "ore ", "€"]),
)
def test_dates_and_amounts_are_not_phone_numbers(day, time, fmt, value, style, before):
    from helpers.ingest.report import mask_value

    when = dt.datetime.combine(day, dt.time(13, 5, 9)).strftime(fmt + time)
    amount = _amount(value, style)
    for text in (when, amount, f"{before}{when} e {amount}", f"{before}{amount}, {when}."):
        assert privacy.phones_in(text) == [], text
        assert not privacy.phone_cells(pd.Series([text], dtype="str")).any(), text
        assert mask_value(text) == text[:60] + ("..." if len(text) > 60 else "")


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["+39 ", "+1 ", "0039 ", "+44 (0)", ""]),
    st.lists(st.integers(2, 4), min_size=2, max_size=4),
    st.sampled_from([" ", "-", "."]),
    st.integers(0, 10**15),
    st.sampled_from(["tel. ", "cell: ", "chiamare il ", "("]),
)
def test_phone_numbers_in_text_are_found_and_replaced(prefix, groups, sep, seed, before):
    digits = str(seed).zfill(16)
    lead, used, parts = "3", 1, []
    for size in groups:
        parts.append(digits[used : used + size])
        used += size
    number = prefix + lead + parts[0] + sep + sep.join(parts[1:])
    total = sum(c.isdigit() for c in number)
    text = f"{before}{number} entro venerdì"
    found = privacy.phones_in(text)
    # the shapes that are not phone numbers without a country code: a US ZIP+4 code, thousands
    # groups, a decimal number, a date
    other = r"\d{5}-\d{4}$|\d{1,3}([ .])\d{3}(\1\d{3})*$|\d+\.\d+$|\d{4}[.-]\d\d[.-]\d\d(?!\d)"
    if 9 <= total <= 15 and (prefix or not re.match(other, number)):
        assert len(found) == 1 and found[0].endswith(number), (text, found)
        assert number not in privacy.replace_phones(text, lambda p: "TOKEN")


def test_ids_postcodes_and_years_are_not_phone_numbers():
    for text in (
        "00123456789",  # a code alone in its cell (leading zeros keep it text)
        "00Q000000000001",  # a Salesforce id
        "b91cf8812365f50ff4bda4bcd6206b05",
        "CAP 00186 Roma",
        "12345-6789",  # a US ZIP+4 code
        "anon_1234567890123456",  # a token
        "ore 10:30:00 del 2024-03-12",
    ):
        assert privacy.phones_in(text) == [], text


def test_phone_numbers_in_a_kept_text_column_are_pseudonymised_and_reported(tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "leads.csv").write_text(
        "lead_id;created_at;notes;codice\n"
        "L1;01/03/2024;Parlato con Niccolò D'Amico, cell. 347 1234567;00123456789\n"
        "L2;02/03/2024;Fattura 1.234.567,50 del 12.03.2024;00123456790\n"
        "L3;03/03/2024;richiamare al +39 02 555 0001 o al 347 1234567;00123456791\n",
        encoding="utf-8",
    )
    data, report = load_crm(folder, "kit", key=b"k")
    notes = data.leads["notes"].tolist()
    token = privacy.tokens(pd.Series(["347 1234567"]), b"k").iloc[0]
    assert notes[0] == f"Parlato con Niccolò D'Amico, cell. {token}"
    assert notes[1] == "Fattura 1.234.567,50 del 12.03.2024"
    assert notes[2].startswith("richiamare al anon_") and notes[2].endswith(f"o al {token}")
    assert data.leads["codice"].tolist() == ["00123456789", "00123456790", "00123456791"]
    found = [f for f in report.findings if f.code == "phone_in_column"]
    assert [(f.severity, f.column, f.count) for f in found] == [("warning", "notes", 2)]
    assert found[0].examples[0] == {
        "row": 2,
        "value": "Parlato con Niccolò D'Amico, cell. ***67",
    }
    out = tmp_path / "canonical"
    save_canonical(data, out)
    written = pd.read_parquet(out / "leads.parquet")
    blob = written.to_csv() + json.dumps(report.to_dict()) + report.render_text("it")
    for phone in ("347 1234567", "555 0001"):
        assert phone not in blob


def test_values_shown_in_a_message_are_masked_like_examples(tmp_path):
    (tmp_path / "leads.csv").write_text(
        "lead_id,created_at,channel\nL1,2024-01-05,inbound\nL2,2024-01-06,+39 347 1234567\n",
        encoding="utf-8",
    )
    _, report = load_crm(tmp_path, "kit", pseudonymise=False)
    finding = report.get("unknown_values")
    assert finding.params["values"] == "***67"
    assert "1234567" not in report.render_text("en") + json.dumps(report.to_dict())


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet="0123456789 .-+()/:,#aé_", max_size=30) | st.none(), max_size=20))
def test_the_column_scan_finds_exactly_the_cells_with_a_phone_number(values):
    # the RE2 pass over the column only narrows the cells the exact pattern looks at
    got = privacy.phone_cells(pd.Series(values, dtype="str")).tolist()
    assert got == [v is not None and bool(privacy.phones_in(v)) for v in values]


def test_phone_numbers_are_pseudonymised_even_when_the_data_is_not_usable(tmp_path):
    # a leads file without its created_at column: an error, and the leads are not checked
    (tmp_path / "leads.csv").write_text(
        "lead_id,notes\nL1,cell. 347 1234567\nL2,ok\n", encoding="utf-8"
    )
    data, report = load_crm(tmp_path, "kit", key=b"k")
    assert not report.usable and report.get("missing_column") is not None
    assert "347 1234567" not in data.leads.to_csv()
    assert data.leads["notes"].iloc[0].startswith("cell. anon_")
