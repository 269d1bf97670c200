"""The fault suite's input: a seeded stream of distinct documents, and publishing it to Kafka.

A stream mixes new stories, exact copies (the same text under another URL and outlet),
near copies (the story lightly edited) and alert-worthy reports. Stories are the real
news texts of ``../shared/corpus/news`` when that folder is present (read at run time,
never copied into the repository), else generated ones; either way some generated
withdrawal reports make sure alerts are raised. Every document has its own message id,
URL and publication time, so a run is the same input every time for one seed.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from ingest.messages import RawArticle
from services.kafka import KafkaBus
from services.settings import Settings
from tests.conftest import SHARED

CORPUS = SHARED / "corpus" / "news"
BASES = ["Ain al-Asad", "al-Tanf", "Qasrak", "Rmelan", "Harir", "Tower 22", "al-Shaddadi"]
WITHDRAWAL = "US forces withdrew from the {base} base on {day}, {who} said. {detail}"
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
WHO = ["officials", "a local source", "residents", "a military spokesman", "two witnesses"]
WORDS = [
    *("council", "market", "harvest", "river", "bridge", "school", "clinic", "road"),
    *("election", "festival", "rain", "water", "prices", "bakery", "museum", "library"),
    *("stadium", "orchard", "train", "harbour", "teachers", "doctors", "farmers", "workers"),
    *("shop", "village", "district", "province", "concert", "budget", "tender", "repair"),
]
START = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)


def _sentence(rng: random.Random) -> str:
    words = rng.sample(WORDS, 7)
    return f"The {words[0]} {words[1]} near the {words[2]} opened a {words[3]} {words[4]} " + (
        f"for the {words[5]} {words[6]} ({rng.randrange(10**6):06d})."
    )


def _generated(rng: random.Random) -> tuple[str, str]:
    title = _sentence(rng)
    return title, " ".join(_sentence(rng) for _ in range(4))


def withdrawal_report(rng: random.Random) -> tuple[str, str]:
    base = rng.choice(BASES)
    detail = " ".join(_sentence(rng) for _ in range(2))
    text = WITHDRAWAL.format(base=base, day=rng.choice(DAYS), who=rng.choice(WHO), detail=detail)
    return f"Troops leave {base}", text


def _corpus() -> list[tuple[str, str]]:
    if not CORPUS.is_dir():
        return []
    stories = []
    for path in sorted(CORPUS.glob("*.txt")):
        title, _, body = path.read_text("utf-8").strip().partition("\n")
        if body.strip():
            stories.append((title.strip(), body.strip()))
    return stories


def _near(rng: random.Random, text: str) -> str:
    """The story as another outlet runs it: a line of its own added, nothing else changed."""
    return f"{text}\n\nUpdated {rng.randrange(1, 24)}:{rng.randrange(60):02d} local time."


def documents(
    count: int, seed: int = 15, source: str = "fault", *, copies: bool = True
) -> list[RawArticle]:
    """``count`` distinct documents: about half new stories, a quarter exact copies, a
    quarter near copies (only new stories without ``copies``); one new story in ten an
    alert-worthy withdrawal report."""
    rng = random.Random(seed)
    corpus = _corpus()
    rng.shuffle(corpus)
    stories: list[RawArticle] = []
    out: list[RawArticle] = []
    for number in range(count):
        at = (START + timedelta(minutes=number)).isoformat()
        url = f"https://news{number % 17}.example.org/{source}/{number}"
        outlet = f"Outlet {number % 13}"
        roll = rng.random() if copies else 0.5 + rng.random() / 2
        if stories and roll < 0.25:
            doc = replace(rng.choice(stories), url=url, source=outlet)
        elif stories and roll < 0.5:
            first = rng.choice(stories)
            doc = replace(first, text=_near(rng, first.text), url=url, source=outlet)
        else:
            if corpus and roll < 0.6:
                title, text = corpus.pop()
            elif roll < 0.65:
                title, text = withdrawal_report(rng)
            else:
                title, text = _generated(rng)
            doc = RawArticle(text=text, title=title, url=url, source=outlet)
            stories.append(doc)
        out.append(
            replace(doc, published_at=at, received_at=at, message_id=f"{source}-{number:06d}")
        )
    return out


Send = Callable[[Sequence[RawArticle]], Awaitable[None]]


@asynccontextmanager
async def publishing(bootstrap: str, topic: str) -> AsyncIterator[Send]:
    """Create ``topic`` (one partition: one order for every run); yield a function that
    publishes documents to it, each acknowledged before the next."""
    bus = KafkaBus(Settings(kafka_bootstrap=bootstrap, topic_partitions=1))
    await bus.ensure_topics([topic])
    async with bus.producer() as producer:

        async def send(docs: Sequence[RawArticle]) -> None:
            for doc in docs:
                await producer.send(topic, doc.encode(), key=(doc.url or doc.message_id).encode())

        yield send


async def publish(bootstrap: str, topic: str, docs: Sequence[RawArticle]) -> None:
    async with publishing(bootstrap, topic) as send:
        await send(docs)
