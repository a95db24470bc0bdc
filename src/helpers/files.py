"""Files written aside, then moved into place in one rename, with the usual permissions."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)  # read once, at import, before any thread of the kit starts
    os.umask(mask)
    return mask


FILE_MODE = 0o666 & ~_umask()  # what ``open()`` would give a new file here


def replace_atomically(path: str | Path, write: Callable[[Path], object]) -> Path:
    """Call ``write`` on a temporary file beside ``path``, then rename it over ``path``.

    Readers see the old file or the new one, never half of one; the new file gets the mode a
    plain ``open()`` would give it (a temporary file is private to its owner, a report is not).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
