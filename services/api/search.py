"""Full-text queries, read once and written for either database (docs/api.md,
"Full-text search"): pure functions, no I/O.

``parse_search`` folds and parses what a user typed; ``tsquery`` writes it for
PostgreSQL's ``to_tsquery``, ``fts5_query`` for SQLite's FTS5 ``MATCH``. Every word is
quoted on the way out, so nothing a user types is an operator of either language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi import HTTPException

# Replaced in title, text and q before full-text search (docs/api.md "Full-text search");
# "" drops the character. The letter variants processor/normalize.py unifies, so a Persian
# spelling finds an Arabic one, and the marks that would split a word or keep two spellings
# apart. Migration 0009 indexes with a copy of this: change both, with a revision that
# rebuilds the indexes.
SEARCH_FOLD: dict[str, str] = {
    "ی": "ي",  # Persian yeh
    "ى": "ي",  # alef maksura
    "ئ": "ي",  # yeh with hamza
    "ک": "ك",  # Persian keheh
    "ة": "ه",  # teh marbuta
    "ۀ": "ه",  # heh with yeh
    "ە": "ه",  # Kurdish ae
    "ؤ": "و",  # waw with hamza
    "أ": "ا",  # alef with hamza above
    "إ": "ا",  # alef with hamza below
    "آ": "ا",  # alef with madda
    "ٱ": "ا",  # alef wasla
    "ё": "е",
    "Ё": "Е",
    **{chr(0x0660 + digit): str(digit) for digit in range(10)},  # Arabic-Indic digits
    **{chr(0x06F0 + digit): str(digit) for digit in range(10)},  # Persian digits
    **dict.fromkeys(map(chr, range(0x064B, 0x0660)), ""),  # harakat and hamza marks
    "\u0670": "",  # superscript alef
    "\u0640": "",  # tatweel
    "\u200b": "",  # zero-width space
    "\u200c": "",  # zero-width non-joiner
    "\u200d": "",  # zero-width joiner
    "\u200e": "",  # left-to-right mark
    "\u200f": "",  # right-to-left mark
    "\u00ad": "",  # soft hyphen
    "\ufeff": "",  # byte-order mark
}
_FOLD = str.maketrans(SEARCH_FOLD)
# Control characters (NUL ends an FTS5 string; PostgreSQL refuses it) and lone surrogates.
_NOT_TEXT = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
MAX_SEARCH_WORDS = 32
# A word, or a "quoted phrase" (a missing closing quote ends it at the end of q); each may
# start with - (exclude it) and end with * (a prefix).
_TOKEN = re.compile(r'(?P<minus>-?)(?:"(?P<phrase>[^"]*)"?|(?P<word>[^\s"]+))(?P<star>\*?)')


@dataclass(frozen=True, slots=True)
class Term:
    """A word or a quoted phrase; with ``prefix``, its last word may begin a longer one."""

    words: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class Search:
    """A parsed ``q``: each group needs one of its terms to occur, no excluded term may."""

    groups: tuple[tuple[Term, ...], ...]
    excluded: tuple[Term, ...]

    @property
    def words(self) -> int:
        terms = [*(t for group in self.groups for t in group), *self.excluded]
        return sum(len(t.words) for t in terms)


def parse_search(q: str) -> Search:
    """``q`` folded and parsed. Terms side by side must all occur; ``OR`` (in capitals)
    between two terms lets either do; ``-term`` excludes; ``"…"`` is a phrase; ``word*`` a
    prefix. A word with no letter or digit is left out. No ``q`` is a syntax error."""
    groups: list[list[Term]] = []
    excluded: list[Term] = []
    either = False
    for token in _TOKEN.finditer(_NOT_TEXT.sub(" ", q).translate(_FOLD)):
        minus, phrase, word, star = token.group("minus", "phrase", "word", "star")
        if word == "OR" and not minus:
            either = bool(groups)
            continue
        text, prefix = (phrase, bool(star)) if phrase is not None else (word, word.endswith("*"))
        words = tuple(w for w in text.rstrip("*").split() if any(c.isalnum() for c in w))
        if not words:
            continue
        term = Term(words, prefix)
        if minus:
            excluded.append(term)
        elif either:
            groups[-1].append(term)
        else:
            groups.append([term])
        either = False
    return Search(tuple(map(tuple, groups)), tuple(excluded))


def check_search(q: str) -> Search:
    """``q`` parsed, or 422 when it has nothing to look for or too many words."""
    search = parse_search(q)
    if not search.groups:
        raise HTTPException(
            422, f"q has no word to look for (only punctuation or -exclusions): {q[:80]!r}"
        )
    if search.words > MAX_SEARCH_WORDS:
        raise HTTPException(422, f"q has {search.words} words; at most {MAX_SEARCH_WORDS}")
    return search


def _lexeme(word: str, prefix: bool) -> str:
    quoted = word.replace("\\", "\\\\").replace("'", "''")
    return f"'{quoted}':*" if prefix else f"'{quoted}'"


def _tsquery_term(term: Term) -> str:
    last = len(term.words) - 1
    return " <-> ".join(_lexeme(w, term.prefix and i == last) for i, w in enumerate(term.words))


def tsquery(search: Search) -> str:
    """``search`` as ``to_tsquery`` input: every word quoted, so none of it is an operator."""
    clauses = [" | ".join(f"({_tsquery_term(t)})" for t in group) for group in search.groups]
    clauses += [f"!({_tsquery_term(t)})" for t in search.excluded]
    return " & ".join(f"({clause})" for clause in clauses)


def _fts5_term(term: Term) -> str:
    return '"' + " ".join(term.words).replace('"', '""') + '"' + ("*" if term.prefix else "")


def fts5_query(search: Search) -> str:
    """``search`` as an FTS5 MATCH expression: every term a quoted string, so none of it is
    an operator. FTS5's NOT is binary, which is why a search needs a group."""
    match = " AND ".join("(" + " OR ".join(map(_fts5_term, group)) + ")" for group in search.groups)
    if search.excluded:
        match = f"({match}) NOT ({' OR '.join(map(_fts5_term, search.excluded))})"
    return match
