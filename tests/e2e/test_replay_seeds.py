"""The seeds replayed by the command line: embedded, and through Kafka into PostgreSQL."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from services.settings import Settings
from tests.conftest import SEEDS, SHARED, drawdown_cli
from tests.seed_expectations import check_first_replay, check_second_replay


def _replay(directory: Path, env: dict[str, str], cwd: Path) -> list[dict[str, Any]]:
    result = drawdown_cli("replay", str(directory), "--json", env=env, cwd=cwd)
    assert result.returncode == 0, result.stderr[-3000:]
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_seeds_are_the_users_copy() -> None:
    if not (SHARED / "seeds").is_dir():
        pytest.skip("../shared/seeds is not beside this checkout")
    for shared in (SHARED / "seeds").iterdir():
        assert (SEEDS / shared.name).read_bytes() == shared.read_bytes()


def test_embedded_default_replays_seeds_twice(tmp_path: Path) -> None:
    first = _replay(SEEDS, {}, tmp_path)
    check_first_replay(first)
    assert (tmp_path / "drawdown.db").exists()
    second = _replay(SEEDS, {}, tmp_path)
    check_second_replay(first, second)


def test_kafka_and_postgres_replay_seeds_twice(kafka_settings: Settings, tmp_path: Path) -> None:
    env = {
        "DRAWDOWN_DATABASE_URL": kafka_settings.database_url,
        "DRAWDOWN_KAFKA_BOOTSTRAP": kafka_settings.kafka_bootstrap or "",
        "DRAWDOWN_TOPIC_PREFIX": kafka_settings.topic_prefix,
        "DRAWDOWN_CONSUMER_GROUP": kafka_settings.consumer_group,
        "DRAWDOWN_KAFKA_SESSION_TIMEOUT": str(kafka_settings.kafka_session_timeout),
    }
    first = _replay(SEEDS, env, tmp_path)
    check_first_replay(first)
    second = _replay(SEEDS, env, tmp_path)
    check_second_replay(first, second)


def test_unreadable_files_are_reported_and_the_rest_processed(tmp_path: Path) -> None:
    directory = tmp_path / "in"
    directory.mkdir()
    shutil.copy(SEEDS / "000_467fa69daf76dde6.txt", directory)
    (directory / "001_binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00")
    (directory / "002_latin1.txt").write_bytes("Qasrak base évacuée".encode("latin-1"))
    (directory / "003_broken.json").write_text("{not json", encoding="utf-8")
    (directory / "004_notes.md").write_text("# not a document\n", encoding="utf-8")
    reports = _replay(directory, {}, tmp_path)
    errors = {r["file"]: r["error"] for r in reports if "error" in r}
    assert set(errors) == {"001_binary.txt", "002_latin1.txt", "003_broken.json", "004_notes.md"}
    assert "binary" in errors["001_binary.txt"]
    assert "UTF-8" in errors["002_latin1.txt"]
    assert reports[0]["article_id"]
    assert "qasrak" in reports[0]["places"]
    assert reports[-1]["summary"]["errors"] == 4
    assert reports[-1]["summary"]["articles"] == 1
