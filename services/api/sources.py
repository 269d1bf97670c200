"""``/sources``: the polled feeds and pages with their health; create and edit (token)."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from fastapi import APIRouter, HTTPException, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.api.deps import Session, Writer
from services.api.vocabulary import SourceHealth, SourceKind
from services.models import Source, utcnow

router = APIRouter(tags=["sources"])


def health(enabled: bool, parked_until: datetime | None, error_count: int) -> SourceHealth:
    """``disabled``; ``parked`` (failed too often, tried rarely); ``erroring`` (the last
    poll failed); else ``ok``."""
    if not enabled:
        return "disabled"
    if parked_until is not None:
        return "parked"
    return "erroring" if error_count else "ok"


class SourceOut(BaseModel):
    id: int
    name: str
    url: str
    kind: SourceKind
    language: str | None
    interval: float | None = Field(description="seconds; null: DRAWDOWN_POLL_INTERVAL")
    enabled: bool
    health: SourceHealth
    last_polled_at: datetime | None
    next_poll_at: datetime
    last_status: str | None = Field(description='HTTP status of the last poll, or "timeout" …')
    error_count: int = Field(description="consecutive failed polls")
    last_error: str | None
    parked_until: datetime | None
    articles_found: int
    created_at: datetime
    updated_at: datetime


def source_out(source: Source) -> SourceOut:
    columns = {name: getattr(source, name) for name in SourceOut.model_fields if name != "health"}
    state = health(source.enabled, source.parked_until, source.error_count)
    return SourceOut.model_validate({**columns, "health": state})


def _http_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"url {url!r} is not an http(s) URL with a host")
    return url


class SourceCreate(BaseModel):
    """A source as the sources file would define it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=256)
    url: str = Field(max_length=2048, description="http(s); a source is identified by its URL")
    kind: SourceKind = "feed"
    language: str | None = Field(None, max_length=16, description="a hint, e.g. ar")
    interval: float | None = Field(None, gt=0, description="seconds, clamped to the poll bounds")
    enabled: bool = True

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _http_url(value)


class SourceUpdate(BaseModel):
    """Fields to change; absent fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=256)
    interval: float | None = Field(None, gt=0, description="seconds; null: the default")
    enabled: bool | None = None


async def _get(session: Session, source_id: int) -> Source:
    source = await session.get(Source, source_id)
    if source is None:
        raise HTTPException(404, f"no source {source_id}")
    return source


@router.get("/sources", response_model=list[SourceOut])
async def list_sources(session: Session) -> list[SourceOut]:
    """Every source with its poll state and health, by name."""
    found = await session.scalars(select(Source).order_by(Source.name, Source.id))
    return [source_out(s) for s in found]


@router.get("/sources/{source_id}", response_model=SourceOut, responses={404: {}})
async def get_source(source_id: int, session: Session) -> SourceOut:
    return source_out(await _get(session, source_id))


@router.post(
    "/sources",
    response_model=SourceOut,
    status_code=201,
    dependencies=[Writer],
    responses={401: {}, 409: {}},
)
async def create_source(body: SourceCreate, session: Session, response: Response) -> SourceOut:
    """Add a source; due for a poll at once. 409 if its URL is already a source."""
    now = utcnow()
    source = Source(
        **body.model_dump(), next_poll_at=now, error_count=0, articles_found=0, created_at=now
    )
    session.add(source)
    try:
        await session.commit()
    except IntegrityError as exc:
        raise HTTPException(409, f"{body.url} is already a source") from exc
    response.headers["Location"] = f"/sources/{source.id}"
    return source_out(source)


@router.patch(
    "/sources/{source_id}",
    response_model=SourceOut,
    dependencies=[Writer],
    responses={401: {}, 404: {}},
)
async def update_source(source_id: int, body: SourceUpdate, session: Session) -> SourceOut:
    """Enable or disable a source, rename it, or change its interval."""
    source = await _get(session, source_id)
    for name, value in body.model_dump(exclude_unset=True).items():
        if value is None and name != "interval":
            raise HTTPException(422, f"{name} cannot be null")
        setattr(source, name, value)
    await session.commit()
    await session.refresh(source)
    return source_out(source)
