"""``/deliveries``: the webhook outbox, newest first, with every attempt; redeliver (token).

The same reports as ``drawdown deliveries`` (services.webhooks.commands) and the
same requeue as ``drawdown redeliver --delivery`` (services.webhooks.queue).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from services.api.deps import Session, State, Writer
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
from services.api.vocabulary import MAX_ROW_ID, AlertEventType, DeliveryStatus, EventKind
from services.models import Delivery, utcnow
from services.webhooks import commands, queue
from services.webhooks.commands import DeliveryReport

router = APIRouter(tags=["deliveries"])


class AttemptOut(BaseModel):
    """One try of a delivery."""

    number: int = Field(description="1 for the first attempt")
    at: datetime = Field(description="when the answer (or its absence) was recorded")
    status: int | None = Field(description="the HTTP status; null when there was no answer")
    latency_ms: float | None = Field(description="how long the request took")
    error: str | None = Field(
        description="why there was no answer: 'timeout: …', 'connect: …', 'blocked address: …'"
    )
    response: str | None = Field(description="the answer's first KiB")


class DeliveryOut(BaseModel):
    """One alert event owed to one subscription."""

    id: uuid.UUID
    webhook_id: str = Field(description="the webhook-id header: the same on every attempt")
    subscription_id: int
    subscription: str = Field(description="the subscription's name")
    event_id: int = Field(description="the alert event's id")
    type: AlertEventType
    alert_id: uuid.UUID
    place: str
    kind: EventKind
    status: DeliveryStatus = Field(
        description="pending (due, retrying or in flight), delivered, dead (retries ran "
        "out, or the address is refused), cancelled (its subscription answered 410)"
    )
    attempts: int = Field(description="attempts so far, one in flight included")
    next_attempt_at: datetime | None = Field(description="when it is due, while pending")
    retrying_since: datetime = Field(description="the retry horizon counts from here")
    last_status: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime


class DeliveryDetail(DeliveryOut):
    tries: list[AttemptOut] = Field(description="every attempt, oldest first")


def delivery_out(report: DeliveryReport) -> DeliveryOut:
    fields = set(DeliveryOut.model_fields) - {"webhook_id"}
    values = {name: getattr(report, name) for name in fields}
    return DeliveryOut.model_validate(values | {"webhook_id": report.webhook_id})


def _detail(report: DeliveryReport) -> DeliveryDetail:
    tries = [AttemptOut.model_validate(attempt, from_attributes=True) for attempt in report.tries]
    return DeliveryDetail(**delivery_out(report).model_dump(), tries=tries)


def _cursor(report: DeliveryReport) -> Cursor:
    return Cursor(report.created_at, report.id)


@router.get("/deliveries", response_model=Page[DeliveryOut], responses={400: {}})
async def list_deliveries(
    session: Session,
    subscription: Annotated[
        int | None, Query(ge=1, le=MAX_ROW_ID, description="the subscription's id")
    ] = None,
    status: Annotated[list[DeliveryStatus] | None, Query(description="statuses")] = None,
    alert: Annotated[uuid.UUID | None, Query(description="the alert's id")] = None,
    type: Annotated[list[AlertEventType] | None, Query(description="event types")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: CursorText = None,
) -> Page[DeliveryOut]:
    """Deliveries, newest first; every filter given must hold, and a repeated filter
    matches any of its values. ``GET /deliveries/{id}`` has the attempts."""
    start = cursor_param(cursor)
    reports = await commands.delivery_reports(
        session,
        limit=limit + 1,
        subscription_id=subscription,
        statuses=status or (),
        alert_id=alert,
        types=type or (),
        where=() if start is None else (after(start, Delivery.created_at, Delivery.id),),
        tries=False,
    )
    page, following = split_page(reports, limit, _cursor)
    return Page[DeliveryOut](items=[delivery_out(r) for r in page], next=following)


async def _report(session: Session, delivery_id: uuid.UUID) -> DeliveryReport:
    found = await commands.delivery_reports(session, limit=1, delivery_id=delivery_id)
    if not found:
        raise HTTPException(404, f"no delivery {delivery_id}")
    return found[0]


@router.get("/deliveries/{delivery_id}", response_model=DeliveryDetail, responses={404: {}})
async def get_delivery(delivery_id: uuid.UUID, session: Session) -> DeliveryDetail:
    """One delivery with every attempt: when, the answer's status or the error, how long
    it took, and the answer's first KiB."""
    return _detail(await _report(session, delivery_id))


@router.post(
    "/deliveries/{delivery_id}/redeliver",
    response_model=DeliveryDetail,
    dependencies=[Writer],
    responses={401: {}, 404: {}, 409: {}},
)
async def redeliver(delivery_id: uuid.UUID, session: Session, state: State) -> DeliveryDetail:
    """Send a delivery again — dead, cancelled or even delivered — as ``drawdown redeliver
    --delivery ID`` does: it is due at once with a fresh retry horizon and the same
    webhook-id. 409 while it is pending (due, retrying or in flight). A delivery of an
    inactive subscription waits until the subscription is active again."""
    await _report(session, delivery_id)
    await session.commit()
    if not await queue.requeue(state.engine, utcnow(), delivery_id=delivery_id):
        raise HTTPException(409, f"delivery {delivery_id} is pending already")
    return _detail(await _report(session, delivery_id))
