"""Fail when a tracked notebook has outputs, execution counts or a kernelspec other than python3."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def notebook_problems(path: Path) -> list[str]:
    """Problems of one notebook file, as short sentences."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    problems = []
    kernel = nb.get("metadata", {}).get("kernelspec", {}).get("name")
    if kernel != "python3":
        problems.append(f"{path}: kernelspec is {kernel!r}, expected 'python3'")
    for index, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        if cell.get("outputs") or cell.get("execution_count") is not None:
            problems.append(f"{path}: cell {index} has outputs or an execution count")
            break
    return problems


def tracked_notebooks(root: Path) -> list[Path]:
    """Notebooks git tracks under ``root`` (all notebooks when git is unavailable)."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "*.ipynb"], cwd=root, capture_output=True, text=True, check=True
        ).stdout
        return [root / line for line in out.splitlines() if line]
    except (OSError, subprocess.CalledProcessError):
        return sorted(root.rglob("*.ipynb"))


def main() -> int:
    root = Path.cwd()
    problems = [p for nb in tracked_notebooks(root) for p in notebook_problems(nb)]
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print("Strip them with: .venv/bin/nbstripout --keep-id <notebook>", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
