"""Real publishers' pages (../shared/corpus/pages) replayed as .html: each is read or
reported with an error, and none stops the replay."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import SHARED, drawdown_cli

PAGES = SHARED / "corpus" / "pages"
SAMPLE_EVERY = 3  # a third of the pages keeps the suite fast; all kinds of encodings occur


def test_saved_pages_replay_without_stopping(tmp_path: Path) -> None:
    if not PAGES.is_dir():
        pytest.skip("../shared/corpus is not beside this checkout")
    pages = sorted(PAGES.glob("*.html"))[::SAMPLE_EVERY]
    directory = tmp_path / "pages"
    directory.mkdir()
    for page in pages:
        shutil.copy(page, directory)
    (directory / "zz_binary.html").write_bytes(bytes(range(256)) * 64)

    result = drawdown_cli("replay", str(directory), "--json", env={}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    reports = [json.loads(line) for line in result.stdout.splitlines()]
    *documents, summary = reports
    assert len(documents) == len(pages) + 1
    for report in documents:
        assert report.get("article_id") or report.get("error"), report
    assert "binary" in documents[-1]["error"]
    assert summary["summary"]["articles"] >= len(pages) * 0.9
