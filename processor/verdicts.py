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
say something else happened, not whether forces are leaving. Pure functions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

LEAD = 2  # headline and first sentence
LEAD_WEIGHT = 1.5
BACKGROUND_WEIGHT = 0.3
FAMILY = ("withdrawal", "withdrawal_planned", "denial", "negotiation", "other")
MAX_CONFIDENCE = 0.99


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
    reason: str
    begun: bool = False  # the withdrawal is marked as begun or done
    claim: bool = False  # the sentence distances itself ("reportedly", "claimed")
    background: bool = False  # the sentence is about the past

    @property
    def lead(self) -> bool:
        return self.sentence < LEAD

    def event(self, kind: str, reason: str, confidence: float | None = None) -> Event:
        found = self.confidence if confidence is None else confidence
        return Event(self.place, kind, found, self.evidence, self.start, self.end, reason)

    @property
    def weight(self) -> float:
        weight = LEAD_WEIGHT if self.lead else 1.0
        return weight * (BACKGROUND_WEIGHT if self.background else 1.0)


@dataclass(frozen=True, slots=True)
class Event:
    """What the article says happens at ``place``; evidence offsets index the original text."""

    place: str
    kind: str
    confidence: float
    evidence: str
    start: int
    end: int
    reason: str = ""  # what decided it, in words


def boosted(confidence: float, repeats: int) -> float:
    """A little more sure for each further sentence that says the same."""
    return round(min(confidence + 0.02 * (repeats - 1), MAX_CONFIDENCE), 2)


def merge(events: Iterable[Event]) -> list[Event]:
    """One event per (place, kind): the strongest evidence, boosted per repetition."""
    best: dict[tuple[str, str], Event] = {}
    count: dict[tuple[str, str], int] = defaultdict(int)
    for event in events:
        key = (event.place, event.kind)
        count[key] += 1
        if key not in best or event.confidence > best[key].confidence:
            best[key] = event
    return [replace(e, confidence=boosted(e.confidence, count[k])) for k, e in best.items()]


def _score(findings: Iterable[Finding]) -> float:
    return sum(f.confidence * f.weight for f in findings)


def _strongest(findings: Sequence[Finding]) -> Finding:
    return max(findings, key=lambda f: (f.confidence * f.weight, -f.sentence))


def _withdrawal_family(findings: Sequence[Finding], lead_kinds: set[str]) -> Event | None:
    """The one withdrawal-family verdict at a place, if any."""
    by_kind: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        by_kind[finding.kind].append(finding)
    withdrawals = by_kind.get("withdrawal", [])
    denials = by_kind.get("denial", [])
    reason = ""
    denied_in_lead = "denial" in lead_kinds and "withdrawal" not in lead_kinds
    answered = bool(denials) and all(f.claim or _score(denials) >= _score([f]) for f in withdrawals)
    if withdrawals and (denied_in_lead or answered):
        by_kind["denial"] = denials + [replace(f, kind="denial") for f in withdrawals]
        by_kind.pop("withdrawal")
        reason = "denied in the article"
    withdrawals = by_kind.get("withdrawal", [])
    if withdrawals and all(f.background for f in withdrawals) and "withdrawal" not in lead_kinds:
        by_kind.pop("withdrawal")
        reason = "withdrawal only as background"
    withdrawals = by_kind.get("withdrawal", [])
    announced = "withdrawal_planned" in lead_kinds and "withdrawal" not in lead_kinds
    if withdrawals and announced and not any(f.begun for f in withdrawals):
        # A headline announcing a plan: the body's unmarked sentences tell the plan too.
        by_kind["withdrawal_planned"] = by_kind.get("withdrawal_planned", []) + [
            replace(f, kind="withdrawal_planned") for f in withdrawals
        ]
        by_kind.pop("withdrawal")
        reason = "a plan announced in the lead"
    plans = by_kind.get("withdrawal_planned", [])
    withdrawals = by_kind.get("withdrawal", [])
    if withdrawals and plans:
        plan_in_lead = any(f.lead for f in plans) and not any(f.lead for f in withdrawals)
        fact = any(f.begun for f in withdrawals)
        if (plan_in_lead and not fact) or _score(plans) > _score(withdrawals) * (
            1.0 if fact else 0.8
        ):
            by_kind.pop("withdrawal")
        else:
            by_kind.pop("withdrawal_planned")
    ranked = [k for k in FAMILY if by_kind.get(k)]
    if not ranked:
        return None
    kind = max(ranked, key=lambda k: (_score(by_kind[k]), -FAMILY.index(k)))
    chosen = by_kind[kind]
    best = _strongest(chosen)
    why = "; ".join(r for r in (best.reason, reason) if r)
    return best.event(kind, why, boosted(best.confidence, len(chosen)))


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
