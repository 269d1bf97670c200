"""Which claimed deliveries a dispatcher may send now. Bookkeeping only, no I/O.

A dispatcher claims ahead: it holds up to twice the per-subscription concurrency
of each subscription's deliveries (and up to twice its overall concurrency), so
when a request finishes the next one starts at once instead of after a database
round trip. Of those, at most ``per_subscription`` are in flight per subscription
(one while its breaker is half-open) and ``concurrency`` in all. When this
dispatcher sees ``threshold`` failures in a row from a subscription, the
deliveries it still holds for it are handed back rather than sent, so a dead
endpoint costs one round of requests, not a queue's worth; after a 410 they are
dropped (recording the 410 cancels them).
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from services.webhooks.policy import Breaker, Verdict


class Held(Protocol):
    @property
    def subscription_id(self) -> int: ...

    @property
    def breaker(self) -> Breaker: ...


J = TypeVar("J", bound=Held)


@dataclass
class Slots(Generic[J]):
    concurrency: int
    per_subscription: int
    threshold: int
    sending: Counter[int] = field(default_factory=Counter)
    waiting: dict[int, deque[J]] = field(default_factory=dict)
    probing: set[int] = field(default_factory=set)  # half-open: one request at a time
    failures: Counter[int] = field(default_factory=Counter)  # in a row, seen here
    # Subscriptions that answered 410 or tripped the breaker here: not claimed for until
    # that answer is recorded (and the database says so to every dispatcher).
    stopped: dict[int, J] = field(default_factory=dict)

    def load(self, subscription_id: int) -> int:
        return self.sending[subscription_id] + len(self.waiting.get(subscription_id, ()))

    def held(self) -> int:
        return self.sending.total() + sum(len(q) for q in self.waiting.values())

    def room(self) -> int:
        """How many more deliveries a claim may bring in."""
        return max(0, 2 * self.concurrency - self.held())

    def claim_cap(self) -> int:
        """Most deliveries of one subscription per claim: with ``busy`` below, never more
        than twice its concurrency held."""
        return self.per_subscription + 1

    def busy(self) -> set[int]:
        """Subscriptions not to claim for: holding their concurrency's worth, or probing."""
        held = set(self.sending) | set(self.waiting)
        full = {s for s in held if self.load(s) >= self.per_subscription}
        return full | self.probing | set(self.stopped)

    def add(self, jobs: list[J]) -> None:
        for job in jobs:
            self.waiting.setdefault(job.subscription_id, deque()).append(job)

    def ready(self) -> list[J]:
        """Jobs to start now (counted as sending), oldest claim first per subscription."""
        started: list[J] = []
        in_flight = self.sending.total()
        for subscription_id in list(self.waiting):
            queue = self.waiting[subscription_id]
            while queue and in_flight < self.concurrency:
                limit = 1 if subscription_id in self.probing else self.per_subscription
                if self.sending[subscription_id] >= limit:
                    break
                job = queue.popleft()
                if job.breaker.failures >= self.threshold:
                    self.probing.add(subscription_id)
                self.sending[subscription_id] += 1
                started.append(job)
                in_flight += 1
            if not queue:
                del self.waiting[subscription_id]
        return started

    def finished(self, job: J, outcome: Verdict) -> tuple[list[J], bool]:
        """A request came back: the jobs to hand back unsent (a failing endpoint), and
        whether a claim may now find room it did not have."""
        subscription_id = job.subscription_id
        was_busy = self.load(subscription_id) >= self.per_subscription
        self.sending[subscription_id] -= 1
        if self.sending[subscription_id] <= 0:
            del self.sending[subscription_id]
        room = subscription_id in self.probing
        self.probing.discard(subscription_id)
        if outcome == "failed":
            self.failures[subscription_id] += 1
        elif outcome == "delivered":
            self.failures.pop(subscription_id, None)
        released: list[J] = []
        if outcome == "gone":  # the answer's record cancels them; they are not sent
            self.waiting.pop(subscription_id, None)
            self.stopped[subscription_id] = job
        elif self.failures[subscription_id] >= self.threshold:
            released = list(self.waiting.pop(subscription_id, ()))
            self.stopped[subscription_id] = job
        now_busy = self.load(subscription_id) >= self.per_subscription
        return released, room or (was_busy and not now_busy) or self.held() == self.concurrency

    def recorded(self, job: J) -> None:
        """The answer to ``job`` is in the database."""
        if self.stopped.get(job.subscription_id) is job:
            del self.stopped[job.subscription_id]

    def drain(self) -> list[J]:
        """Every job still waiting (at shutdown, to hand back)."""
        jobs = [job for queue in self.waiting.values() for job in queue]
        self.waiting.clear()
        return jobs
