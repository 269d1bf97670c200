"""``/subscriptions``: webhook endpoints and Apprise URLs with their filters; create,
edit, ping (token).

A subscription names a webhook endpoint (``url``) or an Apprise URL (``apprise``); the
bodies are in services.api.subscription_bodies. A subscription made here has
``origin`` "api": reloading the sources file never
deactivates it (unless the file lists its url and name, which makes it the
file's). A subscription of the file can only be activated or deactivated here —
its other fields are the file's, and a reload sets ``active`` back to what the
file says, except that one disabled by its endpoint's ``410 Gone`` stays off
until activated. A webhook's secret is returned once, when it is made (or
rotated); an Apprise subscription has none.

The operations are those of the command line (services.webhooks.subscriptions,
services.webhooks.commands): ``PATCH`` with ``active: true`` is ``drawdown
subscriptions --enable``, ``/ping`` is ``drawdown ping``, ``/redeliver`` is
``drawdown redeliver --dead --subscription``.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import urlsplit

import httpx
from fastapi import APIRouter, HTTPException, Query, Response
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
from services.api.subscription_bodies import (
    PingOut,
    Requeued,
    SubscriptionChanged,
    SubscriptionCreate,
    SubscriptionOut,
    SubscriptionSecret,
    SubscriptionUpdate,
)
from services.api.vocabulary import MAX_ROW_ID, Origin, RowId
from services.models import Subscription, utcnow
from services.webhooks import commands, notify, queue
from services.webhooks import subscriptions as rows
from services.webhooks.transport import make_webhook_client

router = APIRouter(tags=["subscriptions"])


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
    fields = set(SubscriptionOut.model_fields) - {"deliveries", "kind", "url", "host"}
    return [
        SubscriptionOut.model_validate(
            {name: getattr(s, name) for name in fields}
            # An Apprise URL carries its service's token: shown masked, as on the CLI; any
            # subscription URL only to a token holder (others see the host, or the scheme).
            | {
                "deliveries": counts[s.id],
                "kind": "apprise" if notify.is_apprise(s.url) else "webhook",
                "url": notify.shown(s.url) if reveal else None,
                "host": _host(s.url),
            }
        )
        for s in found
    ]


def _host(url: str) -> str:
    """What anyone may see of where it goes: a webhook's host; an Apprise URL's scheme
    only, since what Apprise reads as its host is often the token (slack://TOKEN/…)."""
    if notify.is_apprise(url):
        return urlsplit(url).scheme.lower()
    return httpx.URL(url).host


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
    """Add a subscription (``origin`` api) of a webhook endpoint (``url``) or an Apprise
    URL (``apprise``); it gets the alert events from now on. For a webhook the answer is
    the only one that shows its secret (an Apprise subscription has none). 409 if the
    name is taken."""
    taken = await session.scalar(select(Subscription.id).where(Subscription.name == body.name))
    if taken is not None:
        raise HTTPException(409, f"subscription {taken} is already called {body.name!r}")
    spec = rows.SubscriptionSpec(
        **body.model_dump(exclude={"url", "apprise", "places", "countries", "kinds", "languages"}),
        url=body.target,
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
        raise HTTPException(409, f"{body.name!r} at that URL is already a subscription") from exc
    response.headers["Location"] = f"/subscriptions/{subscription.id}"
    out = await _one(session, subscription)
    return SubscriptionSecret(**out.model_dump(), secret=subscription.secret or None)


def _reset(name: str) -> Any:
    return {"description": None, "min_confidence": 0.0, "min_status": None}.get(name, [])


@router.patch(
    "/subscriptions/{subscription_id}",
    response_model=SubscriptionChanged,
    dependencies=[Writer],
    responses={400: {}, 401: {}, 404: {}, 409: {}},
)
async def update_subscription(
    subscription_id: RowId, body: SubscriptionUpdate, session: Session
) -> SubscriptionChanged:
    """Change the url (``url`` or ``apprise``, either kind replacing the other), the
    filters or the description, or (de)activate it. ``active: true`` re-activates one
    whatever deactivated it (a 410 Gone included) and closes its circuit breaker;
    ``active: false`` holds its deliveries until it is active again. A new url closes the
    breaker too. An Apprise subscription given a webhook ``url`` gets a secret, shown in
    this answer only; a webhook given ``apprise`` loses its secret. A subscription of the
    sources file can only be (de)activated here: 409."""
    subscription = await _get(session, subscription_id)
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    if "apprise" in changes:  # one column holds either kind of URL
        changes["url"] = changes.pop("apprise")
    fixed = sorted(set(changes) - {"active"})
    if subscription.origin == rows.FILE and fixed:
        raise HTTPException(
            409,
            f"subscription {subscription_id} comes from the sources file: change its "
            f"{', '.join(fixed)} there (only active can be set here)",
        )
    generated = None
    for name, value in changes.items():
        if name == "url" and value != subscription.url:
            subscription.consecutive_failures = 0
            subscription.paused_until = None
            if notify.is_apprise(value):
                subscription.secret = rows.NO_SECRET
            elif notify.is_apprise(subscription.url):
                subscription.secret = generated = rows.generate_secret()
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
    out = await _one(session, subscription)
    return SubscriptionChanged(**out.model_dump(), secret=generated)


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
    """Send a signed ``webhook.test`` event (``data: {"subscription": NAME}``) now, or
    a test message to an Apprise URL, as ``drawdown ping`` does, and say what the
    endpoint answered (within
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
    file, and an Apprise subscription is not signed: 409."""
    subscription = await _get(session, subscription_id)
    if subscription.origin == rows.FILE:
        raise HTTPException(
            409, f"subscription {subscription_id} comes from the sources file: set secret there"
        )
    if notify.is_apprise(subscription.url):
        raise HTTPException(
            409, f"subscription {subscription_id} sends through Apprise: it has no secret"
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
