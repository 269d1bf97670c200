"""Accuracy against labelled documents: languages, places, withdrawal alerts, event kinds.

Pure functions: labels and replay reports in, figures out. The labels follow the format of
a labelled news corpus (``labels.json``: file, source_url, language, bases, event,
withdrawal_alert, notes). A document "alerts" when the reader finds a ``withdrawal`` event
(begun, under way or done, reported as fact) with at least the alert confidence: exactly
when Drawdown opens or corroborates a withdrawal alert. Items whose notes begin
``AMBIGUOUS`` are scored apart as well, and the corpus is split by outlet (the URL's host)
into a tuning part and a check part, so a rule that fits texts rather than the language
shows as a gap between the two.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from itertools import pairwise
from typing import Any
from urllib.parse import urlsplit

from processor.events import EVENT_KINDS
from processor.gazetteer import gazetteer
from services.errors import InputError

NO_EVENT = "none"
UNRELATED = "unrelated"
AMBIGUOUS = "AMBIGUOUS"
CHECK_SHARE = 3  # one outlet in three goes to the check part
# A label may name Kurdish as a whole; the reader says which Kurdish.
LANGUAGE_FAMILIES = {"ku": frozenset({"ku", "ckb", "kmr"})}
# The kind a document is read as, when it has several: the first of these it has.
PRECEDENCE = ("withdrawal", "withdrawal_planned", "denial", "negotiation", *EVENT_KINDS)
CALIBRATION_BINS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.01)


@dataclass(frozen=True, slots=True)
class Label:
    file: str
    language: str
    other_languages: tuple[str, ...]
    bases: frozenset[str]
    event: str
    withdrawal_alert: bool
    source_url: str = ""
    ambiguous: bool = False

    @property
    def part(self) -> str:
        return split_of(self.source_url or self.file)


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
    confidence: float = 0.0  # of its strongest withdrawal event
    events: tuple[dict[str, Any], ...] = ()

    @property
    def kind(self) -> str:
        return next((k for k in PRECEDENCE if k in self.kinds), NO_EVENT)


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
    planned: Score = field(default_factory=Score)
    places: Score = field(default_factory=Score)
    languages_right: int = 0

    def add(self, label: Label, got: Reading) -> None:
        self.documents += 1
        self.alerts.add(label.withdrawal_alert, got.withdrawal_alert)
        self.planned.add(label.event == "withdrawal_planned", "withdrawal_planned" in got.kinds)
        expected, found = _bases(label.bases), _bases(got.places)
        for place in expected | found:
            self.places.add(place in expected, place in found)
        self.languages_right += same_language(label.language, got.language)

    def figures(self) -> dict[str, Any]:
        return {
            "documents": self.documents,
            "alerts": self.alerts.figures(),
            "withdrawal_planned": self.planned.figures(),
            "places": self.places.figures(),
            "language_accuracy": round(self.languages_right / self.documents, 4)
            if self.documents
            else 1.0,
        }


def _bases(places: frozenset[str]) -> frozenset[str]:
    """Only bases are scored: labels list the bases a text names, not the countries."""
    known = gazetteer()
    return frozenset(p for p in places if not _is_country(known, p))


def _is_country(known: Any, place: str) -> bool:
    try:
        return bool(known.get(place).is_country)
    except KeyError:
        return False


def split_of(url: str) -> str:
    """``tuning`` or ``check``: by the outlet (host, without ``www.``), the same on every run."""
    host = (urlsplit(url).hostname or url).lower().removeprefix("www.")
    digest = int(hashlib.sha256(host.encode()).hexdigest(), 16)
    return "check" if digest % CHECK_SHARE == 0 else "tuning"


def parse_labels(data: object, canonical: Mapping[str, str] | None = None) -> list[Label]:
    """Labels from the JSON the user wrote; canonical base names become place ids.
    InputError names the first bad entry."""
    if not isinstance(data, list):
        raise InputError("labels must be a JSON list of objects")
    canonical = canonical or {}
    labels = []
    for number, entry in enumerate(data, 1):
        try:
            event = str(entry.get("event") or NO_EVENT)
            if event not in (*EVENT_KINDS, NO_EVENT, UNRELATED):
                raise ValueError(f"unknown event {event!r}")
            labels.append(
                Label(
                    file=str(entry["file"]),
                    language=str(entry["language"]),
                    other_languages=tuple(entry.get("other_languages") or ()),
                    bases=frozenset(canonical.get(b, b) for b in entry.get("bases") or ()),
                    event=event,
                    withdrawal_alert=bool(entry["withdrawal_alert"]),
                    source_url=str(entry.get("source_url") or ""),
                    ambiguous=str(entry.get("notes") or "").startswith(AMBIGUOUS),
                )
            )
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise InputError(f"label {number}: {exc!s}") from exc
    return labels


def reading(report: dict[str, Any], min_confidence: float) -> Reading:
    """A replay report line as a reading."""
    events = tuple(report.get("events") or ())
    withdrawals = [e["confidence"] for e in events if e["kind"] == "withdrawal"]
    return Reading(
        file=report["file"],
        language=report.get("language"),
        languages=tuple(report.get("languages") or ()),
        places=frozenset(report.get("places") or ()),
        kinds=frozenset(e["kind"] for e in events),
        withdrawal_alert=any(c >= min_confidence for c in withdrawals),
        error=report.get("error"),
        confidence=max(withdrawals, default=0.0),
        events=events,
    )


def same_language(expected: str, got: str | None) -> bool:
    return got == expected or got in LANGUAGE_FAMILIES.get(expected, ())


def _mistakes(label: Label, got: Reading) -> dict[str, Any]:
    mistakes: dict[str, Any] = {}
    if got.error:
        mistakes["error"] = got.error
    if label.withdrawal_alert != got.withdrawal_alert:
        mistakes["alert"] = {"expected": label.withdrawal_alert, "got": got.withdrawal_alert}
    expected, found = _bases(label.bases), _bases(got.places)
    if missing := sorted(expected - found):
        mistakes["places_missed"] = missing
    if extra := sorted(found - expected):
        mistakes["places_extra"] = extra
    if not same_language(label.language, got.language):
        mistakes["language"] = {"expected": label.language, "got": got.language}
    return mistakes


def _precision(alerts: Sequence[bool]) -> float | None:
    return round(sum(alerts) / len(alerts), 4) if alerts else None


def _calibration(pairs: Iterable[tuple[float, bool]]) -> list[dict[str, Any]]:
    """How often a document whose strongest withdrawal event has a confidence in each bin
    really reports a withdrawal, and how often one at or above the bin's floor does: what
    a subscriber choosing ``min_confidence`` gets."""
    rows = []
    pairs = [(confidence, alert) for confidence, alert in pairs if confidence]
    for low, high in pairwise(CALIBRATION_BINS):
        inside = [alert for confidence, alert in pairs if low <= confidence < high]
        above = [alert for confidence, alert in pairs if confidence >= low]
        rows.append(
            {
                "confidence": f"{low:.1f}–{min(high, 1.0):.1f}",
                "documents": len(inside),
                "withdrawals": sum(inside),
                "precision": _precision(inside),
                "at_or_above": {"documents": len(above), "precision": _precision(above)},
            }
        )
    return rows


def _scores(pairs: Sequence[tuple[Label, Reading]]) -> dict[str, Any]:
    overall = _Group()
    per_language: defaultdict[str, _Group] = defaultdict(_Group)
    confusion: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for label, got in pairs:
        overall.add(label, got)
        per_language[label.language].add(label, got)
        confusion[label.event][got.kind] += 1
    return {
        **overall.figures(),
        "per_language": {k: g.figures() for k, g in sorted(per_language.items())},
        "confusion": {k: dict(sorted(c.items())) for k, c in sorted(confusion.items())},
    }


def evaluate(labels: Sequence[Label], readings: Iterable[Reading]) -> dict[str, Any]:
    """Figures for all items and the unambiguous ones, the tuning and check parts of the
    unambiguous ones, a reliability table of confidence, and every misread document."""
    by_file = {r.file: r for r in readings}
    pairs = [
        (
            label,
            by_file.get(label.file)
            or Reading(label.file, None, (), frozenset(), frozenset(), False, "not in the replay"),
        )
        for label in labels
    ]
    clear = [(label, got) for label, got in pairs if not label.ambiguous]
    misread = []
    for label, got in pairs:
        if mistakes := _mistakes(label, got):
            misread.append(
                {
                    "file": label.file,
                    "ambiguous": label.ambiguous,
                    "part": label.part,
                    "event": {"expected": label.event, "got": got.kind},
                    "mistakes": mistakes,
                    "events": list(got.events),
                }
            )
    return {
        "all": _scores(pairs),
        "unambiguous": _scores(clear),
        "split": {
            part: _scores([(label, got) for label, got in clear if label.part == part])
            for part in ("tuning", "check")
        },
        "calibration": {
            part: _calibration(
                (got.confidence, label.withdrawal_alert)
                for label, got in clear
                if part == "unambiguous" or label.part == part
            )
            for part in ("unambiguous", "tuning", "check")
        },
        "misread": misread,
    }
