"""The stage model: presets load, aliases resolve, bad models are refused with a clear message."""

from importlib import resources

import pandas as pd
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from helpers.messages import LANGUAGES, has
from helpers.sample.company import LOST_REASONS, REJECT_REASONS
from helpers.stages import (
    PRESETS,
    StageModelError,
    load_stage_model,
    reason_label,
    stage_label,
    stage_model_from_dict,
    step_label,
)


@pytest.mark.parametrize("preset", PRESETS)
def test_presets_load_with_mql_and_won_roles(preset):
    model = load_stage_model(preset)
    assert model.role("mql") in model.funnel
    assert model.role("won") == model.funnel[-1]


def test_aliases_resolve_regardless_of_case_spaces_and_underscores():
    model = load_stage_model("default")
    assert model.resolve("Marketing Qualified Lead") == "mql"
    assert model.resolve("marketing_qualified_lead") == "mql"
    assert model.resolve("  SQL ") == "sql"
    assert model.resolve("Closed Won") == "won"
    assert model.resolve("Qualified Lead Maybe") is None


def test_hubspot_has_no_sal_role_so_that_handoff_is_skipped():
    model = load_stage_model("hubspot")
    assert model.role("sal") is None
    assert model.resolve("marketingqualifiedlead") == "mql"
    assert model.resolve("customer") == "won"


def test_positions_follow_the_funnel_and_exits_have_none():
    model = load_stage_model("default")
    assert [model.position(s) for s in model.funnel] == list(range(len(model.funnel)))
    assert model.position("rejected") is None
    assert model.funnel_between("mql", "sql") == ("mql", "sal", "sql")


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"funnel": ["lead"]}, "at least two"),
        ({"funnel": ["lead", "mql", "lead"], "roles": {"mql": "mql", "won": "lead"}}, "twice"),
        ({"funnel": ["lead", "mql"], "roles": {"mql": "mql", "won": "nope"}}, "do not exist"),
        (
            {"funnel": ["lead", "mql"], "roles": {"mql": "mql", "x": "lead", "won": "mql"}},
            "unknown roles x",
        ),
        ({"funnel": ["a", "b"]}, "role 'mql'"),
        ("not a mapping", "mapping"),
    ],
)
def test_bad_models_are_refused_with_the_reason(data, fragment):
    with pytest.raises(StageModelError) as info:
        stage_model_from_dict(data, "my-model.yaml")
    assert fragment in str(info.value)
    assert "my-model.yaml" in str(info.value)


def test_round_trip_through_dict():
    model = load_stage_model("salesforce")
    again = stage_model_from_dict(model.to_dict())
    assert again == model


# --------------------------------------------------------------------------------------------
# display labels
# --------------------------------------------------------------------------------------------


PRESET_FILES = sorted(p.name for p in (resources.files("helpers") / "stage_models").iterdir())


def test_every_preset_file_is_a_listed_preset():
    assert [name.removesuffix(".yaml") for name in PRESET_FILES] == sorted(PRESETS)


@pytest.mark.parametrize("preset", PRESET_FILES)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_stage_of_every_preset_has_a_catalogue_label(preset, lang):
    model = load_stage_model(str(resources.files("helpers") / "stage_models" / preset))
    missing = [k for k in model.stages if not has(f"stages.labels.{k}", lang)]
    assert not missing, f"{preset}: no {lang} label for {missing}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_reason_code_of_the_sample_has_a_label(lang):
    codes = [*REJECT_REASONS, *LOST_REASONS]
    missing = [c for c in codes if not has(f"stages.reasons.{c}", lang)]
    assert not missing, f"no {lang} label for reasons {missing}"
    assert all(reason_label(c, lang) != c for c in codes)


@pytest.mark.parametrize(
    ("key", "lang", "label"),
    [
        ("mql", "en", "MQL"),
        ("sal", "en", "Sales accepted (SAL)"),
        ("sal", "it", "Accettato dalle vendite (SAL)"),
        ("won", "en", "Won"),
        ("won", "it", "Vinto"),
        ("never_worked", "en", "Never worked"),
        ("never_worked", "it", "Mai lavorato"),
        ("Opportunity", "it", "Opportunità"),
    ],
)
def test_catalogue_labels(key, lang, label):
    assert stage_label(key, lang) == label


def test_language_defaults_to_the_environment(monkeypatch):
    monkeypatch.setenv("SMARKETING_LANG", "it")
    assert stage_label("won") == "Vinto"
    assert reason_label("price") == "Prezzo"


def _model_with_labels(**labels):
    return stage_model_from_dict(
        {
            "funnel": [
                {"key": "lead"},
                {"key": "mql", "label": labels.get("mql")},
                {"key": "demo_booked", "label": labels.get("demo_booked")},
                {"key": "won"},
            ],
            "exits": ["no_show"],
        },
        "custom.yaml",
    )


def test_user_labels_win_over_the_catalogue():
    model = _model_with_labels(mql={"en": "Hot lead", "it": "Lead caldo"})
    assert stage_label("mql", "en", model) == "Hot lead"
    assert stage_label("mql", "it", model) == "Lead caldo"
    assert stage_label("won", "it", model) == "Vinto"
    assert step_label("mql", "won", "it", model) == "Lead caldo → Vinto"


def test_a_user_label_in_one_language_falls_back_to_the_catalogue_then_to_itself():
    model = _model_with_labels(mql={"en": "Hot lead"}, demo_booked={"en": "Demo booked"})
    assert stage_label("mql", "it", model) == "MQL"
    assert stage_label("demo_booked", "it", model) == "Demo booked"


def test_a_plain_text_label_serves_every_language():
    model = _model_with_labels(demo_booked="Demo")
    assert model.labels["demo_booked"] == {lang: "Demo" for lang in LANGUAGES}
    assert {stage_label("demo_booked", lang, model) for lang in LANGUAGES} == {"Demo"}


def test_labels_survive_the_round_trip_and_old_models_have_none():
    model = _model_with_labels(mql={"en": "Hot lead", "it": "Lead caldo"})
    assert stage_model_from_dict(model.to_dict()) == model
    assert load_stage_model("default").labels == {}


def test_a_label_in_an_unknown_language_is_refused():
    with pytest.raises(StageModelError) as info:
        _model_with_labels(mql={"fr": "Prospect chaud"})
    assert "fr" in str(info.value)
    assert "custom.yaml" in str(info.value)


def test_a_role_name_is_labelled_as_the_stage_that_plays_it():
    model = stage_model_from_dict(
        {
            "funnel": ["new", {"key": "accepted", "label": {"it": "Accettato"}}, "closed"],
            "roles": {"mql": "new", "sal": "accepted", "won": "closed"},
        }
    )
    assert stage_label("sal", "it", model) == "Accettato"
    assert stage_label("sal", "en", model) == "Accettato"
    assert stage_label("mql", "it", model) == "New"
    assert stage_label("won", "en", model) == "Closed"


def test_unknown_custom_stages_get_a_tidy_label():
    assert stage_label("no_show", "en") == "No show"
    assert stage_label("demo__booked ", "it") == "Demo booked"
    assert step_label("no_show", "won", "en") == "No show → Won"


@given(st.from_regex(r"[a-z]{1,8}(_[a-z]{1,8}){1,3}", fullmatch=True))
def test_fallback_has_no_underscores_and_keeps_the_words(key):
    assume(not any(has(f"stages.labels.{key}", lang) for lang in LANGUAGES))
    label = stage_label(key, "en")
    assert label == stage_label(key, "it")
    assert "_" not in label and label[0].isupper()
    assert label.lower().split() == key.split("_")


@pytest.mark.parametrize("blank", [None, float("nan"), pd.NA, "", "  ", "(missing)"])
def test_a_blank_reason_reads_as_no_reason_given(blank):
    assert reason_label(blank, "en") == "No reason given"
    assert reason_label(blank, "it") == "Motivo non indicato"


def test_reason_labels_and_raw_fallback():
    assert reason_label("wrong_persona", "it") == "Persona non in target"
    assert reason_label("Existing customer", "en") == "Already a customer"
    assert reason_label("ask_again_in_Q3", "en") == "ask_again_in_Q3"
    assert reason_label("bad.code", "it") == "bad.code"


def test_a_refused_model_is_explained_in_the_readers_language():
    with pytest.raises(StageModelError) as info:
        stage_model_from_dict({"funnel": ["a", "b"], "roles": {"mql": "a", "won": "zz"}}, "m.yaml")
    assert info.value.message("en") == (
        "Stage model m.yaml: roles point at stages that do not exist: zz"
    )
    assert info.value.message("it") == (
        "Modello di fasi m.yaml: i ruoli indicano fasi che non esistono: zz"
    )
