"""The seeds plus republished copies and a later denial, replayed: copies become
sightings that corroborate, and the denial disputes."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

from tests.conftest import SEEDS, drawdown_cli

FOOTER = "\n\nПодписывайтесь на наш канал в Telegram. Читайте также: главные новости дня."


def _seed(prefix: str) -> str:
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    return path.read_text("utf-8")


def test_copies_are_sightings_that_corroborate_and_a_denial_disputes(tmp_path: Path) -> None:
    directory = tmp_path / "in"
    directory.mkdir()
    for path in SEEDS.glob("*.txt"):
        shutil.copy(path, directory)
    russian = _seed("000")
    retitled = "США начали вывод войск с базы Касрак\n" + russian.split("\n", 1)[1] + FOOTER
    (directory / "005_retitled_copy.txt").write_text(retitled, encoding="utf-8")
    persian = _seed("002").rstrip().rsplit("\n\n", 1)[0]  # the last paragraph cut
    (directory / "006_trimmed_copy.txt").write_text(persian, encoding="utf-8")
    (directory / "007_denial.txt").write_text(
        "Pentagon denies leaving Ain al-Asad\n"
        "The Pentagon denied reports that US forces had withdrawn from Ain al-Asad air base.",
        encoding="utf-8",
    )

    result = drawdown_cli("replay", str(directory), "--json", env={}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    reports = {r["file"]: r for r in map(json.loads, result.stdout.splitlines()) if "file" in r}
    original_ru, original_fa = (
        reports["000_467fa69daf76dde6.txt"],
        reports["002_167b56c6a4ea1e7f.txt"],
    )
    assert reports["005_retitled_copy.txt"]["duplicate_of"] == original_ru["article_id"]
    assert reports["006_trimmed_copy.txt"]["duplicate_of"] == original_fa["article_id"]
    assert reports["007_denial.txt"]["duplicate_of"] is None

    database = sqlite3.connect(tmp_path / "drawdown.db")
    sightings = dict(database.execute("SELECT match, count(*) FROM sightings GROUP BY match"))
    assert sightings == {"new": 6, "near": 2}
    status = dict(
        ((place, kind), (status, outlets))
        for place, kind, status, outlets in database.execute(
            "SELECT place, kind, status, outlets FROM alerts"
        )
    )
    # Qasrak: the Russian report, the Arabic/English one, and the Russian copy elsewhere.
    assert status[("qasrak", "withdrawal")][0] == "confirmed"
    assert len(json.loads(status[("qasrak", "withdrawal")][1])) == 3
    assert status[("ain-al-asad", "withdrawal")][0] == "disputed"
