"""The ingestion step timer runs on the bundled sample and accounts for the whole call."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_step_times_add_up_to_at_most_the_whole_call(tmp_path):
    # a subprocess: the script replaces module functions with timed wrappers
    run = subprocess.run(
        [sys.executable, "bench/ingest_phases.py", "data/samples", "--repeats", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    total = float(re.search(r": ([\d.]+) s \(best of 1\)", run.stdout).group(1))
    steps = dict(re.findall(r"^  (\S[^\n]*?)\s+([\d.]+) s\s+\d+%$", run.stdout, re.M))
    assert {"read", "map and parse", "checks", "pseudonymise"} <= set(steps)
    assert 0 < sum(float(s) for s in steps.values()) <= total + 0.01
    assert "pandera schemas" in run.stdout and "duplicate keys, all tables" in run.stdout
