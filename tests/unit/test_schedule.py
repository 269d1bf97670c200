"""ingest.schedule: when a source is polled next, after successes and failures."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from ingest.poll import policy
from ingest.schedule import (
    Hints,
    Policy,
    after_failure,
    after_success,
    failure_delay,
    hints_from_headers,
    parse_cache_control,
    parse_http_date,
    success_delay,
)
from services.settings import Settings

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
POLICY = Policy(
    default_interval=600,
    min_interval=60,
    max_interval=3600,
    jitter=0.0,
    park_after=5,
    parked_interval=86400,
)


def middle() -> float:
    return 0.5  # no jitter either way


def seconds(moment: datetime) -> float:
    return (moment - NOW).total_seconds()


# ---- headers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, (None, False)),
        ("", (None, False)),
        ("max-age=300", (300.0, False)),
        ("public, max-age=1200, must-revalidate", (1200.0, False)),
        ('max-age="90"', (90.0, False)),
        ("max-age=100, s-maxage=900", (900.0, False)),
        ("no-cache", (None, True)),
        ("no-store, max-age=0", (0.0, True)),
        ("Max-Age=60", (60.0, False)),
        ("max-age=soon", (None, False)),
    ],
)
def test_cache_control(header: str | None, expected: tuple[float | None, bool]) -> None:
    assert parse_cache_control(header) == expected


def test_http_dates() -> None:
    assert parse_http_date("Sun, 01 Mar 2026 13:00:00 GMT") == NOW + timedelta(hours=1)
    assert parse_http_date("0") is None
    assert parse_http_date("yesterday") is None
    assert parse_http_date(None) is None


def test_expires_is_seconds_from_now_and_never_negative() -> None:
    later = hints_from_headers(cache_control=None, expires="Sun, 01 Mar 2026 13:00:00 GMT", now=NOW)
    past = hints_from_headers(cache_control=None, expires="Sun, 01 Mar 2026 11:00:00 GMT", now=NOW)
    assert later.expires_in == 3600
    assert past.expires_in == 0


# ---- success ------------------------------------------------------------------------


def test_success_uses_the_source_interval_or_the_default() -> None:
    assert success_delay(POLICY, 300, Hints(), middle) == 300
    assert success_delay(POLICY, None, Hints(), middle) == 600


def test_intervals_are_clamped_between_min_and_max() -> None:
    assert success_delay(POLICY, 5, Hints(), middle) == 60
    assert success_delay(POLICY, 99999, Hints(), middle) == 3600


def test_cache_control_max_age_lengthens_the_interval_up_to_the_max() -> None:
    assert success_delay(POLICY, 300, Hints(max_age=1200), middle) == 1200
    assert success_delay(POLICY, 300, Hints(max_age=100), middle) == 300  # never shortens
    assert success_delay(POLICY, 300, Hints(max_age=86400), middle) == 3600


def test_no_cache_ignores_max_age_and_expires() -> None:
    hints = Hints(max_age=1200, expires_in=2400, no_cache=True)
    assert success_delay(POLICY, 300, hints, middle) == 300


def test_expires_lengthens_the_interval() -> None:
    assert success_delay(POLICY, 300, Hints(expires_in=1800), middle) == 1800


def test_feed_ttl_lengthens_the_interval_even_under_no_cache() -> None:
    assert success_delay(POLICY, 300, Hints(ttl=900), middle) == 900
    assert success_delay(POLICY, 300, Hints(ttl=900, no_cache=True), middle) == 900
    assert success_delay(POLICY, 300, Hints(ttl=7 * 86400), middle) == 3600


def test_the_longest_freshness_hint_wins() -> None:
    assert success_delay(POLICY, 300, Hints(max_age=700, expires_in=900, ttl=800), middle) == 900


def test_retry_after_is_honoured_beyond_the_max_but_not_beyond_the_parked_interval() -> None:
    assert success_delay(POLICY, 300, Hints(retry_after=7200), middle) == 7200
    assert success_delay(POLICY, 300, Hints(retry_after=10 * 86400), middle) == 86400


def test_success_resets_errors_and_unparks() -> None:
    health = after_success(POLICY, 300, Hints(), NOW, middle)
    assert health.error_count == 0
    assert health.parked_until is None
    assert not health.parked
    assert seconds(health.next_poll_at) == 300


@given(
    interval=st.floats(min_value=1, max_value=10**6),
    r=st.floats(min_value=0, max_value=1, exclude_max=True),
    jitter=st.floats(min_value=0, max_value=0.5),
)
def test_jitter_stays_within_its_fraction_and_the_bounds(
    interval: float, r: float, jitter: float
) -> None:
    policy = Policy(default_interval=600, min_interval=60, max_interval=3600, jitter=jitter)
    delay = success_delay(policy, interval, Hints(), lambda: r)
    base = min(max(interval, 60), 3600)
    assert 60 <= delay <= 3600
    assert base * (1 - jitter) - 1e-6 <= delay <= base * (1 + jitter) + 1e-6


def test_jitter_spreads_polls_deterministically_with_a_seeded_source() -> None:
    policy = Policy(default_interval=600, min_interval=60, max_interval=3600, jitter=0.1)
    first = [success_delay(policy, 600, Hints(), random.Random(7).random) for _ in range(3)]
    again = [success_delay(policy, 600, Hints(), random.Random(7).random) for _ in range(3)]
    assert first == again
    spread = {success_delay(policy, 600, Hints(), random.Random(seed).random) for seed in range(50)}
    assert len(spread) > 40
    assert min(spread) >= 540
    assert max(spread) <= 660
    assert success_delay(policy, 600, Hints(), lambda: 0.0) == 540
    assert success_delay(policy, 600, Hints(), lambda: 0.999999) == pytest.approx(660, abs=0.01)


# ---- failure ------------------------------------------------------------------------


def test_failures_back_off_exponentially_up_to_the_max() -> None:
    delays = [failure_delay(POLICY, 300, n, None, middle) for n in range(1, 5)]
    assert delays == [300, 600, 1200, 2400]
    big = Policy(default_interval=600, min_interval=60, max_interval=3600, park_after=50)
    assert failure_delay(big, 300, 6, None, middle) == 3600
    assert failure_delay(big, 300, 49, None, middle) == 3600  # no overflow on long streaks


def test_failure_counts_up_and_keeps_counting() -> None:
    first = after_failure(POLICY, 300, 0, None, NOW, middle)
    second = after_failure(POLICY, 300, first.error_count, None, NOW, middle)
    assert (first.error_count, second.error_count) == (1, 2)
    assert seconds(first.next_poll_at) == 300
    assert seconds(second.next_poll_at) == 600
    assert not second.parked


def test_retry_after_on_failure_is_honoured() -> None:
    health = after_failure(POLICY, 300, 0, 1800, NOW, middle)
    assert seconds(health.next_poll_at) == 1800
    assert health.error_count == 1
    short = after_failure(POLICY, 300, 2, 30, NOW, middle)  # backoff is longer than Retry-After
    assert seconds(short.next_poll_at) == 1200


def test_parked_after_n_consecutive_failures_and_retried_daily() -> None:
    health = after_failure(POLICY, 300, 3, None, NOW, middle)
    assert not health.parked
    parked = after_failure(POLICY, 300, 4, None, NOW, middle)
    assert parked.error_count == 5
    assert parked.parked
    assert parked.parked_until == parked.next_poll_at
    assert seconds(parked.next_poll_at) == 86400
    still = after_failure(POLICY, 300, 5, None, parked.next_poll_at, middle)
    assert still.parked
    assert still.next_poll_at == parked.next_poll_at + timedelta(days=1)


def test_recovery_after_parking_resets_everything() -> None:
    parked = after_failure(POLICY, 300, 9, None, NOW, middle)
    assert parked.parked
    recovered = after_success(POLICY, 300, Hints(), parked.next_poll_at, middle)
    assert (recovered.error_count, recovered.parked_until) == (0, None)
    assert (recovered.next_poll_at - parked.next_poll_at).total_seconds() == 300


@given(
    failures=st.integers(min_value=1, max_value=1000),
    r=st.floats(min_value=0, max_value=1, exclude_max=True),
)
def test_failure_delay_is_always_between_min_and_parked_interval(failures: int, r: float) -> None:
    policy = Policy(default_interval=600, min_interval=60, max_interval=3600, jitter=0.2)
    delay = failure_delay(policy, None, failures, None, lambda: r)
    assert 60 <= delay <= 86400 * 1.2


def test_the_policy_comes_from_the_settings() -> None:
    settings = Settings(
        poll_interval=300,
        min_poll_interval=30,
        max_poll_interval=1800,
        poll_jitter=0.2,
        park_after_failures=4,
        parked_retry_interval=43200,
    )
    assert policy(settings) == Policy(
        default_interval=300,
        min_interval=30,
        max_interval=1800,
        jitter=0.2,
        park_after=4,
        parked_interval=43200,
    )


def test_a_minimum_above_the_maximum_is_a_settings_error() -> None:
    with pytest.raises(ValidationError, match="DRAWDOWN_MIN_POLL_INTERVAL"):
        Settings(min_poll_interval=7200, max_poll_interval=3600)
