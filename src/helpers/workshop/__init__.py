"""Workshop mode: interactive tools, participant copies, handouts and the SLA web app.

Every tool here only *calls* the analysis helpers (``helpers.sla``, ``helpers.funnel``,
``helpers.personas``, ``helpers.assessment``); the widgets are a thin layer over pure
functions that pytest tests without a browser.
"""

from __future__ import annotations

from pathlib import Path

import helpers
from helpers.errors import KitError

# The project folder when the kit runs from a checkout (``src/helpers/__init__.py`` -> root).
PROJECT_ROOT = Path(helpers.__file__).resolve().parents[2]


def find_path(relative: str | Path, start: str | Path | None = None) -> Path:
    """The file or folder ``relative`` found from ``start`` (default: the current folder) upwards.

    A notebook calls ``find_path("data/samples")`` and gets the same folder whether the kernel
    started in ``playbook/workshop/``, in a participant copy, or at the project root; the
    project folder of the installed kit is the last place looked at. An absolute path is
    returned as it is when it exists.
    """
    relative = Path(relative)
    here = Path(start or Path.cwd()).resolve()
    if relative.is_absolute():
        if relative.exists():
            return relative
        raise KitError("workshop.data_not_found", folder=str(relative), start=str(here))
    for folder in (here, *here.parents, PROJECT_ROOT):
        candidate = folder / relative
        if candidate.exists():
            return candidate
    raise KitError("workshop.data_not_found", folder=str(relative), start=str(here))


def find_data_dir(relative: str | Path = "data/samples", start: str | Path | None = None) -> Path:
    """The data folder ``relative`` (see :func:`find_path`)."""
    return find_path(relative, start)
