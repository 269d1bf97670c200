"""Which entries of a replayed directory are read, and every other one reported."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ingest.replay import Entry, entries
from services.errors import InputError


def test_files_symlinks_and_oddities_are_each_accounted_for(tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("not for replay", encoding="utf-8")
    directory = tmp_path / "in"
    directory.mkdir()
    (directory / "a.txt").write_text("A", encoding="utf-8")
    (directory / "sub").mkdir()
    (directory / ".hidden.txt").write_text("H", encoding="utf-8")
    os.symlink(directory / "a.txt", directory / "b_inside.txt")
    os.symlink(outside, directory / "c_outside.txt")
    os.symlink(directory / "missing.txt", directory / "d_dangling.txt")
    os.symlink(directory / "e_loop.txt", directory / "e_loop.txt")
    found = {e.name: e for e in entries(directory)}
    assert found["a.txt"] == Entry("a.txt", directory / "a.txt")
    assert found["b_inside.txt"].path == (directory / "a.txt").resolve()
    assert found["c_outside.txt"].path is None
    assert "outside the directory" in (found["c_outside.txt"].skipped or "")
    assert found["d_dangling.txt"].skipped == "dangling symlink"
    assert found["e_loop.txt"].skipped in ("symlink loop", "dangling symlink")
    assert "directory" in (found["sub"].skipped or "")
    assert found[".hidden.txt"].skipped == "hidden file"
    assert list(found) == sorted(found)


def test_a_single_file_is_replayed_alone(tmp_path: Path) -> None:
    path = tmp_path / "one.txt"
    path.write_text("One", encoding="utf-8")
    assert entries(path) == [Entry("one.txt", path)]


def test_a_missing_target_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="neither a file nor a directory"):
        entries(tmp_path / "nowhere")
