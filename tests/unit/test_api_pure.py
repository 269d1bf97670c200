"""The API's pure parts: vocabularies, cursors, the metrics text format, the map
projection, source health, the listen address and the query builders."""

from __future__ import annotations

import base64
import typing
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql, sqlite

from ingest.sources import KINDS
from processor.alerts import STATUSES
from processor.events import EVENT_KINDS
from services.api import exposition, pagination
from services.api.alerts import AlertFilters, alert_query
from services.api.app import create_app
from services.api.articles import ArticleFilters, article_query, snippet
from services.api.mapsvg import REGION, region_outlines
from services.api.role import parse_addr
from services.api.sources import health
from services.api.vocabulary import AlertStatus, EventKind, SourceKind
from services.db import create_engine
from services.errors import ConfigError
from services.settings import Settings
from tests.apikit import BASE


def test_vocabularies_match_the_pipeline() -> None:
    assert typing.get_args(EventKind) == EVENT_KINDS
    assert typing.get_args(AlertStatus) == STATUSES
    assert typing.get_args(SourceKind) == KINDS


@given(
    st.datetimes(timezones=st.just(UTC)),
    st.uuids(),
)
def test_cursor_round_trip(at: datetime, id_: uuid.UUID) -> None:
    text = pagination.encode(pagination.Cursor(at, id_))
    assert "=" not in text
    assert "/" not in text
    assert "+" not in text
    assert pagination.decode(text) == pagination.Cursor(at, id_)


@pytest.mark.parametrize("text", ["", "zzz", "bm90LWEtY3Vyc29y", "WzEsMl0", "WyJ4IiwieSJd"])
def test_foreign_cursors_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a cursor"):
        pagination.decode(text)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 1000 + b"]" * 1000,  # nested deep enough to raise RecursionError in json
        b"[" * 50 + b"]" * 50,
        b'["2025-01-01T00:00:00", "00000000-0000-0000-0000-000000000001"]',  # naive time
        b'{"a": 1, "b": 2}',
        rb'["\ud800", "x"]',  # a lone surrogate
        b"\xff\xfe",
        b"[1e999, 2]",
    ],
)
def test_tampered_cursors_are_refused_whatever_they_hold(raw: bytes) -> None:
    with pytest.raises(ValueError, match="not a cursor"):
        pagination.decode(_b64(raw))


def test_a_cursor_nested_past_the_recursion_limit_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pagination, "MAX_CURSOR", 10**6)  # past the length check
    with pytest.raises(ValueError, match="not a cursor"):
        pagination.decode(_b64(b"[" * 100_000 + b"]" * 100_000))


def test_overlong_cursors_are_refused_before_decoding() -> None:
    with pytest.raises(ValueError, match="not a cursor"):
        pagination.decode("A" * 10_000)


def test_split_page_gives_a_cursor_only_when_more_remain() -> None:
    at = datetime(2025, 1, 1, tzinfo=UTC)
    rows = [uuid.UUID(int=n) for n in (3, 2, 1)]
    page, following = pagination.split_page(rows, 2, lambda r: pagination.Cursor(at, r))
    assert page == rows[:2]
    assert following
    assert pagination.decode(following).id == rows[1]
    assert pagination.split_page(rows, 3, lambda r: pagination.Cursor(at, r)) == (rows, None)


def test_exposition_text_format() -> None:
    text = exposition.render(
        [
            exposition.single("a_total", "counter", "Things.\nMore", 3),
            exposition.labelled("b", "gauge", "By k.", "k", {'x"y\\': 1.5, "a": 0}),
        ]
    )
    assert "# TYPE a_total counter\na_total 3.0\n" in text
    assert '# TYPE b gauge\nb{k="a"} 0.0\nb{k="x\\"y\\\\"} 1.5\n' in text


@given(st.lists(st.floats(min_value=0, max_value=10_000, allow_nan=False), max_size=50))
def test_histogram_buckets_are_cumulative(values: list[float]) -> None:
    family = exposition.histogram("h_seconds", "H.", values, (0.5, 1.0, 60.0))
    buckets = [s for s in family.samples if s.name == "h_seconds_bucket"]
    assert [s.labels["le"] for s in buckets] == ["0.5", "1", "60", "+Inf"]
    counts = [s.value for s in buckets]
    assert counts == sorted(counts)
    assert counts[-1] == len(values)
    assert counts[0] == sum(1 for v in values if v <= 0.5)
    count = next(s for s in family.samples if s.name == "h_seconds_count")
    assert count.value == len(values)


def test_projection_puts_the_frame_corners_at_the_corners() -> None:
    assert REGION.project(REGION.west, REGION.north) == (0, 0)
    assert REGION.project(REGION.east, REGION.south) == (REGION.width, REGION.height)
    x, y = REGION.project(38.8, 33.37)  # Tower 22, at the Jordan–Syria–Iraq corner
    assert 0 < x < REGION.width
    assert 0 < y < REGION.height


def test_region_outlines_include_the_watched_countries() -> None:
    outlines = {o.name: o for o in region_outlines()}
    assert {"Syria", "Iraq", "Jordan"} <= {name for name, o in outlines.items() if o.focus}
    assert all(o.d.startswith("M") and o.d.endswith("Z") for o in outlines.values())


@pytest.mark.parametrize(
    ("enabled", "parked", "errors", "expected"),
    [
        (True, None, 0, "ok"),
        (True, None, 2, "erroring"),
        (True, datetime(2025, 1, 1, tzinfo=UTC), 10, "parked"),
        (False, None, 3, "disabled"),
    ],
)
def test_source_health(enabled: bool, parked: datetime | None, errors: int, expected: str) -> None:
    assert health(enabled, parked, errors) == expected


def test_listen_addresses() -> None:
    assert parse_addr("127.0.0.1:8000") == ("127.0.0.1", 8000)
    assert parse_addr("[::1]:9000") == ("::1", 9000)
    assert parse_addr("0.0.0.0:80") == ("0.0.0.0", 80)
    for bad in ("8000", "localhost", "host:port", "host:99999", ":80"):
        with pytest.raises(ConfigError, match="DRAWDOWN_HTTP_ADDR"):
            parse_addr(bad)


def test_query_builders() -> None:
    cursor = pagination.Cursor(datetime(2025, 1, 1, tzinfo=UTC), uuid.UUID(int=1))
    alerts = str(
        alert_query(AlertFilters(countries=("jordan",), languages=("ar",)), cursor, 10).compile(
            dialect=postgresql.dialect()
        )
    )
    assert "alerts.place IN" in alerts
    assert "alert_articles.language IN" in alerts
    assert "ORDER BY alerts.last_seen_at DESC, alerts.id DESC" in alerts

    pg = str(
        article_query(ArticleFilters(q="قسرك"), None, 10, "postgresql").compile(
            dialect=postgresql.dialect()
        )
    )
    assert "articles.search_vector @@ to_tsquery" in pg
    lite = str(
        article_query(ArticleFilters(q="a b"), None, 10, "sqlite").compile(dialect=sqlite.dialect())
    )
    assert "articles_search MATCH" in lite


def test_snippet_is_short_and_flat() -> None:
    assert snippet("  a\n\n b  ") == "a b"
    long = snippet("word " * 200)
    assert len(long) == 280
    assert long.endswith("…")


@pytest.fixture
async def offline_api() -> AsyncIterator[httpx.AsyncClient]:
    """The app over a database it never needs to open: for answers that come before one."""
    settings = Settings(database_url="sqlite+aiosqlite:///:memory:")
    app = create_app(settings, create_engine(settings))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http:
        yield http


@pytest.mark.parametrize(
    ("path", "allow"),
    [("/sources", "GET, POST"), ("/subscriptions/7", "GET, PATCH, DELETE"), ("/healthz", "GET")],
)
async def test_method_not_allowed_names_every_method_of_the_path(
    offline_api: httpx.AsyncClient, path: str, allow: str
) -> None:
    response = await offline_api.put(path)
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    assert response.headers["content-type"] == "application/problem+json"


async def test_cors_is_off(offline_api: httpx.AsyncClient) -> None:
    origin = {"Origin": "https://elsewhere.example"}
    answer = await offline_api.get("/healthz", headers=origin)
    preflight = await offline_api.options(
        "/sources", headers={**origin, "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in answer.headers
    assert "access-control-allow-origin" not in preflight.headers
    assert preflight.status_code == 405
