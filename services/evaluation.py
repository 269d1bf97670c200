"""``drawdown evaluate``: replay a labelled directory in isolation and score the reading.

The documents go through the same replay path as always (bus, workers,
storage), but on a temporary SQLite database and the in-process bus, so an
evaluation never touches the configured database or topics and repeats exactly.
Each misread document is then read once more in-process to say what decided it.
"""

from __future__ import annotations

import json
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

from ingest.documents import from_json, from_text
from ingest.replay import Progress, replay
from processor.analyze import analyze
from processor.data import read
from processor.diagnose import nearest
from processor.evaluate import Label, evaluate, parse_labels, reading
from processor.gazetteer import gazetteer
from services.errors import DrawdownError, InputError
from services.runtime import open_runtime
from services.settings import Settings

LABELS = "labels.json"


@cache
def canonical_names() -> dict[str, str]:
    return {str(k): str(v) for k, v in read("canonical.yaml").items()}


def load_labels(path: Path) -> list[Label]:
    try:
        data = json.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read labels {path}: {exc.strerror or exc}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"labels {path} are not JSON: {exc}") from exc
    return parse_labels(data, canonical_names())


def _explain(directory: Path, entry: dict[str, Any]) -> None:
    """Add to a misread document what decided each event, and why a missed place was not
    found (for .txt and .json documents)."""
    path = directory / entry["file"]
    try:
        data = path.read_bytes()
        if path.suffix == ".txt":
            document = from_text(data, path.name)
        elif path.suffix == ".json":
            document = from_json(data, path.name)
        else:
            return
    except (OSError, DrawdownError):
        return
    read = analyze(document.title, document.text, fingerprinted=False)
    entry["events"] = [
        {"place": e.place, "kind": e.kind, "confidence": e.confidence, "reason": e.reason,
         "evidence": e.evidence[:300]}
        for e in read.events
    ]  # fmt: skip
    missed = entry["mistakes"].get("places_missed", [])
    entry["nearest"] = {
        place: (found.describe() if (found := nearest(read.text, place, gazetteer())) else None)
        for place in missed
    }


async def run(
    settings: Settings,
    directory: Path,
    labels_path: Path | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    labels = load_labels(labels_path or directory / LABELS)
    with tempfile.TemporaryDirectory(prefix="drawdown-evaluate-") as scratch:
        isolated = settings.model_copy(
            update={
                "database_url": f"sqlite+aiosqlite:///{scratch}/evaluate.db",
                "kafka_bootstrap": None,
            }
        )
        async with open_runtime(isolated) as runtime:
            reports = await replay(runtime, directory, progress)
    readings = [reading(r, settings.alert_min_confidence) for r in reports if "file" in r]
    result = evaluate(labels, readings)
    for entry in result["misread"]:
        _explain(directory, entry)
    return result


def _figure(score: dict[str, Any]) -> str:
    return f"{score['precision']:>6.3f} {score['recall']:>6.3f} {score['f1']:>6.3f}"


def _row(name: str, group: dict[str, Any]) -> str:
    return (
        f"{name:<14} {group['documents']:>5} {group['language_accuracy']:>6.3f}  "
        f"{_figure(group['places'])}  {_figure(group['alerts'])}  "
        f"{_figure(group['withdrawal_planned'])}"
    )


HEADER = (
    f"{'':<14} {'docs':>5} {'lang':>6}  {'plc P':>6} {'plc R':>6} {'plc F1':>6}  "
    f"{'alertP':>6} {'alertR':>6} {'alrtF1':>6}  {'planP':>6} {'planR':>6} {'planF1':>6}"
)


def _confusion(confusion: dict[str, dict[str, int]]) -> list[str]:
    read_as = sorted({kind for row in confusion.values() for kind in row})
    corner = "labelled \\ read as"
    lines = [f"{corner:<20}" + "".join(f"{k[:10]:>11}" for k in read_as)]
    for label, row in confusion.items():
        lines.append(f"{label:<20}" + "".join(f"{row.get(k, 0):>11}" for k in read_as))
    return lines


def render(result: dict[str, Any], split: bool = False, calibration: bool = False) -> str:
    """The figures as tables for people, then the misread documents."""
    lines = [HEADER]
    lines += [_row(name, result[name]) for name in ("all", "unambiguous")]
    if split:
        lines += [_row(f"{part} part", result["split"][part]) for part in ("tuning", "check")]
    lines += ["", "per language (unambiguous items)", HEADER]
    lines += [_row(k, g) for k, g in result["unambiguous"]["per_language"].items()]
    lines += [
        "",
        "event kinds (unambiguous items)",
        *_confusion(result["unambiguous"]["confusion"]),
    ]
    if calibration:
        lines += [
            "",
            "calibration (unambiguous items): documents by the confidence of their strongest "
            "withdrawal; precision in the bin, and of every document at or above its floor",
        ]
        lines += _calibration(result["calibration"])
    lines += _misread(result["misread"])
    return "\n".join(lines)


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _cell(figures: dict[str, Any], width: int) -> str:
    return f"{_share(figures['precision'])} of {figures['documents']}".rjust(width)


def _calibration(parts: dict[str, list[dict[str, Any]]]) -> list[str]:
    lines = [
        f"  {'confidence':<10}"
        + "".join(f"{part + ' in bin':>20}{'at or above':>14}" for part in parts)
    ]
    for n, row in enumerate(parts["unambiguous"]):
        cells = ""
        for rows in parts.values():
            inside, above = rows[n], rows[n]["at_or_above"]
            cells += _cell(inside, 20) + _cell(above, 14)
        lines.append(f"  {row['confidence']:<10}{cells}")
    return lines


def _misread(misread: list[dict[str, Any]]) -> list[str]:
    lines = ["", f"misread documents: {len(misread)}"]
    for entry in misread:
        flag = " AMBIGUOUS" if entry["ambiguous"] else ""
        mistakes = "; ".join(f"{k} {v}" for k, v in entry["mistakes"].items())
        event = entry["event"]
        lines.append(
            f"  {entry['file']} ({entry['part']}{flag}): {mistakes}; "
            f"event {event['expected']} read as {event['got']}"
        )
        for e in entry.get("events", []):
            lines.append(
                f"      {e['place']} {e['kind']} {e['confidence']}: {e.get('reason', '')}"
                f" | {e['evidence'][:160]!r}"
            )
        for place, why in (entry.get("nearest") or {}).items():
            lines.append(f"      missed {place}: {why or 'no similar words'}")
    return lines
