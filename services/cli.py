"""The ``drawdown`` command line: the daemon, single roles, migrations and replay."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from pathlib import Path

from pydantic import ValidationError

from services import daemon, logs
from services.db import create_engine, migrate
from services.errors import DrawdownError
from services.settings import Settings
from services.sources_table import show_sources

log = logging.getLogger("drawdown")
STATUSES = ("pending", "delivered", "dead", "cancelled")
WEBHOOK_COMMANDS = frozenset({"deliveries", "redeliver", "ping", "subscriptions"})

DESCRIPTION = """\
Drawdown watches news in many languages and raises alerts when outlets report
that foreign forces are withdrawing from named military bases.

Configuration comes from DRAWDOWN_* environment variables (see docs/configuration.md).
With none set, Drawdown keeps its data in ./drawdown.db and uses an in-process bus."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="drawdown",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "run", help="the always-on daemon: every role in one process (stop with Ctrl-C)"
    )
    commands.add_parser(
        "ingest",
        help="only the poller role: poll the sources and publish new articles (needs Kafka)",
        description=(
            "Load DRAWDOWN_SOURCES (or the shipped sources file), then poll due sources and "
            "publish new articles to the raw topic until SIGINT/SIGTERM. Needs "
            "DRAWDOWN_KAFKA_BOOTSTRAP: on the in-process bus nobody else could read them "
            "(use `drawdown run`). Run as many as you like against one PostgreSQL."
        ),
    )
    commands.add_parser("process", help="only the processor role: read, store and alert")
    commands.add_parser(
        "dispatch",
        help="only the webhook dispatcher role: send alert webhooks, retry, record attempts",
        description=(
            "Load the subscriptions of DRAWDOWN_SOURCES, then send due webhook deliveries "
            "(signed per Standard Webhooks) until SIGINT/SIGTERM. Run as many as you like "
            "against one PostgreSQL: they share deliveries."
        ),
    )
    commands.add_parser(
        "api",
        help="only the HTTP API and dashboard role, on DRAWDOWN_HTTP_ADDR",
        description=(
            "Serve the HTTP API (/openapi.json, /docs), /healthz, /readyz, /metrics and the "
            "dashboard at / on DRAWDOWN_HTTP_ADDR (default 127.0.0.1:8000) until "
            "SIGINT/SIGTERM."
        ),
    )
    _webhook_parsers(commands)
    sources = commands.add_parser(
        "sources",
        help="load the sources file, then show every source's poll state and health",
        description=(
            "Load DRAWDOWN_SOURCES (or the shipped sources file) into the database, then "
            "show each source: kind, enabled, last and next poll, last status, consecutive "
            "errors, last error and articles found."
        ),
    )
    sources.add_argument("--json", action="store_true", help="one JSON object per source")
    commands.add_parser("migrate", help="apply database migrations to DRAWDOWN_DATABASE_URL")
    replay = commands.add_parser(
        "replay",
        help="feed a directory of documents through the bus and workers, then report",
        description=(
            "Feed every file in DIR (.txt: first non-empty line is the title; .html: extracted "
            "like a fetched page; .json: {url, title, text, published_at, language?}) through "
            "the configured bus and workers, wait until each is processed, then report."
        ),
    )
    replay.add_argument("directory", metavar="DIR", type=Path)
    replay.add_argument(
        "--json", action="store_true", help="one JSON object per document and a summary object"
    )
    places = commands.add_parser(
        "places", help="each place's latest story: kind, status, outlets, languages, since when"
    )
    places.add_argument("--json", action="store_true", help="one JSON object per place")
    evaluate = commands.add_parser(
        "evaluate",
        help="replay a labelled directory in isolation and print the reading's accuracy",
        description=(
            "Replay DIR on a temporary database and the in-process bus, compare with LABELS "
            '(a JSON list of {"file", "language", "other_languages", "bases", "event", '
            '"withdrawal_alert"}) and print precision/recall/F1 for withdrawal alerts and '
            "places and language accuracy, overall, per language and per event kind, then "
            "the misread documents."
        ),
    )
    evaluate.add_argument("directory", metavar="DIR", type=Path)
    evaluate.add_argument("labels", metavar="LABELS.json", type=Path)
    evaluate.add_argument("--json", action="store_true", help="one JSON object of figures")
    return parser


def _webhook_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    deliveries = commands.add_parser(
        "deliveries", help="webhook deliveries, newest first, with their attempts"
    )
    deliveries.add_argument("--subscription", metavar="NAME", help="only this subscription's")
    deliveries.add_argument("--status", choices=STATUSES, help="only deliveries in this state")
    deliveries.add_argument("--limit", type=int, default=50, help="at most this many (50)")
    deliveries.add_argument("--json", action="store_true", help="one JSON object per delivery")
    redeliver = commands.add_parser(
        "redeliver",
        help="requeue one delivery, or every dead one, with a fresh retry horizon",
    )
    which = redeliver.add_mutually_exclusive_group(required=True)
    which.add_argument("--delivery", metavar="ID", help="the delivery's id")
    which.add_argument("--dead", action="store_true", help="every dead delivery")
    redeliver.add_argument(
        "--subscription", metavar="NAME", help="with --dead: only this subscription's"
    )
    ping = commands.add_parser(
        "ping", help="send a signed webhook.test event to a subscription and show the answer"
    )
    ping.add_argument("subscription", metavar="SUBSCRIPTION", help="the subscription's name")
    subscriptions = commands.add_parser(
        "subscriptions",
        help="load the sources file's subscriptions, then show each (never its secret)",
    )
    subscriptions.add_argument("--json", action="store_true", help="one JSON object each")
    subscriptions.add_argument(
        "--enable", metavar="NAME", help="re-activate a subscription (e.g. after a 410)"
    )


def _webhooks(settings: Settings, args: argparse.Namespace) -> int:
    from services.webhooks import commands

    if args.command == "deliveries":
        return asyncio.run(
            commands.deliveries(settings, args.subscription, args.status, args.json, args.limit)
        )
    if args.command == "redeliver":
        if args.subscription and not args.dead:
            print("drawdown: --subscription goes with --dead", file=sys.stderr)  # noqa: T201
            return 2
        return asyncio.run(
            commands.redeliver(settings, args.delivery, args.dead, args.subscription)
        )
    if args.command == "ping":
        return asyncio.run(commands.ping(settings, args.subscription))
    return asyncio.run(commands.subscriptions(settings, args.json, args.enable))


def _print_human(reports: list[dict[str, object]]) -> None:
    for report in reports:
        if "summary" in report:
            summary = report["summary"]
            assert isinstance(summary, dict)
            print("summary: " + ", ".join(f"{k}={v}" for k, v in summary.items()))  # noqa: T201
            continue
        if "error" in report:
            print(f"{report['file']}: error: {report['error']}")  # noqa: T201
            continue
        events = report.get("events") or []
        assert isinstance(events, list)
        found = ", ".join(f"{e['place']}:{e['kind']}" for e in events) or "no events"
        tag = f"duplicate of {report['duplicate_of']}" if report.get("duplicate_of") else "new"
        print(f"{report['file']}: {report['language']} {tag}: {found}")  # noqa: T201


async def _migrate(settings: Settings) -> None:
    engine = create_engine(settings)
    try:
        await migrate(engine)
    finally:
        await engine.dispose()
    log.info("database is at the latest schema")


async def _replay(settings: Settings, directory: Path, as_json: bool) -> int:
    from ingest.replay import replay
    from ingest.sources import load_subscriptions, sources_path
    from services.runtime import open_runtime

    async with open_runtime(settings) as runtime:
        # Alerts raised by the replay are webhook deliveries for the file's subscriptions.
        await load_subscriptions(runtime.engine, sources_path(settings.sources))
        reports = await replay(runtime, directory)
    if as_json:
        for report in reports:
            print(json.dumps(report, ensure_ascii=False))  # noqa: T201
    else:
        _print_human(reports)
    return 0


async def _places(settings: Settings, as_json: bool) -> int:
    from processor.outcomes import place_statuses
    from services.db import open_database, sessionmaker

    async with open_database(settings) as engine, sessionmaker(engine)() as session:
        statuses = await place_statuses(session)
    for entry in statuses:
        if as_json:
            print(json.dumps(entry, ensure_ascii=False))  # noqa: T201
        else:
            print(  # noqa: T201
                f"{entry['place']}: {entry['kind']} {entry['status']}, {entry['outlets']} "
                f"outlets, {len(entry['languages'])} languages, since {entry['since'][:16]}"
            )
    if not statuses:
        print("no alerts yet")  # noqa: T201
    return 0


async def _evaluate(settings: Settings, directory: Path, labels: Path, as_json: bool) -> int:
    from services.evaluation import render, run

    result = await run(settings, directory, labels)
    print(json.dumps(result, ensure_ascii=False) if as_json else render(result))  # noqa: T201
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        print(f"drawdown: invalid settings:\n{exc}", file=sys.stderr)  # noqa: T201
        return 2
    logs.configure(settings.log_level)
    try:
        if args.command == "migrate":
            asyncio.run(_migrate(settings))
        elif args.command == "sources":
            return asyncio.run(show_sources(settings, args.json))
        elif args.command == "places":
            return asyncio.run(_places(settings, args.json))
        elif args.command == "evaluate":
            return asyncio.run(_evaluate(settings, args.directory, args.labels, args.json))
        elif args.command in WEBHOOK_COMMANDS:
            return _webhooks(settings, args)
        elif args.command == "replay":
            return asyncio.run(_replay(settings, args.directory, args.json))
        elif args.command == "ingest" and not settings.kafka_bootstrap:
            print(  # noqa: T201
                "drawdown: `drawdown ingest` alone needs DRAWDOWN_KAFKA_BOOTSTRAP (on the "
                "in-process bus no processor would see its articles); use `drawdown run`",
                file=sys.stderr,
            )
            return 2
        elif args.command == "run":
            asyncio.run(daemon.run(settings, list(daemon.ROLES)))
        else:
            asyncio.run(daemon.run(settings, [args.command]))
    except DrawdownError as exc:
        print(f"drawdown: {exc}", file=sys.stderr)  # noqa: T201
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
