"""ingest.sources: the sources file is validated with line numbers and loaded idempotently."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import select, update

from ingest.sources import (
    SourceSpec,
    load_sources,
    parse_sources,
    read_sources,
    shipped_sources,
)
from services import cli
from services.db import create_engine, migrate, sessionmaker
from services.errors import ConfigError
from services.models import Source
from services.settings import Settings
from tests.feedkit import write_sources


def parse(text: str) -> list[SourceSpec]:
    return parse_sources(textwrap.dedent(text), "sources.yaml")


def test_a_full_file_parses_with_its_subscriptions() -> None:
    specs = parse(
        """\
        sources:
          - name: Enab Baladi (Arabic)
            url: https://example.org/feed
            kind: feed
            language: ar
            interval: 300
          - name: A listing
            url: https://example.org/news/
            kind: page
            enabled: false
        subscriptions:
          - name: newsroom bridge
            url: https://hooks.example.org/drawdown
        """
    )
    assert specs == [
        SourceSpec("Enab Baladi (Arabic)", "https://example.org/feed", "feed", "ar", 300.0, True),
        SourceSpec("A listing", "https://example.org/news/", "page", None, None, False),
    ]


def test_a_bad_subscription_is_an_error_of_the_whole_file() -> None:
    text = "sources: []\nsubscriptions:\n  - name: a\n    url: https://h.example/\n    x: 1\n"
    with pytest.raises(ConfigError, match=r"^sources.yaml:5: unknown key 'x' in a subscription"):
        parse_sources(text, "sources.yaml")


def test_kind_defaults_to_feed_and_empty_files_have_no_sources() -> None:
    assert parse("sources:\n  - {name: x, url: 'http://a.example/rss'}\n")[0].kind == "feed"
    assert parse("") == []
    assert parse("sources:\n") == []
    assert parse("subscriptions: []\n") == []


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("sources:\n  - name: a\n    url: https://a.example/\n    intervall: 5\n", 4, "intervall"),
        ("sources: []\nsourcse: []\n", 2, "unknown key 'sourcse'"),
        ("sources:\n  - name: a\n    url: https://a.example/\n    kind: atom\n", 4, "kind"),
        ("sources:\n  - name: a\n    kind: feed\n", 2, "needs 'url'"),
        ("sources:\n  - url: https://a.example/\n", 2, "needs 'name'"),
        ("sources:\n  - name: a\n    url: ftp://a.example/\n", 3, "http(s)"),
        ("sources:\n  - name: a\n    url: https://a.example/\n    interval: -5\n", 4, "positive"),
        ("sources:\n  - name: a\n    url: https://a.example/\n    interval: soon\n", 4, "number"),
        ("sources:\n  - name: a\n    url: https://a.example/\n    enabled: maybe\n", 4, "true or"),
        ("sources:\n  - name: a\n    url: https://a.example/\n    name: b\n", 4, "twice"),
        (
            "sources:\n  - name: a\n    url: https://a.example/\n  - name: b\n    url: https://a.example/\n",
            4,
            "also on line 2",
        ),
        ("sources: {name: a}\n", 1, "list"),
        ("- just a list\n", 1, "mapping"),
    ],
)
def test_problems_name_the_file_and_line(text: str, line: int, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_sources(text, "sources.yaml")
    assert f"sources.yaml:{line}:" in str(caught.value)
    assert message in str(caught.value)


def test_invalid_yaml_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"sources\.yaml: not valid YAML"):
        parse_sources("sources: [\n", "sources.yaml")


def test_an_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the sources file"):
        read_sources(tmp_path / "missing.yaml")


def test_the_shipped_file_is_valid_and_covers_our_languages() -> None:
    specs = read_sources(shipped_sources())
    languages = {spec.language for spec in specs}
    assert {"ar", "fa", "ckb", "kmr", "tr", "ru", "uk", "en", "fr"} <= languages
    assert len({spec.url for spec in specs}) == len(specs) >= 30
    assert "no test depends on them" in shipped_sources().read_text("utf-8")


async def _sources(settings: Settings) -> dict[str, Source]:
    engine = create_engine(settings)
    try:
        async with sessionmaker(engine)() as session:
            return {s.url: s for s in await session.scalars(select(Source))}
    finally:
        await engine.dispose()


async def test_loading_is_an_idempotent_upsert_by_url(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/s.db")
    path = tmp_path / "sources.yaml"
    path.write_text(
        "sources:\n"
        "  - {name: One, url: 'https://one.example/feed', interval: 300}\n"
        "  - {name: Two, url: 'https://two.example/', kind: page}\n"
        "  - {name: Three, url: 'https://three.example/feed'}\n"
    )
    engine = create_engine(settings)
    try:
        await migrate(engine)
        first = await load_sources(engine, path)
        assert (first.upserted, first.disabled) == (3, 0)
        async with sessionmaker(engine).begin() as session:  # a poller has been at work
            await session.execute(
                update(Source)
                .where(Source.url == "https://one.example/feed")
                .values(etag='"v7"', error_count=2, last_error="timeout: slow", articles_found=9)
            )
        before = await _sources(settings)

        again = await load_sources(engine, path)
        assert (again.upserted, again.disabled) == (3, 0)
        same = await _sources(settings)
        assert {u: (s.id, s.name, s.etag, s.error_count) for u, s in same.items()} == {
            u: (s.id, s.name, s.etag, s.error_count) for u, s in before.items()
        }

        path.write_text(
            "sources:\n"
            "  - {name: One renamed, url: 'https://one.example/feed', kind: page, language: fr,"
            " interval: 900, enabled: false}\n"
            "  - {name: Two, url: 'https://two.example/', kind: page}\n"
            "  - {name: Four, url: 'https://four.example/feed'}\n"
        )
        changed = await load_sources(engine, path)
        assert (changed.upserted, changed.disabled) == (3, 1)
    finally:
        await engine.dispose()
    after = await _sources(settings)
    one = after["https://one.example/feed"]
    assert (one.id, one.name, one.kind, one.language, one.interval, one.enabled) == (
        before["https://one.example/feed"].id,
        "One renamed",
        "page",
        "fr",
        900.0,
        False,
    )
    assert (one.etag, one.error_count, one.last_error, one.articles_found) == (
        '"v7"',
        2,
        "timeout: slow",
        9,
    )
    assert not after["https://three.example/feed"].enabled  # gone from the file: disabled, kept
    assert after["https://four.example/feed"].enabled
    assert len(after) == 4


def test_the_sources_command_loads_the_file_and_prints_a_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in [n for n in os.environ if n.startswith("DRAWDOWN_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("DRAWDOWN_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/cli.db")
    monkeypatch.setenv(
        "DRAWDOWN_SOURCES",
        str(
            write_sources(
                tmp_path / "sources.yaml",
                [
                    {"name": "Enab Baladi", "url": "https://enab.example/feed", "language": "ar"},
                    {"name": "Listing", "url": "https://list.example/", "kind": "page"},
                ],
            )
        ),
    )
    monkeypatch.setenv("DRAWDOWN_LOG_LEVEL", "WARNING")
    assert cli.main(["sources"]) == 0
    header, *rows = capsys.readouterr().out.splitlines()
    assert header.split() == [
        "NAME", "KIND", "ENABLED", "LAST", "POLL", "NEXT", "POLL", "STATUS", "ERRORS", "LAST",
        "ERROR", "ARTICLES", "FETCH→ALERT",
    ]  # fmt: skip
    assert rows[0].split()[:5] == ["Enab", "Baladi", "feed", "yes", "never"]
    assert rows[1].split()[:4] == ["Listing", "page", "yes", "never"]

    assert cli.main(["sources", "--json"]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(s["name"], s["kind"], s["language"], s["enabled"]) for s in listed] == [
        ("Enab Baladi", "feed", "ar", True),
        ("Listing", "page", None, True),
    ]
    assert listed[0]["error_count"] == 0
    assert listed[0]["last_polled_at"] is None


def test_the_sources_command_names_a_bad_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in [n for n in os.environ if n.startswith("DRAWDOWN_")]:
        monkeypatch.delenv(name)
    bad = tmp_path / "sources.yaml"
    bad.write_text("sources:\n  - name: a\n    url: https://a.example/\n    kind: atom\n")
    monkeypatch.setenv("DRAWDOWN_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/cli.db")
    monkeypatch.setenv("DRAWDOWN_SOURCES", str(bad))
    assert cli.main(["sources"]) == 1
    assert f"{bad}:4: 'kind' must be feed or page" in capsys.readouterr().err


def test_ingest_alone_needs_kafka(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in [n for n in os.environ if n.startswith("DRAWDOWN_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("DRAWDOWN_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/cli.db")
    assert cli.main(["ingest"]) == 2
    assert "needs DRAWDOWN_KAFKA_BOOTSTRAP" in capsys.readouterr().err
    assert not (tmp_path / "cli.db").exists()
