"""The stage model: presets load, aliases resolve, bad models are refused with a clear message."""

import pytest

from helpers.stages import PRESETS, StageModelError, load_stage_model, stage_model_from_dict


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
