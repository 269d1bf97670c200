"""Classify what each sentence says happens at each place it names.

For every place mention in a sentence, the nearest action cue (withdrawal,
redeployment, reinforcement, attack, remain) decides the kind; cues within a
few words of a withdrawal cue qualify it (planned, negated); the sentence's
actors decide whose forces move. Countries get events only where forces leave
*from* them or talks are about their presence. Each finding keeps its grounds
(cue and actor as written, what qualified it); processor/verdicts.py judges them.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import replace

from processor.clauses import ACTIONS, Sentence
from processor.gazetteer import Gazetteer
from processor.morphology import morphology
from processor.normalize import Normalized
from processor.reasons import LEAVING, Grounds, grounds_of
from processor.tokens import Cue, Mention, Words, words
from processor.verdicts import Event, Finding, judge, merge

__all__ = ["EVENT_KINDS", "WITHDRAWAL_KINDS", "Event", "classify", "merge"]

EVENT_KINDS = (
    "withdrawal",
    "withdrawal_planned",
    "negotiation",
    "denial",
    "redeployment",
    "reinforcement",
    "attack",
    "other",
)
WITHDRAWAL_KINDS = frozenset({"withdrawal", "withdrawal_planned", "denial"})
_BASE_CONFIDENCE = {
    "withdrawal": 0.6,
    "withdrawal_planned": 0.55,
    "denial": 0.55,
    "negotiation": 0.55,
    "redeployment": 0.5,
    "reinforcement": 0.5,
    "attack": 0.5,
    "other": 0.4,
}
NEAR = 8
MAX_EVIDENCE = 600
ANAPHOR_PENALTY = 0.1
COUNTRY_BASE_WINDOW = 3  # "bases in Syria", "Irak'ta 9 üsten"


def _withdrawal_kind(sentence: Sentence, cue: Cue, negotiation: bool) -> str:
    if sentence.foreign(cue):
        return "other"
    if sentence.denied(cue) or sentence.negated(cue, sentence.text):
        return "denial"
    if sentence.demanded(cue):
        return "other"
    if negotiation:
        return "negotiation"
    if sentence.planned(cue) and sentence.aspect(cue) is None:
        return "withdrawal_planned"
    return "withdrawal"


def _nearest(sentence: Sentence, mention: Mention, cues: Sequence[Cue]) -> Cue | None:
    """The cue nearest the mention, preferring cues in the mention's own clause; of cues
    starting on one word the longest ("הועבר לידי", handed over, not "הועבר", moved)."""
    at = sentence.word(mention.norm_start)
    start, end = sentence.clause(mention.norm_start)
    return min(
        cues,
        key=lambda c: (
            not start <= c.start < end,
            abs(sentence.word(c.start) - at),
            c.start,
            c.start - c.end,
        ),
        default=None,
    )


def _kind_at_base(
    sentence: Sentence, mention: Mention, negotiation: bool
) -> tuple[str, Cue] | None:
    at = sentence.word(mention.norm_start)
    left = [c for c in sentence.of("leaving") if at - sentence.word(c.end - 1) == 1]
    if left:  # "left Ain al-Asad": the verb right before the place it leaves
        return _withdrawal_kind(sentence, left[0], negotiation), left[0]
    action = _nearest(sentence, mention, [c for c in sentence.cues if c.concept in ACTIONS])
    if action is None or action.concept == "remain":
        return None
    if action.concept == "withdrawal":
        if sentence.excluded(mention, action):
            return None
        if sentence.preceded_by(mention, "destination", skip=2):
            return "redeployment", action
        return _withdrawal_kind(sentence, action, negotiation), action
    if action.concept == "transfer":
        # Forces moved *from* a base are leaving it ("began moving troops from X to Erbil");
        # moved to it, they are redeployed there.
        if sentence.moved_from(mention):
            return _withdrawal_kind(sentence, action, negotiation), action
        return "redeployment", action
    return action.concept, action


def _kind_at_country(
    sentence: Sentence, mention: Mention, negotiation: bool
) -> tuple[str, Cue] | None:
    if negotiation:
        talks = _nearest(sentence, mention, sentence.of("negotiation"))
        return ("negotiation", talks) if talks else None
    withdrawal = _nearest(sentence, mention, sentence.of("withdrawal"))
    if withdrawal is None:
        return None
    at = sentence.word(mention.norm_start)
    # Forces leave the country: "from Syria", "Suriye'den", "מסוריה", "Syrien verlassen",
    # "bases in Iraq".
    text, end = sentence.text, mention.norm_end
    if (
        sentence.preceded_by(mention, "source", skip=1)
        or morphology().marks_from(text[mention.norm_start : end], text[end : end + 4])
        or 0 < at - sentence.word(withdrawal.start) <= 2  # "left Syria", "quitter la Syrie"
        or any(abs(sentence.word(b) - at) <= COUNTRY_BASE_WINDOW for b in sentence.bases)
    ):
        return _withdrawal_kind(sentence, withdrawal, negotiation), withdrawal
    return None


def _confidence(sentence: Sentence, mention: Mention, kind: str, cue: Cue) -> float:
    score = _BASE_CONFIDENCE[kind]
    if sentence.has("actor_us"):
        score += 0.2
    if abs(sentence.word(cue.start) - sentence.word(mention.norm_start)) <= NEAR:
        score += 0.1
    return round(min(score, 0.95), 2)


def _grounds(
    sentence: Sentence, kind: str, cue: Cue, aspect: str | None, doc: Normalized, original: str
) -> Grounds:
    """The cue and its nearest actor as written, and what qualified the cue."""
    at = sentence.word(cue.start)
    actors = sentence.of("actor_other" if kind == "other" else "actor_us")
    actor = min(actors, key=lambda c: abs(sentence.word(c.start) - at), default=None)
    why = aspect if kind == "withdrawal" else None
    if kind == "denial" and sentence.denied(cue):
        why = "denied"
    elif kind == "other" and cue.concept in LEAVING and sentence.demanded(cue):
        why = "demanded"
    form, said = (original[slice(*doc.span(c.start, c.end))] if c else "" for c in (cue, actor))
    flags = tuple(c for c in ("claim", "background") if sentence.has(c))
    return grounds_of(cue.concept, form, kind, why, flags, said)


def _sentence_findings(
    sentence: Sentence, index: int, doc: Normalized, original: str, gazetteer: Gazetteer
) -> list[Finding]:
    negotiation = sentence.has("negotiation") and (
        sentence.has("withdrawal") or sentence.has("presence")
    )
    o_start, o_end = doc.span(sentence.start, sentence.end)
    evidence = original[o_start:o_end][:MAX_EVIDENCE]
    findings = []
    for mention in sentence.mentions:
        place = gazetteer.get(mention.place)
        judge = _kind_at_country if place.is_country else _kind_at_base
        found = judge(sentence, mention, negotiation)
        if found is None:
            continue
        kind, cue = found
        aspect = sentence.aspect(cue) if cue.concept in LEAVING else None
        findings.append(
            Finding(
                mention.place,
                kind,
                _confidence(sentence, mention, kind, cue),
                evidence,
                o_start,
                o_end,
                index,
                _grounds(sentence, kind, cue, aspect, doc, original),
                begun=aspect is not None,
                claim=sentence.has("claim"),
                background=sentence.has("background"),
            )
        )
    return findings


def _answers(
    sentence: Sentence, index: int, claimed: Sequence[Finding], doc: Normalized, original: str
) -> list[Finding]:
    """Where a sentence that names no place denies, with no action of its own ("The
    Pentagon denied the reports", "ونفى البنتاغون هذه التقارير"), right after a sentence
    that told a withdrawal: denials of the withdrawal at each of those places."""
    denials = sentence.of("denial")
    if not denials or any(sentence.has(a) for a in ACTIONS if a != "withdrawal"):
        return []
    cue = denials[0]
    grounds = _grounds(sentence, "denial", cue, None, doc, original)
    o_start, o_end = doc.span(sentence.start, sentence.end)
    confidence = _BASE_CONFIDENCE["denial"] + (0.2 if sentence.has("actor_us") else 0.0)
    places = dict.fromkeys(f.place for f in claimed if f.kind == "withdrawal")
    return [
        Finding(
            place,
            "denial",
            round(confidence, 2),
            original[o_start:o_end][:MAX_EVIDENCE],
            o_start,
            o_end,
            index,
            grounds,
            background=sentence.has("background"),
        )
        for place in places
    ]


def _told(findings: Sequence[Finding], index: int) -> list[Finding]:
    """The findings of sentence ``index``: they end the list, which is in sentence order."""
    at = len(findings)
    while at and findings[at - 1].sentence == index:
        at -= 1
    return list(findings[at:])


def _antecedent(sentence: Sentence, previous: Sequence[Mention]) -> tuple[Mention, ...]:
    """Where a sentence names no base but says "the base" / "it" about the one base the
    last sentence naming bases named, that base, located at the referring words."""
    bases = {m.place for m in previous}
    anaphors = sentence.of("anaphor")
    if len(bases) != 1 or not anaphors or not any(sentence.has(a) for a in ACTIONS):
        return ()
    (place,) = bases
    anaphor = anaphors[0]
    return (Mention(place, -1, -1, "", anaphor.start, anaphor.end),)


def classify(
    doc: Normalized,
    original: str,
    sentence_spans: Sequence[tuple[int, int]],
    mentions: Sequence[Mention],
    cues: Sequence[Cue],
    gazetteer: Gazetteer,
    tokens: Words | None = None,
) -> list[Event]:
    """Events of a document: each sentence's findings, judged for the whole article."""
    tokens = words(doc.text) if tokens is None else tokens
    within_names: set[int] = set()
    for mention in mentions:  # a name of several words counts as one word
        first = bisect_right(tokens.starts, mention.norm_start)
        last = bisect_right(tokens.starts, mention.norm_end - 1)
        within_names.update(range(first, last))
    kept = [i for i in range(len(tokens)) if i not in within_names]
    word_starts = tuple(tokens.starts[i] for i in kept)
    base_starts: list[int] | None = None  # where the words for a base stand, once needed
    findings: list[Finding] = []
    previous: tuple[Mention, ...] = ()
    mention_starts = [m.norm_start for m in mentions]
    cue_starts = [c.start for c in cues]
    for index, (start, end) in enumerate(sentence_spans):
        inside = tuple(
            mentions[bisect_left(mention_starts, start) : bisect_left(mention_starts, end)]
        )
        sentence_cues = tuple(cues[bisect_left(cue_starts, start) : bisect_left(cue_starts, end)])
        denies = not inside and any(c.concept == "denial" for c in sentence_cues)
        told = _told(findings, index - 1) if denies else []
        if (
            not inside
            and not told
            and not (previous and any(c.concept == "anaphor" for c in sentence_cues))
        ):
            continue  # nothing named, referred to or answered: no findings
        countries = any(c.concept == "withdrawal" for c in sentence_cues) and any(
            gazetteer.get(m.place).is_country for m in inside
        )
        in_sentence: tuple[int, ...] = ()
        if countries:
            if base_starts is None:
                base_starts = _base_words(tokens, kept, gazetteer)
            in_sentence = tuple(
                base_starts[bisect_left(base_starts, start) : bisect_left(base_starts, end)]
            )
        sentence = Sentence(start, end, inside, sentence_cues, word_starts, doc.text, in_sentence)
        bases = tuple(m for m in inside if not gazetteer.get(m.place).is_country)
        referred = () if bases else _antecedent(sentence, previous)
        if referred:
            sentence = Sentence(
                start, end, (*inside, *referred), sentence_cues, word_starts, doc.text, in_sentence
            )
            referred_places = {m.place for m in referred}
            for finding in _sentence_findings(sentence, index, doc, original, gazetteer):
                findings.append(
                    _weaker(finding, ANAPHOR_PENALTY)
                    if finding.place in referred_places
                    else finding
                )
        elif inside:
            findings.extend(_sentence_findings(sentence, index, doc, original, gazetteer))
        elif told and (answers := _answers(sentence, index, told, doc, original)):
            # what the next sentence denies, the article tells as a claim
            answered = {f.place for f in answers}
            findings = [
                replace(f, claim=True, grounds=f.grounds.marked("claim"))
                if f.sentence == index - 1 and f.place in answered and f.kind == "withdrawal"
                else f
                for f in findings
            ]
            findings.extend(answers)
        if bases:  # "the base" is the last one named, however many sentences ago
            previous = bases
    return judge(findings)


def _base_words(tokens: Words, kept: Sequence[int], gazetteer: Gazetteer) -> list[int]:
    """Where the words for a base stand ("base", "üsten", "מהבסיס") among the ``kept`` words."""
    nouns = {word for word in set(tokens.texts) if gazetteer.base_nouns.inflected(word)}
    return [tokens.starts[i] for i in kept if tokens.texts[i] in nouns]


def _weaker(finding: Finding, penalty: float) -> Finding:
    confidence = round(max(finding.confidence - penalty, 0.0), 2)
    return replace(finding, confidence=confidence, grounds=finding.grounds.marked("anaphor"))
