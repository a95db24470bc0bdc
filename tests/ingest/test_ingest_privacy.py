"""Pseudonymisation: keyed, deterministic, and no personal value survives anywhere."""

from __future__ import annotations

import hashlib
import json
import os
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
