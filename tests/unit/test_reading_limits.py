"""What the reader does with text it cannot or need not read whole, and references back."""

from __future__ import annotations

import pytest

from processor.analyze import MAX_READ_CHARS, analyze
from tests.conftest import SEEDS


@pytest.mark.parametrize(
    "text",
    ["", "   \n\t ", "\x00\x01\x02", "12345 678", "🙂🙂🙂", "ሰላም ለዓለም የአሜሪካ ወታደሮች"],
)
def test_text_without_a_known_script_is_undetermined_and_has_no_events(text: str) -> None:
    analysis = analyze("", text)
    assert analysis.language == "und"
    assert analysis.events == ()
    assert analysis.truncated is False


def test_a_megabyte_document_is_read_up_to_the_limit_and_says_so() -> None:
    seed = (SEEDS / "000_467fa69daf76dde6.txt").read_text("utf-8")
    huge = (seed * (1_000_000 // len(seed) + 1))[:1_000_000]
    analysis = analyze("", huge)
    assert analysis.truncated is True
    assert len(analysis.text) == MAX_READ_CHARS
    assert analysis.language == "ru"
    assert {e.place for e in analysis.events} >= {"qasrak"}


@pytest.mark.parametrize(
    ("text", "place"),
    [
        (
            "US forces were stationed at the Qasrak base for years. "
            "The base was evacuated on Tuesday.",
            "qasrak",
        ),
        (
            "Американские военные находились на базе Касрак. "
            "В понедельник базу покинули последние подразделения.",
            "qasrak",
        ),
        ("كانت القوات الأمريكية في قاعدة قسرك. وقد انسحبت منها يوم الثلاثاء.", "qasrak"),
    ],
)
def test_the_base_in_the_next_sentence_refers_back_to_the_one_named(text: str, place: str) -> None:
    events = analyze("", text).events
    assert [(e.place, e.kind) for e in events] == [(place, "withdrawal")]


def test_the_base_refers_to_the_last_one_named_past_sentences_naming_none() -> None:
    text = (
        "Syrian troops took over the al-Tanf base on Monday. "
        "They deployed along the border. "
        "CENTCOM said US forces completed their departure from the base."
    )
    events = analyze("", text).events
    assert ("al-tanf", "withdrawal") in [(e.place, e.kind) for e in events]


@pytest.mark.parametrize(
    "text",
    [
        "CENTCOM announced that it completed the withdrawal from the al-Tanf base.",
        "פיקוד המרכז הודיע כי השלים את היציאה מבסיס א-תנף.",
    ],
)
def test_an_announcing_verb_does_not_make_what_it_reports_a_plan(text: str) -> None:
    assert [(e.place, e.kind) for e in analyze("", text).events] == [("al-tanf", "withdrawal")]


def test_an_announced_withdrawal_alone_is_planned() -> None:
    text = "CENTCOM announced the withdrawal from the al-Tanf base."
    assert [(e.place, e.kind) for e in analyze("", text).events] == [
        ("al-tanf", "withdrawal_planned")
    ]


def test_the_base_does_not_refer_back_when_two_bases_were_named() -> None:
    text = "Qasrak and Rmelan hosted US troops. The base was evacuated on Tuesday."
    assert analyze("", text).events == ()


@pytest.mark.parametrize(
    ("text", "places"),
    [
        ("US forces left Harir base on Monday.", ["harir"]),
        ("پایگاههای عینالاسد و حریر", ["ain-al-asad", "harir"]),
        ("قاعدة عين الأسد وحرير", ["ain-al-asad", "harir"]),
        ("بازار حریر در اربیل شلوغ است", []),  # silk market: not the base
        # A list that repeats its preposition, after a name its own base noun qualified.
        ("The troops are at Ain al-Asad and at Harir.", ["ain-al-asad", "harir"]),
        ("تتمركز القوات في قاعدة عين الأسد وفي حرير.", ["ain-al-asad", "harir"]),
        ("Hêz li Firokexaneya Hewlêrê û li Herîrê ne.", ["erbil-air-base", "harir"]),
        ("They wear silk and in harir.", []),
        # A descriptor between the base noun and the name does not count as a word between.
        ("نیروهای آمریکایی در پایگاه نظامی الحریر مستقر هستند.", ["harir"]),
        # A base noun that is another name's head qualifies nothing else: "Kargo" sounds like
        # Kirkuk, and the base is Rmelan's.
        ("RÜMEYLAN ÜSSÜNE 3 ASKERİ KARGO UÇAĞI İNDİ", ["rmelan"]),
        # Baghdad's airport is the city's: only "the Baghdad airport base" is Victory Base.
        ("قاعدة عين الأسد ومطار بغداد", ["ain-al-asad"]),
        ("قاعدة عين الأسد وقاعدة مطار بغداد", ["ain-al-asad", "victory-base"]),
        # A base noun after the name, past a preposition, heads another phrase.
        ("Переброска техники из Эрбиля на базу у границы.", []),
        ("Переброска техники с авиабазы Эрбиль на базу у границы.", ["erbil-air-base"]),
    ],
)
def test_qualified_names_count_only_beside_a_base(text: str, places: list[str]) -> None:
    assert analyze("", text).places == places


def test_a_split_verb_is_one_cue() -> None:
    text = "Die letzten amerikanischen Berater ziehen derzeit aus Camp Victory ab."
    assert [(e.place, e.kind) for e in analyze("", text).events] == [("victory-base", "withdrawal")]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        # Past and future of one verb: the past says it happened, beside a plan word or not.
        ("نیروهای آمریکایی طبق برنامه از پایگاه التنف خارج شدند.", "withdrawal"),
        ("نیروهای آمریکایی تا پایان ماه از پایگاه التنف خارج خواهند شد.", "withdrawal_planned"),
        ("انسحبت القوات الأمريكية من قاعدة التنف وفق الخطة.", "withdrawal"),
        ("من المقرر أن تنسحب القوات الأمريكية من قاعدة التنف.", "withdrawal_planned"),
        ("לפי התוכנית הכוחות האמריקניים נסוגו מבסיס א-תנף.", "withdrawal"),
        ("הכוחות האמריקניים ייסוגו מבסיס א-תנף בחודשים הקרובים.", "withdrawal_planned"),
    ],
)
def test_past_forms_of_the_verb_mark_the_withdrawal_as_done(text: str, kind: str) -> None:
    assert [(e.place, e.kind) for e in analyze("", text).events] == [("al-tanf", kind)]
