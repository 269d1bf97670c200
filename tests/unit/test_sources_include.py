"""A sources file may include others (the shipped list among them); OPML in and out."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from ingest.sources import read_sources, read_sources_file, shipped_sources
from services.errors import ConfigError
from services.models import Source
from services.sources_commands import read_opml, spec_for, to_opml

OWN = """\
include: [shipped, extra.yaml]
sources:
  - name: My outlet
    url: https://mine.example/feed
  - name: Enab Baladi, every 5 minutes
    url: https://www.enabbaladi.net/feed
    interval: 300
"""


def test_a_file_adds_its_sources_to_the_shipped_ones(tmp_path: Path) -> None:
    (tmp_path / "extra.yaml").write_text(
        "sources:\n  - {name: Extra, url: 'https://extra.example/rss'}\n"
        "subscriptions:\n  - {name: desk, url: 'https://hooks.example/desk'}\n",
        encoding="utf-8",
    )
    own = tmp_path / "sources.yaml"
    own.write_text(OWN, encoding="utf-8")
    shipped = read_sources(shipped_sources())
    found = read_sources_file(own)
    urls = [s.url for s in found.sources]
    assert len(urls) == len(set(urls)) == len(shipped) + 2
    assert {"https://mine.example/feed", "https://extra.example/rss"} <= set(urls)
    # The including file's entry wins over the shipped one with the same URL.
    enab = next(s for s in found.sources if s.url == "https://www.enabbaladi.net/feed")
    assert (enab.name, enab.interval) == ("Enab Baladi, every 5 minutes", 300.0)
    assert [s.name for s in found.subscriptions] == ["desk"]


def test_files_that_include_each_other_are_an_error(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("include: b.yaml\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("include: [a.yaml]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="include each other"):
        read_sources_file(tmp_path / "a.yaml")


def test_a_missing_include_names_the_file_that_includes_it(tmp_path: Path) -> None:
    own = tmp_path / "sources.yaml"
    own.write_text("include: [nope.yaml]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"nope\.yaml \(included from .*sources\.yaml\)"):
        read_sources_file(own)


def test_include_must_name_files(tmp_path: Path) -> None:
    own = tmp_path / "sources.yaml"
    own.write_text("include: {a: 1}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"sources\.yaml:1: 'include' must be a list"):
        read_sources_file(own)


def test_opml_export_reads_back_in(tmp_path: Path) -> None:
    specs = [spec_for("https://a.example/feed", name="A & B"), spec_for("https://b.example/x")]
    rows = [Source(name=s.name, url=s.url, kind="feed", language="ar") for s in specs]
    path = tmp_path / "out.opml"
    path.write_text(to_opml(rows), encoding="utf-8")
    back = read_opml(path)
    assert [(s.name, s.url) for s in back] == [(s.name, s.url) for s in specs]


def test_an_opml_file_without_feeds_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.opml"
    path.write_text("<opml version='2.0'><body></body></opml>", encoding="utf-8")
    with pytest.raises(ConfigError, match="names no feed"):
        read_opml(path)
    with pytest.raises(ConfigError, match="not an http"):
        spec_for("file:///etc/passwd")
    with pytest.raises(ConfigError, match=r"blocked address.*DRAWDOWN_FETCH_ALLOWED_NETWORKS"):
        spec_for("http://[::ffff:169.254.169.254]/latest/meta-data/")
    allowed = [ipaddress.ip_network("127.0.0.1/32")]
    assert spec_for("http://127.0.0.1:8080/feed", allowed=allowed).url.startswith("http://127")
