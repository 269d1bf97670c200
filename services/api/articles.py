"""``GET /articles`` and ``GET /articles/{id}``: stored articles with what was read in them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, Field
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Text,
    Uuid,
    cast,
    column,
    false,
    func,
    literal,
    literal_column,
    select,
    table,
)
from sqlalchemy.dialects.postgresql import REGCONFIG
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.deps import Session, State
from services.api.pagination import (
    DEFAULT_LIMIT,
    Cursor,
    CursorText,
    Limit,
    Page,
    after,
    cursor_param,
    split_page,
)
from services.api.search import check_search, fts5_query, parse_search, tsquery
from services.api.sentences import SentenceOut, sentences_out
from services.api.vocabulary import (
    AlertStatus,
    Country,
    EventKind,
    Instant,
    LanguageCode,
    PlaceId,
    check_countries,
    check_places,
    places_in,
)
from services.models import Alert, AlertArticle, Article, Event, Mention, Sighting

router = APIRouter(tags=["articles"])
SNIPPET_CHARS = 280
MAX_QUERY_CHARS = 500


class ArticleOut(BaseModel):
    id: uuid.UUID
    url: str | None = Field(description="the canonical URL, if the article came with one")
    title: str
    source: str = Field(description="the source name, or replay:FILE")
    language: str | None = Field(description="the main language")
    languages: list[str] = Field(description="every language with at least 5% of the letters")
    published_at: datetime | None
    created_at: datetime = Field(description="when Drawdown stored it")
    truncated: bool = Field(description="only the start of a very long text was read")
    snippet: str = Field(description=f"the text's first {SNIPPET_CHARS} characters")


class MentionOut(BaseModel):
    place: str
    start: int = Field(description="offset into text, as stored")
    end: int
    surface: str = Field(description="the name as written")


class EventOut(BaseModel):
    place: str
    kind: EventKind
    confidence: float
    evidence: str = Field(description="the sentence that says it, as written")
    evidence_start: int
    evidence_end: int
    language: str | None = Field(description="the language of that sentence")
    reason: str = Field(description="why it was read so, in words (cue, tense, actor, stance)")
    sentences: list[SentenceOut] = Field(description="every sentence that decided, main first")


def event_out(event: Event) -> EventOut:
    columns = {name: getattr(event, name) for name in EventOut.model_fields}
    said = (event.evidence, event.language, event.reason, event.evidence_start, event.evidence_end)
    return EventOut.model_validate({**columns, "sentences": sentences_out(event.sentences, *said)})


class SightingOut(BaseModel):
    """One received copy of the article (the first, republications, redeliveries)."""

    id: int
    match: str = Field(description="new | url | content | near: how it was recognised")
    url: str | None
    source: str
    seen_at: datetime


class AlertRef(BaseModel):
    id: uuid.UUID
    place: str
    kind: EventKind
    status: AlertStatus


class ArticleDetail(ArticleOut):
    text: str
    fetched_at: datetime | None
    processed_at: datetime | None
    alerted_at: datetime | None
    mentions: list[MentionOut]
    events: list[EventOut]
    sightings: list[SightingOut]
    alerts: list[AlertRef] = Field(description="alerts this article opened or corroborated")


@dataclass(frozen=True, slots=True)
class ArticleFilters:
    places: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    q: str | None = None


# The indexes of migration 0009, outside the models: the PostgreSQL tsvector column, the
# SQLite FTS5 table and the articles its rowids stand for.
_SEARCH_VECTOR: ColumnElement[Any] = literal_column("articles.search_vector")
_FTS = table("articles_search", column("rowid", Integer), column("articles_search", Text))
_FTS_DOCS = table("articles_search_docs", column("docid", Integer), column("article_id", Uuid))


def text_match(q: str, dialect: str) -> ColumnElement[bool]:
    """Articles whose title and text match ``q`` (``parse_search``): PostgreSQL's ``simple``
    text search over ``articles.search_vector``, or SQLite's FTS5 table (migration 0009)."""
    search = parse_search(q)
    if not search.groups:
        return false()
    if dialect == "postgresql":
        simple = cast(literal("simple", literal_execute=True), REGCONFIG)
        query = func.to_tsquery(simple, tsquery(search))
        return _SEARCH_VECTOR.bool_op("@@")(query)
    found = (
        select(_FTS_DOCS.c.article_id)
        .join(_FTS, _FTS.c.rowid == _FTS_DOCS.c.docid)
        .where(_FTS.c.articles_search.match(fts5_query(search)))
    )
    return Article.id.in_(found)


def _about(filters: ArticleFilters) -> ColumnElement[bool] | None:
    """Place and kind filters: with a kind, an event of that kind (at one of the places,
    if given); with places only, a mention of one of them."""
    places = list(filters.places)
    if filters.countries:
        in_countries = places_in(filters.countries)
        places = [p for p in places if p in in_countries] if places else in_countries
    if filters.kinds:
        events = select(Event.article_id).where(Event.kind.in_(filters.kinds))
        if filters.places or filters.countries:
            events = events.where(Event.place.in_(places))
        return Article.id.in_(events)
    if filters.places or filters.countries:
        return Article.id.in_(select(Mention.article_id).where(Mention.place.in_(places)))
    return None


def article_query(
    filters: ArticleFilters, cursor: Cursor | None, limit: int, dialect: str
) -> Select[Article]:
    """At most ``limit`` articles matching every given filter, newest stored first."""
    query = select(Article)
    about = _about(filters)
    if about is not None:
        query = query.where(about)
    if filters.languages:
        query = query.where(Article.language.in_(filters.languages))
    if filters.sources:
        query = query.where(Article.source.in_(filters.sources))
    if filters.since is not None:
        query = query.where(Article.created_at >= filters.since)
    if filters.until is not None:
        query = query.where(Article.created_at < filters.until)
    if filters.q:
        query = query.where(text_match(filters.q, dialect))
    if cursor is not None:
        query = query.where(after(cursor, Article.created_at, Article.id))
    return query.order_by(Article.created_at.desc(), Article.id.desc()).limit(limit)


def snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SNIPPET_CHARS else flat[: SNIPPET_CHARS - 1] + "…"


def article_out(article: Article) -> ArticleOut:
    return ArticleOut.model_validate(_columns(article))


def _columns(article: Article) -> dict[str, object]:
    return {
        "id": article.id,
        "url": article.canonical_url,
        "title": article.title,
        "source": article.source,
        "language": article.language,
        "languages": list(article.languages),
        "published_at": article.published_at,
        "created_at": article.created_at,
        "truncated": article.truncated,
        "snippet": snippet(article.text),
    }


def _cursor(article: Article) -> Cursor:
    return Cursor(article.created_at, article.id)


def article_filters(
    place: Annotated[
        list[PlaceId] | None, Query(description="mentions any of these places")
    ] = None,
    country: Annotated[list[Country] | None, Query(description="mentions a place in these")] = None,
    kind: Annotated[
        list[EventKind] | None,
        Query(description="has an event of these kinds (at the given places, if any)"),
    ] = None,
    language: Annotated[list[LanguageCode] | None, Query(description="main language")] = None,
    source: Annotated[list[str] | None, Query(description="source name, exactly")] = None,
    since: Annotated[Instant | None, Query(description="stored at or after")] = None,
    until: Annotated[Instant | None, Query(description="stored before")] = None,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=MAX_QUERY_CHARS,
            pattern=r"[^\W_]",  # a letter or digit somewhere: something to look for
            description='full-text search: words, "a phrase", OR, -exclude, prefix*',
        ),
    ] = None,
) -> ArticleFilters:
    """The filters of ``GET /articles``, shared with its CSV export."""
    if q is not None:
        check_search(q)
    return ArticleFilters(
        places=check_places(place or ()),
        countries=check_countries(country or ()),
        kinds=tuple(kind or ()),
        languages=tuple(language or ()),
        sources=tuple(source or ()),
        since=since,
        until=until,
        q=q,
    )


ArticleFiltersParam = Annotated[ArticleFilters, Depends(article_filters)]


@router.get("/articles", response_model=Page[ArticleOut], responses={400: {}})
async def list_articles(
    session: Session,
    state: State,
    filters: ArticleFiltersParam,
    limit: Limit = DEFAULT_LIMIT,
    cursor: CursorText = None,
) -> Page[ArticleOut]:
    """Articles newest stored first; every filter given must hold."""
    query = article_query(filters, cursor_param(cursor), limit + 1, state.dialect)
    page, following = split_page(list(await session.scalars(query)), limit, _cursor)
    return Page[ArticleOut](items=[article_out(a) for a in page], next=following)


async def _readings(session: AsyncSession, article_id: uuid.UUID) -> dict[str, object]:
    mentions = await session.scalars(
        select(Mention).where(Mention.article_id == article_id).order_by(Mention.start)
    )
    events = await session.scalars(
        select(Event).where(Event.article_id == article_id).order_by(Event.evidence_start)
    )
    sightings = await session.scalars(
        select(Sighting).where(Sighting.article_id == article_id).order_by(Sighting.id)
    )
    alerts = await session.scalars(
        select(Alert)
        .join(AlertArticle, AlertArticle.alert_id == Alert.id)
        .where(AlertArticle.article_id == article_id)
        .order_by(Alert.place, Alert.kind)
    )
    return {
        "mentions": [MentionOut.model_validate(m, from_attributes=True) for m in mentions],
        "events": [event_out(e) for e in events],
        "sightings": [SightingOut.model_validate(s, from_attributes=True) for s in sightings],
        "alerts": [AlertRef.model_validate(a, from_attributes=True) for a in alerts],
    }


@router.get("/articles/{article_id}", response_model=ArticleDetail, responses={404: {}})
async def get_article(article_id: uuid.UUID, session: Session) -> ArticleDetail:
    """One article: its text, and the mentions, events, sightings and alerts read from it."""
    article = await session.get(Article, article_id)
    if article is None:
        raise HTTPException(404, f"no article {article_id}")
    return ArticleDetail.model_validate(
        {
            **_columns(article),
            "text": article.text,
            "fetched_at": article.fetched_at,
            "processed_at": article.processed_at,
            "alerted_at": article.alerted_at,
            **await _readings(session, article_id),
        }
    )
