"""Helpers for webhook tests: a verifying receiver, alerts that fan out, a running dispatcher."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.requests import Request
from starlette.responses import Response

from ingest.messages import RawArticle
from processor import store
from processor.alerting import AlertPolicy
from processor.analyze import analyze
from services.db import sessionmaker
from services.models import Delivery, DeliveryAttempt, Subscription
from services.settings import Settings
from services.webhooks.dispatcher import Dispatcher
from services.webhooks.metrics import WebhookMetrics
from services.webhooks.subscriptions import SubscriptionSpec, generate_secret, sync_subscriptions
from services.webhooks.transport import make_webhook_client
from tests.servers import LocalServer

POLICY = AlertPolicy(
    kinds=frozenset({"withdrawal", "withdrawal_planned", "negotiation", "denial"}),
    min_confidence=0.5,
    window=timedelta(days=7),
)
AIN_AL_ASAD = "US forces withdrew from Ain al-Asad air base on Tuesday, officials said."
AIN_AL_ASAD_AGAIN = "American troops have left the Ain al-Asad base in Anbar, a local source said."
AL_TANF = "US troops withdrew from the al-Tanf garrison on Monday, officials said."
QASRAK = "US forces withdrew from the Qasrak base in Hasakah on Sunday, a source said."


def webhook_settings(database_url: str, **overrides: Any) -> Settings:
    """Fast retries and polls, and receivers on 127.0.0.1 allowed."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "webhook_allowed_networks": "127.0.0.1/32",
        "webhook_poll_interval": 0.05,
        "webhook_backoff_base": 0.05,
        "webhook_backoff_max": 0.2,
        "webhook_timeout": 1.0,
        "webhook_connect_timeout": 1.0,
        "webhook_lease": 3.0,
        **overrides,
    }
    return Settings(**values)


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    payload: Any  # the verified JSON, None if the signature did not verify
    at: float


Answer = Callable[[Request], Awaitable[Response]]


async def ok(_: Request) -> Response:
    return Response("thanks", 200)


@dataclass
class Receiver:
    """A webhook endpoint on a LocalServer that verifies every request with the
    ``standardwebhooks`` library and answers from ``answers`` in turn (then 200)."""

    secret: str = field(default_factory=generate_secret)
    answers: list[Answer] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)

    async def __call__(self, request: Request) -> Response:
        body = await request.body()
        headers = dict(request.headers)
        try:
            verified = Webhook(self.secret).verify(body, headers)
        except WebhookVerificationError:
            verified = None
        self.received.append(Received(headers, body, verified, time.monotonic()))
        answer = self.answers.pop(0) if self.answers else ok
        return await answer(request)

    def mount(self, server: LocalServer, path: str = "/hook") -> str:
        server.route(path, self)
        return server.url(path)

    @property
    def ids(self) -> list[str]:
        return [r.headers["webhook-id"] for r in self.received]


def status(code: int, body: str = "", headers: dict[str, str] | None = None) -> Answer:
    async def answer(_: Request) -> Response:
        return Response(body, code, headers=headers)

    return answer


def slow(seconds: float) -> Answer:
    async def answer(_: Request) -> Response:
        await asyncio.sleep(seconds)
        return Response("late", 200)

    return answer


async def subscribe(engine: AsyncEngine, *specs: SubscriptionSpec) -> dict[str, int]:
    """Make ``specs`` the subscriptions (as loading a sources file would); ids by name."""
    async with sessionmaker(engine).begin() as session:
        await sync_subscriptions(session, list(specs))
    async with sessionmaker(engine)() as session:
        rows = await session.execute(select(Subscription.name, Subscription.id))
        return {row.name: row.id for row in rows}


async def report(
    engine: AsyncEngine, text: str, source: str = "Outlet A", url: str | None = None
) -> None:
    """Store an article as the processor does: alerts change, deliveries are written."""
    raw = RawArticle(text=text, title="", source=source, url=url)
    async with sessionmaker(engine).begin() as session:
        await store.save(session, raw, analyze("", text), POLICY)


async def deliveries(engine: AsyncEngine) -> list[Delivery]:
    async with sessionmaker(engine)() as session:
        return list(await session.scalars(select(Delivery).order_by(Delivery.event_id)))


async def attempts(engine: AsyncEngine) -> list[DeliveryAttempt]:
    async with sessionmaker(engine)() as session:
        return list(
            await session.scalars(
                select(DeliveryAttempt).order_by(DeliveryAttempt.at, DeliveryAttempt.id)
            )
        )


async def wait_for(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not so within {timeout}s")
        await asyncio.sleep(0.05)


async def settled(engine: AsyncEngine, count: int | None = None) -> bool:
    """Every delivery (at least ``count`` of them) has left ``pending``."""
    rows = await deliveries(engine)
    enough = count is None or len(rows) >= count
    return enough and bool(rows) and all(d.status != "pending" for d in rows)


@asynccontextmanager
async def dispatching(
    settings: Settings, engine: AsyncEngine, metrics: WebhookMetrics | None = None
) -> AsyncIterator[Dispatcher]:
    """A dispatcher running in this event loop until the block ends."""
    stop = asyncio.Event()
    async with make_webhook_client(settings) as client:
        dispatcher = Dispatcher(settings, engine, client, metrics=metrics or WebhookMetrics())
        task = asyncio.create_task(dispatcher.run(stop))
        try:
            yield dispatcher
        finally:
            stop.set()
            await asyncio.wait_for(task, 15)
