"""The dashboard: server-rendered pages (map, places, alert timeline, article search,
languages, sources, a page per place) and the small JSON document their script fetches
whenever the live stream (``/alerts/stream``) says an alert changed.

Everything it needs ships in ``templates/`` and ``static/``: no external fonts,
scripts, tiles or CDNs, and a Content-Security-Policy that allows none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, get_args

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from pydantic import BaseModel, Field
from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.alerts import AlertFilters, AlertOut, latest_alerts
from services.api.deps import Session
from services.api.mapsvg import REGION, region_outlines
from services.api.places import PlaceOut, all_places, place_detail
from services.api.sources import SourceOut, source_out
from services.api.vocabulary import AlertStatus, EventKind
from services.models import AlertArticle, Article, Source

router = APIRouter(tags=["dashboard"])
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
TIMELINE = 50
REFRESH_SECONDS = 60  # besides the live stream: source health changes without alert events
STATUS_LEGEND = (
    ("reported", "one outlet, one language"),
    ("corroborated", "two outlets or two languages"),
    ("confirmed", "three outlets, two languages"),
    ("disputed", "denied since"),
    ("none", "no alert"),
)
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


class PlaceState(BaseModel):
    id: str
    status: AlertStatus | None
    kind: EventKind | None = Field(description="the kind of the place's newest alert")
    outlets: int
    languages: list[str]
    last_seen_at: datetime | None


class LanguageCount(BaseModel):
    language: str = Field(description="an article's main language (und: undetermined)")
    articles: int = Field(description="articles stored in this language")
    alerts: int = Field(description="alerts an article in this language opened or corroborated")


class DashboardState(BaseModel):
    """What the dashboard shows, for its script to refresh the page with."""

    generated_at: datetime
    places: list[PlaceState]
    alerts: list[AlertOut] = Field(description=f"the latest {TIMELINE}, newest first")
    sources: list[SourceOut]
    languages: list[LanguageCount] = Field(description="most articles first")


@dataclass(frozen=True, slots=True)
class Marker:
    id: str
    name: str
    x: float
    y: float
    status: str  # an alert status, or "none"
    is_country: bool


def display_name(place: PlaceOut) -> str:
    english = place.names.get("en")
    return english[0] if english else place.id


def markers(places: list[PlaceOut]) -> list[Marker]:
    found = []
    for place in places:
        x, y = REGION.project(place.lon, place.lat)
        status = place.status.status if place.status else "none"
        name = display_name(place)
        found.append(Marker(place.id, name, x, y, status, place.kind == "country"))
    # Countries first, so bases are drawn over them.
    return sorted(found, key=lambda m: not m.is_country)


def when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "—"


@cache
def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["when"] = when
    environment.globals["refresh_seconds"] = REFRESH_SECONDS
    return environment


def render(template: str, **context: Any) -> HTMLResponse:
    html = _environment().get_template(template).render(**context)
    return HTMLResponse(html, headers={"Content-Security-Policy": CSP})


async def _sources(session: AsyncSession) -> list[SourceOut]:
    found = await session.scalars(select(Source).order_by(Source.name, Source.id))
    return [source_out(s) for s in found]


async def language_counts(session: AsyncSession) -> list[LanguageCount]:
    """Articles and alerts per main language, most articles first."""
    articles = await session.execute(
        select(Article.language, func.count()).group_by(Article.language)
    )
    alerted = await session.execute(
        select(AlertArticle.language, func.count(distinct(AlertArticle.alert_id))).group_by(
            AlertArticle.language
        )
    )
    alerts = {language: count for language, count in alerted}
    counts = [
        LanguageCount(language=language or "und", articles=n, alerts=alerts.get(language, 0))
        for language, n in articles
    ]
    return sorted(counts, key=lambda c: (-c.articles, c.language))


def place_state(place: PlaceOut) -> PlaceState:
    status = place.status
    return PlaceState(
        id=place.id,
        status=status.status if status else None,
        kind=status.kind if status else None,
        outlets=status.outlets if status else 0,
        languages=status.languages if status else [],
        last_seen_at=status.last_seen_at if status else None,
    )


@router.get("/dashboard/state", response_model=DashboardState)
async def dashboard_state(session: Session) -> DashboardState:
    """Every place's latest status, the alert timeline and the sources' health."""
    return DashboardState(
        generated_at=datetime.now(UTC),
        places=[place_state(p) for p in await all_places(session)],
        alerts=await latest_alerts(session, AlertFilters(), TIMELINE),
        sources=await _sources(session),
        languages=await language_counts(session),
    )


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def index(session: Session) -> HTMLResponse:
    places = await all_places(session)
    names = {p.id: display_name(p) for p in places}
    return render(
        "index.html",
        frame=REGION,
        outlines=region_outlines(),
        markers=markers(places),
        legend=STATUS_LEGEND,
        places=places,
        names=names,
        alerts=await latest_alerts(session, AlertFilters(), TIMELINE),
        sources=await _sources(session),
        languages=await language_counts(session),
        kinds=get_args(EventKind),
        statuses=get_args(AlertStatus),
        generated_at=datetime.now(UTC),
    )


@router.get("/places/{place_id}/view", response_class=HTMLResponse, include_in_schema=False)
async def place_view(place_id: str, session: Session) -> HTMLResponse:
    detail = await place_detail(session, place_id)
    return render(
        "place.html",
        place=detail,
        name=display_name(detail),
        legend=STATUS_LEGEND,
        generated_at=datetime.now(UTC),
    )
