"""One sentence's cues around the places it names: what qualifies a withdrawal cue.

A ``Sentence`` knows its clauses (split at contrast words) and, for a cue, whether
it is negated, denied, planned, governed by a planning word, marked as begun, or
about another country's forces. The distances are in words, a multi-word place
name counting as one (processor/events.py builds the sentences and decides).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field

from processor.sounds import ARTICLE, sounds
from processor.tense import past
from processor.tokens import Cue, Mention

ACTIONS = ("withdrawal", "transfer", "redeployment", "reinforcement", "attack", "remain")
_WORD = re.compile(r"\w+")
FROM_WINDOW = 4  # words between "from" and the name it governs ("from the air base of X")
NEGATION_BEFORE = 4
NEGATION_AFTER = 8
ACTOR_WINDOW = 8
PLANNED_WINDOW = 4
PLANNED_BEFORE = 10  # words a planning word may stand before the cue in its clause (verb-final)
BEGUN_WINDOW = 6  # words between a withdrawal cue and the marker that says it has begun
DECIDED_AFTER = 2  # words after a withdrawal that may name its decision ("withdrawal order")
GOVERNS = 2  # a planning word this close before a marker governs it ("will complete")


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence's mentions and cues, with word positions for distances.

    A multi-word place name counts as one word, so "withdrawal from Ain al-Asad
    will" is as close as "withdrawal from Qasrak will".
    """

    start: int
    end: int
    mentions: tuple[Mention, ...]
    cues: tuple[Cue, ...]
    word_starts: tuple[int, ...]
    text: str
    bases: tuple[int, ...] = ()  # where words for a base stand (normalized offsets)
    by_concept: dict[str, list[Cue]] = field(default_factory=dict)
    _aspects: dict[Cue, str | None] = field(default_factory=dict)  # each cue's, once asked

    def __post_init__(self) -> None:
        for cue in self.cues:
            self.by_concept.setdefault(cue.concept, []).append(cue)

    def word(self, position: int) -> int:
        return bisect_right(self.word_starts, position) - 1

    def of(self, concept: str) -> list[Cue]:
        return self.by_concept.get(concept, [])

    def has(self, concept: str) -> bool:
        return concept in self.by_concept

    def clause(self, position: int) -> tuple[int, int]:
        """The span between the contrast words ("but", "while" …) around ``position``."""
        start, end = self.start, self.end
        for cue in self.of("contrast"):
            if cue.end <= position:
                start = max(start, cue.end)
            elif cue.start > position:
                end = min(end, cue.start)
        return start, end

    def covered(self, word: int, concept: str) -> bool:
        return any(self.word(c.start) <= word <= self.word(c.end - 1) for c in self.of(concept))

    def preceded_by(self, mention: Mention, concept: str, skip: int) -> bool:
        """Whether ``concept`` stands right before the mention, past up to ``skip`` base nouns."""
        word = self.word(mention.norm_start) - 1
        for _ in range(skip):
            if word >= 0 and self.covered(word, "base_noun") and not self.covered(word, concept):
                word -= 1
        return word >= 0 and self.covered(word, concept)

    def moved_from(self, mention: Mention) -> bool:
        """Whether the place is where something is moved from: the first "from" or "to"
        before it, past base nouns, articles and genitives, is a "from" ("من قاعدة X",
        "from the X base"; "vers la base de X" is a "to": the genitive de is passed over)."""
        word = self.word(mention.norm_start) - 1
        found = False
        for _ in range(FROM_WINDOW):
            if word < 0:
                break
            if self.covered(word, "destination"):
                return False
            source = self.covered(word, "source")
            if not source and not self.covered(word, "base_noun") and not self._article(word):
                break
            found = found or source
            word -= 1
        return found

    def _article(self, word: int) -> bool:
        """Whether the word is only an article ("эт-" of "эт-Таджи", "al-")."""
        found = _WORD.match(self.text, self.word_starts[word])
        return found is not None and sounds().key(found.group()) == ARTICLE

    def negated(self, cue: Cue, text: str) -> bool:
        """A negation shortly before the cue, or after it in the same stretch of the clause
        ("вывода … не будет", "Abzug aus X sei nicht geplant") unless it singles out a place
        ("…, not from Rmelan")."""
        at = self.word(cue.start)
        _, clause_end = self.clause(cue.start)
        for negation in self.of("negation"):
            distance = self.word(negation.start) - at
            if -NEGATION_BEFORE <= distance <= 0:
                return True
            if (
                0 < distance <= NEGATION_AFTER
                and negation.start < clause_end
                and "," not in text[cue.end : negation.start]
                and not self._names_next(negation)
            ):
                return True
        return False

    def _names_next(self, cue: Cue) -> bool:
        at = self.word(cue.start)
        return any(0 < self.word(m.norm_start) - at <= 2 for m in self.mentions)

    def governed(self, position: int, exclude: int = -1) -> bool:
        """Whether a planning word stands just before ``position`` ("will complete"); an
        announcing verb does not govern what it reports ("הודיע כי השלים", "announced it
        completed"), nor does a time frame ("within days they had left", "by March")."""
        here = self.word(position)
        return any(
            0 < here - self.word(p.start) <= GOVERNS
            for p in self.of("planned")
            if p.start != exclude
        )

    def aspect(self, cue: Cue) -> str | None:
        """A marker of begun or completed action near the cue in its clause ("has begun",
        "completed", "уже": ``begun``), or a past ending on the cue itself ("çekildi",
        "вывели": ``past``), not governed by a planning word ("will complete", "будут
        выведены"); None when neither says the action has begun."""
        if cue not in self._aspects:
            self._aspects[cue] = self._aspect(cue)
        return self._aspects[cue]

    def _aspect(self, cue: Cue) -> str | None:
        at = self.word(cue.start)
        if (
            (
                cue.concept == "leaving"
                or (cue.concept == "withdrawal" and past(self.text[cue.start : cue.end]))
            )
            # the ending is on the cue's last word ("presence … will be reduced")
            and not self.governed(self.word_starts[self.word(cue.end - 1)], exclude=cue.start)
        ):
            return "past"
        start, end = self.clause(cue.start)
        for marker in self.of("begun"):
            if not start <= marker.start < end or abs(self.word(marker.start) - at) > BEGUN_WINDOW:
                continue
            if not self.governed(marker.start, exclude=marker.start):
                return "begun"
        return None

    def planned(self, cue: Cue) -> bool:
        """A planning word near the cue (further before it, where verb-final languages put
        the auxiliary far from the verb: "wollen bis Jahresende aus Syrien abziehen",
        "تا پایان ماه از پایگاه ... خارج می‌شود"), or a decision before it in its clause
        or naming it right after ("çekilme kararı")."""
        at = self.word(cue.start)
        clause_start, _ = self.clause(cue.start)
        for c in (*self.of("planned"), *self.of("timeline"), *self.of("announced")):
            distance = at - self.word(c.start)
            if -PLANNED_WINDOW <= distance <= PLANNED_WINDOW or (
                distance <= PLANNED_BEFORE
                and c.start >= clause_start
                and not any(  # "will remain … after the withdrawal": "will" is remain's
                    c.end <= other.start < cue.start
                    for action in ACTIONS
                    for other in self.of(action)
                )
            ):
                return True
        if self._governs("decided", cue):
            return True
        # an infinitive ("…, die Kontrolle über X an die Armee zu übergeben") is the object
        # of the intention, plan or decision anywhere before it in its sentence
        return any(0 < at - self.word(c.start) <= 1 for c in self.of("infinitive")) and any(
            c.start < cue.start
            for concept in ("planned", "decided", "announced")
            for c in self.of(concept)
        )

    def demanded(self, cue: Cue) -> bool:
        """A demand for the withdrawal, not the withdrawal: a demanding word before the cue
        in its clause ("call for the withdrawal", "fordern den Abzug") or naming it right
        after ("çekilmesini talep etti"), the cue not itself marked as begun or done."""
        return self.aspect(cue) is None and self._governs("demand", cue)

    def _governs(self, concept: str, cue: Cue) -> bool:
        """A word of ``concept`` before the cue in its clause, or naming it right after
        (a decision or demand named after its withdrawal: "çekilme kararı", "withdrawal
        order")."""
        clause_start, _ = self.clause(cue.start)
        last = self.word(cue.end - 1)
        return any(
            clause_start <= c.start < cue.start or 0 < self.word(c.start) - last <= DECIDED_AFTER
            for c in self.of(concept)
        )

    def excluded(self, mention: Mention, cue: Cue) -> bool:
        """A negation between the cue and the place, right before it: "…, not from Rmelan"."""
        at = self.word(mention.norm_start)
        return any(
            cue.end <= n.start < mention.norm_start and at - self.word(n.start) <= 2
            for n in self.of("negation")
        )

    def denied(self, cue: Cue) -> bool:
        """A denying verb anywhere in the cue's clause ("… از التنف را تکذیب کرد")."""
        start, end = self.clause(cue.start)
        return any(start <= c.start < end for c in self.of("denial"))

    def foreign(self, cue: Cue) -> bool:
        """Whether the actor nearest the cue is another country's forces, with no US or
        coalition actor about as near ("US and Norwegian forces" are still US forces)."""
        at = self.word(cue.start)
        start, end = self.clause(cue.start)
        others = [
            abs(self.word(c.start) - at) for c in self.of("actor_other") if start <= c.start < end
        ]
        if not others:
            return False
        if not self.has("actor_us"):
            return True
        nearest = min(others)
        return nearest <= ACTOR_WINDOW and not any(
            abs(self.word(c.start) - at) <= nearest + 3 for c in self.of("actor_us")
        )
