"""``/sources``: the polled feeds and pages with their health; create and edit (token).

A source added here has ``origin`` "api": reloading the sources file leaves it
alone, unless the file lists its URL, which makes it the file's. A source of the
file can only be enabled or disabled here, and only until the next reload; its
other fields are the file's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import httpx
from fastapi import APIRouter, HTTPException, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.api.deps import Session, State, Writer
from services.api.vocabulary import (
    NO_NUL,
    HttpUrl,
    Name,
    Origin,
    RowId,
    SourceHealth,
    SourceKind,
    Storable,
)
from services.models import Source, utcnow
from services.netguard import host_refusal
from services.webhooks.subscriptions import API, FILE

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
    last_status: str | None = Field(
        description="the last poll's outcome: ok, empty, not_modified, or why it failed "
        '(an HTTP status such as "404", or "timeout", "blocked", "binary", "parse", "pages" …)'
    )
    error_count: int = Field(description="consecutive failed polls")
    last_error: str | None = Field(
        description="why the last poll failed, with its numbers; on an ok poll, a note "
        'such as "1 of 4 article pages unusable; first: …"'
    )
    parked_until: datetime | None
    articles_found: int
    origin: Origin = Field(
        description="file: the sources file's (disabled by a reload that no longer lists it); "
        "api: added through the API"
    )
    created_at: datetime
    updated_at: datetime


def source_out(source: Source) -> SourceOut:
    columns = {name: getattr(source, name) for name in SourceOut.model_fields if name != "health"}
    state = health(source.enabled, source.parked_until, source.error_count)
    return SourceOut.model_validate({**columns, "health": state})


Language = Annotated[
    str, Field(max_length=16, pattern=NO_NUL, description="a hint, e.g. ar"), Storable
]


class SourceCreate(BaseModel):
    """A source as the sources file would define it."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    url: HttpUrl = Field(description="http(s); a source is identified by its URL")
    kind: SourceKind = "feed"
    language: Language | None = None
    interval: float | None = Field(
        None,
        gt=0,
        allow_inf_nan=False,
        strict=True,
        description="seconds, clamped to the poll bounds",
    )
    enabled: bool = Field(True, strict=True)


class SourceUpdate(BaseModel):
    """Fields to change; absent fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    # name and enabled cannot be null: they default to a placeholder, and only the fields
    # given apply.
    name: Name = Field(default_factory=str)
    interval: float | None = Field(
        None, gt=0, allow_inf_nan=False, strict=True, description="seconds; null: the default"
    )
    enabled: bool = Field(default_factory=bool, strict=True)


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


@router.get("/sources/{source_id}", response_model=SourceOut, responses={404: {}, 422: {}})
async def get_source(source_id: RowId, session: Session) -> SourceOut:
    return source_out(await _get(session, source_id))


@router.post(
    "/sources",
    response_model=SourceOut,
    status_code=201,
    dependencies=[Writer],
    responses={400: {}, 401: {}, 409: {}, 422: {}},
)
async def create_source(
    body: SourceCreate, session: Session, state: State, response: Response
) -> SourceOut:
    """Add a source (``origin`` api); due for a poll at once. 409 if its URL is already a
    source; 422 if its host is an address the SSRF guard refuses (loopback, private,
    link-local, metadata …, unless ``DRAWDOWN_FETCH_ALLOWED_NETWORKS`` allows it)."""
    refused = host_refusal(httpx.URL(body.url).host, state.settings.fetch_allowed_networks)
    if refused is not None:
        raise RequestValidationError(
            [
                {
                    "loc": ("body", "url"),
                    "msg": f"blocked address: {refused}; fetches may not go there "
                    "(DRAWDOWN_FETCH_ALLOWED_NETWORKS lists networks allowed nevertheless)",
                    "type": "blocked_address",
                }
            ]
        )
    now = utcnow()
    source = Source(
        **body.model_dump(),
        next_poll_at=now,
        error_count=0,
        articles_found=0,
        origin=API,
        created_at=now,
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
    responses={400: {}, 401: {}, 404: {}, 409: {}, 422: {}},
)
async def update_source(source_id: RowId, body: SourceUpdate, session: Session) -> SourceOut:
    """Enable or disable a source, rename it, or change its interval. A source of the
    sources file can only be enabled or disabled (until the file is loaded again): 409."""
    source = await _get(session, source_id)
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    if source.origin == FILE and set(changes) - {"enabled"}:
        raise HTTPException(
            409,
            f"source {source_id} comes from the sources file: change its "
            f"{', '.join(sorted(set(changes) - {'enabled'}))} there (only enabled can be set here)",
        )
    for name, value in changes.items():
        setattr(source, name, value)
    await session.commit()
    await session.refresh(source)
    return source_out(source)
