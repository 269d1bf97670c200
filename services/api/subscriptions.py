"""``/subscriptions``: webhook endpoints and their filters; create, edit, ping (token).

A subscription made here has ``origin`` "api": reloading the sources file never
deactivates it (unless the file lists its url and name, which makes it the
file's). A subscription of the file can only be activated or deactivated here —
its other fields are the file's, and a reload sets ``active`` back to what the
file says, except that one disabled by its endpoint's ``410 Gone`` stays off
until activated. Its secret is returned once, when it is made (or rotated).

The operations are those of the command line (services.webhooks.subscriptions,
services.webhooks.commands): ``PATCH`` with ``active: true`` is ``drawdown
subscriptions --enable``, ``/ping`` is ``drawdown ping``, ``/redeliver`` is
``drawdown redeliver --dead --subscription``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError

from services.api.deps import Session, State, TokenHolder, Writer
from services.api.pagination import (
    DEFAULT_LIMIT,
    Cursor,
    CursorText,
    Limit,
    Page,
    cursor_param,
    split_page,
)
from services.api.vocabulary import (
    MAX_ROW_ID,
    NO_NUL,
    Country,
    EventKind,
    HttpUrl,
    LanguageCode,
    MinStatus,
    Name,
    Origin,
    PlaceId,
    RowId,
    Storable,
)
from services.models import Subscription, utcnow
from services.webhooks import commands, notify, queue
from services.webhooks import subscriptions as rows
from services.webhooks.transport import make_webhook_client

router = APIRouter(tags=["subscriptions"])

# ``whsec_`` and the base64 of 24 to 64 bytes (rows.valid_secret), as a pattern.
_B64 = "[A-Za-z0-9+/]"
SECRET_PATTERN = (
    rf"^whsec_(?:(?:{_B64}{{4}}){{8,20}}(?:{_B64}{{2}}==|{_B64}{{3}}=)?"
    rf"|(?:{_B64}{{4}}){{21}}(?:{_B64}{{2}}==)?)$"
)
MAX_FILTER_VALUES = 100


def _known(key: str) -> AfterValidator:
    return AfterValidator(lambda values: list(rows.check_known(key, values)))


Places = Annotated[
    list[PlaceId],
    Field(max_length=MAX_FILTER_VALUES, description="place ids (GET /places); [] = all"),
    _known("places"),
]
Countries = Annotated[
    list[Country],
    Field(max_length=MAX_FILTER_VALUES, description="the places' countries; [] = all"),
    _known("countries"),
]
Kinds = Annotated[
    list[EventKind], Field(max_length=MAX_FILTER_VALUES, description="event kinds; [] = all")
]
Languages = Annotated[
    list[LanguageCode],
    Field(max_length=MAX_FILTER_VALUES, description="any of the alert's languages; [] = all"),
    AfterValidator(lambda values: list(dict.fromkeys(values))),
]
MinConfidence = Annotated[
    float,
    Field(ge=0, le=1, allow_inf_nan=False, strict=True, description="0 to 1"),
]
Description = Annotated[str, Field(max_length=2000, pattern=NO_NUL), Storable]
Secret = Annotated[
    str,
    Field(
        pattern=SECRET_PATTERN,
        description="Standard Webhooks secret: whsec_ and the base64 of 24 to 64 bytes",
    ),
    AfterValidator(rows.check_secret),
]


class DeliveryCounts(BaseModel):
    pending: int
    delivered: int
    dead: int
    cancelled: int


class SubscriptionOut(BaseModel):
    """A subscription, never with its secret."""

    id: int
    name: str
    url: str | None = Field(
        description="the endpoint, shown only to a request with the bearer token (a webhook "
        "URL is often a secret itself); null otherwise"
    )
    host: str = Field(description="the endpoint's host, shown to everyone")
    description: str | None
    origin: Origin = Field(
        description="file: the sources file's (deactivated by a reload that no longer "
        "lists it); api: made through the API"
    )
    active: bool
    disabled_reason: str | None = Field(
        description="why it is inactive: 'gone: …' (its endpoint answered 410), "
        "'removed: …' or 'inactive: …' (the sources file), 'disabled: …' (the API)"
    )
    places: list[str]
    countries: list[str]
    kinds: list[EventKind]
    languages: list[str]
    min_confidence: float
    min_status: MinStatus | None = Field(description="null: every status, disputes included")
    consecutive_failures: int = Field(description="failed attempts in a row (circuit breaker)")
    paused_until: datetime | None = Field(description="the circuit breaker holds it until then")
    deliveries: DeliveryCounts
    created_at: datetime
    updated_at: datetime


class SubscriptionSecret(SubscriptionOut):
    secret: str = Field(description="the signing secret; no other answer shows it")


class SubscriptionCreate(BaseModel):
    """A subscription as the sources file would define it."""

    model_config = ConfigDict(extra="forbid")

    name: Name = Field(description="unique; how the command line names it")
    url: HttpUrl
    secret: Secret | None = Field(None, description="generated when absent")
    description: Description | None = None
    active: bool = Field(True, strict=True)
    places: Places = []
    countries: Countries = []
    kinds: Kinds = []
    languages: Languages = []
    min_confidence: MinConfidence = 0.0
    min_status: MinStatus | None = None


class SubscriptionUpdate(BaseModel):
    """Fields to change; absent fields stay as they are, ``null`` resets one to its
    default (no description, no filter, ``min_confidence`` 0)."""

    model_config = ConfigDict(extra="forbid")

    # Fields that cannot be null default to a placeholder: only the fields given apply.
    url: HttpUrl = Field(default_factory=str)
    active: bool = Field(
        default_factory=bool,
        strict=True,
        description="true re-activates it, also after a 410 Gone",
    )
    description: Description | None = None
    places: Places | None = None
    countries: Countries | None = None
    kinds: Kinds | None = None
    languages: Languages | None = None
    min_confidence: MinConfidence | None = None
    min_status: MinStatus | None = None


class PingOut(BaseModel):
    """What the endpoint answered to a signed ``webhook.test`` event."""

    webhook_id: str = Field(description="msg_test_…, new for every ping")
    delivered: bool = Field(description="the endpoint answered 2xx")
    status: int | None = Field(description="the HTTP status; null when there was no answer")
    error: str | None = Field(description="why there was no answer, e.g. 'timeout: …'")
    blocked: bool = Field(description="the address is one webhooks may not go to")
    latency_ms: float
    response: str | None = Field(description="the answer's first KiB")


class Requeued(BaseModel):
    requeued: int = Field(description="dead deliveries made due again")
    held: int = Field(description="pending deliveries that wait while it is inactive")


def _cursor(subscription: Subscription) -> Cursor:
    # The cursor's id slot carries the integer id.
    return Cursor(subscription.created_at, uuid.UUID(int=subscription.id))


def _subscription_cursor(text: str | None) -> Cursor | None:
    cursor = cursor_param(text)
    if cursor is not None and not 0 < cursor.id.int <= MAX_ROW_ID:
        raise HTTPException(400, f"not a cursor this API gave out: {(text or '')[:40]!r}")
    return cursor


async def _out(
    session: Session, found: list[Subscription], *, reveal: bool = True
) -> list[SubscriptionOut]:
    """The subscriptions as answered; their URLs only when ``reveal`` (a token holder)."""
    counts = await commands.delivery_counts(session, [s.id for s in found])
    fields = set(SubscriptionOut.model_fields) - {"deliveries", "url", "host"}
    return [
        SubscriptionOut.model_validate(
            {name: getattr(s, name) for name in fields}
            # An Apprise URL carries its service's token: shown masked, as on the CLI; any
            # subscription URL only to a token holder (others see the host).
            | {
                "deliveries": counts[s.id],
                "url": notify.shown(s.url) if reveal else None,
                "host": httpx.URL(s.url).host,
            }
        )
        for s in found
    ]


async def _one(
    session: Session, subscription: Subscription, *, reveal: bool = True
) -> SubscriptionOut:
    (out,) = await _out(session, [subscription], reveal=reveal)
    return out


async def _get(session: Session, subscription_id: int) -> Subscription:
    found = await session.get(Subscription, subscription_id)
    if found is None:
        raise HTTPException(404, f"no subscription {subscription_id}")
    return found


@router.get("/subscriptions", response_model=Page[SubscriptionOut], responses={400: {}})
async def list_subscriptions(
    session: Session,
    holder: TokenHolder,
    active: Annotated[bool | None, Query(description="only active or inactive ones")] = None,
    origin: Annotated[Origin | None, Query(description="only the file's or the API's")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: CursorText = None,
) -> Page[SubscriptionOut]:
    """Subscriptions, newest first, with their deliveries per status (never a secret;
    their URLs only with the bearer token)."""
    query = select(Subscription)
    if active is not None:
        query = query.where(Subscription.active == active)
    if origin is not None:
        query = query.where(Subscription.origin == origin)
    after = _subscription_cursor(cursor)
    if after is not None:
        query = query.where(
            or_(
                Subscription.created_at < after.at,
                and_(Subscription.created_at == after.at, Subscription.id < after.id.int),
            )
        )
    query = query.order_by(Subscription.created_at.desc(), Subscription.id.desc())
    found = list(await session.scalars(query.limit(limit + 1)))
    page, following = split_page(found, limit, _cursor)
    items = await _out(session, page, reveal=holder)
    return Page[SubscriptionOut](items=items, next=following)


@router.get("/subscriptions/{subscription_id}", response_model=SubscriptionOut, responses={404: {}})
async def get_subscription(
    subscription_id: RowId, session: Session, holder: TokenHolder
) -> SubscriptionOut:
    """One subscription with its deliveries per status (never its secret; its URL only
    with the bearer token)."""
    return await _one(session, await _get(session, subscription_id), reveal=holder)


@router.post(
    "/subscriptions",
    response_model=SubscriptionSecret,
    status_code=201,
    dependencies=[Writer],
    responses={400: {}, 401: {}, 409: {}},
)
async def create_subscription(
    body: SubscriptionCreate, session: Session, response: Response
) -> SubscriptionSecret:
    """Add a subscription (``origin`` api); it gets the alert events from now on. The
    answer is the only one that shows its secret. 409 if the name is taken."""
    taken = await session.scalar(select(Subscription.id).where(Subscription.name == body.name))
    if taken is not None:
        raise HTTPException(409, f"subscription {taken} is already called {body.name!r}")
    spec = rows.SubscriptionSpec(
        **body.model_dump(exclude={"places", "countries", "kinds", "languages"}),
        places=tuple(body.places),
        countries=tuple(body.countries),
        kinds=tuple(body.kinds),
        languages=tuple(body.languages),
    )
    subscription = rows.new_subscription(spec, rows.API)
    session.add(subscription)
    try:
        await session.commit()
    except IntegrityError as exc:
        raise HTTPException(409, f"{body.name!r} at {body.url} is already a subscription") from exc
    response.headers["Location"] = f"/subscriptions/{subscription.id}"
    out = await _one(session, subscription)
    return SubscriptionSecret(**out.model_dump(), secret=subscription.secret)


def _reset(name: str) -> Any:
    return {"description": None, "min_confidence": 0.0, "min_status": None}.get(name, [])


@router.patch(
    "/subscriptions/{subscription_id}",
    response_model=SubscriptionOut,
    dependencies=[Writer],
    responses={400: {}, 401: {}, 404: {}, 409: {}},
)
async def update_subscription(
    subscription_id: RowId, body: SubscriptionUpdate, session: Session
) -> SubscriptionOut:
    """Change the url, the filters or the description, or (de)activate it. ``active: true``
    re-activates one whatever deactivated it (a 410 Gone included) and closes its circuit
    breaker; ``active: false`` holds its deliveries until it is active again. A new url
    closes the breaker too. A subscription of the sources file can only be (de)activated
    here: 409."""
    subscription = await _get(session, subscription_id)
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    fixed = sorted(set(changes) - {"active"})
    if subscription.origin == rows.FILE and fixed:
        raise HTTPException(
            409,
            f"subscription {subscription_id} comes from the sources file: change its "
            f"{', '.join(fixed)} there (only active can be set here)",
        )
    for name, value in changes.items():
        if name == "url" and value != subscription.url:
            subscription.consecutive_failures = 0
            subscription.paused_until = None
        if name != "active":
            setattr(subscription, name, _reset(name) if value is None else value)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise HTTPException(409, f"{subscription.name!r} at that url already exists") from exc
    if changes.get("active") is True and not subscription.active:
        await rows.enable(session, subscription_id)
    elif changes.get("active") is False:
        await rows.disable(session, subscription_id)
    await session.commit()
    await session.refresh(subscription)
    return await _one(session, subscription)


@router.delete(
    "/subscriptions/{subscription_id}",
    status_code=204,
    dependencies=[Writer],
    responses={401: {}, 404: {}, 409: {}},
)
async def delete_subscription(subscription_id: RowId, session: Session) -> Response:
    """Deactivate it (``active: false``): it is kept, with its deliveries and their
    attempts; its pending deliveries wait, and ``PATCH`` with ``active: true`` resumes
    them. A subscription of the sources file is removed from the file instead: 409."""
    subscription = await _get(session, subscription_id)
    if subscription.origin == rows.FILE:
        raise HTTPException(
            409,
            f"subscription {subscription_id} comes from the sources file: remove it there",
        )
    await rows.disable(session, subscription_id)
    await session.commit()
    return Response(status_code=204)


@router.post(
    "/subscriptions/{subscription_id}/ping",
    response_model=PingOut,
    dependencies=[Writer],
    responses={401: {}, 404: {}},
)
async def ping_subscription(subscription_id: RowId, session: Session, state: State) -> PingOut:
    """Send a signed ``webhook.test`` event (``data: {"subscription": NAME}``) now, as
    ``drawdown ping`` does, and say what the endpoint answered (within
    DRAWDOWN_WEBHOOK_TIMEOUT). Nothing is recorded and nothing changes: a 410 here
    disables nothing. Inactive subscriptions can be pinged too."""
    subscription = await _get(session, subscription_id)
    await session.commit()  # no connection held while the endpoint answers
    # A ping is an operator's rare request: like `drawdown ping` it opens the guarded
    # webhook client for itself, so the API process keeps no outbound connections.
    async with make_webhook_client(state.settings) as client:
        sent = await rows.ping(
            client, state.settings, subscription.name, subscription.url, subscription.secret
        )
    outcome = sent.outcome
    return PingOut(
        webhook_id=sent.webhook_id,
        delivered=outcome.verdict == "delivered",
        status=outcome.status,
        error=outcome.error,
        blocked=outcome.blocked,
        latency_ms=outcome.latency_ms,
        response=outcome.response,
    )


@router.post(
    "/subscriptions/{subscription_id}/rotate-secret",
    response_model=SubscriptionSecret,
    dependencies=[Writer],
    responses={401: {}, 404: {}, 409: {}},
)
async def rotate_secret(subscription_id: RowId, session: Session) -> SubscriptionSecret:
    """Replace its secret with a new one, shown in this answer only; deliveries from now
    on are signed with it. A subscription of the sources file takes its secret from the
    file: 409."""
    subscription = await _get(session, subscription_id)
    if subscription.origin == rows.FILE:
        raise HTTPException(
            409, f"subscription {subscription_id} comes from the sources file: set secret there"
        )
    subscription.secret = rows.generate_secret()
    subscription.updated_at = utcnow()
    await session.commit()
    out = await _one(session, subscription)
    return SubscriptionSecret(**out.model_dump(), secret=subscription.secret)


@router.post(
    "/subscriptions/{subscription_id}/redeliver",
    response_model=Requeued,
    dependencies=[Writer],
    responses={401: {}, 404: {}},
)
async def redeliver_dead(subscription_id: RowId, session: Session, state: State) -> Requeued:
    """Make every dead delivery of the subscription due again, with a fresh retry
    horizon, as ``drawdown redeliver --dead --subscription NAME`` does."""
    await _get(session, subscription_id)
    await session.commit()
    count = await queue.requeue(state.engine, utcnow(), subscription_id=subscription_id)
    return Requeued(requeued=count, held=await commands.held(session, subscription_id))
