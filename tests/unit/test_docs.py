"""The README's and docs/configuration.md's tables of settings name every setting, and
only settings that exist."""

from __future__ import annotations

import re

import pytest

from services.settings import Settings
from tests.conftest import ROOT

SETTINGS = {f"DRAWDOWN_{name.upper()}" for name in Settings.model_fields}


def _table_rows(path: str) -> set[str]:
    text = (ROOT / path).read_text(encoding="utf-8")
    return set(re.findall(r"^\| `(DRAWDOWN_[A-Z_]+)`", text, flags=re.MULTILINE))


@pytest.mark.parametrize("path", ["README.md", "docs/configuration.md"])
def test_every_setting_has_a_row(path: str) -> None:
    rows = _table_rows(path)
    assert not SETTINGS - rows, f"{path} lacks rows for {sorted(SETTINGS - rows)}"
    assert not rows - SETTINGS, f"{path} has rows for no setting: {sorted(rows - SETTINGS)}"
