"""The ``smarketing`` command line: thin argument parsing over the helper modules.

Every subcommand returns an exit code from :mod:`helpers.exitcodes`; user-facing problems
(:class:`helpers.errors.KitError`) are printed as one clear message, never as a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from helpers import __version__, exitcodes
from helpers.errors import KitError
from helpers.messages import LANGUAGES, t


def _add_validate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help=t("cli.help_validate", "en"))
    p.add_argument("path", nargs="+", help=t("cli.help_path", "en"))
    p.add_argument("--mapping", default=None, help=t("cli.help_mapping", "en"))
    p.add_argument("--json", action="store_true", help=t("cli.help_json", "en"))
    p.add_argument("--lang", choices=LANGUAGES, default=None)
    p.set_defaults(handler="helpers.ingest.commands:validate_command")


def _add_sample(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sample", help=t("cli.help_sample", "en"))
    p.add_argument("--leads", type=int, default=10_000)
    p.add_argument("--seed", type=int, default=2024)
    p.add_argument("--out", required=True)
    p.add_argument("--format", choices=("csv", "parquet"), default="csv")
    p.set_defaults(handler="helpers.sample:sample_command")


def _add_report(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help=t("cli.help_report", "en"))
    p.add_argument("--config", default=None)
    p.add_argument("--data", default=None)
    p.add_argument("--mapping", default=None)
    p.add_argument("--out", default=None)
    p.add_argument("--lang", choices=LANGUAGES, default=None)
    p.add_argument("--only", nargs="+", default=None)
    p.add_argument("--jobs", type=int, default=None)
    p.set_defaults(handler="helpers.runner:report_command")


def _add_batch(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("batch", help=t("cli.help_batch", "en"))
    p.add_argument("configs", nargs="+")
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--out", default=None)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler="helpers.runner:batch_command")


def _add_app(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("app", help=t("cli.help_app", "en"))
    p.add_argument("name", choices=("sla",))
    p.add_argument("--port", type=int, default=8866)
    p.add_argument("--lang", choices=LANGUAGES, default=None)
    p.add_argument("--no-browser", action="store_true")
    p.set_defaults(handler="helpers.workshop.app:app_command")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="smarketing", description=t("cli.description", "en"))
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (_add_validate, _add_sample, _add_report, _add_batch, _add_app):
        add(sub)
    return parser


def _resolve(handler: str) -> Callable[[argparse.Namespace], int]:
    module_name, func_name = handler.split(":")
    module = __import__(module_name, fromlist=[func_name])
    return getattr(module, func_name)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``smarketing`` console script."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: 2 for usage errors, 0 for --help
        return int(exc.code or 0)
    if getattr(args, "lang", None):
        os.environ["SMARKETING_LANG"] = args.lang
    try:
        return int(_resolve(args.handler)(args))
    except KitError as exc:
        print(t("cli.error_prefix", None, message=exc.message()), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(t("cli.interrupted"), file=sys.stderr)
        return exitcodes.INTERRUPTED


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
