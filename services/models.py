"""The relational model. Alembic revisions in migrations/ are the only way it changes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every database (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), dict[str, Any]: JSON}


class Article(Base):
    """One story as first seen; unique by canonical URL and by normalized-content hash."""

    __tablename__ = "articles"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    canonical_url: Mapped[str | None] = mapped_column(String(2048), unique=True)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(16))
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    source: Mapped[str] = mapped_column(String(256), default="")
    # The text was longer than the reader reads; the reading covers only its start.
    truncated: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Latency: when the outlet published it, when it was fetched, stored, and first alerted.
    published_at: Mapped[datetime | None]
    fetched_at: Mapped[datetime | None]
    processed_at: Mapped[datetime | None]
    alerted_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Sighting(Base):
    """One received document (one bus message) and the article it resolved to.

    Unique by ``message_id``, which makes reprocessing a redelivered message a no-op.
    """

    __tablename__ = "sightings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    article_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("articles.id"), index=True)
    match: Mapped[str] = mapped_column(String(16))  # new | url | content | near
    url: Mapped[str | None] = mapped_column(String(2048))
    source: Mapped[str] = mapped_column(String(256), default="")
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class Mention(Base):
    """A place named in an article, with offsets into the article's original text."""

    __tablename__ = "mentions"
    __table_args__ = (UniqueConstraint("article_id", "start", "place"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    article_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("articles.id"), index=True)
    place: Mapped[str] = mapped_column(String(64), index=True)
    start: Mapped[int]
    end: Mapped[int]
    surface: Mapped[str] = mapped_column(Text)


class Event(Base):
    """What an article says happens at a place: one row per (article, place, kind)."""

    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("article_id", "place", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    article_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("articles.id"), index=True)
    place: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    confidence: Mapped[float] = mapped_column(Float)
    evidence: Mapped[str] = mapped_column(Text)
    evidence_start: Mapped[int]
    evidence_end: Mapped[int]
    language: Mapped[str | None] = mapped_column(String(16))  # of the evidence sentence
    reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Every deciding sentence, the main one first: {text, start, end, language, reason}.
    sentences: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class Alert(Base):
    """One (place, kind) story within a time window; later articles corroborate it."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_place_kind_last_seen_at", "place", "kind", "last_seen_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    place: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    confidence: Mapped[float] = mapped_column(Float)
    first_article_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("articles.id"))
    article_count: Mapped[int] = mapped_column(Integer, default=1)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Independent outlets that reported it: articles and republished copies (sightings).
    outlets: Mapped[list[str]] = mapped_column(JSON, default=list)
    sighting_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The other side (processor/alerts.py): outlets that denied it, when the first denial
    # was observed, and the other outlets that have reported it since.
    denied_by: Mapped[list[str]] = mapped_column(JSON, default=list)
    disputed_at: Mapped[datetime | None] = mapped_column()
    answered_by: Mapped[list[str]] = mapped_column(JSON, default=list)


class AlertArticle(Base):
    """The evidence of an alert: each article that opened or corroborated it."""

    __tablename__ = "alert_articles"

    alert_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("alerts.id"), primary_key=True)
    article_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("articles.id"), primary_key=True)
    opened: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16))  # the alert's status once this article counted
    outlet: Mapped[str] = mapped_column(String(256), default="", server_default="")
    language: Mapped[str | None] = mapped_column(String(16))  # the article's: counted by status
    confidence: Mapped[float] = mapped_column(Float)
    evidence: Mapped[str] = mapped_column(Text)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    evidence_language: Mapped[str | None] = mapped_column(String(16))  # of the sentence
    reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    sentences: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class AlertEvent(Base):
    """Every change of an alert (``alert.created``, ``alert.updated`` with what changed),
    written in the transaction that made it: the outbox for the alerts topic and webhooks."""

    __tablename__ = "alert_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("alerts.id"), index=True)
    type: Mapped[str] = mapped_column(String(32))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    alert: Mapped[dict[str, Any]] = mapped_column(JSON)  # the alert as it stood after the change
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(index=True)


class DeadLetter(Base):
    """A bus message that could not be processed (also sent to the dead-letter topic)."""

    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    topic: Mapped[str] = mapped_column(String(256))
    partition: Mapped[int]
    offset: Mapped[int]
    error: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Source(Base):
    """A feed or listing page to poll, and its poller state (miniflux-style: state is data).

    Defined in the sources file (upserted by URL at start); the poll state columns
    belong to the pollers, which share sources through leases (``leased_by`` until
    ``leased_until``).
    """

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(256))
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    kind: Mapped[str] = mapped_column(String(8))  # feed | page
    language: Mapped[str | None] = mapped_column(String(16))
    interval: Mapped[float | None] = mapped_column(Float)  # seconds; None: the default
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    etag: Mapped[str | None] = mapped_column(String(1024))
    last_modified: Mapped[str | None] = mapped_column(String(256))
    next_poll_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    leased_by: Mapped[str | None] = mapped_column(String(128))
    leased_until: Mapped[datetime | None]
    last_polled_at: Mapped[datetime | None]
    # The HTTP status of the last poll ("200", "304", "429"), or why there was none ("timeout").
    last_status: Mapped[str | None] = mapped_column(String(32))
    error_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    # Set after too many consecutive failures: the source is retried rarely until it recovers.
    parked_until: Mapped[datetime | None]
    articles_found: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Who owns the row: "file" (the sources file; disabled when no longer listed) or "api".
    origin: Mapped[str] = mapped_column(String(8), default="file", server_default="file")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SeenUrl(Base):
    """An entry URL (canonical) whose article the broker has acknowledged: never fetched again."""

    __tablename__ = "seen_urls"

    url: Mapped[str] = mapped_column(String(2048), primary_key=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id"))
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class ArticleBand(Base):
    """One LSH band key of an article's fingerprint (processor/fingerprint.py): articles
    sharing a key are near-duplicate candidates. The primary key is the lookup index."""

    __tablename__ = "article_bands"

    band: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    article_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("articles.id"), primary_key=True)


class ArticleFingerprint(Base):
    """An article's MinHash signature, compared with a new document's to confirm a candidate."""

    __tablename__ = "article_fingerprints"

    article_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("articles.id"), primary_key=True)
    signature: Mapped[bytes] = mapped_column(LargeBinary)


class Subscription(Base):
    """A webhook endpoint and which alert events it wants (filters; an empty list is all).

    Defined in the sources file (upserted by url and name at start). ``secret`` is the
    Standard Webhooks signing secret and is never logged or shown (empty for
    an Apprise URL, whose messages are not signed). The dispatcher keeps
    the endpoint's circuit breaker here (``consecutive_failures``, ``paused_until``), so
    every dispatcher process holds back from a failing endpoint alike.
    """

    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("url", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(256))
    url: Mapped[str] = mapped_column(String(2048))
    secret: Mapped[str] = mapped_column(String(256))
    places: Mapped[list[str]] = mapped_column(JSON, default=list)
    countries: Mapped[list[str]] = mapped_column(JSON, default=list)
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    min_confidence: Mapped[float] = mapped_column(Float, default=0.0)
    min_status: Mapped[str | None] = mapped_column(String(16))  # None: every status
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    description: Mapped[str | None] = mapped_column(Text)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    paused_until: Mapped[datetime | None]
    # Who owns the row: "file" (the sources file; deactivated when no longer listed) or "api".
    origin: Mapped[str] = mapped_column(String(8), default="file", server_default="file")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Delivery(Base):
    """One alert event owed to one subscription: the webhook outbox, written in the
    transaction that changed the alert. ``next_attempt_at`` is set only while pending
    (a claim moves it past the claim's lease); ``attempts`` counts claims and fences
    a dispatcher whose lease ran out from writing over a newer attempt."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "subscription_id"),
        Index("ix_deliveries_subscription_id_alert_id", "subscription_id", "alert_id", "event_id"),
        # GET /deliveries and drawdown deliveries: newest first, by cursor.
        Index("ix_deliveries_created_at_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    event_id: Mapped[int] = mapped_column(ForeignKey("alert_events.id"))
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"))
    alert_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("alerts.id"))
    status: Mapped[str] = mapped_column(String(16))  # pending | delivered | dead | cancelled
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(index=True)
    # Failures are final once this is older than DRAWDOWN_WEBHOOK_RETRY_HORIZON.
    retrying_since: Mapped[datetime] = mapped_column(default=utcnow)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeliveryAttempt(Base):
    """One try of a delivery: what the endpoint answered (or why there was no answer)."""

    __tablename__ = "attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("deliveries.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[float | None] = mapped_column(Float)
    response: Mapped[str | None] = mapped_column(Text)  # the body's first KiB
    error: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Process(Base):
    """A running Drawdown process and its roles, as it last reported itself (a heartbeat).

    Each process upserts its row every few seconds while it runs and deletes it
    when it stops cleanly; a row whose ``seen_at`` is old belongs to a process
    that died. ``drawdown status`` reads these rows.
    """

    __tablename__ = "processes"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)  # host:pid:started
    host: Mapped[str] = mapped_column(String(256))
    pid: Mapped[int] = mapped_column(Integer)
    roles: Mapped[list[str]] = mapped_column(JSON)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
