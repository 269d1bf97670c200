"""Names found by how they sound: spellings generated mechanically from every gazetteer name.

Each test states one rule of processor/sounds.py and processor/mentions.py. The spellings
are made by rule (vowels changed, consonants doubled, articles and joiners varied,
transliterated into other scripts), never copied from an article: they show the matcher
generalises, not how accurate it is (for that, see `drawdown evaluate`).
"""

from __future__ import annotations

import re

import pytest

from processor.gazetteer import gazetteer
from processor.mentions import find_places
from processor.normalize import normalize
from processor.sounds import sounds

# Latin → Cyrillic, Arabic and Hebrew letters, as outlets transliterate a Latin name.
CYRILLIC = {
    "sh": "ш",
    "kh": "х",
    "ch": "ч",
    "a": "а",
    "b": "б",
    "d": "д",
    "e": "е",
    "f": "ф",
    "g": "г",
    "h": "х",
    "i": "и",
    "j": "дж",
    "k": "к",
    "l": "л",
    "m": "м",
    "n": "н",
    "o": "о",
    "p": "п",
    "q": "к",
    "r": "р",
    "s": "с",
    "t": "т",
    "u": "у",
    "v": "в",
    "w": "у",
    "y": "й",
    "z": "з",
}
ARABIC = {
    "sh": "ش",
    "kh": "خ",
    "a": "ا",
    "b": "ب",
    "d": "د",
    "e": "ي",
    "f": "ف",
    "g": "غ",
    "h": "ه",
    "i": "ي",
    "j": "ج",
    "k": "ك",
    "l": "ل",
    "m": "م",
    "n": "ن",
    "o": "و",
    "q": "ق",
    "r": "ر",
    "s": "س",
    "t": "ت",
    "u": "و",
    "w": "و",
    "y": "ي",
    "z": "ز",
}
HEBREW = {
    "sh": "ש", "kh": "ח", "a": "א", "b": "ב", "d": "ד", "e": "", "f": "פ", "g": "ג",
    "h": "ה", "i": "י", "j": "ג'", "k": "ק", "l": "ל", "m": "מ", "n": "נ", "o": "ו",
    "q": "ק", "r": "ר", "s": "ס", "t": "ת", "u": "ו", "w": "ו", "y": "י", "z": "ז",
}  # fmt: skip
FRAMES = {
    "latin": "Officials said the {} base was quiet.",
    "cyrillic": "Военные сообщили, что база {} пуста.",
    "arabic": "قالت المصادر إن قاعدة {} خالية",
    "hebrew": "דווח כי הבסיס {} ריק",
}


def _transliterate(name: str, table: dict[str, str]) -> str:
    """Letter by letter (digraphs first); Arabic and Hebrew leave inner short vowels out."""
    words = []
    for word in name.lower().split():
        out, i = [], 0
        while i < len(word):
            if word[i : i + 2] in table:
                out.append(table[word[i : i + 2]])
                i += 2
                continue
            letter = word[i]
            unwritten = table is not CYRILLIC and letter in "aeiou" and i > 0
            out.append("" if unwritten else table.get(letter, letter))
            i += 1
        words.append("".join(out))
    return " ".join(words)


def _english_names() -> list[tuple[str, str]]:
    """(place, name) for every English name of a base: one or two words, no digits."""
    found = []
    for place in gazetteer().places:
        if place.is_country:
            continue
        for language, names in place.names:
            for name in names:
                if language == "en" and re.fullmatch(r"[A-Za-z' -]+", name) and len(name) > 4:
                    found.append((place.id, name))
    return found


def _sounds_findable(place_id: str, name: str) -> bool:
    """A name heard with four consonants or more, not an ordinary word: found by sound alone
    beside a base noun."""
    heard = gazetteer().heard(name)
    return (
        any(
            len(key) >= 4 and not n.qualified and n.place == place_id
            for key in heard.keys
            for n in gazetteer().sounds.get(key, ())
        )
        and not heard.shortened
    )


def _found(text: str) -> list[str]:
    return [m.place for m in find_places(normalize(text), text, gazetteer())]


# Translated names (Tower Twenty-Two) and initials (Q-West) are not transliterated by outlets.
CASES = [
    (p, n)
    for p, n in _english_names()
    if _sounds_findable(p, n) and p != "tower-22" and not re.match(r"\w\b", n)
]


def test_every_base_with_a_long_enough_name_has_generated_cases() -> None:
    # Names of one to three consonants (Tanf, Hemo, Taji …) are found by listed spellings only.
    assert len({place for place, _ in CASES}) >= 9


@pytest.mark.parametrize(("place_id", "name"), CASES)
def test_vowels_doubled_letters_and_joiners_do_not_change_a_name(place_id: str, name: str) -> None:
    variants = {
        name.replace("a", "e"),
        name.replace("i", "ee"),
        re.sub(r"([rlmnst])", r"\1\1", name, count=1),
        name.replace("-", " "),
        name.replace(" ", "-"),
        re.sub(r"^(?:al|Al|el|El|at|At)[- ]", "el-", name),
    }
    for variant in variants:
        text = FRAMES["latin"].format(variant)
        assert place_id in _found(text), variant


@pytest.mark.parametrize(("place_id", "name"), CASES)
@pytest.mark.parametrize(("script", "table"), [("cyrillic", CYRILLIC), ("arabic", ARABIC)])
def test_a_name_transliterated_into_another_script_is_found(
    place_id: str, name: str, script: str, table: dict[str, str]
) -> None:
    written = _transliterate(name, table)
    if script == "cyrillic":
        written = written[:1].upper() + written[1:]
    text = FRAMES[script].format(written)
    assert place_id in _found(text), written


@pytest.mark.parametrize(
    ("text", "place_id"),
    [
        ("Khirb al-Jeer airbase", "kharab-al-jir"),
        ("авиабаза Хараб эль-Джейр", "kharab-al-jir"),
        ("בסיס א-תנף", "al-tanf"),
        ("Ayn’ül Esad Hava Üssü", "ain-al-asad"),
        ("قاعدة خراب الجبير", "kharab-al-jir"),  # one letter more than any listed spelling
        ("Kesrek üssü", "qasrak"),
    ],
)
def test_unlisted_spellings_are_found_by_sound(text: str, place_id: str) -> None:
    assert place_id in _found(text)


@pytest.mark.parametrize(
    "text",
    [
        "Victory was declared in the capital.",
        "Omar said the talks would go on.",
        "Harir silk is sold in the market.",
        "Shares of Conoco rose on Monday.",
        "The tower was 22 metres high.",
        "وقال عمر إن الحرير غال في البلد",
        "Said Ahmed and Assad met in Damascus.",
        "Shaddad said the talks had failed.",
        "مرت السنوات الشداد على أهل القرية",
    ],
)
def test_names_that_are_ordinary_words_need_a_base_noun(text: str) -> None:
    assert _found(text) == []


@pytest.mark.parametrize(
    ("text", "place_id"),
    [
        ("the Harir air base", "harir"),
        ("قاعدة حرير", "harir"),
        ("the Conoco gas field", "conoco"),
        ("giacimento petrolifero di Omar", "al-omar"),
        ("به سمت پایگاه «الشداد» حرکت کنند", "al-shaddadi"),
        ("a última tropa deixou a Base Aérea de Al-Asad", "ain-al-asad"),
        ("Войска покинули авиабазу Аль-Асад.", "ain-al-asad"),
    ],
)
def test_ordinary_word_names_count_beside_a_base_noun(text: str, place_id: str) -> None:
    assert place_id in _found(text)


@pytest.mark.parametrize(
    "text",
    [
        "Rockets fell near Baghdad airport.",
        "وصل الوفد إلى مطار بغداد الدولي",
        "Der Flughafen Bagdad wurde geschlossen.",
        "Самолёт сел в аэропорту Багдада.",
    ],
)
def test_a_city_beside_a_base_is_not_the_base_by_sound(text: str) -> None:
    assert "victory-base" not in _found(text)


@pytest.mark.parametrize(
    "text", ["Rockets hit the Baghdad airport base.", "سقط صاروخ على قاعدة مطار بغداد"]
)
def test_a_base_named_after_its_city_counts_as_written(text: str) -> None:
    assert "victory-base" in _found(text)


@pytest.mark.parametrize(
    "text",
    [
        "Russian jets flew from the base that Bashar al-Asad's army held.",
        "Bashar al-Asad visited the air base.",
        "زار بشار الأسد القاعدة الجوية",
        "Президент Башар Асад посетил авиабазу.",
    ],
)
def test_a_given_name_and_the_name_after_it_are_a_person(text: str) -> None:
    assert {"bashur", "ain-al-asad"}.isdisjoint(_found(text))


def test_evidence_offsets_point_into_the_original_text() -> None:
    text = "Военные сообщили, что авиабаза Хараб эль-Джейр пуста."
    (mention,) = [m for m in find_places(normalize(text), text, gazetteer())]
    assert text[mention.start : mention.end] == mention.surface
    assert mention.surface.startswith("Хараб")


def test_a_sound_key_is_the_same_across_scripts() -> None:
    keys = {sounds().key(normalize(w).text) for w in ("Qasrak", "قسرك", "Касрак", "Kesrek")}
    assert keys == {"ksrk"}
