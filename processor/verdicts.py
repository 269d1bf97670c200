"""One verdict per place for the whole article, from the findings of its sentences.

A sentence says what happens at a place (``events.classify`` finds it); the article as
a whole decides what it reports there. The rules, in the order they apply:

1. **Weight.** A finding in the headline or lead (the first ``LEAD`` sentences) counts
   ``LEAD_WEIGHT`` times; one in a sentence about the past ("previously", "in 2019")
   counts ``BACKGROUND_WEIGHT``.
2. **Denials win over the claims they answer.** Where the article denies a withdrawal
   in its lead, or denies it at a place where the withdrawal is only claimed
   ("reports say", "allegedly"), the withdrawal findings become a ``denial``.
3. **Background is not news.** A withdrawal told only in sentences about the past, in an
   article whose lead reports no withdrawal, raises nothing.
4. **Plans against facts.** Where the lead announces a plan and reports no withdrawal,
   the body's withdrawals count only if stated with a marker of aspect ("has begun",
   "completed"); the rest tell the plan. Where an article reports both a plan and a
   withdrawal at one place, the heavier wins (a marked withdrawal more easily).

The other kinds (attack, reinforcement, redeployment …) are kept as they are found: they
say something else happened, not whether forces are leaving.

Each verdict keeps the sentences that decided it (the strongest first, and for a denial
the claim it answers), and its reason in words (processor/reasons.py). The language of
each sentence is the language of its paragraph (``in_languages``), not the article's:
a bilingual article's English sentence is English. Pure functions.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from processor.reasons import Grounds, sentence_words, verdict_words

LEAD = 2  # headline and first sentence
LEAD_WEIGHT = 1.5
BACKGROUND_WEIGHT = 0.3
FAMILY = ("withdrawal", "withdrawal_planned", "denial", "negotiation", "other")
MAX_CONFIDENCE = 0.99
MAX_SENTENCES = 3  # deciding sentences kept per verdict
# The kind each article-level rule explains when it wins (None: whichever wins).
_EXPLAINS = {
    "denied_in_lead": "denial",
    "answered": "denial",
    "background_only": None,
    "plan_in_lead": "withdrawal_planned",
    "plan_outweighs": "withdrawal_planned",
    "report_outweighs": "withdrawal",
}


@dataclass(frozen=True, slots=True)
class Finding:
    """What one sentence says happens at one place."""

    place: str
    kind: str
    confidence: float
    evidence: str
    start: int
    end: int
    sentence: int  # index of the sentence in the article
    grounds: Grounds
    begun: bool = False  # the withdrawal is marked as begun or done
    claim: bool = False  # the sentence distances itself ("reportedly", "claimed")
    background: bool = False  # the sentence is about the past

    @property
    def lead(self) -> bool:
        return self.sentence < LEAD

    @property
    def reason(self) -> str:
        return sentence_words(self.grounds, self.lead)

    @property
    def quote(self) -> Quote:
        return Quote(self.evidence, self.start, self.end, None, self.reason)

    def event(
        self,
        kind: str,
        reason: str,
        confidence: float | None = None,
        quotes: tuple[Quote, ...] | None = None,
    ) -> Event:
        found = self.confidence if confidence is None else confidence
        sentences = (self.quote,) if quotes is None else quotes
        return Event(
            self.place, kind, found, self.evidence, self.start, self.end, reason, None, sentences
        )

    @property
    def weight(self) -> float:
        weight = LEAD_WEIGHT if self.lead else 1.0
        return weight * (BACKGROUND_WEIGHT if self.background else 1.0)


@dataclass(frozen=True, slots=True)
class Quote:
    """One deciding sentence as written; offsets index the original text."""

    text: str
    start: int
    end: int
    language: str | None = None  # the language of its paragraph
    reason: str = ""  # what this sentence says, in words

    def row(self) -> dict[str, str | int | None]:
        """The quote as stored and sent (``dataclasses.asdict`` without its deep copy)."""
        return {
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "language": self.language,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class Event:
    """What the article says happens at ``place``. ``evidence``, ``start``, ``end`` and
    ``language`` are the main deciding sentence's; ``sentences`` are all that decided,
    the main one first (empty only for events made by hand)."""

    place: str
    kind: str
    confidence: float
    evidence: str
    start: int
    end: int
    reason: str = ""  # what decided it, in words
    language: str | None = None  # the language of the main sentence
    sentences: tuple[Quote, ...] = ()

    @property
    def quotes(self) -> tuple[Quote, ...]:
        """The deciding sentences; for an event made by hand, its evidence alone."""
        return self.sentences or (
            Quote(self.evidence, self.start, self.end, self.language, self.reason),
        )


def boosted(confidence: float, repeats: int) -> float:
    """A little more sure for each further sentence that says the same."""
    return round(min(confidence + 0.02 * (repeats - 1), MAX_CONFIDENCE), 2)


def _joined(quotes: Iterable[Quote]) -> tuple[Quote, ...]:
    """Distinct sentences in order (the first of each), at most ``MAX_SENTENCES``."""
    kept: dict[int, Quote] = {}
    for quote in quotes:
        kept.setdefault(quote.start, quote)
    return tuple(kept.values())[:MAX_SENTENCES]


def merge(events: Iterable[Event]) -> list[Event]:
    """One event per (place, kind): the strongest evidence, boosted per repetition, with
    the sentences of the others after its own."""
    best: dict[tuple[str, str], Event] = {}
    seen: dict[tuple[str, str], list[Event]] = defaultdict(list)
    for event in events:
        key = (event.place, event.kind)
        seen[key].append(event)
        if key not in best or event.confidence > best[key].confidence:
            best[key] = event
    return [
        replace(
            e,
            confidence=boosted(e.confidence, len(seen[k])),
            sentences=_joined(q for o in (e, *seen[k]) for q in o.sentences),
        )
        for k, e in best.items()
    ]


def _score(findings: Iterable[Finding]) -> float:
    return sum(f.confidence * f.weight for f in findings)


def _ranked(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (-f.confidence * f.weight, f.sentence))


def _deciding(
    main: Finding, chosen: Sequence[Finding], answered: Sequence[Finding]
) -> tuple[Quote, ...]:
    """The sentences that decided a verdict, ``main`` first; a denial keeps the strongest
    claim it answers among them."""
    claims = [f for f in _ranked(answered) if f.sentence != main.sentence]
    return _joined(f.quote for f in (main, *claims[:1], *_ranked(chosen)))


def _withdrawal_family(findings: Sequence[Finding], lead_kinds: set[str]) -> Event | None:
    """The one withdrawal-family verdict at a place, if any."""
    by_kind: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        by_kind[finding.kind].append(finding)
    withdrawals = by_kind.get("withdrawal", [])
    denials = by_kind.get("denial", [])
    rules: list[str] = []
    answering: list[Finding] = []
    denied_in_lead = "denial" in lead_kinds and "withdrawal" not in lead_kinds
    answered = bool(denials) and all(f.claim or _score(denials) >= _score([f]) for f in withdrawals)
    if withdrawals and (denied_in_lead or answered):
        answering = [replace(f, kind="denial") for f in withdrawals]
        by_kind["denial"] = denials + answering
        by_kind.pop("withdrawal")
        rules.append("denied_in_lead" if denied_in_lead else "answered")
    withdrawals = by_kind.get("withdrawal", [])
    if withdrawals and all(f.background for f in withdrawals) and "withdrawal" not in lead_kinds:
        by_kind.pop("withdrawal")
        rules.append("background_only")
    withdrawals = by_kind.get("withdrawal", [])
    announced = "withdrawal_planned" in lead_kinds and "withdrawal" not in lead_kinds
    if withdrawals and announced and not any(f.begun for f in withdrawals):
        # A headline announcing a plan: the body's unmarked sentences tell the plan too.
        by_kind["withdrawal_planned"] = by_kind.get("withdrawal_planned", []) + [
            replace(f, kind="withdrawal_planned") for f in withdrawals
        ]
        by_kind.pop("withdrawal")
        rules.append("plan_in_lead")
    plans = by_kind.get("withdrawal_planned", [])
    withdrawals = by_kind.get("withdrawal", [])
    if withdrawals and plans:
        plan_in_lead = any(f.lead for f in plans) and not any(f.lead for f in withdrawals)
        fact = any(f.begun for f in withdrawals)
        if (plan_in_lead and not fact) or _score(plans) > _score(withdrawals) * (
            1.0 if fact else 0.8
        ):
            by_kind.pop("withdrawal")
            rules.append("plan_outweighs")
        else:
            by_kind.pop("withdrawal_planned")
            rules.append("report_outweighs")
    ranked = [k for k in FAMILY if by_kind.get(k)]
    if not ranked:
        return None
    kind = max(ranked, key=lambda k: (_score(by_kind[k]), -FAMILY.index(k)))
    chosen = by_kind[kind]
    best = _ranked(chosen)[0]
    # A denial answering a claim is told by the denying sentence, the claim beside it.
    claims = answering if kind == "denial" else []
    main = _ranked(denials)[0] if claims and denials else best
    said = len({f.sentence for f in chosen})
    why = verdict_words(main.reason, tuple(r for r in rules if _EXPLAINS[r] in (kind, None)), said)
    quotes = _deciding(main, chosen, claims)
    return main.event(kind, why, boosted(best.confidence, len(chosen)), quotes)


def judge(findings: Sequence[Finding]) -> list[Event]:
    """The article's verdicts: per place one of the withdrawal family, and the other kinds."""
    lead_kinds = {f.kind for f in findings if f.lead and f.kind in FAMILY}
    by_place: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        by_place[finding.place].append(finding)
    verdicts: list[Event] = []
    for found in by_place.values():
        family = [f for f in found if f.kind in FAMILY]
        if family and (verdict := _withdrawal_family(family, lead_kinds)):
            verdicts.append(verdict)
        verdicts += merge(f.event(f.kind, f.reason) for f in found if f.kind not in FAMILY)
    return verdicts


def in_languages(
    events: Iterable[Event], paragraphs: Sequence[tuple[int, int, str | None]], main: str | None
) -> list[Event]:
    """Events with each sentence in the language of the paragraph holding its start
    (``paragraphs``: start, end, language in the events' offsets, in order), else ``main``."""
    starts = [p[0] for p in paragraphs]

    def language(at: int) -> str | None:
        i = bisect_right(starts, at) - 1
        found = paragraphs[i][2] if i >= 0 and at < paragraphs[i][1] else None
        return found or main

    placed = []
    for event in events:
        quotes = tuple(replace(q, language=language(q.start)) for q in event.quotes)
        placed.append(replace(event, language=language(event.start), sentences=quotes))
    return placed
