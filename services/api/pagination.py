"""Cursor pagination, newest first: an opaque cursor over (timestamp, id), descending.

A cursor is base64url (no padding) of the JSON ``[iso timestamp, id]`` of the
last item of a page; the next page holds the items strictly after it in
``(timestamp DESC, id DESC)`` order, so pages never repeat or skip an item even
when many share a timestamp.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Generic, TypeVar

from fastapi import HTTPException, Query
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, and_, or_
from sqlalchemy.orm import InstrumentedAttribute

MAX_LIMIT = 200
DEFAULT_LIMIT = 50
T = TypeVar("T")
Row = TypeVar("Row")


@dataclass(frozen=True, slots=True)
class Cursor:
    at: datetime
    id: uuid.UUID


def encode(cursor: Cursor) -> str:
    raw = json.dumps([cursor.at.isoformat(), str(cursor.id)], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


MAX_CURSOR = 128  # characters; the cursors given out are about 90


def decode(text: str) -> Cursor:
    """The cursor ``text`` stands for; ValueError if it is not one this API gave out,
    whatever it holds (too long, not base64, not JSON, nested JSON, wrong shape)."""
    refused = ValueError(f"not a cursor this API gave out: {text[:40]!r}")
    if len(text) > MAX_CURSOR:
        raise refused
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        at, id_ = json.loads(raw)
        cursor = Cursor(datetime.fromisoformat(at), uuid.UUID(id_))
    except (binascii.Error, TypeError, ValueError, RecursionError, OverflowError) as exc:
        raise refused from exc
    if cursor.at.tzinfo is None:
        raise refused
    return cursor


def after(
    cursor: Cursor,
    at: InstrumentedAttribute[datetime],
    id_: InstrumentedAttribute[uuid.UUID],
) -> ColumnElement[bool]:
    """Rows that come after ``cursor`` in (at DESC, id DESC) order."""
    return or_(at < cursor.at, and_(at == cursor.at, id_ < cursor.id))


def split_page(
    rows: Sequence[Row], limit: int, key: Callable[[Row], Cursor]
) -> tuple[list[Row], str | None]:
    """The page (``limit`` of ``rows``, which were fetched with ``limit + 1``) and the next
    cursor, or None on the last page."""
    page = list(rows[:limit])
    return page, encode(key(page[-1])) if len(rows) > limit and page else None


class Page(BaseModel, Generic[T]):
    """One page of items, newest first; pass ``next`` as ``cursor`` for the following page."""

    items: list[T]
    next: str | None = Field(description="the cursor of the next page; null on the last page")


Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"items per page, 1 to {MAX_LIMIT}")]
CursorText = Annotated[
    str | None, Query(description="`next` of the previous page; absent for the first page")
]


def cursor_param(text: str | None) -> Cursor | None:
    """The cursor of a request, or 400 when it is not one this API gave out."""
    if text is None:
        return None
    try:
        return decode(text)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from exc
