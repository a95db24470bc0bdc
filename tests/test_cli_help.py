"""The command's help, usage errors and exit codes come from the message catalogue, per language."""

from __future__ import annotations

import argparse

import pytest

from helpers import cli, exitcodes
from helpers.messages import LANGUAGES, t

COMMANDS = ("validate", "sample", "report", "batch", "app")


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_option_of_every_command_has_help_in_the_language(monkeypatch, lang):
    monkeypatch.setenv("SMARKETING_LANG", lang)
    commands = _subparsers(cli.build_parser())
    assert set(commands) == set(COMMANDS)
    for name, parser in commands.items():
        for action in parser._actions:
            assert action.help, f"{name} {action.option_strings or action.dest} has no help"
        text = parser.format_help()
        assert text.startswith(t("cli.usage", lang) + " smarketing " + name)
        assert t("cli.exit_codes", lang) in " ".join(text.split())
        assert t("cli.options", lang) + ":" in text


def test_the_help_is_italian_when_the_language_is(monkeypatch):
    monkeypatch.setenv("SMARKETING_LANG", "it")
    italian = _subparsers(cli.build_parser())["report"].format_help()
    monkeypatch.setenv("SMARKETING_LANG", "en")
    english = _subparsers(cli.build_parser())["report"].format_help()
    assert "Cartella dell'esecuzione" in " ".join(italian.split())
    assert "Run folder to write" in " ".join(english.split())


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_exit_codes_listed_in_the_help_are_the_real_ones(lang):
    listed = t("cli.exit_codes", lang)
    for code in (
        exitcodes.OK,
        exitcodes.FAILED,
        exitcodes.UNUSABLE,
        exitcodes.PARTIAL,
        exitcodes.INTERRUPTED,
    ):
        assert f" {code} " in listed


def test_a_usage_error_exits_2_with_one_catalogue_line_and_no_traceback(monkeypatch, capsys):
    monkeypatch.setenv("SMARKETING_LANG", "it")
    assert cli.main(["sample", "--leads", "many"]) == exitcodes.UNUSABLE
    err = capsys.readouterr().err
    assert err.startswith("uso: smarketing sample")
    assert "smarketing sample: argomenti errati (" in err
    assert "Vedi: smarketing sample --help" in err
    assert "Traceback" not in err


def test_help_exits_0(capsys):
    assert cli.main(["report", "--help"]) == exitcodes.OK
    assert "--config" in capsys.readouterr().out


def test_lang_on_the_command_line_sets_the_language_of_the_help(monkeypatch, capsys):
    monkeypatch.setenv("SMARKETING_LANG", "en")
    assert cli.main(["report", "--lang=it", "--help"]) == exitcodes.OK
    assert "Esegue i notebook" in capsys.readouterr().out
    assert cli.main(["validate", "--lang", "it"]) == exitcodes.UNUSABLE
    assert "argomenti errati" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "italian"),
    [
        (
            ["report", "--jobs", "abc"],
            "(--jobs deve essere un numero intero almeno pari a 1, non 'abc')",
        ),
        (
            ["batch", "a.yaml", "--jobs", "0"],
            "(--jobs deve essere un numero intero almeno pari a 1, non '0')",
        ),
        (["validate"], "(manca: PERCORSO)"),
        (["report", "--bogus"], "(non riconosciuto: --bogus)"),
        (["report", "--lang", "fr"], "(--lang non accetta 'fr'; scegli tra 'en', 'it')"),
        (["validate", "x", "--mapping"], "(--mapping vuole un valore dopo)"),
    ],
)
def test_argparse_details_are_said_in_the_language_too(monkeypatch, capsys, argv, italian):
    monkeypatch.setenv("SMARKETING_LANG", "it")
    assert cli.main(argv) == exitcodes.UNUSABLE
    err = capsys.readouterr().err
    assert italian in err
    for english in ("argument", "invalid", "required", "unrecognized", "expected"):
        assert english not in err


def test_an_argparse_detail_the_catalogue_does_not_know_is_kept():
    assert cli.argparse_detail("something new", "it") == "something new"
