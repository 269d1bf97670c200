"""processor.gazetteer (data/gazetteer.yaml) with processor.mentions.find_places."""

from __future__ import annotations

import pytest

from processor.gazetteer import PLACE_KINDS, gazetteer
from processor.mentions import Mention, find_places
from processor.morphology import script_of
from processor.normalize import normalize

REQUIRED_PLACES = (
    "qasrak",
    "rmelan",
    "kharab-al-jir",
    "al-shaddadi",
    "al-tanf",
    "hemo",
    "sarrin",
    "tal-baydar",
    "lafarge",
    "al-omar",
    "conoco",
    "green-village",
    "tishreen",
    "ain-al-asad",
    "victory-base",
    "erbil-air-base",
    "harir",
    "k1",
    "balad",
    "taji",
    "qayyarah-west",
    "bashur",
    "tower-22",
    "syria",
    "iraq",
    "jordan",
)
# Every language Drawdown reads news in (Kurdish in both its written dialects).
REQUIRED_LANGUAGES = (
    *("en", "ar", "fa", "ru", "uk", "ckb", "kmr", "tr"),
    *("fr", "de", "he", "bg", "es", "it", "pt"),
)

# A neutral sentence per script, with no other place name in it.
FRAMES = {
    "arabic": "قالت المصادر إن {} اليوم",
    "cyrillic": "Сообщается, что {} сегодня",
    "latin": "Reports mention {} today.",
    "hebrew": "דווח כי {} היום",
}


# Base forms that the matcher does not find. Cause: morphology.yaml strips a final
# "о" or "ь" from the last Cyrillic word (cyrillic.strip_final) but no entry of
# cyrillic.name_suffixes puts it back, so the dictionary form itself never matches.
def mentions(text: str) -> list[Mention]:
    return find_places(normalize(text), text, gazetteer())


def place_ids(text: str) -> list[str]:
    return [m.place for m in mentions(text)]


def _variants() -> list[object]:
    params: list[object] = []
    for place in gazetteer().places:
        for language, names in place.names:
            for name in dict.fromkeys(names):
                params.append(pytest.param(place.id, name, id=f"{place.id}-{language}-{name}"))
    return params


def test_every_required_place_exists() -> None:
    known = {place.id for place in gazetteer().places}
    assert set(REQUIRED_PLACES) <= known


@pytest.mark.parametrize("place_id", REQUIRED_PLACES)
def test_every_required_place_has_names_in_every_language_read(place_id: str) -> None:
    names = dict(gazetteer().get(place_id).names)
    for language in REQUIRED_LANGUAGES:
        assert names.get(language), f"{place_id} has no {language} name"


def test_place_ids_are_unique_and_kinds_known() -> None:
    places = gazetteer().places
    assert len({p.id for p in places}) == len(places)
    assert {p.kind for p in places} <= PLACE_KINDS


def test_countries_are_countries() -> None:
    for place_id in ("syria", "iraq", "jordan"):
        assert gazetteer().get(place_id).is_country
    assert not gazetteer().get("qasrak").is_country


def test_unknown_place_id_raises_key_error() -> None:
    with pytest.raises(KeyError):
        gazetteer().get("atlantis")


@pytest.mark.parametrize(("place_id", "name"), _variants())
def test_every_name_variant_is_found_in_a_neutral_sentence(place_id: str, name: str) -> None:
    text = FRAMES[script_of(name)].format(name)
    found = mentions(text)
    written = name.rstrip("'׳")  # a Hebrew geresh ends the word, not the name ("לפארג'")
    assert [(m.place, m.surface) for m in found] == [(place_id, written)]
    (mention,) = found
    assert text[mention.start : mention.end] == written


@pytest.mark.parametrize(
    ("text", "place_id"),
    [
        ("Касраке", "qasrak"),
        ("в Касраке", "qasrak"),
        ("Сирии", "syria"),
        ("из Сирии", "syria"),
        ("Іраку", "iraq"),
        ("з Іраку", "iraq"),
        ("بقاعدة قسرك", "qasrak"),
        ("وقسرك", "qasrak"),
        ("للتنف", "al-tanf"),
        ("عینالاسد", "ain-al-asad"),
        ("عین\u200cالاسد", "ain-al-asad"),
        ("عين الأسد", "ain-al-asad"),
        ("Ayn al-Asad", "ain-al-asad"),
        ("Qasrak's", "qasrak"),
        ("QASRAK", "qasrak"),
        ("Tower22", "tower-22"),
    ],
)
def test_inflected_and_variant_forms_are_found(text: str, place_id: str) -> None:
    assert place_ids(text) == [place_id]


@pytest.mark.parametrize("text", ["Qasrakistan", "Tanfy", "Tower 222", "K-10", "Victory", "Erbil"])
def test_longer_words_and_deliberately_unlisted_names_are_not_places(text: str) -> None:
    assert place_ids(text) == []


def test_the_longest_name_wins_where_names_overlap() -> None:
    (mention,) = mentions("The Qasrak air base was busy.")
    assert (mention.place, mention.surface) == ("qasrak", "Qasrak air base")


def test_mentions_come_in_text_order_with_original_offsets() -> None:
    text = "Из Касрака колонна ушла к базе Рмелан, затем в Ирак."
    found = mentions(text)
    assert [m.place for m in found] == ["qasrak", "rmelan", "iraq"]
    assert [text[m.start : m.end] for m in found] == ["Касрака", "Рмелан", "Ирак"]
    assert all(m.surface == text[m.start : m.end] for m in found)
