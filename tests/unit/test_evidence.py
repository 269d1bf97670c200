"""Evidence users can trust: each verdict's deciding sentences, their languages, the reason.

Through processor.analyze.analyze, as the processor reads, and the pure parts
(processor.verdicts.in_languages, processor.reasons, processor.evidence) on their own.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from ingest.documents import from_text
from processor.alerting import Report
from processor.analyze import Analysis, analyze
from processor.events import Event, merge
from processor.evidence import evidence_link, shown
from processor.reasons import MARKS, RULES, Grounds, sentence_words, verdict_words
from processor.verdicts import Quote, in_languages

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def seed(prefix: str) -> Analysis:
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    article = from_text(path.read_bytes(), f"replay:{path.name}")
    return analyze(article.title, article.text)


def only(analysis: Analysis, place: str, kind: str) -> Event:
    (event,) = [e for e in analysis.events if e.place == place and e.kind == kind]
    return event


def test_the_bilingual_seeds_arabic_sentence_is_arabic_in_an_english_article() -> None:
    analysis = seed("001")  # Arabic, then its English translation: more English letters
    assert analysis.language == "en"
    event = only(analysis, "qasrak", "withdrawal")
    assert event.language == "ar"
    assert analysis.text[event.start : event.end] == event.evidence
    main = event.sentences[0]
    assert (main.text, main.start, main.end, main.language) == (
        event.evidence,
        event.start,
        event.end,
        "ar",
    )
    english = [q for q in event.sentences if q.language == "en"]
    assert english, "the English sentence on Qasrak decided too"
    assert all("Qasrk" in q.text for q in english)
    for quote in event.sentences:
        assert analysis.text[quote.start : quote.end] == quote.text


def test_an_english_sentence_that_decides_is_english_in_an_arabic_article() -> None:
    arabic = next(SEEDS.glob("001_*.txt")).read_text("utf-8").splitlines()
    # The Arabic background paragraphs (no base named), then one English report.
    text = "\n".join(
        [
            arabic[4],
            arabic[4],
            "US forces withdrew from the Qasrak base in northeastern Syria on Monday.",
        ]
    )
    analysis = analyze("", text)
    assert analysis.language == "ar"
    event = only(analysis, "qasrak", "withdrawal")
    assert event.evidence.startswith("US forces withdrew")
    assert event.language == "en"
    assert [q.language for q in event.sentences] == ["en"]


def test_the_reason_names_the_cue_and_actor_as_written_and_the_lead() -> None:
    analysis = analyze("", "US forces withdrew from the Qasrak base in Hasakah on Sunday.")
    event = only(analysis, "qasrak", "withdrawal")
    assert event.reason.startswith("withdrawal cue \u201cwithdrew\u201d (")
    assert "actor \u201cUS\u201d" in event.reason
    assert "headline or lead" in event.reason
    assert event.sentences[0].reason == event.reason


def test_a_cue_is_quoted_as_written_not_as_normalized() -> None:
    analysis = analyze("", "انسحبت القوات الأمريكية من قاعدة قسرك")
    event = only(analysis, "qasrak", "withdrawal")
    assert "\u201cانسحبت\u201d" in event.reason
    assert event.language == "ar"


def test_a_denial_is_told_by_the_denying_sentence_with_the_claim_beside_it() -> None:
    text = (
        "The Pentagon denied reports of a US withdrawal from Ain al-Asad. Iranian media had "
        "claimed that US forces withdrew from Ain al-Asad air base on Monday."
    )
    event = only(analyze("", text), "ain-al-asad", "denial")
    assert event.evidence.startswith("The Pentagon denied")
    denial, claim = event.sentences
    assert denial.text == event.evidence
    assert "(denied)" in denial.reason
    assert claim.text.startswith("Iranian media")
    assert MARKS["claim"] in claim.reason
    assert RULES["answered"] in event.reason
    assert "2 sentences say so" in event.reason


def test_a_plan_says_it_is_planned() -> None:
    event = only(
        analyze("", "US forces will withdraw from Ain al-Asad next month."),
        "ain-al-asad",
        "withdrawal_planned",
    )
    assert MARKS["planned"] in event.reason


def test_a_sentence_in_a_paragraph_of_no_language_takes_the_articles() -> None:
    event = Event("qasrak", "withdrawal", 0.9, "12 34", 0, 5, "why")
    (placed,) = in_languages([event], [(0, 5, None), (6, 20, "en")], "ar")
    assert placed.language == "ar"
    assert placed.sentences == (Quote("12 34", 0, 5, "ar", "why"),)
    (later,) = in_languages([Event("qasrak", "attack", 0.5, "x", 7, 8)], [(0, 5, "fr")], "de")
    assert later.language == "de"  # beyond every paragraph


def test_merge_keeps_the_other_sentences_after_the_strongest() -> None:
    weak = Event("hemo", "attack", 0.5, "weak", 0, 4, sentences=(Quote("weak", 0, 4),))
    strong = Event("hemo", "attack", 0.7, "strong", 10, 16, sentences=(Quote("strong", 10, 16),))
    (merged,) = merge([weak, strong, weak])
    assert [q.text for q in merged.sentences] == ["strong", "weak"]


def test_reasons_are_worded_from_rule_names() -> None:
    grounds = Grounds("withdrawal", "withdrew", ("claim", "past"), "US forces")
    worded = sentence_words(grounds, lead=True)
    assert worded == (
        "withdrawal cue \u201cwithdrew\u201d (past tense, attributed to a source), "
        "actor \u201cUS forces\u201d; headline or lead"
    )
    plain = sentence_words(Grounds("attack", "struck"), lead=False)
    assert plain == "attack cue \u201cstruck\u201d"
    assert verdict_words("w", ("answered",), 1) == f"w; {RULES['answered']}"
    assert grounds.marked("anaphor").marks == ("claim", "past", "anaphor")
    assert grounds.marked("past") is grounds


def test_alert_evidence_keeps_the_article_language_apart_from_the_sentences() -> None:
    analysis = seed("001")
    event = only(analysis, "qasrak", "withdrawal")
    report = Report(uuid.uuid4(), "Outlet", analysis.language, datetime.now(UTC), "u", "t")
    link = evidence_link(uuid.uuid4(), "reported", True, event, report, datetime.now(UTC))
    assert (link["language"], link["evidence_language"]) == ("en", "ar")
    said = shown(link)
    assert (said["language"], said["article_language"]) == ("ar", "en")
    assert said["reason"] == event.reason
    assert [s["language"] for s in said["sentences"]] == [q.language for q in event.sentences]
    # Evidence stored before sentences had languages: the article's, one sentence, no offsets.
    old = {**link, "evidence_language": None, "reason": "", "sentences": []}
    (sentence,) = shown(old)["sentences"]
    assert shown(old)["language"] == "en"
    assert sentence == {
        "text": event.evidence,
        "start": None,
        "end": None,
        "language": "en",
        "reason": "",
    }


def test_a_quote_row_holds_every_field() -> None:
    quote = Quote("US forces left.", 3, 18, "en", "withdrawal cue “left”")
    assert quote.row() == asdict(quote)
