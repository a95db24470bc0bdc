"""The synthetic sample company: a B2B firm's CRM export with known, planted effects.

``generate()`` draws the canonical tables and the truth planted in them; ``write_export()``
writes them in the kit's export format; ``smarketing sample`` does both from the command line.
See ``docs/sample-data.md``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from helpers import exitcodes
from helpers.messages import t
from helpers.sample.export import FORMATS, TRUTH_FILE, write_export
from helpers.sample.generator import (
    DEFAULT_RESPONSE_EFFECT,
    GENERATOR_VERSION,
    SampleExport,
    generate,
)

__all__ = [
    "DEFAULT_RESPONSE_EFFECT",
    "FORMATS",
    "GENERATOR_VERSION",
    "TRUTH_FILE",
    "SampleExport",
    "generate",
    "sample_command",
    "write_export",
]


def sample_command(args: argparse.Namespace) -> int:
    """``smarketing sample --leads N --seed S --out DIR [--format csv|parquet]``."""
    export = generate(leads=args.leads, seed=args.seed)
    paths = write_export(export, Path(args.out), fmt=args.format)
    print(
        t("sample.written", None, leads=args.leads, files=len(paths), out=str(args.out)),
        file=sys.stdout,
    )
    return exitcodes.OK
