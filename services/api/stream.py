"""``GET /alerts/stream``: alert events as they happen, as Server-Sent Events.

Each SSE event is one row of ``alert_events`` (an alert opened or changed), with
``event:`` its type (``alert.created``, ``alert.updated``), ``id:`` its event id and
``data:`` the same JSON body a webhook receives. A client that reconnects sends the
last id it saw as ``Last-Event-ID`` (browsers' EventSource does this by itself) and
gets every matching event after it, so a dropped connection loses nothing. Without
it the stream starts with the next event.

The stream reads the database (every ``POLL_SECONDS``), not a bus, so any API process
streams every processor's events. Event ids come from the database in insert order,
but two transactions may commit out of that order; the stream therefore looks back
``LOOKBACK`` ids on every read and sends what it has not sent yet.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Request
from sqlalchemy import func, select
from sse_starlette import EventSourceResponse, ServerSentEvent

from services.api.alerts import AlertFilters, AlertFiltersParam, alert_conditions
from services.api.deps import State
from services.models import Alert, AlertEvent
from services.webhooks.payload import alert_body

router = APIRouter(tags=["alerts"])
POLL_SECONDS = 1.0
PING_SECONDS = 15  # a comment line now and then keeps proxies from closing an idle stream
LOOKBACK = 200
BATCH = 500


def _last_event_id(text: str | None) -> int | None:
    if text is None or not text.strip():
        return None
    if not text.strip().isdigit():
        raise HTTPException(400, f"Last-Event-ID {text[:40]!r} is not an event id of this stream")
    return int(text)


async def _newest_id(state: State) -> int:
    async with state.sessions() as session:
        newest = await session.scalar(select(func.max(AlertEvent.id)))
        return int(newest or 0)


async def events_after(
    state: State, filters: AlertFilters, after: int, sent: set[int]
) -> list[AlertEvent]:
    """Matching events with an id above ``after - LOOKBACK`` that are not in ``sent``."""
    async with state.sessions() as session:
        rows = await session.scalars(
            select(AlertEvent)
            .join(Alert, Alert.id == AlertEvent.alert_id)
            .where(AlertEvent.id > after - LOOKBACK, *alert_conditions(filters))
            .order_by(AlertEvent.id)
            .limit(BATCH + LOOKBACK)
        )
        return [event for event in rows if event.id not in sent]


def sse(event: AlertEvent) -> ServerSentEvent:
    body = alert_body(event.id, event.type, event.created_at, event.changes, event.alert)
    return ServerSentEvent(data=body.decode(), event=event.type, id=str(event.id))


async def alert_events(
    request: Request, state: State, filters: AlertFilters, start: int | None
) -> AsyncIterator[ServerSentEvent]:
    # Resuming: everything after the client's last id (nothing before it is resent).
    after = await _newest_id(state) if start is None else start
    sent: set[int] = set(range(max(after - LOOKBACK, 0) + 1, after + 1))
    while not await request.is_disconnected():
        for event in await events_after(state, filters, after, sent):
            sent.add(event.id)
            yield sse(event)
        if sent:
            after = max(after, max(sent))
            sent = {i for i in sent if i > after - LOOKBACK}
        await asyncio.sleep(POLL_SECONDS)


STREAM_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Server-Sent Events; each data line is the JSON body of a webhook",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    },
    400: {},
    422: {},
}


@router.get("/alerts/stream", response_class=EventSourceResponse, responses=STREAM_RESPONSE)
async def stream_alerts(
    request: Request,
    state: State,
    filters: AlertFiltersParam,
    last_event_id: Annotated[
        str | None,
        Header(description="resume after this event id (EventSource sends it on reconnect)"),
    ] = None,
) -> EventSourceResponse:
    """Alert events (filters of ``GET /alerts``) as they are written, as Server-Sent Events:
    ``event: alert.created`` or ``alert.updated``, ``id:`` the event id, ``data:`` the
    webhook body. Reconnect with ``Last-Event-ID`` to get what was missed."""
    start = _last_event_id(last_event_id)
    return EventSourceResponse(
        alert_events(request, state, filters, start), ping=PING_SECONDS, send_timeout=30
    )
