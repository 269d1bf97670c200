"""processor.language: per-paragraph language identification guarded by script."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from processor.language import detect, identify

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def seed(prefix: str) -> str:
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("prefix", "language"), [("000", "ru"), ("002", "fa"), ("003", "ar"), ("004", "uk")]
)
def test_seed_main_language(prefix: str, language: str) -> None:
    assert detect(seed(prefix)).language == language


def test_bilingual_seed_reports_arabic_and_english() -> None:
    report = detect(seed("001"))
    assert {"ar", "en"} <= set(report.languages)
    assert report.language in {"ar", "en"}


def test_bilingual_seed_paragraphs_are_identified_one_by_one() -> None:
    text = seed("001")
    report = detect(text)
    for paragraph in report.paragraphs:
        chunk = text[paragraph.start : paragraph.end]
        expected = "ar" if any("\u0600" <= c <= "\u06ff" for c in chunk) else "en"
        assert paragraph.language == expected, chunk[:40]


@pytest.mark.parametrize("text", ["پایگاه گرگان", "نیروهای آمریکایی پایگاه را ترک کردند"])
def test_persian_with_persian_only_letters_is_fa_not_ar(text: str) -> None:
    assert detect(text).language == "fa"


@pytest.mark.parametrize("text", ["Ми їдемо додому", "Війська США залишають Ірак"])
def test_ukrainian_with_i_or_yi_is_uk(text: str) -> None:
    assert detect(text).language == "uk"


@pytest.mark.parametrize("text", ["Мы были там", "США выводят войска из Сирии"])
def test_russian_with_yery_is_ru(text: str) -> None:
    assert detect(text).language == "ru"


def test_arabic_sentence_is_ar() -> None:
    assert detect("انسحبت القوات الأمريكية من القاعدة").language == "ar"


def test_english_sentence_is_en() -> None:
    assert detect("US troops left the base in Syria today").language == "en"


@pytest.mark.parametrize("text", ["", "   \n  ", "12345 !!! ---", "1 2 3\n4 5 6"])
def test_text_without_letters_is_undetermined(text: str) -> None:
    report = detect(text)
    assert report.language == "und"
    assert report.languages == ("und",)
    assert identify(text) is None


def test_detection_is_deterministic_across_calls() -> None:
    texts = [seed("001"), "Сирия", "پایگاه", "Qasrak", "The base"]
    first = [detect(t) for t in texts]
    for _ in range(3):
        assert [detect(t) for t in texts] == first


def test_paragraph_spans_index_the_text() -> None:
    text = "First line of English text here.\n\n  Вторая строка на русском языке.  \n"
    report = detect(text)
    assert [text[p.start : p.end].strip() for p in report.paragraphs] == [
        "First line of English text here.",
        "Вторая строка на русском языке.",
    ]


def test_short_russian_without_marker_letters_is_ru() -> None:
    assert detect("американские войска покинули базу").language == "ru"


FIRST_CALLS_AT_ONCE = """
import threading
from processor.language import detect
text = "Les forces américaines ont quitté la base, a déclaré hier un responsable militaire."
start, found = threading.Barrier(8), []
def read():
    start.wait()
    found.append(detect(text).language)
threads = [threading.Thread(target=read) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(" ".join(found))
"""


def test_threads_reading_first_at_once_all_see_every_language() -> None:
    """A processor without worker processes reads a batch in threads from its first
    moment: none may read while the language profiles are still loading."""
    done = subprocess.run(
        [sys.executable, "-c", FIRST_CALLS_AT_ONCE],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.stdout.split() == ["fr"] * 8
