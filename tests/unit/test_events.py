"""processor.events through processor.analyze.analyze: what a text says happens where."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.documents import from_text
from processor.analyze import Analysis, analyze
from processor.events import EVENT_KINDS, WITHDRAWAL_KINDS, Event, merge

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
ALERTING_WITHDRAWALS = {"withdrawal", "withdrawal_planned"}


def kinds(analysis: Analysis, place: str) -> set[str]:
    return {e.kind for e in analysis.events if e.place == place}


def read(text: str) -> Analysis:
    return analyze("", text)


def seed(prefix: str) -> Analysis:
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    article = from_text(path.read_bytes(), f"replay:{path.name}")
    return analyze(article.title, article.text)


# ---------------------------------------------------------------- kinds


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("US forces withdrew from the Qasrak base in northeastern Syria.", "qasrak"),
        ("U.S. troops pulled out of Ain al-Asad on Thursday.", "ain-al-asad"),
        ("American troops evacuated Ain al-Asad.", "ain-al-asad"),
        ("انسحبت القوات الأمريكية من قاعدة قسرك", "qasrak"),
        ("Американские войска покинули базу Касрак.", "qasrak"),
        ("Американські війська покинули базу Касрак.", "qasrak"),
        ("نیروهای آمریکایی پایگاه عین‌الاسد را ترک کردند", "ain-al-asad"),
    ],
)
def test_us_withdrawal_from_a_named_base_is_a_withdrawal(text: str, place: str) -> None:
    assert kinds(read(text), place) == {"withdrawal"}


@pytest.mark.parametrize(
    "text",
    [
        "The United States will withdraw its troops from Ain al-Asad next month.",
        "US forces are expected to withdraw from Ain al-Asad next month.",
        "US forces will leave Ain al-Asad by September.",
        "ستنسحب القوات الأمريكية من قاعدة عين الأسد الشهر المقبل",
    ],
)
def test_announced_future_withdrawal_is_planned(text: str) -> None:
    assert kinds(read(text), "ain-al-asad") == {"withdrawal_planned"}


@pytest.mark.parametrize(
    "text",
    [
        "US forces soon completed the withdrawal from Ain al-Asad.",
        "Bald begann der Abzug der US-Truppen aus Ain al-Asad.",
        "Протягом тижня завершився вивід американських військ з бази Айн-аль-Асад.",
        "Les forces américaines ont bientôt achevé leur retrait d'Ain al-Asad.",
    ],
)
def test_a_time_frame_does_not_make_a_done_withdrawal_a_plan(text: str) -> None:
    assert kinds(read(text), "ain-al-asad") == {"withdrawal"}


@pytest.mark.parametrize(
    "text",
    [
        "The Pentagon said US forces will not withdraw from Ain al-Asad.",
        "US forces have no plans to withdraw from Ain al-Asad.",
        "Washington denies withdrawing from Ain al-Asad.",
        "نفى البنتاغون انسحاب القوات الأمريكية من قاعدة عين الأسد",
    ],
)
def test_negated_withdrawal_is_a_denial(text: str) -> None:
    assert kinds(read(text), "ain-al-asad") == {"denial"}


def test_russian_negated_withdrawal_is_a_denial() -> None:
    assert kinds(read("Американские военные не покинут базу Касрак."), "qasrak") == {"denial"}


@pytest.mark.parametrize(
    "text",
    [
        "Baghdad and Washington began negotiations on the withdrawal of US forces from Iraq.",
        "Iraq and the United States held talks on the withdrawal of coalition forces.",
        "Ирак и США ведут переговоры о выводе американских войск из Ирака.",
    ],
)
def test_talks_on_withdrawal_from_iraq_are_a_negotiation(text: str) -> None:
    assert kinds(read(text), "iraq") == {"negotiation"}


@pytest.mark.parametrize(
    "text",
    [
        "Russia withdrew its troops from Ain al-Asad.",
        "سحبت روسيا قواتها من قاعدة عين الأسد",
        "Iranian advisers withdrew from Ain al-Asad.",
    ],
)
def test_another_countrys_withdrawal_is_other(text: str) -> None:
    assert kinds(read(text), "ain-al-asad") == {"other"}


@pytest.mark.parametrize(
    "text",
    [
        "Norway withdrew its troops from Ain al-Asad.",
        "سحبت النرويج قواتها من قاعدة عين الأسد",
        "Die Bundeswehr hat ihre Soldaten aus Ain al-Asad abgezogen.",
    ],
)
def test_a_coalition_partners_withdrawal_is_a_withdrawal(text: str) -> None:
    assert kinds(read(text), "ain-al-asad") == {"withdrawal"}


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("توجهت مدرعات أمريكية إلى قاعدة هيمو لتعيد انتشارها", "hemo"),
        ("وصلت قافلة أمريكية إلى قاعدة قسرك", "qasrak"),
        ("A US convoy arrived at Qasrak.", "qasrak"),
        ("US forces redeployed to Hemo base.", "hemo"),
        ("Американская колонна прибыла на базу Касрак.", "qasrak"),
    ],
)
def test_forces_arriving_at_a_base_is_a_redeployment(text: str, place: str) -> None:
    assert kinds(read(text), place) == {"redeployment"}


def test_destination_of_a_withdrawal_is_a_redeployment_not_a_withdrawal() -> None:
    analysis = read("US forces withdrew from Qasrak to Rmelan.")
    assert kinds(analysis, "qasrak") == {"withdrawal"}
    assert kinds(analysis, "rmelan") == {"redeployment"}


@pytest.mark.parametrize(
    "text",
    [
        "US forces withdrew from Qasrak, but Rmelan will remain.",
        "US forces withdrew from the Qasrak base but will remain at Rmelan.",
        "Rmelan will remain a US base after the withdrawal from Qasrak.",
        "Американские войска покинули Касрак, но останутся в Рмелане.",
    ],
)
def test_a_base_that_will_remain_gets_no_withdrawal(text: str) -> None:
    analysis = read(text)
    assert kinds(analysis, "qasrak") == {"withdrawal"}
    assert kinds(analysis, "rmelan") == set()


def test_forces_staying_at_a_base_is_no_event() -> None:
    assert read("US forces will stay at Ain al-Asad.").events == ()
    assert read("Американские войска останутся на базе Рмелан.").events == ()


def test_drone_attack_on_a_base_is_an_attack() -> None:
    assert kinds(read("Drones attacked Ain al-Asad."), "ain-al-asad") == {"attack"}


def test_country_gets_a_withdrawal_only_when_forces_leave_from_it() -> None:
    assert kinds(read("Coalition forces withdrew from Iraq."), "iraq") == {"withdrawal"}
    in_iraq = read("US forces in Iraq withdrew from Ain al-Asad.")
    assert kinds(in_iraq, "iraq") == set()
    assert kinds(in_iraq, "ain-al-asad") == {"withdrawal"}


def test_a_place_without_any_cue_has_a_mention_but_no_event() -> None:
    analysis = read("Qasrak is a town in Hasakah.")
    assert analysis.places == ["qasrak"]
    assert analysis.events == ()


def test_a_us_actor_raises_confidence() -> None:
    (plain,) = read("Troops withdrew from Qasrak.").events
    (american,) = read("American troops withdrew from Qasrak.").events
    assert american.confidence > plain.confidence
    assert 0 < plain.confidence <= american.confidence <= 0.95


# ---------------------------------------------------------------- evidence


def test_evidence_is_the_sentence_and_offsets_slice_it_from_the_text() -> None:
    text = "Officials spoke on Monday. U.S. forces withdrew from Qasrak.\nOther news follows."
    (event,) = read(text).events
    assert event.evidence == "U.S. forces withdrew from Qasrak."
    assert text[event.start : event.end] == event.evidence


def test_evidence_offsets_point_into_the_original_not_the_normalized_text() -> None:
    text = "تقريــر.\nأَعْلَنَت المصادر انسحاب القوات الأمريكية من قاعدة قسرك."
    (event,) = read(text).events
    assert text[event.start : event.end] == event.evidence
    assert event.evidence.startswith("أَعْلَنَت")


def test_evidence_offsets_slice_the_text_when_the_title_is_its_first_line() -> None:
    text = "US forces withdraw from Qasrak\nThe convoy left on Monday."
    (event,) = analyze("US forces withdraw from Qasrak", text).events
    assert text[event.start : event.end] == event.evidence == "US forces withdraw from Qasrak"


def test_offsets_index_the_document_as_read_when_the_title_is_separate() -> None:
    text = "Sources said on Monday that US forces withdrew from the Qasrak base."
    analysis = analyze("Pullout begins", text)
    assert analysis.text == f"Pullout begins\n{text}"
    (event,) = analysis.events
    assert analysis.text[event.start : event.end] == event.evidence
    (mention,) = analysis.mentions
    assert analysis.text[mention.start : mention.end] == mention.surface


# ---------------------------------------------------------------- merge


def test_merge_keeps_one_event_per_place_and_kind_with_the_strongest_evidence() -> None:
    weak = Event("qasrak", "withdrawal", 0.6, "weak", 0, 4)
    strong = Event("qasrak", "withdrawal", 0.8, "strong", 10, 16)
    other = Event("qasrak", "attack", 0.5, "attack", 20, 26)
    merged = merge([weak, strong, other])
    by_kind = {e.kind: e for e in merged}
    assert set(by_kind) == {"withdrawal", "attack"}
    assert by_kind["withdrawal"].evidence == "strong"
    assert by_kind["withdrawal"].confidence == pytest.approx(0.82)
    assert by_kind["attack"] == other


def test_merge_caps_confidence() -> None:
    events = [Event("qasrak", "withdrawal", 0.95, "e", 0, 1)] * 10
    (merged,) = merge(events)
    assert merged.confidence == 0.99


def test_withdrawal_kinds_are_event_kinds() -> None:
    assert set(EVENT_KINDS) >= WITHDRAWAL_KINDS


# ---------------------------------------------------------------- seeds


def test_seed_000_ru_withdrawals_and_rmelan_not_left() -> None:
    analysis = seed("000")
    assert {"qasrak", "rmelan", "al-shaddadi", "al-tanf"} <= set(analysis.places)
    for place in ("qasrak", "al-shaddadi", "al-tanf"):
        assert "withdrawal" in kinds(analysis, place), place
    assert not kinds(analysis, "rmelan") & WITHDRAWAL_KINDS


def test_seed_001_ar_en_qasrak_withdrawal() -> None:
    analysis = seed("001")
    assert {"qasrak", "kharab-al-jir", "al-shaddadi", "al-tanf"} <= set(analysis.places)
    assert "withdrawal" in kinds(analysis, "qasrak")


def test_seed_002_fa_ain_al_asad_withdrawal() -> None:
    analysis = seed("002")
    assert {"ain-al-asad", "victory-base"} <= set(analysis.places)
    assert "withdrawal" in kinds(analysis, "ain-al-asad")


def test_seed_003_ar_sarrin_withdrawal_and_hemo_redeployment() -> None:
    analysis = seed("003")
    assert {"hemo", "sarrin", "qasrak", "al-tanf"} <= set(analysis.places)
    assert "withdrawal" in kinds(analysis, "sarrin")
    assert "redeployment" in kinds(analysis, "hemo")
    assert not kinds(analysis, "hemo") & WITHDRAWAL_KINDS


def test_seed_004_uk_iraq_talks_and_no_withdrawal() -> None:
    analysis = seed("004")
    assert kinds(analysis, "iraq") & {"negotiation", "denial"}
    assert not [e for e in analysis.events if e.kind in ALERTING_WITHDRAWALS]


@pytest.mark.parametrize("prefix", ["000", "001", "002", "003", "004"])
def test_seed_evidence_offsets_slice_the_seed_text(prefix: str) -> None:
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    article = from_text(path.read_bytes(), path.name)
    analysis = analyze(article.title, article.text)
    assert analysis.events
    for event in analysis.events:
        assert article.text[event.start : event.end][:600] == event.evidence
    for mention in analysis.mentions:
        assert article.text[mention.start : mention.end] == mention.surface


# ---------------------------------------------------------------- misreadings


def test_troops_have_left_a_base_is_a_withdrawal() -> None:
    assert kinds(read("US troops have left Qasrak."), "qasrak") == {"withdrawal"}


@pytest.mark.parametrize(
    "text",
    [
        "The Pentagon denied that US forces withdrew from Ain al-Asad.",
        "Iraq denied reports that US forces had withdrawn from Ain al-Asad.",
        "The Pentagon rejected reports of a withdrawal from Ain al-Asad.",
    ],
)
def test_denied_report_of_a_withdrawal_is_a_denial(text: str) -> None:
    assert kinds(read(text), "ain-al-asad") == {"denial"}


def test_withdrawal_that_will_be_completed_is_planned() -> None:
    text = "The withdrawal from Ain al-Asad will be completed by September."
    assert kinds(read(text), "ain-al-asad") == {"withdrawal_planned"}


def test_withdrawal_from_one_base_not_another_keeps_the_withdrawal() -> None:
    analysis = read("US troops withdrew from Qasrak, not from Rmelan.")
    assert kinds(analysis, "qasrak") == {"withdrawal"}


def test_joint_us_and_foreign_withdrawal_is_a_withdrawal() -> None:
    text = "US and Norwegian forces withdrew from Ain al-Asad."
    assert kinds(read(text), "ain-al-asad") == {"withdrawal"}


def test_foreign_withdrawal_quoted_by_a_general_is_other() -> None:
    text = "Russia's Gen. Smirnov said its troops withdrew from Ain al-Asad."
    assert kinds(read(text), "ain-al-asad") == {"other"}


def test_arabic_withdrawal_next_to_remain_elsewhere_keeps_the_withdrawal() -> None:
    analysis = read("انسحبت القوات الأمريكية من قاعدة قسرك لكنها ستبقى في رميلان")
    assert kinds(analysis, "qasrak") == {"withdrawal"}
    assert kinds(analysis, "rmelan") == set()


def test_keeping_troops_at_a_base_is_not_a_withdrawal_from_it() -> None:
    analysis = read("US forces pulled out of Qasrak while keeping troops at Rmelan.")
    assert kinds(analysis, "qasrak") == {"withdrawal"}
    assert not kinds(analysis, "rmelan") & WITHDRAWAL_KINDS


@pytest.mark.parametrize(
    ("title", "text"),
    [
        (
            "Saldırı",
            "Ain al-Asad üssüne roket saldırısı düzenlendi. Kimse yaralanmadı. "
            "Hatırlanacağı üzere ABD güçleri Kasrak üssünden çekildi.",
        ),
        (
            "هجوم",
            "استهدف هجوم صاروخي قاعدة عين الأسد. لم يصب أحد. "
            "يذكر أن القوات الأمريكية انسحبت من قاعدة قسرك.",
        ),
        (
            "Attaque",
            "Des roquettes ont frappé la base d'Ain al-Asad lundi. Personne n'a été blessé. "
            "Pour rappel, les forces américaines se sont retirées de la base de Qasrak.",
        ),
    ],
)
def test_a_withdrawal_recalled_in_other_news_raises_nothing(title: str, text: str) -> None:
    assert kinds(analyze(title, text), "qasrak") == set()
