"""``smarketing validate``: print what was read and everything that is wrong, at once."""

from __future__ import annotations

import argparse
import json
import os
import sys

from helpers import exitcodes
from helpers.ingest.load import load_crm
from helpers.messages import current_language


def validate_command(args: argparse.Namespace) -> int:
    """Validate the files in ``args.path``; exit 0 when usable, 2 when not."""
    lang = getattr(args, "lang", None) or current_language()
    # the tables are not kept, so there is nothing to pseudonymise and no key is needed
    _, report = load_crm(args.path, args.mapping, pseudonymise=False)
    if args.json:
        text = json.dumps(report.to_dict(lang), ensure_ascii=False, indent=2) + "\n"
    else:
        text = report.render_text(lang)
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. piped into `head`: the reader left, nothing to report
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return exitcodes.OK if report.usable else exitcodes.UNUSABLE
