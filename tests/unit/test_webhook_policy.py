"""services.webhooks.policy: verdicts, the retry schedule and the circuit breaker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.webhooks.policy import (
    Breaker,
    BreakerPolicy,
    Decision,
    RetryPolicy,
    after,
    backoff,
    decide,
    verdict,
)

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
RETRY = RetryPolicy(base=5.0, cap=3600.0, horizon=86400.0)
BREAKER = BreakerPolicy(threshold=3, cooldown=60.0)


@pytest.mark.parametrize(
    ("status", "retry_after", "expected"),
    [
        (200, None, "delivered"),
        (204, None, "delivered"),
        (299, None, "delivered"),
        (410, None, "gone"),
        (429, None, "throttled"),
        (429, 5.0, "throttled"),
        (503, 5.0, "throttled"),
        (503, None, "failed"),
        (500, None, "failed"),
        (404, None, "failed"),
        (301, None, "failed"),  # redirects are not followed
        (None, None, "failed"),  # timeout, connection refused
    ],
)
def test_verdicts(status: int | None, retry_after: float | None, expected: str) -> None:
    assert verdict(status, retry_after=retry_after) == expected


def test_a_blocked_address_is_its_own_verdict() -> None:
    assert verdict(None, blocked=True) == "blocked"


def test_backoff_grows_exponentially_to_the_cap_with_full_jitter() -> None:
    ceilings = [backoff(n, RETRY, 0.999999) for n in range(1, 12)]
    assert ceilings[:4] == pytest.approx([5, 10, 20, 40], rel=1e-5)
    assert ceilings[-1] == pytest.approx(3600, rel=1e-5)
    assert backoff(3, RETRY, 0.0) == 0.0
    assert backoff(3, RETRY, 0.5) == pytest.approx(10.0)
    assert backoff(10_000, RETRY, 0.5) == pytest.approx(1800.0)  # no overflow


@given(st.integers(1, 200), st.floats(0, 1, exclude_max=True))
def test_backoff_stays_within_zero_and_the_cap(attempt: int, draw: float) -> None:
    assert 0 <= backoff(attempt, RETRY, draw) <= RETRY.cap


def _decide(outcome: str, *, since: timedelta = timedelta(0), **kw: object) -> Decision:
    return decide(
        outcome,  # type: ignore[arg-type]
        attempt=2,
        now=NOW,
        retrying_since=NOW - since,
        policy=RETRY,
        draw=0.5,
        **kw,  # type: ignore[arg-type]
    )


def test_decisions() -> None:
    assert _decide("delivered") == Decision("delivered")
    assert _decide("gone") == Decision("cancelled")
    assert _decide("blocked") == Decision("dead")
    assert _decide("failed") == Decision("pending", NOW + timedelta(seconds=5))
    assert _decide("throttled", retry_after=120.0) == Decision(
        "pending", NOW + timedelta(seconds=120)
    )
    assert _decide("throttled") == Decision("pending", NOW + timedelta(seconds=5))


def test_failures_are_retried_for_the_whole_horizon_then_dead() -> None:
    assert _decide("failed", since=timedelta(hours=23, minutes=59)).status == "pending"
    assert _decide("failed", since=timedelta(hours=24)) == Decision("dead")
    assert _decide("throttled", since=timedelta(hours=25), retry_after=1.0) == Decision("dead")


def test_a_schedule_spans_at_least_the_horizon() -> None:
    """Retried with the worst luck (every draw 0): still tried until a day has passed."""
    since, now, attempt = NOW, NOW, 1
    while (
        decision := decide(
            "failed", attempt=attempt, now=now, retrying_since=since, policy=RETRY, draw=0.0
        )
    ).status == "pending":
        assert decision.next_attempt_at is not None
        now = max(decision.next_attempt_at, now + timedelta(hours=1))
        attempt += 1
    assert now - since >= timedelta(hours=24)


def test_the_breaker_opens_after_threshold_failures_and_closes_on_success() -> None:
    state = Breaker()
    for _ in range(2):
        state = after(state, "failed", NOW, BREAKER)
        assert not state.is_open(NOW)
    state = after(state, "failed", NOW, BREAKER)
    assert state == Breaker(3, NOW + timedelta(seconds=60))
    assert state.is_open(NOW + timedelta(seconds=59))
    later = NOW + timedelta(seconds=61)
    assert not state.is_open(later)
    assert state.half_open(later, BREAKER)  # one probe
    reopened = after(state, "failed", later, BREAKER)
    assert reopened == Breaker(4, later + timedelta(seconds=60))
    assert after(reopened, "delivered", later, BREAKER) == Breaker()


def test_other_verdicts_and_retry_after() -> None:
    state = Breaker(1)
    assert after(state, "gone", NOW, BREAKER) == state
    assert after(state, "blocked", NOW, BREAKER) == state
    assert after(state, "throttled", NOW, BREAKER) == state  # no Retry-After: no pause
    paused = after(state, "throttled", NOW, BREAKER, retry_after=30.0)
    assert paused == Breaker(1, NOW + timedelta(seconds=30))
    assert after(paused, "throttled", NOW, BREAKER, retry_after=5.0) == paused  # keeps the later
