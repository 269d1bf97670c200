"""Webhook subscriptions: from the sources file or the API into ``subscriptions``.

A subscription from the file is identified by its url and name. Loading is
idempotent: the filters, description and active flag follow the file; a secret
given in the file replaces the stored one; a subscription without one gets a
generated secret the first time it is stored (``whsec_`` + base64 of 24 random
bytes), logged once at INFO with its name so the operator can give it to the
receiver, and never logged or shown again. An Apprise subscription (``apprise:``)
is not signed: it has no secret (``NO_SECRET``), none is generated or printed, and
giving one is an error. A subscription of the file
(``origin`` "file") no longer in it is deactivated (its pending deliveries
wait; listing it again resumes them); one made through the API (``origin``
"api") is not the file's to deactivate — unless the file lists its url and
name, which makes it the file's. One that its endpoint disabled with
``410 Gone`` stays disabled until an operator enables it again
(``drawdown subscriptions --enable NAME``, ``PATCH /subscriptions/{id}``).

The checks of each field are shared by the file's parser and the API's models,
and so are the operations of the command line and the API (create, enable,
disable, ping).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import math
import secrets
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import yaml
from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from processor.events import EVENT_KINDS
from processor.gazetteer import gazetteer
from processor.routing import MIN_STATUSES
from services.models import Subscription, utcnow
from services.settings import Settings
from services.webhooks import notify, payload
from services.webhooks.send import Outcome, post
from services.yamlfile import NodeReader

log = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 24
NO_SECRET = ""  # an Apprise subscription's: its messages are not signed
# Why a subscription is inactive: the prefixes tell the loader what it may undo.
GONE = "gone:"  # the endpoint answered 410; only an operator re-enables it
REMOVED = "removed: no longer in the sources file"
INACTIVE = "inactive: active is false in the sources file"
DISABLED = "disabled: through the API"
# Who owns a row (the ``origin`` column): a reload of the file deactivates only its own.
FILE = "file"
API = "api"
ORIGINS = (FILE, API)
KEYS = frozenset(
    {
        "name",
        "url",
        "apprise",
        "secret",
        "description",
        "active",
        "places",
        "countries",
        "kinds",
        "languages",
        "min_confidence",
        "min_status",
    }
)


@dataclass(frozen=True, slots=True)
class SubscriptionSpec:
    """One subscription as the file defines it; empty filters let everything through."""

    name: str
    url: str
    secret: str | None = field(default=None, repr=False)
    description: str | None = None
    active: bool = True
    places: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    min_confidence: float = 0.0
    min_status: str | None = None


def generate_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_for(url: str, given: str | None) -> str:
    """The secret to store for a new subscription of ``url``: the one given, a generated
    one for a webhook, none for an Apprise URL."""
    if notify.is_apprise(url):
        return NO_SECRET
    return given or generate_secret()


def valid_secret(secret: str) -> bool:
    """``whsec_`` and the base64 of 24 to 64 bytes (the Standard Webhooks range)."""
    if not secret.startswith(SECRET_PREFIX):
        return False
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        return False
    return 24 <= len(key) <= 64


def known_values(key: str) -> frozenset[str]:
    """The values Drawdown knows for the filter ``key``: places, countries or kinds."""
    places = gazetteer().places
    if key == "places":
        return frozenset(p.id for p in places)
    if key == "countries":
        return frozenset(p.country for p in places)
    if key == "kinds":
        return frozenset(EVENT_KINDS)
    raise KeyError(key)


def check_known(key: str, values: Iterable[str]) -> tuple[str, ...]:
    """``values`` without repeats, in order; ValueError naming those ``key`` does not know."""
    known = known_values(key)
    checked = tuple(dict.fromkeys(values))
    unknown = sorted(set(checked) - known)
    if unknown:
        raise ValueError(f"unknown {key} {unknown} (known: {', '.join(sorted(known))})")
    return checked


def check_secret(secret: str) -> str:
    if not valid_secret(secret):  # never echo the value
        raise ValueError("'secret' must be whsec_ and the base64 of 24 to 64 bytes")
    return secret


def check_min_confidence(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"'min_confidence' must be a number from 0 to 1, not {value!r}")
    if not 0 <= value <= 1:
        raise ValueError(f"'min_confidence' must be from 0 to 1, not {value}")
    return float(value)


def check_min_status(value: object) -> str:
    if value not in MIN_STATUSES:
        raise ValueError(f"'min_status' must be one of {', '.join(MIN_STATUSES)}, not {value!r}")
    return str(value)


def normal_languages(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(language.lower() for language in values))


def _checked(reader: NodeReader, node: yaml.Node, check: Callable[[Any], Any], value: Any) -> Any:
    try:
        return check(value)
    except ValueError as exc:
        raise reader.error(node, str(exc)) from None


def _value(reader: NodeReader, key: str, node: yaml.Node) -> Any:
    if key == "url":
        return reader.http_url(node)
    if key == "apprise":
        return _checked(reader, node, notify.check_apprise_url, reader.text(node, key))
    if key == "secret":
        return _checked(reader, node, check_secret, reader.text(node, key))
    if key == "active":
        return reader.boolean(node, key)
    if key in ("places", "countries", "kinds"):
        values = reader.text_list(node, key)
        return _checked(reader, node, lambda v: check_known(key, v), values)
    if key == "languages":
        return normal_languages(reader.text_list(node, key))
    if key == "min_confidence":
        return _checked(reader, node, check_min_confidence, reader.scalar(node))
    if key == "min_status":
        return _checked(reader, node, check_min_status, reader.scalar(node))
    return reader.text(node, key)  # name, description


def parse_subscription(reader: NodeReader, node: yaml.Node) -> SubscriptionSpec:
    """One item of the sources file's ``subscriptions:`` list."""
    values: dict[str, Any] = {}
    for key, key_node, value_node in reader.mapping(node, "a subscription"):
        if key not in KEYS:
            known = ", ".join(sorted(KEYS))
            raise reader.error(key_node, f"unknown key {key!r} in a subscription (known: {known})")
        values[key] = _value(reader, key, value_node)
    if "apprise" in values:  # an Apprise service instead of a webhook endpoint
        if "url" in values:
            raise reader.error(node, "a subscription has a 'url' (a webhook) or an 'apprise' URL")
        if "secret" in values:
            raise reader.error(node, "'secret' signs webhooks: an 'apprise' subscription has none")
        values["url"] = values.pop("apprise")
    if "name" not in values:
        raise reader.error(node, "a subscription needs 'name'")
    if "url" not in values:
        raise reader.error(node, "a subscription needs 'url' (a webhook) or 'apprise'")
    return SubscriptionSpec(**values)


def _row(spec: SubscriptionSpec) -> dict[str, Any]:
    """The columns the file decides (never the secret: that is handled on its own)."""
    return {
        "description": spec.description,
        "places": list(spec.places),
        "countries": list(spec.countries),
        "kinds": list(spec.kinds),
        "languages": list(spec.languages),
        "min_confidence": spec.min_confidence,
        "min_status": spec.min_status,
    }


def _new_row(spec: SubscriptionSpec, origin: str, secret: str, now: datetime) -> dict[str, Any]:
    """Every column of a new subscription; one made inactive says who made it so."""
    return {
        "name": spec.name,
        "url": spec.url,
        "secret": secret,
        "active": spec.active,
        "disabled_reason": None if spec.active else (INACTIVE if origin == FILE else DISABLED),
        "consecutive_failures": 0,
        "origin": origin,
        "created_at": now,
        "updated_at": now,
        **_row(spec),
    }


async def _store(session: AsyncSession, spec: SubscriptionSpec, now: datetime) -> str | None:
    """Insert ``spec`` if new, else update it; the secret generated for it, if one was."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    secret = secret_for(spec.url, spec.secret)
    created = await session.scalar(
        insert(Subscription)
        .values(**_new_row(spec, FILE, secret, now))
        .on_conflict_do_nothing(index_elements=["url", "name"])
        .returning(Subscription.id)
    )
    if created is not None:
        return secret if spec.secret is None and secret != NO_SECRET else None
    where = (Subscription.url == spec.url, Subscription.name == spec.name)
    if await session.scalar(select(Subscription.origin).where(*where)) == API:
        log.info(
            "subscription made through the API is now the sources file's subscription=%s", spec.name
        )
    changes = _row(spec) | ({"secret": spec.secret} if spec.secret else {})
    await session.execute(
        update(Subscription).where(*where).values(**changes, origin=FILE, updated_at=now)
    )
    if not spec.active:
        await session.execute(
            update(Subscription)
            .where(*where, Subscription.active)
            .values(active=False, disabled_reason=INACTIVE, updated_at=now)
        )
        return None
    await session.execute(  # back in the file: active again, unless its endpoint is gone
        update(Subscription)
        .where(*where, ~Subscription.active, _undoable())
        .values(active=True, disabled_reason=None, updated_at=now)
    )
    return None


def announce_secrets(generated: dict[str, str], *, as_json: bool = False) -> None:
    """Print each generated secret once on stdout, for the operator to give the receiver
    (``{"subscription": …, "secret": …}`` lines with ``as_json``). Secrets are never
    logged: the log says only that one was printed."""
    for name, secret in generated.items():
        log.info("subscription secret generated, printed once on stdout subscription=%s", name)
        if as_json:
            line = json.dumps({"subscription": name, "secret": secret}, ensure_ascii=False)
        else:
            line = f"subscription {name}: secret generated (shown once, give it to the receiver): "
            line += secret
        print(line, flush=True)  # noqa: T201


def _undoable() -> Any:
    return or_(
        Subscription.disabled_reason.is_(None), ~Subscription.disabled_reason.startswith(GONE)
    )


async def sync_subscriptions(
    session: AsyncSession, specs: list[SubscriptionSpec], now: datetime | None = None
) -> dict[str, str]:
    """Upsert ``specs`` by (url, name) and deactivate the file's subscriptions no longer
    listed (those made through the API are left alone); the secrets generated, by
    subscription name (for ``announce_secrets``)."""
    now = now or utcnow()
    generated: dict[str, str] = {}
    for spec in sorted(specs, key=lambda s: (s.url, s.name)):  # one lock order for all
        secret = await _store(session, spec, now)
        if secret is not None:
            generated[spec.name] = secret
    listed = {(spec.url, spec.name) for spec in specs}
    rows = await session.execute(
        select(Subscription.id, Subscription.url, Subscription.name).where(
            Subscription.active, Subscription.origin == FILE
        )
    )
    gone = [row for row in rows if (row.url, row.name) not in listed]
    for row in gone:
        log.info(
            "subscription no longer in the sources file, deactivated subscription=%s", row.name
        )
    if gone:
        await session.execute(
            update(Subscription)
            .where(Subscription.id.in_([row.id for row in gone]))
            .values(active=False, disabled_reason=REMOVED, updated_at=now)
        )
    return generated


# Operations shared by the command line (services.webhooks.commands) and the HTTP API.


def new_subscription(
    spec: SubscriptionSpec, origin: str, now: datetime | None = None
) -> Subscription:
    """A row for ``spec`` (its secret, a generated one, or none for an Apprise URL), to be
    added to a session; the caller gives the secret to whoever made it, once."""
    secret = secret_for(spec.url, spec.secret)
    return Subscription(**_new_row(spec, origin, secret, now or utcnow()))


async def enable(session: AsyncSession, subscription_id: int, now: datetime | None = None) -> None:
    """Active again, whatever deactivated it (a 410, the file, the API); breaker closed."""
    await session.execute(
        update(Subscription)
        .where(Subscription.id == subscription_id)
        .values(
            active=True,
            disabled_reason=None,
            consecutive_failures=0,
            paused_until=None,
            updated_at=now or utcnow(),
        )
    )


async def disable(session: AsyncSession, subscription_id: int, now: datetime | None = None) -> None:
    """Inactive (``DISABLED``): no new deliveries, its pending ones wait. An inactive
    subscription keeps the reason it has."""
    await session.execute(
        update(Subscription)
        .where(Subscription.id == subscription_id, Subscription.active)
        .values(active=False, disabled_reason=DISABLED, updated_at=now or utcnow())
    )


@dataclass(frozen=True, slots=True)
class Ping:
    webhook_id: str  # msg_test_…: a fresh one per ping, never a delivery's
    outcome: Outcome


async def ping(
    client: httpx.AsyncClient, settings: Settings, name: str, url: str, secret: str
) -> Ping:
    """Send a signed ``webhook.test`` to ``url`` now, through ``client`` (the guarded
    webhook client); what it answered. Nothing is recorded: a 410 here disables nothing."""
    now = utcnow()
    body = payload.body(payload.TEST_EVENT, now, {"subscription": name})
    webhook_id = f"msg_test_{uuid.uuid4().hex}"
    if notify.is_apprise(url):
        sent = await notify.deliver(
            url,
            body,
            allowed=settings.webhook_allowed_networks,
            timeout=settings.webhook_timeout,
        )
        return Ping(webhook_id, sent)
    headers = payload.headers(secret, webhook_id, body, now)
    outcome = await post(
        client,
        url,
        body,
        headers,
        timeout=settings.webhook_timeout,
        max_bytes=settings.webhook_max_response_bytes,
    )
    return Ping(webhook_id, outcome)
