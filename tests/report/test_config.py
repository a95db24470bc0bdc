"""The client config: every key checked, problems named with their fix, CLI flags on top."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from helpers import cli
from helpers.config import (
    ConfigError,
    config_from_args,
    load_config,
    notebook_parameters,
    parse_config,
    slugify,
)
from helpers.errors import KitError

ROOT = Path(__file__).resolve().parents[2]


def _raw(**extra):
    return {"client": "ACME S.p.A.", "data": ".", **extra}


def test_minimal_config_gets_documented_defaults(tmp_path):
    cfg = parse_config(_raw(), tmp_path)
    assert cfg.data == (tmp_path.resolve(),)
    assert cfg.language == "en"
    assert cfg.targets.marketing_share == 0.6
    assert cfg.sla.business_hours == (9, 18)
    assert cfg.slug == "acme-s-p-a"
    assert len(cfg.notebooks) == 5


def test_values_are_converted_and_passed_to_notebooks(tmp_path):
    cfg = parse_config(
        _raw(
            period={"start": "2024-01-01", "end": dt.date(2024, 12, 31)},
            targets={"revenue_target": 500_000, "reps": 4, "avg_deal_size": None},
            sla={"business_hours": "08:30-17:00".replace(":30", ""), "attempts": 6},
            programme={"start": "2024-07-01", "treated": ["north"], "comparison": "south"},
            language="it",
        ),
        tmp_path,
    )
    params = notebook_parameters(cfg)
    assert params["common"] == {
        "client": "ACME S.p.A.", "lang": "it", "mapping": None,
        "period_start": "2024-01-01", "period_end": "2024-12-31",
    }  # fmt: skip
    assert params["targets"]["revenue_target"] == 500_000.0
    assert params["targets"]["avg_deal_size"] is None
    assert params["sla"]["business_start_hour"] == 8
    assert params["sla"]["business_end_hour"] == 17
    assert params["sla"]["attempts"] == 6
    assert params["programme"] == {
        "programme_start": "2024-07-01", "programme_unit": "region",
        "treated": {"north": "2024-07-01"}, "comparison": ["south"],
    }  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "key", "words"),
    [
        (_raw(clent="x"), "clent", "did you mean 'client'?"),
        (_raw(targets={"revenu_target": 1}), "targets.revenu_target", "targets.revenue_target"),
        (_raw(targets={"reps": "ten"}), "targets.reps", "whole number"),
        (_raw(targets={"marketing_share": 1.5}), "targets.marketing_share", "between 0 and 1"),
        (_raw(sla={"business_hours": "nine to five"}), "sla.business_hours", "09:00-18:00"),
        (_raw(period={"start": "31/01/2024"}), "period.start", "YYYY-MM-DD"),
        (_raw(period={"start": "2024-05-01", "end": "2024-01-01"}), "period.end", "swap"),
        (_raw(language="fr"), "language", "en, it"),
        (_raw(notebooks=["02_sl"]), "notebooks", "02_sla"),
        (_raw(data="no/such/folder"), "data", "does not exist"),
        ({"data": "."}, "client", "required"),
        (_raw(targets=[1, 2]), "targets", "section"),
    ],
)
def test_bad_values_name_the_key_the_problem_and_the_fix(tmp_path, raw, key, words):
    with pytest.raises(ConfigError) as info:
        parse_config(raw, tmp_path)
    assert info.value.config_key == key
    text = info.value.message("en")
    assert f"'{key}'" in text and words in text
    assert info.value.exit_code == 2
    assert f"'{key}'" in info.value.message("it")  # the Italian message names it too


def test_staggered_programme_gives_each_unit_its_start(tmp_path):
    cfg = parse_config(
        _raw(programme={"start": "2025-01-01", "treated": {"centre": "2025-07-01", "south": None}}),
        tmp_path,
    )
    assert notebook_parameters(cfg)["programme"]["treated"] == {
        "centre": "2025-07-01", "south": "2025-01-01",
    }  # fmt: skip
    with pytest.raises(ConfigError) as info:
        parse_config(_raw(programme={"treated": ["north"]}), tmp_path)
    assert info.value.config_key == "programme.treated.north"


def test_unknown_key_suggestion_in_italian(tmp_path):
    with pytest.raises(ConfigError) as info:
        parse_config(_raw(sla={"first_touch_hour": 4}), tmp_path)
    assert "forse intendevi 'sla.first_touch_hours'?" in info.value.message("it")


def test_paths_are_relative_to_the_config_file(tmp_path, monkeypatch):
    (tmp_path / "client" / "exports").mkdir(parents=True)
    path = tmp_path / "client" / "client.yaml"
    path.write_text(yaml.safe_dump(_raw(data="exports")), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    cfg = load_config(path)
    assert cfg.data == ((tmp_path / "client" / "exports").resolve(),)
    assert cfg.source == path.resolve()


def test_a_mapping_file_is_relative_to_the_config_and_a_flag_to_the_working_folder(
    tmp_path, monkeypatch
):
    (tmp_path / "client").mkdir()
    (tmp_path / "shared.yaml").write_text("name: shared\n", encoding="utf-8")
    path = tmp_path / "client" / "client.yaml"
    path.write_text(yaml.safe_dump(_raw(mapping="../shared.yaml")), encoding="utf-8")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert load_config(path).mapping == str((tmp_path / "shared.yaml").resolve())
    flag = config_from_args(path, mapping="mine.yaml")
    assert flag.mapping == str((tmp_path / "elsewhere" / "mine.yaml").resolve())
    assert config_from_args(path, mapping="hubspot").mapping == "hubspot"  # presets stay names


def test_errors_after_the_config_is_read_speak_its_language(tmp_path, capsys):
    path = tmp_path / "client.yaml"
    path.write_text(yaml.safe_dump(_raw(mapping="nomap.yaml", language="it")), encoding="utf-8")
    code = cli.main(["report", "--config", str(path), "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("Errore: La mappatura") and str(tmp_path / "nomap.yaml") in err


@pytest.mark.parametrize(
    ("section", "flag", "start"),
    [
        ({"targets": {"revenu_target": 5}}, [], "Errore: "),  # an unknown key
        ({"sla": {"min_acceptance_rate": 70}}, [], "Errore: "),  # a value out of range
        ({"sla": {"min_acceptance_rate": 70}}, ["--lang", "en"], "Error: "),  # the flag wins
    ],
)
def test_errors_in_the_config_itself_speak_its_language(tmp_path, capsys, section, flag, start):
    path = tmp_path / "client.yaml"
    path.write_text(yaml.safe_dump(_raw(language="it", **section)), encoding="utf-8")
    code = cli.main(["report", "--config", str(path), "--out", str(tmp_path / "run"), *flag])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith(start), err
    assert ("Chiave" in err) == (start == "Errore: ")


def test_command_line_values_override_the_file(tmp_path):
    (tmp_path / "other").mkdir()
    path = tmp_path / "client.yaml"
    path.write_text(yaml.safe_dump(_raw(language="en", mapping="kit")), encoding="utf-8")
    cfg = config_from_args(path, data=str(tmp_path / "other"), mapping="hubspot", lang="it",
                           only=["02_sla"])  # fmt: skip
    assert cfg.data == ((tmp_path / "other").resolve(),)
    assert (cfg.mapping, cfg.language, cfg.notebooks) == ("hubspot", "it", ("02_sla",))


def test_broken_yaml_names_the_line(tmp_path):
    path = tmp_path / "client.yaml"
    path.write_text("client: x\ndata: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "line" in info.value.config_key


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("client: ACME\ndata: .\ntargts:\n  reps: 3\n", "targets"),
        ("client: ACME\ndata: .\ntargets:\n  reps: many\n", "targets.reps"),
        ("client: ACME\ndata: missing_folder\n", "data"),
    ],
)
def test_cli_bad_config_exits_2_naming_the_key(tmp_path, capsys, text, key):
    path = tmp_path / "client.yaml"
    path.write_text(text, encoding="utf-8")
    code = cli.main(["report", "--config", str(path), "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2
    assert key in err
    assert "Traceback" not in err
    assert not (tmp_path / "run").exists()


def test_missing_config_file_exits_2(tmp_path, capsys):
    assert cli.main(["report", "--config", str(tmp_path / "nope.yaml")]) == 2
    assert "nope.yaml" in capsys.readouterr().err


def test_slugify_makes_folder_names():
    assert slugify("Caffè Rossi & Figli") == "caffe-rossi-figli"
    assert slugify("***") == "client"


def test_bundled_example_config_is_valid():
    path = ROOT / "data" / "samples" / "client.yaml"
    if not path.is_file():
        pytest.skip("data/samples/client.yaml not written yet")
    cfg = load_config(path)
    assert cfg.data[0].is_dir()


def test_data_without_a_config_file_uses_defaults(tmp_path):
    export = tmp_path / "acme-export"
    export.mkdir()
    cfg = config_from_args(None, data=str(export), mapping="hubspot", lang="it")
    assert cfg.client == "acme-export" and cfg.slug == "acme-export"
    assert (cfg.data, cfg.mapping, cfg.language) == ((export.resolve(),), "hubspot", "it")
    assert cfg.source is None
    with pytest.raises(KitError) as info:
        config_from_args(None)
    assert info.value.key == "report.no_config_no_data"


def test_sla_terms_follow_the_parameters():
    from helpers.config import sla_terms

    terms = sla_terms(
        40, reps=8, min_acceptance_rate=0.75, first_touch_hours=4, attempts=6, attempts_days=10,
        accept_reject_hours=24, business_start_hour=8, business_end_hour=17,
        holiday_country="IT", timezone="Europe/Rome",
    )  # fmt: skip
    assert terms.mql_per_rep_per_month == 5
    uneven = sla_terms(
        23, reps=2, min_acceptance_rate=0.75, first_touch_hours=4, attempts=6, attempts_days=10,
        accept_reject_hours=24, business_start_hour=8, business_end_hour=17,
        holiday_country=None, timezone="UTC",
    )  # fmt: skip
    assert uneven.mql_per_rep_per_month == 12  # rounded up, as the plan's per-rep figure
    assert (terms.first_touch_hours, terms.decision_hours, terms.business_hours) == (4, 24, True)
    assert (terms.open_hour, terms.close_hour, terms.timezone) == (8, 17, "Europe/Rome")


def test_an_unknown_notebook_given_with_only_names_the_flag(tmp_path):
    path = tmp_path / "client.yaml"
    path.write_text(yaml.safe_dump(_raw(language="it")), encoding="utf-8")
    with pytest.raises(KitError) as info:
        config_from_args(path, only=["nosuch"])
    assert info.value.key == "report.bad_only" and info.value.exit_code == 2
    assert info.value.message().startswith("--only indica") and "nosuch" in info.value.message()
