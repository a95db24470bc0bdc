"""Where ingestion spends its time: each step of ``load_crm`` timed on its own, best of N runs.

Usage: ``.venv/bin/python bench/ingest_phases.py bench/.cache/1000000/csv [--repeats 3]``
(the folder is an export written by ``bench/run_bench.py``). It wraps the steps that
``helpers.ingest.load`` and ``helpers.ingest.validate`` call, so the numbers add up to the whole
call without a profiler's overhead on Python loops.
"""

from __future__ import annotations

import argparse
import collections
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from helpers import privacy
from helpers.ingest import load, validate

STEPS = {
    load: {"read_file": "read", "_map_all": "map and parse", "summarise": "summary"},
    privacy: {"pseudonymise": "pseudonymise", "pseudonymise_stray_emails": "stray emails"},
}
CHECKS = {
    validate: {
        "_stages": "stage history (order, duplicates)",
        "duplicated_rows": "duplicate keys, all tables",
        "_lead_keys_and_orphans": "lead keys and orphans",
        "_text_checks": "text safety",
        "_categories": "categories",
        "_schema": "pandera schemas",
        "_finalise_types": "final types",
    }
}


def _timed(module: ModuleType, name: str, label: str, spent: collections.Counter) -> None:
    inner: Callable[..., Any] = getattr(module, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            spent[label] += time.perf_counter() - start

    setattr(module, name, wrapper)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="an export folder (CSV or Parquet files)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    steps: collections.Counter = collections.Counter()
    checks: collections.Counter = collections.Counter()
    for module, names in STEPS.items():
        for name, label in names.items():
            _timed(module, name, label, steps)
    _timed(load, "check_tables", "checks", steps)
    for module, names in CHECKS.items():
        for name, label in names.items():
            _timed(module, name, label, checks)
    best: tuple[float, dict[str, float], dict[str, float]] | None = None
    for _ in range(args.repeats):
        steps.clear()
        checks.clear()
        start = time.perf_counter()
        load.load_crm(args.folder, "kit", key=b"benchmark key")
        total = time.perf_counter() - start
        if best is None or total < best[0]:
            best = (total, dict(steps), dict(checks))
    assert best is not None
    total, step_times, check_times = best
    print(f"load_crm on {args.folder}: {total:.2f} s (best of {args.repeats})")
    for label, seconds in sorted(step_times.items(), key=lambda kv: -kv[1]):
        print(f"  {label:36s} {seconds:6.2f} s  {seconds / total:4.0%}")
    print(f"  {'other':36s} {total - sum(step_times.values()):6.2f} s")
    print("inside the checks (the duplicate search also runs inside the stage-history step):")
    for label, seconds in sorted(check_times.items(), key=lambda kv: -kv[1]):
        print(f"  {label:36s} {seconds:6.2f} s")


if __name__ == "__main__":
    main()
