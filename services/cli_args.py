"""The ``drawdown`` command line's arguments and help: every command with a line that
says what it does, a description, working examples and the settings it reads."""

from __future__ import annotations

import argparse
import textwrap
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

STATUSES = ("pending", "delivered", "dead", "cancelled")
if TYPE_CHECKING:
    Commands: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]

DESCRIPTION = """\
Drawdown watches news in many languages and raises alerts when outlets report
that foreign forces are withdrawing from named military bases.

Configuration comes from DRAWDOWN_* environment variables (see docs/configuration.md).
With none set, Drawdown keeps its data in ./drawdown.db and uses an in-process bus."""

EPILOG = """\
examples:
  drawdown run                    # every role in one process, on ./drawdown.db
  drawdown replay seeds --json    # read the bundled seed articles, a JSON line each
  drawdown status                 # up? processes and roles, lag, sources, last alerts
  drawdown places                 # each place's latest story
  DRAWDOWN_DATABASE_URL=postgresql+asyncpg://drawdown@db/drawdown drawdown migrate

`drawdown COMMAND --help` shows each command's examples and the settings it reads.
Logs go to stderr: JSON lines, or text on a terminal (DRAWDOWN_LOG_FORMAT,
DRAWDOWN_LOG_LEVEL)."""

PG = "DRAWDOWN_DATABASE_URL=postgresql+asyncpg://drawdown@db/drawdown"
KAFKA = "DRAWDOWN_KAFKA_BOOTSTRAP=kafka:9092"
# Settings every command reads, named in no command's own list.
COMMON = "DRAWDOWN_LOG_LEVEL, DRAWDOWN_LOG_FORMAT"


def _command(
    commands: Commands,
    name: str,
    summary: str,
    examples: list[str],
    reads: str,
    description: str | None = None,
) -> argparse.ArgumentParser:
    """A subcommand whose --help ends with examples and the settings it reads."""
    text = [textwrap.fill(description or summary[0].upper() + summary[1:] + ".", 79)]
    epilog = ["examples:", *(f"  {example}" for example in examples), ""]
    epilog.append(textwrap.fill(f"settings: {reads}, {COMMON}", 79, subsequent_indent="  "))
    return commands.add_parser(
        name,
        help=summary,
        description="\n".join(text),
        epilog="\n".join(epilog),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _version() -> str:
    try:
        return metadata.version("drawdown")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="drawdown",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    top.add_argument("--version", action="version", version=f"drawdown {_version()}")
    commands = top.add_subparsers(
        title="commands", dest="command", required=True, metavar="COMMAND"
    )
    _role_parsers(commands)
    _reading_parsers(commands)
    _webhook_parsers(commands)
    return top


def _role_parsers(commands: Commands) -> None:
    _command(
        commands,
        "run",
        "the always-on daemon: every role in one process (stop with Ctrl-C)",
        [
            "drawdown run",
            "DRAWDOWN_SOURCES=my-sources.yaml DRAWDOWN_HTTP_ADDR=0.0.0.0:8000 drawdown run",
            f"{KAFKA} drawdown run",
        ],
        "every role's (see docs/configuration.md), DRAWDOWN_DATABASE_URL, "
        "DRAWDOWN_KAFKA_BOOTSTRAP, DRAWDOWN_SOURCES, DRAWDOWN_HTTP_ADDR, "
        "DRAWDOWN_SHUTDOWN_TIMEOUT, DRAWDOWN_HEARTBEAT_INTERVAL",
        "Run every role in one process: poll the sources, read and store what they publish, "
        "raise alerts, send webhooks, and serve the API and dashboard on DRAWDOWN_HTTP_ADDR, "
        "until SIGINT/SIGTERM, which drain the work in hand and stop. The process reports "
        "itself to `drawdown status` while it runs.",
    )
    _command(
        commands,
        "ingest",
        "only the poller role: poll the sources and publish new articles (needs Kafka)",
        [f"{KAFKA} drawdown ingest"],
        "DRAWDOWN_KAFKA_BOOTSTRAP, DRAWDOWN_DATABASE_URL, DRAWDOWN_SOURCES, "
        "DRAWDOWN_POLL_*, DRAWDOWN_*_POLL_INTERVAL, DRAWDOWN_PER_HOST_*, DRAWDOWN_FETCH_*, "
        "DRAWDOWN_HEARTBEAT_INTERVAL",
        "Load DRAWDOWN_SOURCES (or the shipped sources file), then poll due sources and "
        "publish new articles to the raw topic until SIGINT/SIGTERM. Needs "
        "DRAWDOWN_KAFKA_BOOTSTRAP: on the in-process bus nobody else could read them "
        "(use `drawdown run`). Run as many as you like against one PostgreSQL.",
    )
    _command(
        commands,
        "process",
        "only the processor role: read, store and alert",
        [f"{KAFKA} drawdown process", f"{KAFKA} DRAWDOWN_BATCH_SIZE=500 drawdown process"],
        "DRAWDOWN_KAFKA_BOOTSTRAP, DRAWDOWN_DATABASE_URL, DRAWDOWN_CONSUMER_GROUP, "
        "DRAWDOWN_BATCH_SIZE, DRAWDOWN_WORKER_PROCESSES, DRAWDOWN_ALERT_*, DRAWDOWN_SOURCES "
        "(its subscriptions), DRAWDOWN_HEARTBEAT_INTERVAL",
        "Read articles from the raw topic in the processors' consumer group: language, places, "
        "events, deduplication, storage and alerts (with the webhook deliveries they owe), "
        "until SIGINT/SIGTERM. Run one per partition of the raw topic at most.",
    )
    _command(
        commands,
        "dispatch",
        "only the webhook dispatcher role: send alert webhooks, retry, record attempts",
        ["drawdown dispatch", f"{PG} drawdown dispatch"],
        "DRAWDOWN_DATABASE_URL, DRAWDOWN_SOURCES (its subscriptions), DRAWDOWN_WEBHOOK_*, "
        "DRAWDOWN_HEARTBEAT_INTERVAL",
        "Load the subscriptions of DRAWDOWN_SOURCES, then send due webhook deliveries "
        "(signed per Standard Webhooks) until SIGINT/SIGTERM. Run as many as you like "
        "against one PostgreSQL: they share deliveries.",
    )
    _command(
        commands,
        "api",
        "only the HTTP API and dashboard role, on DRAWDOWN_HTTP_ADDR",
        [
            "drawdown api",
            "DRAWDOWN_HTTP_ADDR=0.0.0.0:8080 DRAWDOWN_API_TOKEN=change-me drawdown api",
        ],
        "DRAWDOWN_DATABASE_URL, DRAWDOWN_HTTP_ADDR, DRAWDOWN_API_TOKEN, "
        "DRAWDOWN_KAFKA_BOOTSTRAP (for /readyz), DRAWDOWN_HEARTBEAT_INTERVAL",
        "Serve the HTTP API (/openapi.json, /docs), /healthz, /readyz, /metrics and the "
        "dashboard at / on DRAWDOWN_HTTP_ADDR (default 127.0.0.1:8000) until SIGINT/SIGTERM.",
    )
    status = _command(
        commands,
        "status",
        "one screen: database, bus and lag, processes and roles, sources, last alerts",
        ["drawdown status", "drawdown status --json", f"{KAFKA} drawdown status"],
        "DRAWDOWN_DATABASE_URL, DRAWDOWN_KAFKA_BOOTSTRAP, DRAWDOWN_CONSUMER_GROUP, "
        "DRAWDOWN_TOPIC_PREFIX, DRAWDOWN_HEARTBEAT_INTERVAL",
        "Show the database (reachable, migrations at head), the bus (Kafka: ready, and the "
        "processors' lag per partition), the running processes and their roles (alive, or "
        "stale when silent for three heartbeats), sources by health with the failing ones "
        "named, dead letters, webhook deliveries pending and dead, and the last 10 alerts. "
        "Starts nothing and creates no database. Exits 0 when the database and the bus are "
        "ready, 1 otherwise, saying why.",
    )
    status.add_argument("--json", action="store_true", help="one JSON object")
    _command(
        commands,
        "migrate",
        "apply database migrations to DRAWDOWN_DATABASE_URL",
        ["drawdown migrate", f"{PG} drawdown migrate"],
        "DRAWDOWN_DATABASE_URL",
    )


def _reading_parsers(commands: Commands) -> None:
    sources = _command(
        commands,
        "sources",
        "load the sources file, then show every source's poll state and health",
        [
            "drawdown sources",
            "DRAWDOWN_SOURCES=my-sources.yaml drawdown sources --json",
            "drawdown sources add https://www.enabbaladi.net/feed --name 'Enab Baladi'",
            "drawdown sources import subscriptions.opml",
            "drawdown sources export  # OPML on stdout",
        ],
        "DRAWDOWN_DATABASE_URL, DRAWDOWN_SOURCES",
        "Without an action: load DRAWDOWN_SOURCES (or the shipped sources file) into the "
        "database, then show each source: kind, enabled, last and next poll, last status, "
        "consecutive errors, last error and articles found. The actions add, remove, enable "
        "and disable sources, import an OPML subscription list and export one; sources "
        "added so stay when the sources file is reloaded.",
    )
    sources.add_argument("--json", action="store_true", help="one JSON object per source")
    _source_actions(sources)
    replay = _command(
        commands,
        "replay",
        "feed a directory of documents (or one file) through the bus and workers, then report",
        [
            "drawdown replay seeds",
            "drawdown replay seeds --json",
            "drawdown replay seeds/000_467fa69daf76dde6.txt",
            f"{KAFKA} drawdown replay seeds",
        ],
        "DRAWDOWN_DATABASE_URL, DRAWDOWN_KAFKA_BOOTSTRAP, DRAWDOWN_TOPIC_PREFIX, "
        "DRAWDOWN_SOURCES (its subscriptions), DRAWDOWN_REPLAY_TIMEOUT, "
        "DRAWDOWN_WORKER_PROCESSES, DRAWDOWN_ALERT_*",
        "Feed every file in DIR, or the one FILE (.txt: first non-empty line is the title; "
        ".html: extracted like a fetched page; .json: {url, title, text, published_at, "
        "language?, outlet?}; UTF-8, or UTF-16/32 with a BOM) through the configured bus and "
        "workers, wait until each is processed, then report every file: a file that cannot "
        "be read is an error line, a symlink out of DIR, a dangling one, a subdirectory or "
        "a hidden file a skipped line. Exits 1 when any document failed (the summary is "
        "printed still). On a terminal a progress bar on stderr counts the documents "
        "processed.",
    )
    replay.add_argument("directory", metavar="DIR|FILE", type=Path)
    replay.add_argument(
        "--json", action="store_true", help="one JSON object per document and a summary object"
    )
    places = _command(
        commands,
        "places",
        "each place's latest story: kind, status, outlets, languages, since when",
        ["drawdown places", "drawdown places --json"],
        "DRAWDOWN_DATABASE_URL",
    )
    places.add_argument("--json", action="store_true", help="one JSON object per place")
    evaluate = _command(
        commands,
        "evaluate",
        "replay a labelled directory in isolation and print the reading's accuracy",
        [
            "drawdown evaluate ../shared/corpus/news",
            "drawdown evaluate ../shared/corpus/news --split --calibration",
            "drawdown evaluate tests/eval/corpus tests/eval/labels.json --json",
        ],
        "DRAWDOWN_ALERT_*, DRAWDOWN_WORKER_PROCESSES, DRAWDOWN_REPLAY_TIMEOUT (never "
        "DRAWDOWN_DATABASE_URL or DRAWDOWN_KAFKA_BOOTSTRAP: it runs on a temporary database)",
        "Replay DIR on a temporary database and the in-process bus, compare with LABELS "
        "(default DIR/labels.json: a JSON list of {file, source_url, language, bases, event, "
        "withdrawal_alert, notes}; bases by place id or by the canonical names of "
        "processor/data/canonical.yaml) and print, for all items and for those whose notes do "
        "not begin AMBIGUOUS: language accuracy, place precision/recall, withdrawal-alert and "
        "withdrawal_planned precision/recall/F1, per language, an event-kind confusion table, "
        "then every misread document with the events and rules that decided it and, for a "
        "missed place, the nearest words the matcher turned down and why. On a terminal a "
        "progress bar on stderr counts the documents.",
    )
    evaluate.add_argument("directory", metavar="DIR", type=Path)
    evaluate.add_argument("labels", metavar="LABELS.json", type=Path, nargs="?", default=None)
    evaluate.add_argument("--json", action="store_true", help="one JSON object of figures")
    evaluate.add_argument(
        "--split",
        action="store_true",
        help="also the tuning and check parts (the corpus split by outlet, one in three to check)",
    )
    evaluate.add_argument(
        "--calibration",
        action="store_true",
        help="also how often each confidence of the strongest withdrawal event is right",
    )


def _source_actions(sources: argparse.ArgumentParser) -> None:
    actions = sources.add_subparsers(title="actions", dest="action", metavar="ACTION")
    add = actions.add_parser("add", help="add a source, due for a poll at once")
    add.add_argument("url", metavar="URL", help="the feed's or listing page's http(s) URL")
    add.add_argument("--kind", choices=("feed", "page"), default="feed", help="(feed)")
    add.add_argument("--name", help="how it is shown and counted as an outlet (the URL)")
    add.add_argument("--language", metavar="CODE", help="a language hint, e.g. ar")
    add.add_argument("--interval", type=float, metavar="SECONDS", help="(DRAWDOWN_POLL_INTERVAL)")
    for name, what in (
        ("remove", "remove a source added with add, import or the API"),
        ("enable", "enable a source (one of the sources file's: until it is reloaded)"),
        ("disable", "disable a source (one of the sources file's: until it is reloaded)"),
    ):
        action = actions.add_parser(name, help=what)
        action.add_argument("source", metavar="SOURCE", help="its URL, name or id")
    opml = actions.add_parser("import", help="add every feed of an OPML subscription list")
    opml.add_argument("file", metavar="FILE.opml", type=Path)
    actions.add_parser("export", help="print every source as an OPML subscription list")


def _webhook_parsers(commands: Commands) -> None:
    reads = "DRAWDOWN_DATABASE_URL"
    deliveries = _command(
        commands,
        "deliveries",
        "webhook deliveries, newest first, with their attempts",
        [
            "drawdown deliveries --status dead",
            'drawdown deliveries --subscription "newsroom bridge" --limit 10 --json',
        ],
        reads,
    )
    deliveries.add_argument("--subscription", metavar="NAME", help="only this subscription's")
    deliveries.add_argument("--status", choices=STATUSES, help="only deliveries in this state")
    deliveries.add_argument("--limit", type=int, default=50, help="at most this many (50)")
    deliveries.add_argument("--json", action="store_true", help="one JSON object per delivery")
    redeliver = _command(
        commands,
        "redeliver",
        "requeue one delivery, or every dead one, with a fresh retry horizon",
        [
            "drawdown redeliver --dead",
            'drawdown redeliver --dead --subscription "newsroom bridge"',
            "drawdown redeliver --delivery 0b475666-1821-4e77-bf0c-2c70bfc9884a",
        ],
        f"{reads}, DRAWDOWN_WEBHOOK_RETRY_HORIZON",
    )
    which = redeliver.add_mutually_exclusive_group(required=True)
    which.add_argument("--delivery", metavar="ID", help="the delivery's id")
    which.add_argument("--dead", action="store_true", help="every dead delivery")
    redeliver.add_argument(
        "--subscription", metavar="NAME", help="with --dead: only this subscription's"
    )
    ping = _command(
        commands,
        "ping",
        "send a signed webhook.test event (an Apprise test message) to a subscription "
        "and show the answer",
        ['drawdown ping "newsroom bridge"'],
        f"{reads}, DRAWDOWN_SOURCES (its subscriptions), DRAWDOWN_WEBHOOK_TIMEOUT, "
        "DRAWDOWN_WEBHOOK_CONNECT_TIMEOUT, DRAWDOWN_WEBHOOK_ALLOWED_NETWORKS",
    )
    ping.add_argument("subscription", metavar="SUBSCRIPTION", help="the subscription's name")
    subscriptions = _command(
        commands,
        "subscriptions",
        "load the sources file's subscriptions, then show each (never its secret)",
        [
            "drawdown subscriptions",
            "drawdown subscriptions --json",
            'drawdown subscriptions --enable "newsroom bridge"',
        ],
        f"{reads}, DRAWDOWN_SOURCES",
    )
    subscriptions.add_argument("--json", action="store_true", help="one JSON object each")
    subscriptions.add_argument(
        "--enable", metavar="NAME", help="re-activate a subscription (e.g. after a 410)"
    )
