"""What an endpoint's answer means for a delivery and its subscription. Pure functions.

- **Verdict** of one attempt: ``delivered`` (2xx), ``gone`` (410: the subscription is
  disabled, its pending deliveries cancelled), ``throttled`` (429, or 503 with a
  ``Retry-After``), ``blocked`` (the SSRF guard refused the address: dead at once),
  ``failed`` (any other status, a timeout, a connection error).
- **Retry schedule**: exponential backoff with full jitter — attempt *n* waits a
  uniformly drawn ``[0, min(max, base·2ⁿ⁻¹))`` seconds, or what ``Retry-After`` asks.
  Failures keep being retried until the delivery has been retrying for the retry
  horizon (at least a day by default); the first failure after that makes it dead.
- **Circuit breaker** per subscription: ``threshold`` consecutive failures pause the
  subscription for ``cooldown`` (its deliveries wait; others go on). After the pause
  one delivery probes the endpoint (half-open): a success closes the breaker, a
  failure pauses it again. A ``Retry-After`` pauses the subscription that long.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

Verdict = Literal["delivered", "gone", "throttled", "blocked", "failed"]
Status = Literal["pending", "delivered", "dead", "cancelled"]


def verdict(
    status: int | None, *, blocked: bool = False, retry_after: float | None = None
) -> Verdict:
    """The meaning of one attempt's answer (``status`` None: no answer at all)."""
    if blocked:
        return "blocked"
    if status is None:
        return "failed"
    if 200 <= status < 300:
        return "delivered"
    if status == 410:
        return "gone"
    if status == 429 or (status == 503 and retry_after is not None):
        return "throttled"
    return "failed"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    base: float  # seconds, the first retry's ceiling
    cap: float  # seconds, the largest ceiling
    horizon: float  # seconds a delivery keeps being retried


@dataclass(frozen=True, slots=True)
class Decision:
    status: Status
    next_attempt_at: datetime | None = None  # when pending: when to try again


def backoff(attempt: int, policy: RetryPolicy, draw: float) -> float:
    """Seconds before the try after ``attempt`` (1-based); ``draw`` is uniform in [0, 1)."""
    ceiling = min(policy.cap, policy.base * 2.0 ** min(max(attempt - 1, 0), 62))
    return draw * ceiling


def decide(
    outcome: Verdict,
    *,
    attempt: int,
    now: datetime,
    retrying_since: datetime,
    policy: RetryPolicy,
    draw: float,
    retry_after: float | None = None,
) -> Decision:
    """What becomes of a delivery after an attempt with this verdict."""
    if outcome == "delivered":
        return Decision("delivered")
    if outcome == "gone":
        return Decision("cancelled")
    if outcome == "blocked":
        return Decision("dead")
    if (now - retrying_since).total_seconds() >= policy.horizon:
        return Decision("dead")
    if outcome == "throttled" and retry_after is not None:
        delay = min(max(retry_after, 0.0), policy.horizon)
    else:
        delay = backoff(attempt, policy, draw)
    return Decision("pending", now + timedelta(seconds=delay))


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    threshold: int  # consecutive failures that open the breaker
    cooldown: float  # seconds it stays open


@dataclass(frozen=True, slots=True)
class Breaker:
    """A subscription's breaker, as stored on its row."""

    failures: int = 0
    paused_until: datetime | None = None

    def is_open(self, now: datetime) -> bool:
        return self.paused_until is not None and self.paused_until > now

    def half_open(self, now: datetime, policy: BreakerPolicy) -> bool:
        """Past a pause but not yet recovered: one probe at a time."""
        return self.failures >= policy.threshold and not self.is_open(now)


def _later(current: datetime | None, candidate: datetime) -> datetime:
    return candidate if current is None or candidate > current else current


def after(
    state: Breaker,
    outcome: Verdict,
    now: datetime,
    policy: BreakerPolicy,
    retry_after: float | None = None,
) -> Breaker:
    """The breaker once an attempt with ``outcome`` has come back."""
    if outcome == "delivered":
        return Breaker()
    if outcome == "failed":
        failures = state.failures + 1
        if failures >= policy.threshold:
            until = _later(state.paused_until, now + timedelta(seconds=policy.cooldown))
            return Breaker(failures, until)
        return replace(state, failures=failures)
    if outcome == "throttled" and retry_after is not None and retry_after > 0:
        return replace(
            state, paused_until=_later(state.paused_until, now + timedelta(seconds=retry_after))
        )
    return state
