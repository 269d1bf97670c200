"""The gazetteer: places Drawdown watches, loaded from ``data/gazetteer.yaml``.

Every name variant in every language is indexed by the stem of its first word
(and, for names of several words, by the words run together, as Persian writes
عینالاسد once its joiner is gone), so finding places is a lookup per word.
Adding a base or a spelling is a data change.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from processor.data import read
from processor.morphology import CACHE_LIMIT, morphology, script_of
from processor.normalize import normalize_text
from processor.sounds import ARTICLE, deletions, sounds
from services.errors import ConfigError

PLACE_KINDS = frozenset({"base", "airfield", "oil_field", "gas_field", "city", "country"})
_WORD = re.compile(r"\w+")
# Keys this long or longer are also matched one edit away ("خراب الجبیر" for Kharab al-Jir).
FUZZY_FROM = 5


@dataclass(frozen=True, slots=True)
class Place:
    id: str
    kind: str
    country: str
    lat: float
    lon: float
    names: tuple[tuple[str, tuple[str, ...]], ...]

    @property
    def is_country(self) -> bool:
        return self.kind == "country"


@dataclass(frozen=True, slots=True)
class Name:
    """One written form of a place: the stems of its words, in order."""

    place: str
    stems: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SoundName:
    """A name by its sound: the skeleton of its words run together (articles skipped)."""

    place: str
    key: str
    # An ordinary word too, or a name heard without its base noun ("Erbil" of Erbil air base):
    # counts only beside a base noun or in a list.
    qualified: bool
    words: int  # how many words it is written in (a near spelling must have as many)


@dataclass(frozen=True, slots=True)
class BaseNouns:
    """Words for a base, airfield, camp or field, in every language: whole words, stems that
    take any ending ("баз*") and heads of compounds ("*stützpunkt")."""

    whole: frozenset[str]
    stems: tuple[str, ...]
    heads: tuple[str, ...]
    _words: dict[str, bool] = field(default_factory=dict, compare=False)

    def match(self, word: str) -> bool:
        return (
            word in self.whole
            or word.startswith(self.stems)
            or (len(word) > 6 and word.endswith(self.heads))
        )

    def inflected(self, word: str) -> bool:
        """Whether a text word is one of them with its clitics and endings (cached)."""
        found = self._words.get(word)
        if found is None:
            if len(self._words) > CACHE_LIMIT:
                self._words.clear()
            forms = morphology().stems(word) | {word}
            found = self._words[word] = any(self.match(f) for f in forms)
        return found


@dataclass(frozen=True, slots=True)
class Gazetteer:
    places: tuple[Place, ...]
    index: dict[str, tuple[Name, ...]]
    # Names that are ordinary words too: they count only beside a base noun or in a
    # list of bases (see find_places).
    qualified: dict[str, tuple[Name, ...]]
    base_nouns: BaseNouns
    conjunctions: frozenset[str]
    # Names by sound (bases only, not countries), and for long keys every key one letter
    # shorter, so a spelling one edit away is found by a lookup.
    sounds: dict[str, tuple[SoundName, ...]] = field(default_factory=dict)
    near_sounds: dict[str, tuple[str, ...]] = field(default_factory=dict)
    list_prepositions: frozenset[str] = frozenset()  # "in Erbil and in Harir"
    # Every beginning of a name's key: a span of text grows while it sounds like one.
    sound_prefixes: frozenset[str] = frozenset()
    # How names' first words sound: a span of text starts only on such a word, or one word
    # before a word that sounds like the second word of a name whose first has one consonant.
    sound_starts: frozenset[str] = frozenset()
    sound_seconds: frozenset[str] = frozenset()
    # Base nouns and descriptors: the words left out of how a name sounds.
    unsounded: BaseNouns | None = None
    # Given names of persons that bases' names sound like or follow ("Bashar al-Assad"):
    # never a name heard by sound, and a name right after one is a family name.
    given_names: frozenset[str] = frozenset()
    _by_id: dict[str, Place] = field(default_factory=dict, compare=False)
    _starting: dict[str, tuple[tuple[Name, bool], ...]] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        self._by_id.update((place.id, place) for place in self.places)

    def starting(self, word: str) -> tuple[tuple[Name, bool], ...]:
        """The names a text word may be the first word of, each with whether it is a
        qualified one (an ordinary word too), over every stem of the word (cached)."""
        found = self._starting.get(word)
        if found is None:
            if len(self._starting) > CACHE_LIMIT:
                self._starting.clear()
            found = self._starting[word] = tuple(
                (name, index is self.qualified)
                for stem in morphology().stems(word)
                for index in (self.index, self.qualified)
                for name in index.get(stem, ())
            )
        return found

    def given_name(self, word: str) -> bool:
        """Whether a text word is a person's given name (in any of its forms)."""
        return bool(self.given_names) and not self.given_names.isdisjoint(morphology().stems(word))

    def heard(self, written: str) -> Heard:
        """How a written name sounds, as the gazetteer hears its own names."""
        return name_keys(written, self.unsounded or self.base_nouns)

    def get(self, place_id: str) -> Place:
        return self._by_id[place_id]


def _place(entry: dict[str, Any]) -> Place:
    try:
        names = tuple((lang, tuple(str(n) for n in ns)) for lang, ns in entry["names"].items())
        place = Place(
            id=str(entry["id"]),
            kind=str(entry["kind"]),
            country=str(entry["country"]),
            lat=float(entry["lat"]),
            lon=float(entry["lon"]),
            names=names,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ConfigError(f"gazetteer entry {entry.get('id', '?')}: {exc!r}") from exc
    if place.kind not in PLACE_KINDS:
        raise ConfigError(f"gazetteer entry {place.id}: unknown kind {place.kind}")
    return place


def names_of(place: Place) -> list[Name]:
    """Every indexable form of a place's names."""
    morph = morphology()
    found = []
    for _, variants in place.names:
        for variant in variants:
            words = _WORD.findall(normalize_text(variant))
            if not words:
                continue
            found.append(Name(place.id, tuple(morph.name_stem(w) for w in words)))
            if len(words) > 1:
                found.append(Name(place.id, (morph.name_stem("".join(words)),)))
    return found


def _index(names: list[Name]) -> dict[str, tuple[Name, ...]]:
    index: dict[str, list[Name]] = {}
    for name in dict.fromkeys(names):
        index.setdefault(name.stems[0], []).append(name)
    return {key: tuple(found) for key, found in index.items()}


def _words(written: Sequence[str]) -> frozenset[str]:
    return frozenset(w for text in written for w in _WORD.findall(normalize_text(str(text))))


def _base_nouns(written: Sequence[str]) -> BaseNouns:
    whole, stems, heads = set(), set(), set()
    for entry in written:
        word = normalize_text(entry.strip("*"))
        if entry.startswith("*"):
            heads.add(word)
        elif entry.endswith("*"):
            stems.add(word)
        else:
            whole.update(_WORD.findall(word))
    return BaseNouns(frozenset(whole), tuple(sorted(stems)), tuple(sorted(heads)))


def _merged(*lists: dict[str, Sequence[str]] | Sequence[str]) -> list[str]:
    return [
        str(w)
        for written in lists
        for w in (
            [w for ws in written.values() for w in ws] if isinstance(written, dict) else written
        )
    ]


@dataclass(frozen=True, slots=True)
class Heard:
    """How one written name sounds (see ``name_keys``)."""

    keys: frozenset[str]  # its words' skeletons run together
    first: frozenset[str]  # the skeleton of its first word
    second: frozenset[str]  # … and of its second
    words: int
    shortened: bool  # base nouns or descriptors were left out


def name_keys(written: str, skipped: BaseNouns) -> Heard:
    """How one written name sounds: articles, base nouns and descriptors are skipped
    ("Kayyara Hava Üssü" sounds as Kayyara); an Arabic-script word is keyed without its
    article ال. Names with digits are not matched by sound (no keys)."""
    sound, morph = sounds(), morphology()
    sorani = sound.is_sorani(written)
    keys: set[str] = {""}
    first: set[str] = set()
    second: set[str] = set()
    counted, shortened = 0, False
    for word in _WORD.findall(normalize_text(written)):
        if skipped.match(word) or any(skipped.match(s) for s in morph.stems(word)):
            shortened = True
            continue
        if any(c.isdigit() for c in word):
            return Heard(frozenset(), frozenset(), frozenset(), 0, False)
        form = morph.name_stem(word) if script_of(word) == "arabic" else word
        options = {sound.key(form, sorani)} - {ARTICLE, ""}
        if options:
            counted += 1
            if counted == 2:
                second = options
            first = first or options
            keys = {k + o for k in keys for o in options}
    return Heard(frozenset(keys - {""}), frozenset(first), frozenset(second), counted, shortened)


def _sound_index(
    places: Sequence[Place],
    entries: Sequence[dict[str, Any]],
    skipped: BaseNouns,
    cities: Sequence[str] = (),
) -> tuple[
    dict[str, tuple[SoundName, ...]], dict[str, tuple[str, ...]], frozenset[str], frozenset[str]
]:
    found: dict[str, list[SoundName]] = {}
    starts: set[str] = set()
    seconds: set[str] = set()
    city_keys = {key for city in cities for key in name_keys(city, skipped).keys}
    for place, entry in zip(places, entries, strict=True):
        if place.is_country:
            continue
        written = [(v, False) for _, variants in place.names for v in variants]
        written += [(str(v), True) for v in entry.get("qualified", ())]
        for text, qualified in written:
            heard = name_keys(text, skipped)
            if heard.shortened and heard.keys <= city_keys:
                continue  # "Baghdad airport base" sounds as the city alone
            if any(len(k) == 1 for k in heard.first):
                # "Ain al-Asad", "עין אל-אסד": a one-consonant first word is everywhere
                # ("in", "на", "به"); such a name is looked for from its second word.
                seconds.update(heard.second)
            else:
                starts.update(heard.first)
            for key in heard.keys:
                name = SoundName(place.id, key, qualified or heard.shortened, heard.words)
                if name not in found.setdefault(key, []):
                    found[key].append(name)
    near: dict[str, set[str]] = {}
    for key in found:
        if len(key) >= FUZZY_FROM:
            for shorter in deletions(key) | {key}:
                near.setdefault(shorter, set()).add(key)
    return (
        {k: tuple(v) for k, v in found.items()},
        {k: tuple(sorted(v)) for k, v in near.items()},
        frozenset(starts),
        frozenset(seconds),
    )


def build(
    entries: list[dict[str, Any]],
    base_nouns: dict[str, Sequence[str]] | Sequence[str] = (),
    conjunctions: Sequence[str] = (),
    descriptors: dict[str, Sequence[str]] | Sequence[str] = (),
    list_prepositions: dict[str, Sequence[str]] | Sequence[str] = (),
    cities: dict[str, Sequence[str]] | Sequence[str] = (),
    given_names: dict[str, Sequence[str]] | Sequence[str] = (),
) -> Gazetteer:
    places = tuple(_place(e) for e in entries)
    qualified = [
        Place(p.id, p.kind, p.country, p.lat, p.lon, (("any", tuple(e.get("qualified", ()))),))
        for p, e in zip(places, entries, strict=True)
    ]
    nouns = _base_nouns(_merged(base_nouns))
    skipped = _base_nouns(_merged(base_nouns, descriptors))
    sound_index, near_sounds, sound_starts, sound_seconds = _sound_index(
        places, entries, skipped, _merged(cities)
    )
    return Gazetteer(
        places=places,
        index=_index([n for place in places for n in names_of(place)]),
        qualified=_index([n for place in qualified for n in names_of(place)]),
        base_nouns=nouns,
        conjunctions=_words(conjunctions),
        list_prepositions=frozenset(normalize_text(w) for w in _merged(list_prepositions)),
        sounds=sound_index,
        near_sounds=near_sounds,
        sound_prefixes=frozenset(key[:i] for key in sound_index for i in range(1, len(key) + 1)),
        sound_starts=sound_starts,
        sound_seconds=sound_seconds,
        unsounded=skipped,
        given_names=_words(_merged(given_names)),
    )


@cache
def gazetteer() -> Gazetteer:
    data: dict[str, Any] = read("gazetteer.yaml")
    return build(
        data["places"],
        data.get("base_nouns", []),
        data.get("conjunctions", []),
        data.get("descriptors", []),
        data.get("list_prepositions", []),
        data.get("cities", []),
        data.get("given_names", []),
    )
