"""``GET /places`` and ``GET /places/{id}``: the gazetteer with each place's latest story."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from processor.gazetteer import Place, gazetteer
from processor.outcomes import place_statuses
from services.api.alerts import AlertFilters, AlertOut, latest_alerts
from services.api.deps import Session
from services.api.vocabulary import AlertStatus, EventKind, place
from services.models import Article, Event

router = APIRouter(tags=["places"])
PLACE_ALERTS = 20
PLACE_EVIDENCE = 100


class PlaceStatus(BaseModel):
    """The place's newest alert: what is said to happen there, and how corroborated."""

    kind: EventKind
    status: AlertStatus
    alert_id: uuid.UUID
    outlets: int = Field(description="independent outlets that reported it")
    languages: list[str]
    articles: int
    since: datetime = Field(description="article time of the first report")
    last_seen_at: datetime


class PlaceOut(BaseModel):
    id: str
    kind: str = Field(description="base, airfield, oil_field, gas_field, city or country")
    country: str
    lat: float
    lon: float
    names: dict[str, list[str]] = Field(description="names and variants per language code")
    status: PlaceStatus | None = Field(description="null: no alert yet")


class Evidence(BaseModel):
    """One sentence an article wrote about the place, with what was read in it."""

    article_id: uuid.UUID
    title: str
    url: str | None
    source: str
    kind: EventKind
    confidence: float
    language: str | None = Field(description="the language of the sentence")
    snippet: str
    reason: str = Field(description="why it was read so, in words (cue, tense, actor, stance)")
    created_at: datetime


class PlaceDetail(PlaceOut):
    alerts: list[AlertOut] = Field(description=f"the latest {PLACE_ALERTS} alerts")
    evidence: list[Evidence] = Field(description=f"the latest {PLACE_EVIDENCE} events")


def place_out(entry: Place, status: dict[str, Any] | None) -> PlaceOut:
    return PlaceOut.model_validate(
        {
            "id": entry.id,
            "kind": entry.kind,
            "country": entry.country,
            "lat": entry.lat,
            "lon": entry.lon,
            "names": {language: list(names) for language, names in entry.names},
            "status": status,
        }
    )


async def all_places(session: AsyncSession) -> list[PlaceOut]:
    statuses = {s["place"]: s for s in await place_statuses(session)}
    return [place_out(p, statuses.get(p.id)) for p in gazetteer().places]


async def evidence_at(session: AsyncSession, place_id: str, limit: int) -> list[Evidence]:
    rows = await session.execute(
        select(Event, Article.title, Article.canonical_url, Article.source, Article.created_at)
        .join(Article, Article.id == Event.article_id)
        .where(Event.place == place_id)
        .order_by(Article.created_at.desc(), Event.id.desc())
        .limit(limit)
    )
    return [
        Evidence.model_validate(
            {
                "article_id": event.article_id,
                "title": title,
                "url": url,
                "source": source,
                "kind": event.kind,
                "confidence": event.confidence,
                "language": event.language,
                "snippet": event.evidence,
                "reason": event.reason,
                "created_at": created_at,
            }
        )
        for event, title, url, source, created_at in rows
    ]


async def place_detail(session: AsyncSession, place_id: str) -> PlaceDetail:
    """404 for a place the gazetteer does not know."""
    entry = place(place_id)
    if entry is None:
        raise HTTPException(404, f"no place {place_id!r}; GET /places lists them")
    status = next((s for s in await place_statuses(session) if s["place"] == place_id), None)
    return PlaceDetail.model_validate(
        {
            **place_out(entry, status).model_dump(),
            "alerts": await latest_alerts(session, AlertFilters(places=(place_id,)), PLACE_ALERTS),
            "evidence": await evidence_at(session, place_id, PLACE_EVIDENCE),
        }
    )


@router.get("/places", response_model=list[PlaceOut])
async def list_places(session: Session) -> list[PlaceOut]:
    """Every place in the gazetteer, in gazetteer order, with its latest status."""
    return await all_places(session)


@router.get("/places/{place_id}", response_model=PlaceDetail, responses={404: {}})
async def get_place(place_id: str, session: Session) -> PlaceDetail:
    """One place: its names, latest status, latest alerts and evidence in every language."""
    return await place_detail(session, place_id)
