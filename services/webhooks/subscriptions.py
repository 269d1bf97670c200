"""Webhook subscriptions: parsed from the sources file, upserted into ``subscriptions``.

A subscription is identified by its url and name. Loading is idempotent: the
filters, description and active flag follow the file; a secret given in the
file replaces the stored one; a subscription without one gets a generated
secret the first time it is stored (``whsec_`` + base64 of 24 random bytes),
logged once at INFO with its name so the operator can give it to the
receiver, and never logged or shown again. A subscription no longer in the
file is deactivated (its pending deliveries wait; listing it again resumes
them). One that its endpoint disabled with ``410 Gone`` stays disabled until
``drawdown subscriptions --enable NAME``.
"""

from __future__ import annotations

import base64
import binascii
import logging
import math
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import yaml
from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from processor.events import EVENT_KINDS
from processor.gazetteer import gazetteer
from processor.routing import MIN_STATUSES
from services.models import Subscription, utcnow
from services.yamlfile import NodeReader

log = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 24
# Why a subscription is inactive: the prefixes tell the loader what it may undo.
GONE = "gone:"  # the endpoint answered 410; only an operator re-enables it
REMOVED = "removed: no longer in the sources file"
INACTIVE = "inactive: active is false in the sources file"
KEYS = frozenset(
    {
        "name",
        "url",
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


def valid_secret(secret: str) -> bool:
    """``whsec_`` and the base64 of 24 to 64 bytes (the Standard Webhooks range)."""
    if not secret.startswith(SECRET_PREFIX):
        return False
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        return False
    return 24 <= len(key) <= 64


def _known(reader: NodeReader, node: yaml.Node, key: str, known: frozenset[str]) -> tuple[str, ...]:
    values = reader.text_list(node, key)
    unknown = sorted(set(values) - known)
    if unknown:
        raise reader.error(node, f"unknown {key} {unknown} (known: {', '.join(sorted(known))})")
    return tuple(dict.fromkeys(values))


def _confidence(reader: NodeReader, node: yaml.Node) -> float:
    value = reader.scalar(node)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise reader.error(node, f"'min_confidence' must be a number from 0 to 1, not {value!r}")
    if not 0 <= value <= 1:
        raise reader.error(node, f"'min_confidence' must be from 0 to 1, not {value}")
    return float(value)


def _value(reader: NodeReader, key: str, node: yaml.Node) -> Any:
    places = gazetteer().places
    if key == "url":
        return reader.http_url(node)
    if key == "secret":
        secret = reader.text(node, key)
        if not valid_secret(secret):  # never echo the value
            raise reader.error(node, "'secret' must be whsec_ and the base64 of 24 to 64 bytes")
        return secret
    if key == "active":
        return reader.boolean(node, key)
    if key == "places":
        return _known(reader, node, key, frozenset(p.id for p in places))
    if key == "countries":
        return _known(reader, node, key, frozenset(p.country for p in places))
    if key == "kinds":
        return _known(reader, node, key, frozenset(EVENT_KINDS))
    if key == "languages":
        return tuple(dict.fromkeys(language.lower() for language in reader.text_list(node, key)))
    if key == "min_confidence":
        return _confidence(reader, node)
    if key == "min_status":
        status = reader.scalar(node)
        if status not in MIN_STATUSES:
            raise reader.error(
                node, f"'min_status' must be one of {', '.join(MIN_STATUSES)}, not {status!r}"
            )
        return status
    return reader.text(node, key)  # name, description


def parse_subscription(reader: NodeReader, node: yaml.Node) -> SubscriptionSpec:
    """One item of the sources file's ``subscriptions:`` list."""
    values: dict[str, Any] = {}
    for key, key_node, value_node in reader.mapping(node, "a subscription"):
        if key not in KEYS:
            known = ", ".join(sorted(KEYS))
            raise reader.error(key_node, f"unknown key {key!r} in a subscription (known: {known})")
        values[key] = _value(reader, key, value_node)
    for key in ("name", "url"):
        if key not in values:
            raise reader.error(node, f"a subscription needs {key!r}")
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


async def _store(session: AsyncSession, spec: SubscriptionSpec, now: datetime) -> None:
    """Insert ``spec`` if new (logging a generated secret once), else update it."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    secret = spec.secret or generate_secret()
    created = await session.scalar(
        insert(Subscription)
        .values(
            name=spec.name,
            url=spec.url,
            secret=secret,
            active=spec.active,
            disabled_reason=None if spec.active else INACTIVE,
            consecutive_failures=0,
            created_at=now,
            updated_at=now,
            **_row(spec),
        )
        .on_conflict_do_nothing(index_elements=["url", "name"])
        .returning(Subscription.id)
    )
    if created is not None:
        if spec.secret is None:
            log.info(
                "subscription secret generated, give it to the receiver (shown once) "
                "subscription=%s secret=%s",
                spec.name,
                secret,
            )
        return
    changes = _row(spec) | ({"secret": spec.secret} if spec.secret else {})
    where = (Subscription.url == spec.url, Subscription.name == spec.name)
    await session.execute(update(Subscription).where(*where).values(**changes, updated_at=now))
    if not spec.active:
        await session.execute(
            update(Subscription)
            .where(*where, Subscription.active)
            .values(active=False, disabled_reason=INACTIVE, updated_at=now)
        )
        return
    await session.execute(  # back in the file: active again, unless its endpoint is gone
        update(Subscription)
        .where(*where, ~Subscription.active, _undoable())
        .values(active=True, disabled_reason=None, updated_at=now)
    )


def _undoable() -> Any:
    return or_(
        Subscription.disabled_reason.is_(None), ~Subscription.disabled_reason.startswith(GONE)
    )


async def sync_subscriptions(
    session: AsyncSession, specs: list[SubscriptionSpec], now: datetime | None = None
) -> None:
    """Upsert ``specs`` by (url, name) and deactivate subscriptions no longer listed."""
    now = now or utcnow()
    for spec in sorted(specs, key=lambda s: (s.url, s.name)):  # one lock order for all
        await _store(session, spec, now)
    listed = {(spec.url, spec.name) for spec in specs}
    rows = await session.execute(
        select(Subscription.id, Subscription.url, Subscription.name).where(Subscription.active)
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
