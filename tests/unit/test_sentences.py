"""processor.sentences: sentence spans over a text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from processor.normalize import normalize_text
from processor.sentences import sentences


def split(text: str) -> list[str]:
    return [text[start:end] for start, end in sentences(text)]


def test_us_abbreviation_does_not_end_a_sentence() -> None:
    assert split("U.S. forces left Qasrak. They went home.") == [
        "U.S. forces left Qasrak.",
        "They went home.",
    ]


def test_us_abbreviation_at_a_real_sentence_end_still_keeps_the_sentence_whole() -> None:
    assert split("Troops of the U.S. withdrew.") == ["Troops of the U.S. withdrew."]


@pytest.mark.parametrize("title", ["Mr.", "Gen.", "Dr.", "Col.", "Lt."])
def test_titles_do_not_end_a_sentence(title: str) -> None:
    assert split(f"{title} Smith said so. Next.") == [f"{title} Smith said so.", "Next."]


def test_question_and_exclamation_marks_and_periods_split() -> None:
    assert split("Did they leave? Yes! They did.") == ["Did they leave?", "Yes!", "They did."]


def test_newlines_split_even_without_punctuation() -> None:
    assert split("line one\nline two\n\n\nline three") == ["line one", "line two", "line three"]


def test_arabic_text_splits_at_periods_and_arabic_question_marks() -> None:
    text = "انسحبت القوات الأمريكية. وصلت إلى العراق. هل انسحبوا؟ نعم."
    assert split(text) == [
        "انسحبت القوات الأمريكية.",
        "وصلت إلى العراق.",
        "هل انسحبوا؟",
        "نعم.",
    ]


def test_persian_text_splits_at_periods() -> None:
    text = "نیروهای آمریکایی خارج شدند. پایگاه تخلیه شد."
    assert split(text) == ["نیروهای آمریکایی خارج شدند.", "پایگاه تخلیه شد."]


def test_a_decimal_point_does_not_split() -> None:
    assert split("They moved 3.5 km away. Then stopped.") == [
        "They moved 3.5 km away.",
        "Then stopped.",
    ]


def test_closing_quotes_stay_with_their_sentence() -> None:
    assert split('He said "go." Then left.') == ['He said "go."', "Then left."]


def test_spans_are_trimmed_of_surrounding_space() -> None:
    text = "  padded sentence.   Next one.  \n\t"
    spans = sentences(text)
    assert [text[a:b] for a, b in spans] == ["padded sentence.", "Next one."]
    assert spans[0] == (2, 18)


@pytest.mark.parametrize("text", ["", "   ", "\n\n", " \t \n "])
def test_blank_text_has_no_sentences(text: str) -> None:
    assert sentences(text) == []


def test_text_without_final_punctuation_is_one_sentence() -> None:
    assert sentences("Hello world") == [(0, 11)]


@settings(max_examples=200, database=None, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab U.S?!؟.\n\t «»\"'"), max_size=80))
def test_spans_are_ordered_trimmed_non_empty_and_inside_the_text(text: str) -> None:
    previous_end = 0
    for start, end in sentences(text):
        assert previous_end <= start < end <= len(text)
        chunk = text[start:end]
        assert chunk == chunk.strip()
        previous_end = end
    # Nothing but whitespace is left out.
    covered = "".join(text[a:b] for a, b in sentences(text))
    assert "".join(covered.split()) == "".join(text.split())


def test_titles_do_not_end_a_sentence_in_normalized_text() -> None:
    text = normalize_text("Gen. Smith said so. Mr. Jones agreed.")
    assert split(text) == ["gen. smith said so.", "mr. jones agreed."]
