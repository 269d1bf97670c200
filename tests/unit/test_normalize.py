"""processor.normalize: matching form of a text, with a map back to the original."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from processor.normalize import fold_char, normalize, normalize_text

# Characters the normalizer treats specially, mixed into otherwise arbitrary text.
_SPECIAL = (
    "أإآٱءؤئىیيکكةۀەـًٌٍَُِّْ\u200c\u200d\u200b\u200e\u200f\u00ad\ufeff"
    "۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩ёЁіїєґßİÅﬁ’‘ʼʻ‐‑–—عينالاسدقسركКасрак"
)
texts = st.text(alphabet=st.one_of(st.characters(), st.sampled_from(_SPECIAL)), max_size=60)
fast = settings(max_examples=300, database=None, deadline=None)


@fast
@given(texts)
def test_offsets_have_one_entry_per_normalized_character(text: str) -> None:
    doc = normalize(text)
    assert len(doc.offsets) == len(doc.text)
    assert doc.original_length == len(text)


@fast
@given(texts)
def test_offsets_are_non_decreasing_and_inside_the_original(text: str) -> None:
    offsets = normalize(text).offsets
    assert list(offsets) == sorted(offsets)
    assert all(0 <= offset < len(text) for offset in offsets)


@fast
@given(texts, st.data())
def test_span_maps_any_normalized_span_inside_the_original(text: str, data: st.DataObject) -> None:
    doc = normalize(text)
    start = data.draw(st.integers(0, len(doc.text)))
    end = data.draw(st.integers(start, len(doc.text)))
    o_start, o_end = doc.span(start, end)
    assert 0 <= o_start <= o_end <= len(text)
    # The original slice normalizes to text that contains the normalized slice.
    assert doc.text[start:end] in normalize_text(text[o_start:o_end])


@fast
@given(texts)
def test_normalization_is_idempotent(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once


def test_every_bmp_character_folds_idempotently() -> None:
    # normalize() folds character by character, so per-character idempotence over the
    # Basic Multilingual Plane covers every string made of those characters.
    for code in range(0x10000):
        if 0xD800 <= code <= 0xDFFF:
            continue
        folded = normalize_text(chr(code))
        assert normalize_text(folded) == folded, hex(code)


def test_empty_text_normalizes_to_empty() -> None:
    doc = normalize("")
    assert (doc.text, list(doc.offsets), doc.original_length) == ("", [], 0)
    assert doc.span(0, 0) == (0, 0)


def test_zwnj_is_dropped() -> None:
    assert normalize_text("عین\u200cالاسد") == normalize_text("عینالاسد")


@pytest.mark.parametrize("char", ["\u200c", "\u200d", "\u200b", "\u200e", "\u200f", "\u00ad"])
def test_invisible_joiners_and_marks_are_dropped(char: str) -> None:
    assert normalize_text(f"ab{char}cd") == "abcd"


@pytest.mark.parametrize("alef", ["أ", "إ", "آ", "ٱ"])
def test_hamza_and_madda_alef_forms_become_bare_alef(alef: str) -> None:
    assert normalize_text(alef) == "ا"
    assert normalize_text(f"{alef}مريكا") == "امريكا"


@pytest.mark.parametrize("yeh", ["ى", "ی", "ي"])
def test_alef_maksura_and_persian_yeh_become_arabic_yeh(yeh: str) -> None:
    assert normalize_text(yeh) == "ي"


def test_persian_keheh_becomes_arabic_kaf() -> None:
    assert normalize_text("ک") == "ك"
    assert normalize_text("قسرک") == normalize_text("قسرك")


def test_teh_marbuta_becomes_heh() -> None:
    assert normalize_text("سورية") == "سوريه"


def test_tatweel_is_removed() -> None:
    assert normalize_text("قـــسرك") == "قسرك"


def test_harakat_are_removed() -> None:
    assert normalize_text("أَخْلَتْ") == "اخلت"
    assert normalize_text("جنوداً") == "جنودا"


@pytest.mark.parametrize(
    ("digits", "ascii_digits"),
    [("۰۱۲۳۴۵۶۷۸۹", "0123456789"), ("٠١٢٣٤٥٦٧٨٩", "0123456789"), ("برج ۲۲", "برج 22")],
)
def test_persian_and_arabic_indic_digits_become_ascii(digits: str, ascii_digits: str) -> None:
    assert normalize_text(digits) == ascii_digits


def test_case_is_folded() -> None:
    assert normalize_text("QASRAK Base") == "qasrak base"
    assert normalize_text("КАСРАК") == "касрак"


def test_cyrillic_yo_becomes_ye() -> None:
    assert normalize_text("Зелёная") == "зеленая"
    assert normalize_text("Ё") == "е"


def test_latin_accents_are_removed() -> None:
    assert normalize_text("Aïn Şeddadê") == "ain seddade"


def test_typographic_apostrophes_and_dashes_are_unified() -> None:
    assert normalize_text("Qasrak’s ‘base’ — K‑1") == "qasrak's 'base' - k-1"


def test_a_character_that_expands_keeps_pointing_at_its_source() -> None:
    doc = normalize("aßb")
    assert doc.text == "assb"
    assert doc.offsets == (0, 1, 1, 2)
    assert doc.span(1, 3) == (1, 2)


def test_dropped_characters_leave_no_offsets() -> None:
    text = "عین\u200cالاسد"
    doc = normalize(text)
    assert 3 not in doc.offsets
    start = doc.text.index("ال")
    assert text[slice(*doc.span(start, len(doc.text)))] == "الاسد"


def test_span_of_an_empty_range_is_an_empty_range_in_the_original() -> None:
    doc = normalize("ab\u200ccd")
    assert doc.span(2, 2) == (3, 3)
    assert doc.span(4, 4) == (5, 5)


def test_fold_char_of_a_dropped_character_is_empty() -> None:
    assert fold_char("\u0640") == ""
