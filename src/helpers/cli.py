"""The ``smarketing`` command line: thin argument parsing over the helper modules.

Every subcommand returns an exit code from :mod:`helpers.exitcodes`; user-facing problems
(:class:`helpers.errors.KitError`) are printed as one clear message, never as a traceback.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from typing import NoReturn

from helpers import __version__, exitcodes
from helpers.errors import KitError
from helpers.messages import LANGUAGES, t


class _Formatter(argparse.HelpFormatter):
    """argparse's help layout with the "usage:" heading from the message catalogue."""

    def add_usage(self, usage, actions, groups, prefix=None):
        if prefix is None:  # argparse passes "" when it builds a subcommand's name
            prefix = t("cli.usage") + " "
        super().add_usage(usage, actions, groups, prefix)


# argparse's own error details (Python 3.11+), each said again from the catalogue
_ARGPARSE_ERRORS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), key)
    for pattern, key in (
        (r"the following arguments are required: (?P<names>.+)", "required"),
        (r"unrecognized arguments: (?P<names>.+)", "unrecognised"),
        (r"argument (?P<name>\S+): invalid \w+ value: (?P<value>.+)", "invalid_value"),
        (
            r"argument (?P<name>\S+): invalid choice: (?P<value>.+?)"
            r" \(choose from (?P<choices>.+)\)",
            "invalid_choice",
        ),
        (r"argument (?P<name>\S+): expected (?:one|at least one) argument", "expects_value"),
        (r"argument (?P<name>\S+): (?P<detail>.+)", "argument_detail"),  # the kit's own checks
    )
)


def argparse_detail(message: str, lang: str | None = None) -> str:
    """An argparse error detail in the catalogue's words; unknown ones are kept as they are."""
    for pattern, key in _ARGPARSE_ERRORS:
        found = pattern.fullmatch(message)
        if found:
            return t(f"cli.argparse.{key}", lang, **found.groupdict())
    return message


class _Parser(argparse.ArgumentParser):
    """An argument parser whose error line comes from the message catalogue (exit 2)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        detail = argparse_detail(message)
        text = t("cli.usage_error", None, command=self.prog, detail=detail)
        self.exit(exitcodes.UNUSABLE, text + "\n")


def _parser(sub: argparse._SubParsersAction, name: str, help_key: str) -> _Options:
    """A subcommand whose help, options and exit codes are read from the message catalogue."""
    p = sub.add_parser(
        name,
        help=t(help_key),
        description=t(help_key),
        epilog=t("cli.exit_codes"),
        add_help=False,
        formatter_class=_Formatter,
    )
    return _Options(p)


class _Options:
    """A parser's arguments in two groups with catalogue titles: what to act on, and options."""

    def __init__(self, parser: argparse.ArgumentParser) -> None:
        self.arguments = parser.add_argument_group(t("cli.arguments"))
        self.options = parser.add_argument_group(t("cli.options"))
        self.options.add_argument("-h", "--help", action="help", help=t("cli.help_help"))
        self.set_defaults = parser.set_defaults

    def add_argument(self, *names: str, **kwargs: object) -> None:
        group = self.options if names[0].startswith("-") else self.arguments
        group.add_argument(*names, **kwargs)


def _add_lang(p: _Options, help_key: str = "cli.help_lang") -> None:
    p.add_argument("--lang", choices=LANGUAGES, default=None, help=t(help_key))


def _at_least_one(text: str) -> int:
    """A count of workers: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(t("cli.jobs_positive", value=text))
    return value


def _add_validate(sub: argparse._SubParsersAction) -> None:
    p = _parser(sub, "validate", "cli.help_validate")
    p.add_argument("path", nargs="+", metavar=t("cli.metavar_path"), help=t("cli.help_path"))
    p.add_argument("--mapping", default=None, help=t("cli.help_mapping"))
    p.add_argument("--json", action="store_true", help=t("cli.help_json"))
    _add_lang(p)
    p.set_defaults(handler="helpers.ingest.commands:validate_command")


def _add_sample(sub: argparse._SubParsersAction) -> None:
    p = _parser(sub, "sample", "cli.help_sample")
    p.add_argument("--leads", type=int, default=10_000, help=t("cli.help_leads"))
    p.add_argument("--seed", type=int, default=2024, help=t("cli.help_seed"))
    p.add_argument("--out", required=True, help=t("cli.help_sample_out"))
    p.add_argument("--format", choices=("csv", "parquet"), default="csv", help=t("cli.help_format"))
    p.set_defaults(handler="helpers.sample:sample_command")


def _add_report(sub: argparse._SubParsersAction) -> None:
    p = _parser(sub, "report", "cli.help_report")
    p.add_argument("--config", default=None, help=t("cli.help_config"))
    p.add_argument("--data", default=None, help=t("cli.help_data"))
    p.add_argument("--mapping", default=None, help=t("cli.help_mapping"))
    p.add_argument("--out", default=None, help=t("cli.help_report_out"))
    _add_lang(p)
    p.add_argument("--only", nargs="+", default=None, help=t("cli.help_only"))
    p.add_argument("--jobs", type=_at_least_one, default=None, help=t("cli.help_jobs"))
    p.set_defaults(handler="helpers.runner:report_command")


def _add_batch(sub: argparse._SubParsersAction) -> None:
    p = _parser(sub, "batch", "cli.help_batch")
    p.add_argument(
        "configs", nargs="+", metavar=t("cli.metavar_config"), help=t("cli.help_configs")
    )
    p.add_argument("--jobs", type=_at_least_one, default=1, help=t("cli.help_batch_jobs"))
    p.add_argument("--out", default=None, help=t("cli.help_batch_out"))
    p.add_argument("--json", action="store_true", help=t("cli.help_batch_json"))
    _add_lang(p, "cli.help_batch_lang")
    p.set_defaults(handler="helpers.runner:batch_command")


def _add_app(sub: argparse._SubParsersAction) -> None:
    p = _parser(sub, "app", "cli.help_app")
    p.add_argument("name", choices=("sla",), help=t("cli.help_app_name"))
    p.add_argument("--port", type=int, default=8866, help=t("cli.help_port"))
    _add_lang(p)
    p.add_argument("--no-browser", action="store_true", help=t("cli.help_no_browser"))
    p.set_defaults(handler="helpers.workshop.app:app_command")


def build_parser() -> argparse.ArgumentParser:
    """The ``smarketing`` parser; its help is in the language of ``SMARKETING_LANG``."""
    parser = _Parser(
        prog="smarketing",
        description=t("cli.description"),
        epilog=t("cli.exit_codes"),
        add_help=False,
        formatter_class=_Formatter,
    )
    options = parser.add_argument_group(t("cli.options"))
    options.add_argument("-h", "--help", action="help", help=t("cli.help_help"))
    options.add_argument(
        "--lang", dest="top_lang", choices=LANGUAGES, default=None, help=t("cli.help_lang")
    )
    options.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}", help=t("cli.help_version")
    )
    sub = parser.add_subparsers(
        title=t("cli.commands"), dest="command", required=True, metavar="COMMAND"
    )
    for add in (_add_validate, _add_sample, _add_report, _add_batch, _add_app):
        add(sub)
    return parser


def _resolve(handler: str) -> Callable[[argparse.Namespace], int]:
    module_name, func_name = handler.split(":")
    module = __import__(module_name, fromlist=[func_name])
    return getattr(module, func_name)


def _requested_language(words: Sequence[str]) -> str | None:
    """The language given with ``--lang X`` or ``--lang=X``, if it is one the kit speaks."""
    for i, word in enumerate(words):
        value = words[i + 1] if word == "--lang" and i + 1 < len(words) else None
        value = word.removeprefix("--lang=") if word.startswith("--lang=") else value
        if value in LANGUAGES:
            return value
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``smarketing`` console script."""
    words = list(sys.argv[1:] if argv is None else argv)
    lang = _requested_language(words)
    if lang:  # before the parser is built, so that --help and usage errors use it too
        os.environ["SMARKETING_LANG"] = lang
    parser = build_parser()
    try:
        args = parser.parse_args(words)
    except SystemExit as exc:  # argparse: 2 for usage errors, 0 for --help
        return int(exc.code or 0)
    if getattr(args, "lang", None) is None and getattr(args, "top_lang", None):
        args.lang = args.top_lang  # ``smarketing --lang it report ...``
    if getattr(args, "lang", None):
        os.environ["SMARKETING_LANG"] = args.lang
    main_thread = threading.current_thread() is threading.main_thread()
    # a scheduler's stop (SIGTERM) is cleaned up like Ctrl-C; signals reach the main thread only
    previous = signal.signal(signal.SIGTERM, _stop) if main_thread else None
    try:
        return int(_resolve(args.handler)(args))
    except KitError as exc:
        print(t("cli.error_prefix", exc.lang, message=exc.message()), file=sys.stderr)
        return exc.exit_code
    except Terminated:
        print(t("cli.terminated"), file=sys.stderr)
        return exitcodes.TERMINATED
    except KeyboardInterrupt:
        print(t("cli.interrupted"), file=sys.stderr)
        return exitcodes.INTERRUPTED
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)


class Terminated(KeyboardInterrupt):
    """SIGTERM (a scheduler's timeout, ``kill``, systemd): stops the command like Ctrl-C."""


def _stop(signum: int, frame: object) -> None:
    raise Terminated


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
