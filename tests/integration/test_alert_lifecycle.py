"""Alerts grow with corroboration, are disputed by later denials, and every change is an
event in the outbox that reaches the alerts topic."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from ingest.messages import RawArticle
from processor import outbox, store
from processor.alerting import AlertPolicy
from processor.analyze import analyze
from services.db import sessionmaker
from services.kafka import KafkaBus
from services.models import Alert, AlertEvent, Article, Sighting
from services.settings import Settings
from tests.conftest import postgresql_only

POLICY = AlertPolicy(
    kinds=frozenset({"withdrawal", "withdrawal_planned", "negotiation", "denial"}),
    min_confidence=0.5,
    window=timedelta(days=7),
)
EN = "US forces withdrew from Ain al-Asad air base on Tuesday, officials said."
EN_OTHER = "American troops have left the Ain al-Asad base in Anbar, a local source said."
AR = "انسحبت القوات الأمريكية من قاعدة عين الأسد في الأنبار يوم الثلاثاء."
DENIAL = "The Pentagon denied reports that US forces had withdrawn from Ain al-Asad."


pytestmark = postgresql_only


async def _save(engine: AsyncEngine, text: str, source: str) -> store.Stored | None:
    raw = RawArticle(text=text, title="", source=source)
    async with sessionmaker(engine).begin() as session:
        return await store.save(session, raw, analyze("", text), POLICY)


async def _alert(engine: AsyncEngine) -> Alert:
    async with sessionmaker(engine)() as session:
        return (
            await session.scalars(
                select(Alert).where(Alert.place == "ain-al-asad", Alert.kind == "withdrawal")
            )
        ).one()


async def _events(engine: AsyncEngine) -> list[AlertEvent]:
    async with sessionmaker(engine)() as session:
        return list(await session.scalars(select(AlertEvent).order_by(AlertEvent.id)))


async def test_status_grows_with_outlets_and_languages_then_a_denial_disputes(
    engine: AsyncEngine,
) -> None:
    await _save(engine, EN, "Outlet A")
    assert (await _alert(engine)).status == "reported"
    await _save(engine, EN_OTHER, "Outlet B")
    assert (await _alert(engine)).status == "corroborated"
    await _save(engine, DENIAL, "Outlet C")
    disputed = await _alert(engine)
    assert disputed.status == "disputed"

    events = [e for e in await _events(engine) if e.alert_id == disputed.id]
    assert [e.type for e in events] == ["alert.created", "alert.updated", "alert.updated"]
    assert events[1].changes["status"] == ["reported", "corroborated"]
    assert events[1].changes["outlets"] == [["Outlet A"], ["Outlet A", "Outlet B"]]
    assert events[2].changes == {
        "status": ["corroborated", "disputed"],
        "denied_by": [[], ["Outlet C"]],
    }
    assert events[2].alert["status"] == "disputed"
    assert events[0].alert["evidence"][0]["outlet"] == "Outlet A"


async def test_three_outlets_in_two_languages_confirm(engine: AsyncEngine) -> None:
    await _save(engine, EN, "Outlet A")
    await _save(engine, AR, "Outlet B")
    assert (await _alert(engine)).status == "corroborated"
    await _save(engine, EN_OTHER, "Outlet C")
    confirmed = await _alert(engine)
    assert confirmed.status == "confirmed"
    assert confirmed.languages == ["ar", "en"]


async def test_a_copy_from_another_outlet_corroborates_and_one_from_the_same_does_not(
    engine: AsyncEngine,
) -> None:
    await _save(engine, EN, "Outlet A")
    await _save(engine, EN, "Outlet A")
    assert (await _alert(engine)).status == "reported"
    await _save(engine, EN, "Outlet B")
    alert = await _alert(engine)
    assert (alert.status, alert.sighting_count, alert.article_count) == ("corroborated", 1, 1)


async def test_workers_seeing_the_same_story_at_once_make_one_article_and_one_alert(
    engine: AsyncEngine,
) -> None:
    results = await asyncio.gather(*(_save(engine, EN, f"Outlet {i}") for i in range(4)))
    assert sum(1 for r in results if r and not r.duplicate) == 1
    async with sessionmaker(engine)() as session:
        assert await session.scalar(select(func.count()).select_from(Article)) == 1
        assert await session.scalar(select(func.count()).select_from(Sighting)) == 4
        assert await session.scalar(select(func.count()).select_from(Alert)) == 1


async def test_alert_events_reach_the_alerts_topic_once(
    engine: AsyncEngine, kafka_settings: Settings
) -> None:
    await _save(engine, EN, "Outlet A")
    await _save(engine, DENIAL, "Outlet C")
    bus = KafkaBus(kafka_settings)
    await bus.ensure_topics([kafka_settings.topic_alerts])
    sessions = sessionmaker(engine)
    async with bus.producer() as producer:
        assert await outbox.relay(sessions, producer, kafka_settings.topic_alerts) == 3
        assert await outbox.relay(sessions, producer, kafka_settings.topic_alerts) == 0
    received = []
    async with bus.consumer(
        [kafka_settings.topic_alerts], f"{kafka_settings.consumer_group}-a"
    ) as c:
        for _ in range(60):
            received += await c.poll(timeout=0.5)
            if len(received) >= 3:
                break
    messages = sorted((json.loads(r.value) for r in received), key=lambda m: m["id"])
    assert [(m["type"], m["alert"]["kind"]) for m in messages] == [
        ("alert.created", "withdrawal"),
        ("alert.created", "denial"),  # the denial is a story of its own
        ("alert.updated", "withdrawal"),
    ]
    assert messages[2]["changes"] == {
        "status": ["reported", "disputed"],
        "denied_by": [[], ["Outlet C"]],
    }
    assert {m["v"] for m in messages} == {1}


CLAIMS = [
    "US forces withdrew from Ain al-Asad air base on Tuesday, officials said.",
    "انسحبت القوات الأمريكية من قاعدة عين الأسد في الأنبار يوم الثلاثاء.",
    "American troops have left the Ain al-Asad base in Anbar, a local source said.",
    "US troops left the Ain al-Asad air base overnight, residents said.",
    "Two witnesses said American forces completed their withdrawal from Ain al-Asad.",
    "US soldiers withdrew from the Ain al-Asad air base, a local official told reporters.",
]
DENIALS = [
    "The Pentagon denied reports that US forces had withdrawn from Ain al-Asad.",
    "A CENTCOM spokesman again denied that American troops had left Ain al-Asad.",
    "Iraqi officials denied that US forces have withdrawn from the Ain al-Asad base.",
    "Kurdish officials denied reports that American forces left the Ain al-Asad base.",
]


async def test_one_more_report_of_the_same_side_does_not_flip_the_status(
    engine: AsyncEngine,
) -> None:
    """Each step is one article; the status moves only when a side gains an outlet."""
    steps = [
        (CLAIMS[0], "A", "reported"),
        (CLAIMS[1], "B", "corroborated"),
        (CLAIMS[2], "C", "confirmed"),
        (DENIALS[0], "D", "disputed"),
        (CLAIMS[3], "A", "disputed"),  # one outlet answering is not enough
        (DENIALS[1], "D", "disputed"),  # the same outlet denying again: no change at all
        (CLAIMS[4], "E", "confirmed"),  # two other outlets have answered the one denial
        (DENIALS[2], "F", "confirmed"),  # two answers hold against two denials
        (DENIALS[3], "G", "disputed"),  # three denials outweigh two answers
        (CLAIMS[5], "H", "confirmed"),  # three against three
    ]
    for text, outlet, expected in steps:
        await _save(engine, text, f"Outlet {outlet}")
        assert (await _alert(engine)).status == expected, text
    alert = await _alert(engine)
    assert alert.denied_by == ["Outlet D", "Outlet F", "Outlet G"]
    statuses = [
        e.changes["status"]
        for e in await _events(engine)
        if e.alert_id == alert.id and "status" in e.changes
    ]
    assert statuses == [
        ["reported", "corroborated"],
        ["corroborated", "confirmed"],
        ["confirmed", "disputed"],
        ["disputed", "confirmed"],
        ["confirmed", "disputed"],
        ["disputed", "confirmed"],
    ]
    repeated = [e for e in await _events(engine) if e.alert_id == alert.id][5:6]
    assert [e.changes.get("denied_by") for e in repeated] == [None]  # D's second denial: none
