"""The ``drawdown`` command line: the daemon, single roles, status, migrations and replay.

The arguments and help of every command are in services/cli_args.py.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from pydantic import ValidationError
from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from services import logs
from services.cli_args import parser
from services.db import create_engine, migrate_or_explain
from services.errors import DrawdownError
from services.redact import redact
from services.settings import Settings, explain, unknown_variables
from services.sources_table import show_sources

log = logging.getLogger("drawdown")
WEBHOOK_COMMANDS = frozenset({"deliveries", "redeliver", "ping", "subscriptions"})


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


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


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
        if "skipped" in report:
            print(f"{report['file']}: skipped: {report['skipped']}")  # noqa: T201
            continue
        events = report.get("events") or []
        assert isinstance(events, list)
        found = ", ".join(f"{e['place']}:{e['kind']}" for e in events) or "no events"
        tag = f"duplicate of {report['duplicate_of']}" if report.get("duplicate_of") else "new"
        print(f"{report['file']}: {report['language']} {tag}: {found}")  # noqa: T201


async def _migrate(settings: Settings) -> None:
    engine = create_engine(settings)
    try:
        await migrate_or_explain(engine)
    finally:
        await engine.dispose()
    log.info("database is at the latest schema")


@contextmanager
def _progress_bar(what: str) -> Iterator[Callable[[int, int], None]]:
    """A bar on stderr counting documents processed, when stderr is a terminal (tqdm
    disables itself anywhere else); log lines print above it meanwhile."""
    with tqdm(desc=what, unit="doc", disable=None, file=sys.stderr, dynamic_ncols=True) as bar:

        def advance(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        with nullcontext() if bar.disable else logging_redirect_tqdm():
            yield advance


async def _replay(settings: Settings, directory: Path, as_json: bool) -> int:
    from ingest.replay import replay
    from ingest.sources import load_subscriptions, sources_path
    from services.runtime import open_runtime
    from services.webhooks.subscriptions import announce_secrets

    async with open_runtime(settings) as runtime:
        # Alerts raised by the replay are webhook deliveries for the file's subscriptions.
        generated = await load_subscriptions(runtime.engine, sources_path(settings.sources))
        announce_secrets(generated, as_json=as_json)
        with _progress_bar("replay") as progress:
            reports = await replay(runtime, directory, progress)
    if as_json:
        for report in reports:
            print(json.dumps(report, ensure_ascii=False))  # noqa: T201
    else:
        _print_human(reports)
    summary = reports[-1]["summary"]
    if not summary["documents"]:
        print(f"drawdown: warning: no documents to replay in {directory}", file=sys.stderr)  # noqa: T201
    return 1 if summary["errors"] else 0


async def _places(settings: Settings, as_json: bool) -> int:
    from processor.outcomes import place_statuses
    from services.db import open_database, sessionmaker

    async with (
        open_database(settings, must_exist=True) as engine,
        sessionmaker(engine)() as session,
    ):
        statuses = await place_statuses(session)
    for entry in statuses:
        if as_json:
            print(json.dumps(entry, ensure_ascii=False))  # noqa: T201
        else:
            print(  # noqa: T201
                f"{entry['place']}: {entry['kind']} {entry['status']}, "
                f"{plural(entry['outlets'], 'outlet')}, "
                f"{plural(len(entry['languages']), 'language')}, since {entry['since'][:16]}"
            )
    if not statuses:
        print("no alerts yet")  # noqa: T201
    return 0


async def _evaluate(settings: Settings, args: argparse.Namespace) -> int:
    from services.evaluation import render, run

    with _progress_bar("evaluate") as progress:
        result = await run(settings, args.directory, args.labels, progress)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))  # noqa: T201
    else:
        print(render(result, split=args.split, calibration=args.calibration))  # noqa: T201
    return 0


async def _status(settings: Settings, as_json: bool) -> int:
    from services.models import utcnow
    from services.status import gather, render

    logging.getLogger("alembic").setLevel(logging.WARNING)  # its schema check says hello
    report = await gather(settings)
    print(json.dumps(report, ensure_ascii=False) if as_json else render(report, utcnow()))  # noqa: T201
    return 0 if report["ready"] else 1


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    for warning in unknown_variables(os.environ):
        print(f"drawdown: warning: {warning}", file=sys.stderr)  # noqa: T201
    try:
        settings = Settings()
    except ValidationError as exc:
        for line in explain(exc):
            print(f"drawdown: invalid setting: {redact(line)}", file=sys.stderr)  # noqa: T201
        return 2
    logs.configure(settings.log_level, settings.log_format)
    try:
        return _dispatch(settings, args)
    except DrawdownError as exc:
        print(f"drawdown: {exc}", file=sys.stderr)  # noqa: T201
        return 1
    except Exception:  # anything else is a bug: logged whole, the traceback a field
        log.exception("drawdown %s failed", args.command, extra={"command": args.command})
        return 1


def _dispatch(settings: Settings, args: argparse.Namespace) -> int:
    command = args.command
    if command == "status":
        return asyncio.run(_status(settings, args.json))
    if command == "migrate":
        asyncio.run(_migrate(settings))
        return 0
    if command == "sources" and args.action:
        from services.sources_commands import sources_command

        options = {k: v for k, v in vars(args).items() if k not in ("command", "action")}
        return asyncio.run(sources_command(settings, args.action, **options))
    if command == "sources":
        return asyncio.run(show_sources(settings, args.json))
    if command == "places":
        return asyncio.run(_places(settings, args.json))
    if command == "evaluate":
        return asyncio.run(_evaluate(settings, args))
    if command in WEBHOOK_COMMANDS:
        return _webhooks(settings, args)
    if command == "replay":
        return asyncio.run(_replay(settings, args.directory, args.json))
    if command == "ingest" and not settings.kafka_bootstrap:
        print(  # noqa: T201
            "drawdown: `drawdown ingest` alone needs DRAWDOWN_KAFKA_BOOTSTRAP (on the "
            "in-process bus no processor would see its articles); use `drawdown run`",
            file=sys.stderr,
        )
        return 2
    from services import daemon

    roles = list(daemon.ROLES) if command == "run" else [command]
    asyncio.run(daemon.run(settings, roles))
    return 0


if __name__ == "__main__":
    sys.exit(main())
