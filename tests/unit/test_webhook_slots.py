"""services.webhooks.slots: what a dispatcher may send now, hold, hand back or drop."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.webhooks.policy import Breaker
from services.webhooks.slots import Slots


@dataclass(frozen=True)
class Job:
    subscription_id: int
    number: int
    breaker: Breaker = field(default_factory=Breaker)


def jobs(subscription: int, count: int, failures: int = 0) -> list[Job]:
    return [Job(subscription, n, Breaker(failures)) for n in range(count)]


def test_per_subscription_and_overall_limits() -> None:
    slots: Slots[Job] = Slots(concurrency=5, per_subscription=3, threshold=2)
    slots.add(jobs(1, 4) + jobs(2, 4))
    started = slots.ready()
    assert [(j.subscription_id, j.number) for j in started] == [
        (1, 0),
        (1, 1),
        (1, 2),
        (2, 0),
        (2, 1),
    ]
    assert slots.ready() == []  # five in flight: full
    assert slots.busy() == {1, 2}  # each holds its concurrency's worth
    released, _ = slots.finished(started[0], "delivered")
    assert released == []
    assert [(j.subscription_id, j.number) for j in slots.ready()] == [(1, 3)]


def test_claims_hold_at_most_twice_the_concurrency() -> None:
    slots: Slots[Job] = Slots(concurrency=4, per_subscription=2, threshold=3)
    assert slots.room() == 8
    assert slots.claim_cap() == 3
    slots.add(jobs(1, 3))
    slots.ready()
    assert slots.room() == 5
    assert slots.load(1) == 3


def test_room_opens_when_a_subscription_drops_below_its_concurrency() -> None:
    slots: Slots[Job] = Slots(concurrency=10, per_subscription=2, threshold=3)
    slots.add(jobs(1, 3))
    first, second = slots.ready()
    _, room = slots.finished(first, "delivered")  # load 3 → 2: still busy
    assert not room
    (_third,) = slots.ready()
    _, room = slots.finished(second, "delivered")  # load 2 → 1
    assert room
    assert slots.busy() == set()


def test_a_failing_subscription_hands_back_what_it_holds_until_recorded() -> None:
    slots: Slots[Job] = Slots(concurrency=10, per_subscription=2, threshold=2)
    slots.add(jobs(1, 4))
    first, second = slots.ready()
    assert slots.finished(first, "failed")[0] == []
    released, _ = slots.finished(second, "failed")
    assert [j.number for j in released] == [2, 3]
    assert slots.busy() == {1}  # not claimed for until the failure is recorded
    slots.recorded(first)
    assert slots.busy() == {1}
    slots.recorded(second)
    assert slots.busy() == set()


def test_a_410_drops_what_is_held() -> None:
    slots: Slots[Job] = Slots(concurrency=10, per_subscription=1, threshold=5)
    slots.add(jobs(1, 2))
    (first,) = slots.ready()
    released, _ = slots.finished(first, "gone")
    assert released == []
    assert slots.held() == 0
    assert slots.busy() == {1}


def test_a_half_open_subscription_sends_one_probe_at_a_time() -> None:
    slots: Slots[Job] = Slots(concurrency=10, per_subscription=4, threshold=3)
    slots.add(jobs(1, 2, failures=3))
    (probe,) = slots.ready()
    assert slots.ready() == []
    assert 1 in slots.busy()
    _, room = slots.finished(probe, "delivered")
    assert room
    assert len(slots.ready()) == 1


def test_drain_returns_what_was_not_started() -> None:
    slots: Slots[Job] = Slots(concurrency=1, per_subscription=1, threshold=3)
    slots.add(jobs(1, 2) + jobs(2, 1))
    slots.ready()
    assert sorted((j.subscription_id, j.number) for j in slots.drain()) == [(1, 1), (2, 0)]
    assert slots.waiting == {}
