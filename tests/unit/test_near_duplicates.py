"""processor.fingerprint: the near-duplicate threshold, measured on labelled pairs.

Near-duplicates are copies of the five seed articles as other outlets republish
them (retitled, boilerplate added or changed, a paragraph dropped or added,
trimmed, sentences or paragraphs lightly reordered, whitespace and punctuation
changed, and all of that at once). Non-duplicates are the seeds against each
other (several report on the same bases), edited copies against other seeds,
the Arabic half of seed 001 against its English half (a translation), and short
texts written separately about the same base. A pair is merged when the two
documents share an LSH band and their estimated similarity is at least
``NEAR_DUPLICATE_THRESHOLD``.

Measured (3-word shingles, 128 permutations, LSH 32 bands × 3 rows, threshold 0.5;
"exact" is the true Jaccard similarity of the shingle sets, "estimate" MinHash's):

=========================================  =====  ===========  ===========  ======  ======
pairs                                      count  exact        estimate     bands   merged
=========================================  =====  ===========  ===========  ======  ======
edited copies of a seed (duplicates)       50     0.74 – 1.00  0.76 – 1.00  11–32   50
a seed or its copy vs another seed         70     0.00         0.00         0       0
another piece quoting one seed paragraph   5      0.10 – 0.16  0.06 – 0.15  0       0
translation (001 Arabic vs English)        1      0.00         0.00         0       0
short texts on the same base, ≥ 20 words   6      0.00 – 0.03  0.00 – 0.06  0       0
=========================================  =====  ===========  ===========  ======  ======

False merges 0 / 82, missed merges 0 / 50. The lowest duplicates are the
"republished" copies (new title, new boilerplate, a paragraph cut, punctuation
changed) and trimmed ones; docs/near-duplicates.md explains the choice.
"""

from __future__ import annotations

import pickle
import re
from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from processor.analyze import analyze
from processor.fingerprint import (
    BANDS,
    MIN_WORDS,
    NEAR_DUPLICATE_THRESHOLD,
    PERMUTATIONS,
    Fingerprint,
    detection_probability,
    fingerprint,
    shingle_hashes,
    similarity,
)
from processor.normalize import normalize_text

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


@dataclass(frozen=True, slots=True)
class Furniture:
    """What an outlet wraps around a republished report, in the report's language."""

    title: str
    header: str
    footer: str
    other_header: str
    other_footer: str
    paragraph: str


FURNITURE = {
    "000": Furniture(
        title="Reuters: американские военные покидают базу Касрак в Сирии",
        header="Читайте также: Пентагон прокомментировал ситуацию на Ближнем Востоке",
        footer="Подписывайтесь на наш Telegram-канал, чтобы первыми узнавать главные новости.",
        other_header="Новости партнеров",
        other_footer="Все права защищены. Перепечатка материалов только с активной ссылкой.",
        paragraph=(
            "Ранее представитель курдских формирований заявил журналистам, что местные власти "
            "не получали официального уведомления о сроках вывода войск и ожидают разъяснений "
            "от американской стороны в ближайшие дни."
        ),
    ),
    "001": Furniture(
        title="انسحاب أمريكي من قاعدة قسرك | US forces leave Qasrak",
        header="اقرأ أيضا: تطورات الوضع الميداني في شمال شرق سورية",
        footer="Subscribe to our newsletter for the latest news from the region.",
        other_header="Read more: what the withdrawal means for the region",
        other_footer="جميع الحقوق محفوظة. يمنع النسخ دون ذكر المصدر.",
        paragraph=(
            "ولم يصدر أي تعليق رسمي من وزارة الدفاع الأمريكية حتى ساعة إعداد هذا التقرير، "
            "فيما قال سكان محليون إنهم شاهدوا قوافل عسكرية تتحرك ليلا على الطريق الدولي "
            "باتجاه الحدود العراقية."
        ),
    ),
    "002": Furniture(
        title="خروج نیروهای آمریکایی از پایگاه عین الاسد آغاز شد",
        header="بیشتر بخوانید: آخرین تحولات میدانی در غرب عراق",
        footer="برای دریافت آخرین اخبار به کانال تلگرام ما بپیوندید.",
        other_header="اخبار مرتبط",
        other_footer="انتشار این مطلب با ذکر منبع بلامانع است.",
        paragraph=(
            "یک مقام محلی در استان الانبار نیز به خبرنگار ما گفت که تحرکات گسترده ای در اطراف "
            "پایگاه مشاهده شده و خودروهای نظامی در ساعات شب جابجا می شوند، اما هنوز زمان "
            "دقیق پایان این روند اعلام نشده است."
        ),
    ),
    "003": Furniture(
        title="رتل أمريكي يتجه إلى قاعدة هيمو في القامشلي",
        header="اقرأ أيضا: البنتاغون يعلن خططه في سوريا",
        footer="تابعونا على قناتنا في تلغرام لمتابعة آخر الأخبار العاجلة.",
        other_header="أخبار ذات صلة",
        other_footer="جميع الحقوق محفوظة للموقع 2024.",
        paragraph=(
            "وقال ناشطون محليون إن الرتل ضم شاحنات محملة بمعدات لوجستية وصهاريج وقود، "
            "وإن طائرات مروحية رافقته على طول الطريق حتى وصوله إلى القاعدة، دون تسجيل "
            "أي حوادث أمنية."
        ),
    ),
    "004": Furniture(
        title="Пентагон оголосив про переговори щодо виведення військ США з Іраку",
        header="Читайте також: як змінилася ситуація на Близькому Сході",
        footer="Підписуйтесь на наш Telegram-канал, щоб першими дізнаватися головні новини.",
        other_header="Новини партнерів",
        other_footer="Усі права захищено. Використання матеріалів лише з посиланням на джерело.",
        paragraph=(
            "Експерти зазначають, що переговори можуть затягнутися, адже сторони досі не "
            "погодили ключові питання щодо майбутньої присутності радників та інструкторів "
            "коаліції в країні після завершення місії."
        ),
    ),
}

# Written separately about the same bases: same facts, same names, different words.
SHORT_SAME_BASE = [
    (
        "US troops have started pulling out of the Qasrak base in Hasakah province, three "
        "Syrian security sources told Reuters on Monday, adding that trucks were seen leaving "
        "the base towards the Iraqi border.",
        "Convoys of American armoured vehicles left Qasrak in northeastern Syria this week as "
        "Washington began withdrawing its forces from the base, local officials said, with the "
        "pullout expected to take about a month.",
    ),
    (
        "بدأت القوات الأمريكية الانسحاب من قاعدة قسرك في ريف الحسكة، بحسب مصادر محلية أكدت "
        "خروج عشرات الشاحنات المحملة بالمعدات العسكرية باتجاه الحدود العراقية خلال الساعات "
        "الماضية.",
        "أفادت مصادر ميدانية بأن رتلا عسكريا أمريكيا غادر قاعدة قسرك شمال شرق سوريا متجها نحو "
        "إقليم كردستان العراق، في إطار خطة واشنطن لسحب قواتها من البلاد خلال شهر.",
    ),
    (
        "Американские военные начали покидать авиабазу Айн-эль-Асад на западе Ирака, сообщил "
        "источник в провинции Анбар, уточнив, что часть техники и личного состава вывозится "
        "по воздуху.",
        "Источник в иракской провинции Анбар рассказал, что колонны коалиции уходят с базы "
        "Айн-эль-Асад в сторону сирийской границы, а американские советники остаются на базе "
        "до сентября.",
    ),
    (
        "نیروهای آمریکایی خروج از پایگاه عین الاسد در استان الانبار را آغاز کرده اند و بخشی "
        "از تجهیزات با هواپیما منتقل شده است، به گفته یک منبع محلی که نخواست نامش فاش شود.",
        "یک منبع عراقی گفت ستون های نظامی ائتلاف از پایگاه عین الاسد به سمت مرز سوریه حرکت "
        "می کنند و روند خروج نیروهای آمریکایی طبق توافق بغداد و واشنگتن سریع تر شده است.",
    ),
    (
        "US forces withdrew from the al-Tanf garrison near the border with Iraq and Jordan, "
        "officials said, after government troops took control of the surrounding desert area "
        "last month.",
        "The American garrison at al-Tanf, where the borders of Syria, Iraq and Jordan meet, "
        "has been evacuated, according to two officials who spoke on condition of anonymity.",
    ),
    (
        "Американські війська залишають базу Касрак на північному сході Сирії, повідомляють "
        "джерела Reuters, а колони вантажівок рухаються трасою в напрямку іракського кордону.",
        "Джерела агентства Reuters повідомили, що США почали виводити своїх військових з бази "
        "Касрак у провінції Хасеке, і цей процес може тривати близько місяця.",
    ),
]


def _seeds() -> dict[str, str]:
    return {path.name[:3]: path.read_text("utf-8") for path in sorted(SEEDS.glob("*.txt"))}


def _paragraphs(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _join(paragraphs: list[str]) -> str:
    return "\n\n".join(paragraphs)


def _longest(paragraphs: list[str]) -> int:
    return max(range(1, len(paragraphs)), key=lambda i: len(paragraphs[i]))


def retitled(text: str, f: Furniture) -> str:
    return _join([f.title, *_paragraphs(text)[1:]])


def with_boilerplate(text: str, f: Furniture) -> str:
    return _join([f.header, *_paragraphs(text), f.footer])


def paragraph_dropped(text: str, f: Furniture) -> str:
    paragraphs = _paragraphs(text)
    del paragraphs[_longest(paragraphs)]
    return _join(paragraphs)


def paragraph_added(text: str, f: Furniture) -> str:
    paragraphs = _paragraphs(text)
    return _join([*paragraphs[:3], f.paragraph, *paragraphs[3:]])


def trimmed(text: str, f: Furniture) -> str:
    paragraphs = _paragraphs(text)
    return _join(paragraphs[: len(paragraphs) - 2])


def sentences_swapped(text: str, f: Furniture) -> str:
    """The first two sentences of the paragraph with the most sentences change places."""
    paragraphs = _paragraphs(text)
    split = [re.split(r"(?<=[.!?؟])\s+", paragraph) for paragraph in paragraphs]
    index = max(range(len(split)), key=lambda i: len(split[i]))
    sentences = split[index]
    assert len(sentences) > 1
    sentences[0], sentences[1] = sentences[1], sentences[0]
    paragraphs[index] = " ".join(sentences)
    return _join(paragraphs)


def paragraphs_swapped(text: str, f: Furniture) -> str:
    paragraphs = _paragraphs(text)
    middle = len(paragraphs) // 2
    paragraphs[middle], paragraphs[middle + 1] = paragraphs[middle + 1], paragraphs[middle]
    return _join(paragraphs)


def repunctuated(text: str, f: Furniture) -> str:
    """Quotes, dashes, commas and spacing as another CMS writes them."""
    for old, new in (("«", '"'), ("»", '"'), ("“", '"'), ("”", '"'), ("–", "-"), ("—", "-")):
        text = text.replace(old, new)
    text = re.sub(r",\s*", " , ", text)
    text = re.sub(r"\n+", "\n", text)
    return re.sub(r" ", "  ", text)


def republished(text: str, f: Furniture) -> str:
    """Everything an outlet does at once: new title, its boilerplate, a paragraph cut."""
    return with_boilerplate(paragraph_dropped(retitled(repunctuated(text, f), f), f), f)


def quoting_one_paragraph(text: str, f: Furniture) -> str:
    """Another outlet's own short piece that quotes one paragraph of the report: not a copy."""
    paragraphs = _paragraphs(text)
    return _join([f.title, f.header, f.paragraph, paragraphs[_longest(paragraphs)], f.footer])


def boilerplate_changed(text: str, f: Furniture) -> str:
    """Compared with ``with_boilerplate``: one outlet's furniture swapped for another's."""
    return _join([f.other_header, *_paragraphs(text), f.other_footer])


EDITS: list[Callable[[str, Furniture], str]] = [
    retitled,
    with_boilerplate,
    paragraph_dropped,
    paragraph_added,
    trimmed,
    sentences_swapped,
    paragraphs_swapped,
    repunctuated,
    republished,
]


@dataclass(frozen=True, slots=True)
class Pair:
    name: str
    first: str
    second: str
    duplicate: bool


def labelled_pairs() -> list[Pair]:
    seeds = _seeds()
    pairs: list[Pair] = []
    for key, text in seeds.items():
        f = FURNITURE[key]
        for edit in EDITS:
            pairs.append(Pair(f"{key} {edit.__name__}", text, edit(text, f), True))
        pairs.append(
            Pair(
                f"{key} boilerplate_changed",
                with_boilerplate(text, f),
                boilerplate_changed(text, f),
                True,
            )
        )
        pairs.append(Pair(f"{key} quoted", text, quoting_one_paragraph(text, f), False))
    for (a, first), (b, second) in combinations(seeds.items(), 2):
        pairs.append(Pair(f"{a} vs {b}", first, second, False))
        for edit in (republished, with_boilerplate, paragraph_added):
            pairs.append(
                Pair(f"{a} {edit.__name__} vs {b}", edit(first, FURNITURE[a]), second, False)
            )
            pairs.append(
                Pair(f"{a} vs {b} {edit.__name__}", first, edit(second, FURNITURE[b]), False)
            )
    lines = _paragraphs(seeds["001"])
    english = next(i for i, line in enumerate(lines) if line.startswith("Western media"))
    pairs.append(
        Pair("001 Arabic vs English", _join(lines[:english]), _join(lines[english:]), False)
    )
    for i, (first, second) in enumerate(SHORT_SAME_BASE):
        pairs.append(Pair(f"short same base {i}", first, second, False))
    return pairs


def _fingerprint(text: str) -> Fingerprint:
    return fingerprint(normalize_text(text))


def merged(first: Fingerprint, second: Fingerprint) -> bool:
    """What find_near_duplicate decides for one stored article: a shared band, then the score."""
    shares_a_band = bool(set(first.bands) & set(second.bands))
    return (
        shares_a_band and similarity(first.signature, second.signature) >= NEAR_DUPLICATE_THRESHOLD
    )


PAIRS = labelled_pairs()


def test_the_labelled_pairs_cover_every_kind_of_edit() -> None:
    duplicates = [p for p in PAIRS if p.duplicate]
    assert len(duplicates) == len(FURNITURE) * (len(EDITS) + 1)
    assert len(PAIRS) - len(duplicates) >= 50
    for pair in PAIRS:
        assert pair.first != pair.second, pair.name
        assert len(normalize_text(pair.first).split()) >= MIN_WORDS, pair.name


def test_no_false_merges_and_no_missed_merges_at_the_threshold() -> None:
    missed = [p.name for p in PAIRS if p.duplicate and not merged(*_pair(p))]
    false = [p.name for p in PAIRS if not p.duplicate and merged(*_pair(p))]
    assert missed == []
    assert false == []


def _pair(pair: Pair) -> tuple[Fingerprint, Fingerprint]:
    return _fingerprint(pair.first), _fingerprint(pair.second)


def test_the_threshold_sits_in_the_measured_gap() -> None:
    """The docstring's ranges: duplicates ≥ 0.65, other texts ≤ 0.2, with room on both sides,
    and the bands find pairs at the threshold almost surely."""
    scores = {p.name: similarity(*(fp.signature for fp in _pair(p))) for p in PAIRS}
    lowest_duplicate = min(scores[p.name] for p in PAIRS if p.duplicate)
    highest_other = max(scores[p.name] for p in PAIRS if not p.duplicate)
    assert lowest_duplicate >= 0.65
    assert highest_other <= 0.2
    assert highest_other + 0.25 <= NEAR_DUPLICATE_THRESHOLD <= lowest_duplicate - 0.15
    assert detection_probability(NEAR_DUPLICATE_THRESHOLD) > 0.98
    assert detection_probability(lowest_duplicate) > 0.9999


def test_identical_text_has_similarity_one_and_the_same_bands() -> None:
    text = _seeds()["000"]
    first, second = _fingerprint(text), _fingerprint(text)
    assert first == second
    assert similarity(first.signature, second.signature) == 1.0
    assert len(first.bands) == BANDS
    assert len(first.signature) == 4 * PERMUTATIONS


def test_band_keys_are_distinct_per_band_and_fit_a_bigint() -> None:
    for text in _seeds().values():
        bands = _fingerprint(text).bands
        assert len(set(bands)) == BANDS
        assert all(0 <= key < 2**63 for key in bands)
        assert [key >> 57 for key in bands] == list(range(BANDS))


def test_the_estimate_follows_the_exact_jaccard_similarity() -> None:
    """MinHash is an estimate: with 128 permutations, within ±0.1 of the exact value here."""
    for pair in PAIRS:
        first, second = (
            set(shingle_hashes(normalize_text(t)).tolist()) for t in (pair.first, pair.second)
        )
        exact = len(first & second) / len(first | second)
        estimate = similarity(*(fp.signature for fp in _pair(pair)))
        assert abs(estimate - exact) <= 0.1, pair.name


def test_fingerprints_are_deterministic_across_processes() -> None:
    """No Python ``hash()``: the value is fixed by the code, so workers agree."""
    fp = _fingerprint("US forces began withdrawing from the Qasrak base " * 5)
    assert fp.bands[0] == KNOWN_FIRST_BAND
    assert fp.signature[:8].hex() == KNOWN_SIGNATURE_START


KNOWN_FIRST_BAND = 27977974043680209
KNOWN_SIGNATURE_START = "a667e1033dbeca03"


@pytest.mark.parametrize("words", [0, 1, 2, 5, MIN_WORDS - 1])
def test_short_documents_get_no_bands(words: int) -> None:
    fp = fingerprint(" ".join(["word"] * words))
    assert fp == Fingerprint(b"", ())
    assert similarity(fp.signature, fp.signature) == 0.0


def test_a_document_of_one_repeated_shingle_still_gets_bands() -> None:
    fp = fingerprint(" ".join(["qasrak"] * MIN_WORDS))
    assert len(fp.bands) == BANDS


def test_analysis_carries_the_body_fingerprint_and_survives_pickling() -> None:
    text = _seeds()["002"]
    analysis = analyze("", text)
    assert analysis.fingerprint == _fingerprint(text)
    assert pickle.loads(pickle.dumps(analysis)) == analysis


def test_a_short_analysis_has_no_fingerprint() -> None:
    assert analyze("Qasrak", "US forces left Qasrak.").fingerprint is None


@given(st.text(st.characters(exclude_categories=()), max_size=300))
def test_only_the_sequence_of_words_counts(text: str) -> None:
    """Words are exactly the runs regex ``\\w+`` finds; spacing and punctuation between
    them do not count, in any script (and a lone surrogate does not break it)."""
    words = re.findall(r"\w+", text)
    assert shingle_hashes(text).tolist() == shingle_hashes(" ".join(words)).tolist()
    assert len(shingle_hashes(text)) == max(len(words) - 2, 0)


def test_text_with_a_lone_surrogate_gets_a_fingerprint() -> None:
    text = "\ud800 " + _seeds()["000"]
    assert fingerprint(text).bands
