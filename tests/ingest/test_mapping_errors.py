"""A mapping the kit cannot use is explained in the reader's language, naming the key to fix."""

from __future__ import annotations

import pytest

from helpers.ingest.mapping import MappingError, mapping_from_dict

LEADS = {"table": "leads", "files": ["leads.csv"]}


@pytest.mark.parametrize(
    ("data", "english", "italian"),
    [
        ({"name": "x"}, "needs a 'sources:' list", "deve contenere un elenco 'sources:'"),
        (
            {"sources": [{**LEADS, "columns": {"email": {"type": "text"}}}]},
            "sources[0].columns.email.type must be one of string, date, number, int",
            "sources[0].columns.email.type deve essere uno tra string, date, number, int",
        ),
        (
            {"sources": [LEADS], "stages": {"Hot": "scorching"}},
            "stages: 'Hot' points at 'scorching', which is not a stage of the 'default' model",
            "stages: 'Hot' punta a 'scorching', che non è una fase del modello 'default'",
        ),
        ({"sources": [LEADS], "timezone": "Mars/Base"}, "'Mars/Base' is not", "non è il nome"),
        ({"sources": [{"table": "deals"}]}, "sources[0].table must be one of", "deve essere uno"),
        (  # a typo in a key would otherwise be ignored, and the columns not mapped
            {"sources": [{**LEADS, "colums": {"lead_id": "ID"}}]},
            "sources[0]: unknown key 'colums' (did you mean 'columns'?)",
            "sources[0]: chiave sconosciuta 'colums' (forse intendevi 'columns'?)",
        ),
        (
            {"sources": [LEADS], "timezome": "Europe/Rome"},
            "(file): unknown key 'timezome' (did you mean 'timezone'?)",
            "forse intendevi 'timezone'?",
        ),
        (
            {"sources": [{**LEADS, "zzz": 1, "qqq": 2}]},
            "sources[0]: unknown keys qqq, zzz (the keys it takes: activities, columns,",
            "sources[0]: chiavi sconosciute qqq, zzz (le chiavi ammesse: activities,",
        ),
        (
            {"sources": [{**LEADS, "columns": {"email": {"form": "E-mail"}}}]},
            "sources[0].columns.email: unknown key 'form' (did you mean 'from'?)",
            "forse intendevi 'from'?",
        ),
    ],
)
def test_mapping_problems_in_both_languages(data, english, italian):
    with pytest.raises(MappingError) as info:
        mapping_from_dict(data, "client.yaml")
    assert info.value.message("en").startswith("Mapping client.yaml: ")
    assert english in info.value.message("en")
    assert info.value.message("it").startswith("Mappatura client.yaml: ")
    assert italian in info.value.message("it")
    assert info.value.exit_code == 2
