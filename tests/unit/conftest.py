"""Unit tier: keep Hypothesis's caches out of the working tree."""

from __future__ import annotations

import tempfile

import pytest
from hypothesis.configuration import set_hypothesis_home_dir

# Hypothesis caches Unicode tables and source constants under ./.hypothesis even with
# database=None; point it at a directory that lives only as long as the test session.
_HYPOTHESIS_HOME = tempfile.TemporaryDirectory(prefix="drawdown-unit-hypothesis-")
set_hypothesis_home_dir(_HYPOTHESIS_HOME.name)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _HYPOTHESIS_HOME.cleanup()
