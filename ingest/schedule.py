"""When to poll a source next: pure functions over the last poll's outcome.

After a success the source's interval (or the default) is lengthened by what
the server and the feed said about freshness — Cache-Control ``max-age``
(ignored under ``no-cache``/``no-store``), ``Expires``, the feed's TTL — then
clamped between the minimum and maximum interval and jittered. A failure backs
off exponentially with the number of consecutive failures, capped at the
maximum; after ``park_after`` failures in a row the source is parked and tried
only every ``parked_interval``. ``Retry-After`` is always honoured (up to the
parked interval). A success resets the failure count and unparks.

``rand`` returns a float in [0, 1); tests pass a fixed one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

Random = Callable[[], float]
MAX_BACKOFF_EXPONENT = 30


@dataclass(frozen=True, slots=True)
class Policy:
    """How often sources are polled; built from the settings."""

    default_interval: float
    min_interval: float
    max_interval: float
    jitter: float = 0.1  # a fraction of the delay, either way
    park_after: int = 10
    parked_interval: float = 86400.0


@dataclass(frozen=True, slots=True)
class Hints:
    """What a response said about freshness, in seconds from the time of the poll."""

    max_age: float | None = None
    no_cache: bool = False
    expires_in: float | None = None
    ttl: float | None = None
    retry_after: float | None = None


@dataclass(frozen=True, slots=True)
class Health:
    """A source's schedule and health after a poll."""

    next_poll_at: datetime
    error_count: int
    parked_until: datetime | None

    @property
    def parked(self) -> bool:
        return self.parked_until is not None


def parse_cache_control(value: str | None) -> tuple[float | None, bool]:
    """``(max-age seconds, no-cache)`` from a Cache-Control header; s-maxage wins over max-age."""
    if not value:
        return None, False
    directives: dict[str, str] = {}
    for part in value.split(","):
        name, _, argument = part.strip().partition("=")
        directives[name.strip().lower()] = argument.strip().strip('"')
    no_cache = "no-cache" in directives or "no-store" in directives
    for name in ("s-maxage", "max-age"):
        try:
            return max(0.0, float(directives[name])), no_cache
        except (KeyError, ValueError):
            continue
    return None, no_cache


def parse_http_date(value: str | None) -> datetime | None:
    """An RFC 9110 HTTP-date as an aware UTC datetime; None when absent or malformed."""
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def hints_from_headers(
    *,
    cache_control: str | None,
    expires: str | None,
    now: datetime,
    ttl: float | None = None,
    retry_after: float | None = None,
) -> Hints:
    max_age, no_cache = parse_cache_control(cache_control)
    expires_at = parse_http_date(expires)
    expires_in = (expires_at - now).total_seconds() if expires_at is not None else None
    return Hints(
        max_age=max_age,
        no_cache=no_cache,
        expires_in=max(0.0, expires_in) if expires_in is not None else None,
        ttl=ttl,
        retry_after=retry_after,
    )


def _clamp(delay: float, policy: Policy) -> float:
    return min(max(delay, policy.min_interval), policy.max_interval)


def _jittered(delay: float, policy: Policy, rand: Random) -> float:
    return delay * (1 + policy.jitter * (2 * rand() - 1))


def _honour_retry_after(delay: float, retry_after: float | None, policy: Policy) -> float:
    if retry_after is None or retry_after <= 0:
        return delay
    return max(delay, min(retry_after, policy.parked_interval))


def base_interval(policy: Policy, interval: float | None) -> float:
    """The source's own interval (or the default), within the bounds."""
    return _clamp(interval if interval is not None else policy.default_interval, policy)


def success_delay(policy: Policy, interval: float | None, hints: Hints, rand: Random) -> float:
    """Seconds until the next poll after a successful (or not-modified) poll."""
    freshness = [hints.ttl] if hints.ttl is not None else []
    if not hints.no_cache:
        freshness += [h for h in (hints.max_age, hints.expires_in) if h is not None]
    delay = max([base_interval(policy, interval), *freshness])
    delay = _clamp(_jittered(_clamp(delay, policy), policy, rand), policy)
    return _honour_retry_after(delay, hints.retry_after, policy)


def failure_delay(
    policy: Policy, interval: float | None, failures: int, retry_after: float | None, rand: Random
) -> float:
    """Seconds until the next try after ``failures`` consecutive failures (this one included)."""
    if failures >= policy.park_after:
        delay = _jittered(policy.parked_interval, policy, rand)
    else:
        exponent = min(max(failures - 1, 0), MAX_BACKOFF_EXPONENT)
        backoff = base_interval(policy, interval) * 2**exponent
        delay = _clamp(_jittered(_clamp(backoff, policy), policy, rand), policy)
    return _honour_retry_after(delay, retry_after, policy)


def after_success(
    policy: Policy, interval: float | None, hints: Hints, now: datetime, rand: Random
) -> Health:
    delay = success_delay(policy, interval, hints, rand)
    return Health(next_poll_at=now + timedelta(seconds=delay), error_count=0, parked_until=None)


def after_failure(
    policy: Policy,
    interval: float | None,
    error_count: int,
    retry_after: float | None,
    now: datetime,
    rand: Random,
) -> Health:
    """``error_count`` is the count before this failure."""
    failures = error_count + 1
    next_poll_at = now + timedelta(
        seconds=failure_delay(policy, interval, failures, retry_after, rand)
    )
    parked_until = next_poll_at if failures >= policy.park_after else None
    return Health(next_poll_at=next_poll_at, error_count=failures, parked_until=parked_until)
