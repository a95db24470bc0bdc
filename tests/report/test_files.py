"""Files written aside then moved into place get the mode a plain open() gives, not 0600."""

from __future__ import annotations

import os
import stat

import pytest

from helpers.files import FILE_MODE, replace_atomically
from helpers.results import write_text_atomic


def test_a_replaced_file_has_the_usual_mode_and_no_temporary_is_left(tmp_path):
    plain = tmp_path / "plain.txt"
    plain.write_text("x", encoding="utf-8")
    written = write_text_atomic(tmp_path / "index.html", "<p>report</p>")
    assert stat.S_IMODE(written.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode) == FILE_MODE
    assert written.read_text(encoding="utf-8") == "<p>report</p>"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.html", "plain.txt"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = write_text_atomic(tmp_path / "results.json", "old")

    def broken(path):
        path.write_text("half", encoding="utf-8")
        raise OSError("disk full")

    with pytest.raises(OSError):
        replace_atomically(target, broken)
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]
    assert 0o666 & ~_current_umask() == FILE_MODE


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
