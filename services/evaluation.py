"""``drawdown evaluate``: replay a labelled directory in isolation and score the reading.

The documents go through the same replay path as always (bus, workers,
storage), but on a temporary SQLite database and the in-process bus, so an
evaluation never touches the configured database or topics and repeats exactly.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from ingest.replay import Progress, replay
from processor.evaluate import evaluate, parse_labels, reading
from services.errors import InputError
from services.runtime import open_runtime
from services.settings import Settings


def load_labels(path: Path) -> list[Any]:
    try:
        data = json.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read labels {path}: {exc.strerror or exc}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"labels {path} are not JSON: {exc}") from exc
    return parse_labels(data)


async def run(
    settings: Settings, directory: Path, labels_path: Path, progress: Progress | None = None
) -> dict[str, Any]:
    labels = load_labels(labels_path)
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
    return evaluate(labels, readings)


def _row(name: str, group: dict[str, Any]) -> str:
    alerts, places = group["alerts"], group["places"]
    return (
        f"{name:<20} {group['documents']:>5} "
        f"{alerts['precision']:>7.3f} {alerts['recall']:>7.3f} {alerts['f1']:>7.3f} "
        f"{places['precision']:>7.3f} {places['recall']:>7.3f} "
        f"{group['language_accuracy']:>7.3f}"
    )


def render(result: dict[str, Any]) -> str:
    """The figures as a table for people, then the misread documents."""
    header = (
        f"{'':<20} {'docs':>5} {'alert P':>7} {'alert R':>7} {'alert F1':>7} "
        f"{'place P':>7} {'place R':>7} {'lang':>7}"
    )
    lines = [header, _row("all", result["overall"]), ""]
    lines += ["per language", *(_row(k, g) for k, g in result["per_language"].items()), ""]
    lines += ["per labelled event", *(_row(k, g) for k, g in result["per_event_kind"].items())]
    lines += ["", "event kinds found (precision / recall)"]
    lines += [
        f"  {kind:<20} {s['precision']:.3f} / {s['recall']:.3f}"
        for kind, s in result["event_kinds_found"].items()
    ]
    misread = result["misclassified"]
    lines += ["", f"misread documents: {len(misread)}"]
    lines += [f"  {m['file']}: {'; '.join(m['mistakes'])}" for m in misread]
    return "\n".join(lines)
