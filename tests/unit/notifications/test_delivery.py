import random
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from services.notifications.domain.delivery import (
    AttemptResult,
    BreakerState,
    CircuitBreaker,
    DeliveryStatus,
    Outcome,
    RetryPolicy,
    http_outcome,
    retry_after_seconds,
)

POLICY = RetryPolicy(base_seconds=30, max_seconds=3600, max_attempts=8)
FAILED = AttemptResult(Outcome.RETRYABLE, 503, "HTTP 503")
OK = AttemptResult(Outcome.DELIVERED, 200)
T0 = datetime(2026, 7, 1, tzinfo=UTC)


def test_statuses_worth_retrying() -> None:
    assert [http_outcome(s) for s in (200, 204, 301, 400, 408, 410, 429, 500, 503)] == [
        Outcome.DELIVERED,
        Outcome.DELIVERED,
        Outcome.PERMANENT,
        Outcome.PERMANENT,
        Outcome.RETRYABLE,
        Outcome.PERMANENT,
        Outcome.RETRYABLE,
        Outcome.RETRYABLE,
        Outcome.RETRYABLE,
    ]
    assert retry_after_seconds(" 120 ") == 120.0
    assert retry_after_seconds("Wed, 21 Oct 2026 07:28:00 GMT") is None


@given(attempt=st.integers(1, 30), seed=st.integers(0, 2**32))
def test_backoff_grows_exponentially_with_jitter_within_bounds(attempt: int, seed: int) -> None:
    delay = POLICY.delay(attempt, random.Random(seed))
    ceiling = min(3600, 30 * 2 ** (attempt - 1))
    assert ceiling / 2 <= delay <= ceiling


def test_jitter_spreads_deliveries_that_failed_together() -> None:
    delays = {round(POLICY.delay(4, random.Random(seed)), 3) for seed in range(20)}
    assert len(delays) > 10


def test_retry_after_is_honoured_up_to_the_cap() -> None:
    assert POLICY.delay(1, random.Random(1), retry_after=900) == 900
    assert POLICY.delay(1, random.Random(1), retry_after=99999) == 3600


def test_a_delivery_is_retried_until_its_attempts_run_out() -> None:
    rng = random.Random(7)
    status, delay = POLICY.after(1, FAILED, rng)
    assert status is DeliveryStatus.PENDING and delay is not None
    assert POLICY.after(8, FAILED, rng) == (DeliveryStatus.FAILED, None)
    assert POLICY.after(3, OK, rng) == (DeliveryStatus.DELIVERED, None)
    refused = AttemptResult(Outcome.REFUSED, error="private address")
    assert POLICY.after(1, refused, rng) == (DeliveryStatus.FAILED, None)


def test_the_breaker_opens_after_consecutive_failures_and_recovers_through_one_trial() -> None:
    breaker = CircuitBreaker(3, timedelta(seconds=60), trial_timeout=timedelta(seconds=20))
    endpoint = "https://hooks.example/a"
    for n in range(3):
        assert breaker.allow(endpoint, T0)
        breaker.record(endpoint, FAILED, T0 + timedelta(seconds=n))
    assert breaker.state(endpoint, T0 + timedelta(seconds=3)) is BreakerState.OPEN
    assert not breaker.allow(endpoint, T0 + timedelta(seconds=30))
    assert breaker.retry_at(endpoint, T0 + timedelta(seconds=30)) == T0 + timedelta(seconds=62)
    assert breaker.allow("https://hooks.example/b", T0)  # per endpoint

    half_open = T0 + timedelta(seconds=62)
    assert breaker.allow(endpoint, half_open)  # the one trial
    assert not breaker.allow(endpoint, half_open)
    breaker.record(endpoint, FAILED, half_open)  # the trial failed: open again at once
    assert breaker.state(endpoint, half_open + timedelta(seconds=1)) is BreakerState.OPEN

    later = half_open + timedelta(seconds=61)
    assert breaker.allow(endpoint, later)
    breaker.record(endpoint, OK, later)
    assert breaker.state(endpoint, later) is BreakerState.CLOSED
    assert breaker.open_endpoints(later) == []


def test_a_trial_that_never_reports_back_does_not_block_forever() -> None:
    breaker = CircuitBreaker(1, timedelta(seconds=10), trial_timeout=timedelta(seconds=20))
    breaker.record("e", FAILED, T0)
    assert breaker.allow("e", T0 + timedelta(seconds=10))
    assert not breaker.allow("e", T0 + timedelta(seconds=29))
    assert breaker.allow("e", T0 + timedelta(seconds=31))


def test_an_answer_that_is_not_a_failure_of_the_endpoint_closes_the_circuit() -> None:
    breaker = CircuitBreaker(2, timedelta(seconds=10), trial_timeout=timedelta(seconds=20))
    breaker.record("e", FAILED, T0)
    breaker.record("e", AttemptResult(Outcome.PERMANENT, 400), T0)
    breaker.record("e", FAILED, T0)
    assert breaker.state("e", T0) is BreakerState.CLOSED
