"""The seeds replayed by the command line: embedded, and through Kafka into PostgreSQL."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from services.settings import Settings
from tests.conftest import SEEDS, SHARED, drawdown_cli
from tests.seed_expectations import check_first_replay, check_second_replay


def _replay(
    directory: Path, env: dict[str, str], cwd: Path, *, exit_code: int = 0
) -> list[dict[str, Any]]:
    result = drawdown_cli("replay", str(directory), "--json", env=env, cwd=cwd)
    assert result.returncode == exit_code, result.stderr[-3000:]
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
    reports = _replay(directory, {}, tmp_path, exit_code=1)  # 1: documents failed
    errors = {r["file"]: r["error"] for r in reports if "error" in r}
    assert set(errors) == {"001_binary.txt", "002_latin1.txt", "003_broken.json", "004_notes.md"}
    assert "binary" in errors["001_binary.txt"]
    assert "UTF-8" in errors["002_latin1.txt"]
    assert reports[0]["article_id"]
    assert "qasrak" in reports[0]["places"]
    assert reports[-1]["summary"]["errors"] == 4
    assert reports[-1]["summary"]["articles"] == 1


def test_every_hostile_file_is_its_own_report(tmp_path: Path) -> None:
    directory = tmp_path / "in"
    directory.mkdir()
    outside = tmp_path / "outside.txt"
    outside.write_text("Troops leave Qasrak, says a file nobody asked for.", encoding="utf-8")
    (directory / "01_nested.json").write_bytes(b"[" * 5000 + b"]" * 5000)
    (directory / "02_surrogate.json").write_bytes(b'{"text": "Qasrak \\udc00"}')
    (directory / "03_bad_date.json").write_text(
        '{"text": "US forces left Qasrak.", "published_at": "last Tuesday"}', encoding="utf-8"
    )
    utf16 = (SEEDS / "000_467fa69daf76dde6.txt").read_text(encoding="utf-8")
    (directory / "04_utf16.txt").write_bytes(b"\xff\xfe" + utf16.encode("utf-16-le"))
    (directory / "05_outlet.json").write_text(
        json.dumps({"text": utf16, "url": "https://example.org/a", "outlet": "Rudaw"}),
        encoding="utf-8",
    )
    (directory / "06_loop.txt").symlink_to(directory / "06_loop.txt")
    (directory / "07_dangling.txt").symlink_to(directory / "missing.txt")
    (directory / "08_escape.txt").symlink_to(outside)
    (directory / "09_gzip.html").write_bytes(gzip.compress(b"<html>x</html>"))
    reports = _replay(directory, {}, tmp_path, exit_code=1)
    *files, summary = reports
    by_file = {r["file"]: r for r in files}
    assert list(by_file) == sorted(by_file)
    assert len(by_file) == 9
    assert "nested too deeply" in by_file["01_nested.json"]["error"]
    assert "lone surrogate" in by_file["02_surrogate.json"]["error"]
    assert "published_at" in by_file["03_bad_date.json"]["error"]
    assert "qasrak" in by_file["04_utf16.txt"]["places"]
    assert by_file["05_outlet.json"]["duplicate_of"] == by_file["04_utf16.txt"]["article_id"]
    assert by_file["06_loop.txt"]["skipped"] in ("symlink loop", "dangling symlink")
    assert by_file["07_dangling.txt"]["skipped"] == "dangling symlink"
    assert "outside the directory" in by_file["08_escape.txt"]["skipped"]
    assert "binary content (gzip)" in by_file["09_gzip.html"]["error"]
    assert summary["summary"]["errors"] == 4
    assert summary["summary"]["skipped"] == 3
    assert summary["summary"]["articles"] == 1


def test_an_empty_directory_warns_and_a_single_file_is_replayed(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = drawdown_cli("replay", str(empty), env={}, cwd=tmp_path)
    assert result.returncode == 0
    assert "no documents to replay" in result.stderr
    assert "documents=0" in result.stdout
    one = _replay(SEEDS / "000_467fa69daf76dde6.txt", {}, tmp_path)
    assert [r["file"] for r in one[:-1]] == ["000_467fa69daf76dde6.txt"]
    assert one[-1]["summary"]["articles"] == 1
