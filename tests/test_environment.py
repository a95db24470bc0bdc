"""The environment files agree: pyproject.toml, requirements/lock.txt and environment.yml."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements" / "lock.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            pins[_name(name)] = version.strip()
    return pins


def _declared() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return project["dependencies"] + project["optional-dependencies"]["dev"]


def test_every_declared_dependency_is_pinned_in_the_lock():
    lock = _lock()
    missing = [d for d in _declared() if _name(d) not in lock]
    assert not missing, f"not pinned in requirements/lock.txt (run make lock): {missing}"


def test_environment_yml_installs_the_same_pinned_set():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    conda_pins = {_name(r): r.split("==")[1] for r in pip_section if "==" in r}
    lock = _lock()
    declared = {_name(d) for d in _declared()}
    assert set(conda_pins) == declared, "environment.yml and pyproject.toml list different packages"
    drift = {n: (v, lock[n]) for n, v in conda_pins.items() if lock.get(n) != v}
    assert not drift, f"environment.yml pins differ from requirements/lock.txt: {drift}"
