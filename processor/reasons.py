"""Why the reader decided what it did, in words a user can check against the sentence.

A finding keeps its ``Grounds``: the cue as the article wrote it, the names of the rules
that qualified it (``past``, ``begun``, ``claim`` …) and the actor as written. A verdict
adds the name of the article-level rule that decided it (``answered``, ``plan_in_lead``
…). Both are worded here, from these names, so every reason reads the same way and a
new rule is one new entry in ``MARKS`` or ``RULES``, never a sentence written for one
article. Pure functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# What qualified one sentence's finding, in the order they are worded.
MARKS: Mapping[str, str] = {
    "past": "past tense",
    "begun": "marked as begun or done",
    "planned": "planned or announced",
    "negated": "negated",
    "denied": "denied",
    "talks": "in talks",
    "foreign": "another country's forces",
    "demanded": "demanded, not done",
    "destination": "the place is where forces go",
    "claim": "attributed to a source",
    "background": "told as background",
    "anaphor": "the base named in the sentence before",
}
# What the article as a whole decided, beyond its sentences.
RULES: Mapping[str, str] = {
    "denied_in_lead": "the lead denies it",
    "answered": "the article denies the claim it reports",
    "background_only": "its withdrawal is only background",
    "plan_in_lead": "the lead announces a plan, so the body tells the plan",
    "plan_outweighs": "the plan outweighs the report of a withdrawal",
    "report_outweighs": "the report of a withdrawal outweighs the plan",
}
LEAD = "headline or lead"
# Cues that tell forces leaving a place: their aspect (begun, done) and kind marks count.
LEAVING = frozenset({"withdrawal", "transfer", "leaving"})
# The mark that says why a withdrawal cue gave its kind, where the kind alone says it.
_KIND_MARKS = {
    "other": "foreign",
    "negotiation": "talks",
    "withdrawal_planned": "planned",
    "redeployment": "destination",
    "denial": "negated",
}


@dataclass(frozen=True, slots=True)
class Grounds:
    """What a finding rests on: its cue's concept and form as written, the rules that
    qualified it (names of ``MARKS``) and the actor as written ("" when none is named)."""

    concept: str
    form: str
    marks: tuple[str, ...] = ()
    actor: str = ""

    def marked(self, *marks: str) -> Grounds:
        new = tuple(m for m in marks if m not in self.marks)
        return Grounds(self.concept, self.form, (*self.marks, *new), self.actor) if new else self


def grounds_of(
    concept: str, form: str, kind: str, why: str | None, flags: tuple[str, ...], actor: str
) -> Grounds:
    """The grounds of a finding of ``kind`` from a cue of ``concept``: ``why`` is the mark
    the reader found for it (``past``, ``begun``, ``denied``), ``flags`` the sentence's
    (``claim``, ``background``)."""
    mark = why or (_KIND_MARKS.get(kind) if concept in LEAVING else None)
    return Grounds(concept, form, (*((mark,) if mark else ()), *flags), actor)


def sentence_words(grounds: Grounds, lead: bool) -> str:
    """One sentence's reason: "withdrawal cue “withdrew” (past tense), actor “US forces”;
    headline or lead"."""
    said = f"{grounds.concept.replace('_', ' ')} cue \u201c{grounds.form}\u201d"
    marks = [MARKS[m] for m in MARKS if m in grounds.marks]
    if marks:
        said += f" ({', '.join(marks)})"
    if grounds.actor:
        said += f", actor \u201c{grounds.actor}\u201d"
    return f"{said}; {LEAD}" if lead else said


def verdict_words(main: str, rules: tuple[str, ...], sentences: int) -> str:
    """A verdict's reason: its main sentence's, the article's rules, how many agree."""
    parts = [main, *(RULES[r] for r in rules)]
    if sentences > 1:
        parts.append(f"{sentences} sentences say so")
    return "; ".join(p for p in parts if p)
