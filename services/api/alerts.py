"""``GET /alerts`` and ``GET /alerts/{id}``: stories per (place, kind), newest first."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.deps import Session
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
from services.api.sentences import SentenceOut, sentences_out
from services.api.vocabulary import (
    AlertEventType,
    AlertStatus,
    Country,
    EventKind,
    Instant,
    LanguageCode,
    PlaceId,
    check_countries,
    check_places,
    country_of,
    places_in,
)
from services.models import Alert, AlertArticle, AlertEvent, Article

router = APIRouter(tags=["alerts"])


class AlertOut(BaseModel):
    id: uuid.UUID
    place: str = Field(description="gazetteer place id (GET /places)")
    country: str | None = Field(description="the place's country, from the gazetteer")
    kind: EventKind
    status: AlertStatus
    confidence: float
    article_count: int
    sighting_count: int = Field(description="republished copies from other outlets")
    outlets: list[str]
    languages: list[str]
    denied_by: list[str] = Field(description="outlets that denied it (see docs/decisions.md)")
    opened_at: datetime
    updated_at: datetime
    first_seen_at: datetime = Field(description="article time of the first report")
    last_seen_at: datetime = Field(description="article time of the latest report")


class AlertArticleOut(BaseModel):
    """One article that opened or corroborated the alert, with its evidence."""

    id: uuid.UUID
    url: str | None
    title: str
    outlet: str
    language: str | None = Field(description="the language of the sentence that reported it")
    article_language: str | None = Field(
        description="the article's main language (what the alert's languages count)"
    )
    confidence: float
    snippet: str = Field(description="the sentence that reported it, as written")
    reason: str = Field(description="why it was read so, in words (cue, tense, actor, stance)")
    sentences: list[SentenceOut] = Field(description="every sentence that decided, main first")
    opened: bool = Field(description="this article opened the alert")
    status: AlertStatus = Field(description="the alert's status once this article counted")
    added_at: datetime


class AlertChange(BaseModel):
    """One entry of the alert's history (its ``alert_events``)."""

    id: int
    type: AlertEventType
    status: AlertStatus = Field(description="the status after the change")
    changes: dict[str, list[Any]] = Field(description="{field: [before, after]}")
    created_at: datetime
    published_at: datetime | None


class AlertDetail(AlertOut):
    articles: list[AlertArticleOut]
    history: list[AlertChange]


@dataclass(frozen=True, slots=True)
class AlertFilters:
    places: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None


def alert_conditions(filters: AlertFilters) -> list[ColumnElement[bool]]:
    """What an alert must satisfy to pass every given filter."""
    conditions: list[ColumnElement[bool]] = []
    if filters.places:
        conditions.append(Alert.place.in_(filters.places))
    if filters.countries:
        conditions.append(Alert.place.in_(places_in(filters.countries)))
    if filters.kinds:
        conditions.append(Alert.kind.in_(filters.kinds))
    if filters.statuses:
        conditions.append(Alert.status.in_(filters.statuses))
    if filters.languages:
        reported_in = select(AlertArticle.alert_id).where(
            AlertArticle.language.in_(filters.languages)
        )
        conditions.append(Alert.id.in_(reported_in))
    if filters.since is not None:
        conditions.append(Alert.last_seen_at >= filters.since)
    if filters.until is not None:
        conditions.append(Alert.last_seen_at < filters.until)
    return conditions


def alert_query(filters: AlertFilters, cursor: Cursor | None, limit: int) -> Select[Alert]:
    """At most ``limit`` alerts matching every given filter, newest ``last_seen_at`` first."""
    query = select(Alert).where(*alert_conditions(filters))
    if cursor is not None:
        query = query.where(after(cursor, Alert.last_seen_at, Alert.id))
    return query.order_by(Alert.last_seen_at.desc(), Alert.id.desc()).limit(limit)


def alert_out(alert: Alert) -> AlertOut:
    columns = {name: getattr(alert, name) for name in AlertOut.model_fields if name != "country"}
    return AlertOut.model_validate({**columns, "country": country_of(alert.place)})


async def latest_alerts(session: AsyncSession, filters: AlertFilters, limit: int) -> list[AlertOut]:
    return [alert_out(alert) for alert in await session.scalars(alert_query(filters, None, limit))]


def _cursor(alert: Alert) -> Cursor:
    return Cursor(alert.last_seen_at, alert.id)


def alert_filters(
    place: Annotated[
        list[PlaceId] | None, Query(description="place ids (repeat for several)")
    ] = None,
    country: Annotated[list[Country] | None, Query(description="countries")] = None,
    kind: Annotated[list[EventKind] | None, Query(description="event kinds")] = None,
    status: Annotated[list[AlertStatus] | None, Query(description="statuses")] = None,
    language: Annotated[
        list[LanguageCode] | None,
        Query(description="reported by an article in any of these (main) languages"),
    ] = None,
    since: Annotated[Instant | None, Query(description="last_seen_at at or after")] = None,
    until: Annotated[Instant | None, Query(description="last_seen_at before")] = None,
) -> AlertFilters:
    """The filters of ``GET /alerts``, shared by every route that lists alerts (the Atom
    feed, GeoJSON, CSV and the live stream)."""
    return AlertFilters(
        places=check_places(place or ()),
        countries=check_countries(country or ()),
        kinds=tuple(kind or ()),
        statuses=tuple(status or ()),
        languages=tuple(language or ()),
        since=since,
        until=until,
    )


AlertFiltersParam = Annotated[AlertFilters, Depends(alert_filters)]


@router.get("/alerts", response_model=Page[AlertOut], responses={400: {}})
async def list_alerts(
    session: Session,
    filters: AlertFiltersParam,
    limit: Limit = DEFAULT_LIMIT,
    cursor: CursorText = None,
) -> Page[AlertOut]:
    """Alerts newest first (by the article time of their latest report); every filter
    given must hold, and a repeated filter matches any of its values."""
    rows = list(await session.scalars(alert_query(filters, cursor_param(cursor), limit + 1)))
    page, following = split_page(rows, limit, _cursor)
    return Page[AlertOut](items=[alert_out(a) for a in page], next=following)


async def _articles(session: AsyncSession, alert_id: uuid.UUID) -> list[AlertArticleOut]:
    rows = await session.execute(
        select(AlertArticle, Article.canonical_url, Article.title)
        .join(Article, Article.id == AlertArticle.article_id)
        .where(AlertArticle.alert_id == alert_id)
        .order_by(AlertArticle.added_at, AlertArticle.article_id)
    )
    return [
        AlertArticleOut.model_validate(
            {
                "id": link.article_id,
                "url": url,
                "title": title,
                "outlet": link.outlet,
                "language": link.evidence_language or link.language,
                "article_language": link.language,
                "confidence": link.confidence,
                "snippet": link.evidence,
                "reason": link.reason,
                "sentences": sentences_out(
                    link.sentences,
                    link.evidence,
                    link.evidence_language or link.language,
                    link.reason,
                ),
                "opened": link.opened,
                "status": link.status,
                "added_at": link.added_at,
            }
        )
        for link, url, title in rows
    ]


async def _history(session: AsyncSession, alert_id: uuid.UUID) -> list[AlertChange]:
    events = await session.scalars(
        select(AlertEvent).where(AlertEvent.alert_id == alert_id).order_by(AlertEvent.id)
    )
    return [
        AlertChange.model_validate(
            {
                "id": event.id,
                "type": event.type,
                "status": event.alert["status"],
                "changes": event.changes,
                "created_at": event.created_at,
                "published_at": event.published_at,
            }
        )
        for event in events
    ]


@router.get("/alerts/{alert_id}", response_model=AlertDetail, responses={404: {}})
async def get_alert(alert_id: uuid.UUID, session: Session) -> AlertDetail:
    """One alert with its articles (evidence), outlets, languages and status history."""
    alert = await session.get(Alert, alert_id)
    if alert is None:
        raise HTTPException(404, f"no alert {alert_id}")
    return AlertDetail.model_validate(
        {
            **alert_out(alert).model_dump(),
            "articles": await _articles(session, alert_id),
            "history": await _history(session, alert_id),
        }
    )
