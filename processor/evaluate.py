"""Accuracy against labelled documents: alerts, places, languages and event kinds.

Pure functions: labels and replay reports in, figures out. A document "alerts"
when the reader finds a US/coalition ``withdrawal`` or ``withdrawal_planned``
event at a place with at least the alert confidence, which is exactly when
Drawdown opens or corroborates a withdrawal alert.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from processor.events import EVENT_KINDS
from services.errors import InputError

ALERT_KINDS = frozenset({"withdrawal", "withdrawal_planned"})
NO_EVENT = "none"
# A label may name Kurdish as a whole; the reader says which Kurdish.
LANGUAGE_FAMILIES = {"ku": frozenset({"ku", "ckb", "kmr"})}


@dataclass(frozen=True, slots=True)
class Label:
    file: str
    language: str
    other_languages: tuple[str, ...]
    bases: frozenset[str]
    event: str
    withdrawal_alert: bool


@dataclass(frozen=True, slots=True)
class Reading:
    """What the reader made of one document (from its replay report)."""

    file: str
    language: str | None
    languages: tuple[str, ...]
    places: frozenset[str]
    kinds: frozenset[str]
    withdrawal_alert: bool
    error: str | None = None


@dataclass(slots=True)
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, expected: bool, got: bool) -> None:
        if expected and got:
            self.tp += 1
        elif got:
            self.fp += 1
        elif expected:
            self.fn += 1
        else:
            self.tn += 1

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def figures(self) -> dict[str, float | int]:
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            **asdict(self),
        }


@dataclass(slots=True)
class _Group:
    documents: int = 0
    alerts: Score = field(default_factory=Score)
    places: Score = field(default_factory=Score)
    languages_right: int = 0

    def figures(self) -> dict[str, Any]:
        return {
            "documents": self.documents,
            "alerts": self.alerts.figures(),
            "places": self.places.figures(),
            "language_accuracy": round(self.languages_right / self.documents, 4)
            if self.documents
            else 1.0,
        }


def parse_labels(data: object) -> list[Label]:
    """Labels from the JSON the user wrote; InputError names the first bad entry."""
    if not isinstance(data, list):
        raise InputError("labels must be a JSON list of objects")
    labels = []
    for number, entry in enumerate(data, 1):
        try:
            event = str(entry.get("event") or NO_EVENT)
            if event not in (*EVENT_KINDS, NO_EVENT):
                raise ValueError(f"unknown event {event!r}")
            labels.append(
                Label(
                    file=str(entry["file"]),
                    language=str(entry["language"]),
                    other_languages=tuple(entry.get("other_languages") or ()),
                    bases=frozenset(entry.get("bases") or ()),
                    event=event,
                    withdrawal_alert=bool(entry["withdrawal_alert"]),
                )
            )
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise InputError(f"label {number}: {exc!s}") from exc
    return labels


def reading(report: dict[str, Any], min_confidence: float) -> Reading:
    """A replay report line as a reading."""
    events = report.get("events") or []
    return Reading(
        file=report["file"],
        language=report.get("language"),
        languages=tuple(report.get("languages") or ()),
        places=frozenset(report.get("places") or ()),
        kinds=frozenset(e["kind"] for e in events),
        withdrawal_alert=any(
            e["kind"] in ALERT_KINDS and e["confidence"] >= min_confidence for e in events
        ),
        error=report.get("error"),
    )


def _same_language(expected: str, got: str | None) -> bool:
    return got == expected or got in LANGUAGE_FAMILIES.get(expected, ())


def _mistakes(label: Label, got: Reading) -> list[str]:
    mistakes = []
    if got.error:
        mistakes.append(f"error: {got.error}")
    if label.withdrawal_alert != got.withdrawal_alert:
        mistakes.append(f"alert expected {label.withdrawal_alert}, got {got.withdrawal_alert}")
    if missing := sorted(label.bases - got.places):
        mistakes.append(f"places missed {missing}")
    if not _same_language(label.language, got.language):
        mistakes.append(f"language expected {label.language}, got {got.language}")
    if label.event != NO_EVENT and label.event not in got.kinds:
        mistakes.append(f"event {label.event} not found (got {sorted(got.kinds) or 'none'})")
    return mistakes


def evaluate(labels: Sequence[Label], readings: Iterable[Reading]) -> dict[str, Any]:
    """Precision/recall/F1 overall, per language and per labelled event kind, and mistakes."""
    by_file = {r.file: r for r in readings}
    overall = _Group()
    per_language: defaultdict[str, _Group] = defaultdict(_Group)
    per_kind: defaultdict[str, _Group] = defaultdict(_Group)
    kinds_found: dict[str, Score] = defaultdict(Score)
    misread = []
    for label in labels:
        got = by_file.get(label.file) or Reading(
            label.file, None, (), frozenset(), frozenset(), False, "not in the replay"
        )
        right_language = _same_language(label.language, got.language)
        for group in (overall, per_language[label.language], per_kind[label.event]):
            group.documents += 1
            group.alerts.add(label.withdrawal_alert, got.withdrawal_alert)
            for place in label.bases | got.places:
                group.places.add(place in label.bases, place in got.places)
            group.languages_right += right_language
        for kind in EVENT_KINDS:
            kinds_found[kind].add(label.event == kind, kind in got.kinds)
        if mistakes := _mistakes(label, got):
            misread.append({"file": label.file, "mistakes": mistakes})
    return {
        "overall": overall.figures(),
        "per_language": {k: g.figures() for k, g in sorted(per_language.items())},
        "per_event_kind": {k: g.figures() for k, g in sorted(per_kind.items())},
        "event_kinds_found": {k: s.figures() for k, s in sorted(kinds_found.items())},
        "misclassified": misread,
    }
