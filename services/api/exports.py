"""Alerts where people already look: an Atom feed for feed readers, GeoJSON for GIS tools
and CSV for spreadsheets.

``/alerts.atom``, ``/alerts.geojson`` and ``/alerts.csv`` take the filters of
``GET /alerts``; ``/articles.csv`` those of ``GET /articles`` (full-text ``q``
included). Each gives the newest ``limit`` items: a feed reader polls the feed, and
an export is a snapshot, so none of them pages.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterable, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from feedgenerator import Atom1Feed
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from processor.gazetteer import gazetteer
from services.api.alerts import AlertFilters, AlertFiltersParam, alert_query
from services.api.articles import ArticleFiltersParam, article_query, snippet
from services.api.deps import Session, State
from services.api.places import all_places
from services.models import Alert, AlertArticle, Article

router = APIRouter(tags=["exports"])
FEED_LIMIT = 50
MAX_EXPORT = 10_000
ATOM = "application/atom+xml"
GEOJSON = "application/geo+json"
CSV = "text/csv"
FeedLimit = Annotated[int, Query(ge=1, le=200, description="newest alerts, 1 to 200")]
ExportLimit = Annotated[
    int, Query(ge=1, le=MAX_EXPORT, description=f"newest items, 1 to {MAX_EXPORT}")
]


def place_name(place_id: str) -> str:
    for place in gazetteer().places:
        if place.id == place_id:
            english = dict(place.names).get("en")
            return english[0] if english else place_id
    return place_id


def headline(alert: Alert) -> str:
    """``Qasrak: withdrawal, corroborated`` — what a feed entry or a notification is about."""
    return f"{place_name(alert.place)}: {alert.kind.replace('_', ' ')}, {alert.status}"


async def latest_evidence(
    session: AsyncSession, alert_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, dict[str, Any]]:
    """Per alert, its newest article's evidence: the sentence, its language and reason,
    the outlet, the link."""
    if not alert_ids:
        return {}
    rows = await session.execute(
        select(AlertArticle, Article.canonical_url, Article.title)
        .join(Article, Article.id == AlertArticle.article_id)
        .where(AlertArticle.alert_id.in_(alert_ids))
        .order_by(AlertArticle.added_at.desc(), AlertArticle.article_id.desc())
    )
    found: dict[uuid.UUID, dict[str, Any]] = {}
    for link, url, title in rows:
        found.setdefault(
            link.alert_id,
            {
                "snippet": link.evidence,
                "language": link.evidence_language or link.language,
                "reason": link.reason,
                "outlet": link.outlet,
                "url": url,
                "title": title,
            },
        )
    return found


async def _alerts(
    session: AsyncSession, filters: AlertFilters, limit: int
) -> tuple[list[Alert], dict[uuid.UUID, dict[str, Any]]]:
    alerts = list(await session.scalars(alert_query(filters, None, limit)))
    return alerts, await latest_evidence(session, [a.id for a in alerts])


def atom_feed(
    alerts: Iterable[Alert], evidence: dict[uuid.UUID, dict[str, Any]], base: str, self_url: str
) -> bytes:
    feed = Atom1Feed(
        title="Drawdown alerts",
        link=f"{base}/",
        description="Reports of foreign forces withdrawing from named military bases",
        subtitle="Reports of foreign forces withdrawing from named military bases",
        feed_url=self_url,
        feed_guid=self_url,
        author_name="Drawdown",
    )
    for alert in alerts:
        said = evidence.get(alert.id, {})
        outlets = ", ".join(alert.outlets)
        why = f"why: {said['reason']}; " if said.get("reason") else ""
        feed.add_item(
            title=headline(alert),
            link=f"{base}/places/{alert.place}/view",
            description=(
                f"{said.get('snippet', '')}\n— {said.get('outlet', '')} "
                f"({said.get('language')}), {said.get('url') or 'no link'}; "
                f"{why}{len(alert.outlets)} outlets: {outlets}; "
                f"languages: {', '.join(alert.languages)}; {base}/alerts/{alert.id}"
            ),
            unique_id=f"urn:uuid:{alert.id}",
            pubdate=alert.opened_at,
            updateddate=alert.updated_at,
            categories=(alert.kind, alert.status),
        )
    text: str = feed.writeString("utf-8")
    return text.encode()


ATOM_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {ATOM: {"schema": {"type": "string"}}}},
    422: {},
}


@router.get(
    "/alerts.atom",
    response_class=Response,
    responses=ATOM_RESPONSE,
)
async def alerts_atom(
    request: Request, session: Session, filters: AlertFiltersParam, limit: FeedLimit = FEED_LIMIT
) -> Response:
    """The newest alerts as an Atom feed, with the filters of ``GET /alerts``: follow a
    place in any feed reader (``/alerts.atom?place=qasrak``). Each entry is one alert,
    updated as it is corroborated, with its newest evidence sentence."""
    alerts, evidence = await _alerts(session, filters, limit)
    base = str(request.base_url).rstrip("/")
    return Response(atom_feed(alerts, evidence, base, str(request.url)), media_type=ATOM)


def _point(lon: float, lat: float, properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": properties,
    }


def _geojson(features: list[dict[str, Any]]) -> Response:
    body = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)
    return Response(body, media_type=GEOJSON)


GEOJSON_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {GEOJSON: {"schema": {"type": "object"}}}}
}


@router.get("/places.geojson", response_class=Response, responses=GEOJSON_RESPONSE)
async def places_geojson(session: Session) -> Response:
    """Every gazetteer place as a GeoJSON point with its current story (as ``/places``)."""
    features = []
    for place in await all_places(session):
        status = place.status
        features.append(
            _point(
                place.lon,
                place.lat,
                {
                    "id": place.id,
                    "name": dict(place.names).get("en", [place.id])[0],
                    "kind": place.kind,
                    "country": place.country,
                    "status": status.status if status else None,
                    "alert_kind": status.kind if status else None,
                    "alert_id": str(status.alert_id) if status else None,
                    "outlets": status.outlets if status else 0,
                    "last_seen_at": status.last_seen_at.isoformat() if status else None,
                },
            )
        )
    return _geojson(features)


@router.get("/alerts.geojson", response_class=Response, responses={**GEOJSON_RESPONSE, 422: {}})
async def alerts_geojson(
    session: Session, filters: AlertFiltersParam, limit: ExportLimit = 1000
) -> Response:
    """The newest alerts (filters of ``GET /alerts``) as GeoJSON points at their places."""
    where = {p.id: (p.lon, p.lat) for p in gazetteer().places}
    alerts, evidence = await _alerts(session, filters, limit)
    features = [
        _point(*where[alert.place], {**_alert_row(alert), **_evidence_row(evidence, alert)})
        for alert in alerts
        if alert.place in where
    ]
    return _geojson(features)


def _alert_row(alert: Alert) -> dict[str, Any]:
    return {
        "id": str(alert.id),
        "place": alert.place,
        "kind": alert.kind,
        "status": alert.status,
        "confidence": alert.confidence,
        "article_count": alert.article_count,
        "outlets": "; ".join(alert.outlets),
        "languages": "; ".join(alert.languages),
        "first_seen_at": alert.first_seen_at.isoformat(),
        "last_seen_at": alert.last_seen_at.isoformat(),
        "opened_at": alert.opened_at.isoformat(),
        "updated_at": alert.updated_at.isoformat(),
    }


def _evidence_row(evidence: dict[uuid.UUID, dict[str, Any]], alert: Alert) -> dict[str, Any]:
    said = evidence.get(alert.id, {})
    return {
        "evidence": said.get("snippet"),
        "evidence_language": said.get("language"),
        "evidence_reason": said.get("reason"),
        "evidence_url": said.get("url"),
    }


def to_csv(rows: Iterable[dict[str, Any]], columns: Sequence[str], name: str) -> Response:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    # A byte-order mark, so that spreadsheets read the Arabic and Cyrillic as UTF-8.
    return Response(
        "\ufeff" + out.getvalue(),
        media_type=f"{CSV}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {CSV: {"schema": {"type": "string"}}}},
    422: {},
}
ALERT_COLUMNS = (
    "id",
    "place",
    "kind",
    "status",
    "confidence",
    "article_count",
    "outlets",
    "languages",
    "first_seen_at",
    "last_seen_at",
    "opened_at",
    "updated_at",
    "evidence",
    "evidence_language",
    "evidence_reason",
    "evidence_url",
)
ARTICLE_COLUMNS = (
    "id",
    "created_at",
    "published_at",
    "source",
    "language",
    "languages",
    "title",
    "url",
    "snippet",
)


@router.get("/alerts.csv", response_class=Response, responses=CSV_RESPONSE)
async def alerts_csv(
    session: Session, filters: AlertFiltersParam, limit: ExportLimit = 1000
) -> Response:
    """The newest alerts (filters of ``GET /alerts``) as CSV, one row each with its newest
    evidence; several outlets or languages are joined by ``; ``."""
    alerts, evidence = await _alerts(session, filters, limit)
    rows = ({**_alert_row(a), **_evidence_row(evidence, a)} for a in alerts)
    return to_csv(rows, ALERT_COLUMNS, "alerts.csv")


@router.get("/articles.csv", response_class=Response, responses=CSV_RESPONSE)
async def articles_csv(
    session: Session, state: State, filters: ArticleFiltersParam, limit: ExportLimit = 1000
) -> Response:
    """The newest stored articles (filters of ``GET /articles``, ``q`` included) as CSV."""
    found = await session.scalars(article_query(filters, None, limit, state.dialect))
    rows = (
        {
            "id": str(a.id),
            "created_at": a.created_at.isoformat(),
            "published_at": a.published_at.isoformat() if a.published_at else "",
            "source": a.source,
            "language": a.language or "",
            "languages": "; ".join(a.languages),
            "title": a.title,
            "url": a.canonical_url or "",
            "snippet": snippet(a.text),
        }
        for a in found
    )
    return to_csv(rows, ARTICLE_COLUMNS, "articles.csv")
