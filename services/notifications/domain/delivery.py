"""Delivery rules: what an attempt's outcome means, when to try again (exponential backoff with
jitter), and a circuit breaker per endpoint. Pure: no I/O; time and randomness are passed in."""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # queued, or waiting for its next attempt
    DELIVERED = "delivered"
    FAILED = "failed"  # permanently: a refusal, or attempts exhausted
    HELD = "held"  # kept for the recipient's daily digest
    DIGESTED = "digested"  # summarised in a digest instead of being sent
    CANCELLED = "cancelled"  # the recipient was deactivated or lost the channel


class Outcome(StrEnum):
    DELIVERED = "delivered"
    RETRYABLE = "failed_retryable"
    PERMANENT = "failed_permanent"
    REFUSED = "refused_target"  # the target is not allowed (e.g. a private address)


@dataclass(frozen=True)
class AttemptResult:
    outcome: Outcome
    status_code: int | None = None
    error: str | None = None
    retry_after_seconds: float | None = None

    @property
    def endpoint_failed(self) -> bool:
        """Whether this attempt says the endpoint is unwell (what the circuit breaker counts)."""
        return self.outcome is Outcome.RETRYABLE


def http_outcome(status_code: int) -> Outcome:
    """2xx delivered; 408, 425, 429 and 5xx are worth retrying; anything else will not change
    by retrying (a 3xx too: redirects are not followed, they could lead anywhere)."""
    if 200 <= status_code < 300:
        return Outcome.DELIVERED
    if status_code in (408, 425, 429) or status_code >= 500:
        return Outcome.RETRYABLE
    return Outcome.PERMANENT


def retry_after_seconds(header: str | None) -> float | None:
    """The delay-seconds form of Retry-After; the HTTP-date form is ignored (backoff applies)."""
    if header is None or not header.strip().isdigit():
        return None
    return float(header.strip())


@dataclass(frozen=True)
class RetryPolicy:
    base_seconds: float
    max_seconds: float
    max_attempts: int

    def delay(self, attempt: int, rng: random.Random, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based): exponential, capped,
        with "equal jitter" (between half and all of it) so that many deliveries failing
        together do not come back together; never sooner than the server's Retry-After."""
        ceiling = min(self.max_seconds, self.base_seconds * 2 ** (attempt - 1))
        delay = ceiling / 2 + rng.uniform(0, ceiling / 2)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.max_seconds))
        return delay

    def after(
        self, attempt: int, result: AttemptResult, rng: random.Random
    ) -> tuple[DeliveryStatus, float | None]:
        """The delivery's status after attempt `attempt`, and the delay before the next one."""
        if result.outcome is Outcome.DELIVERED:
            return DeliveryStatus.DELIVERED, None
        if result.outcome is not Outcome.RETRYABLE or attempt >= self.max_attempts:
            return DeliveryStatus.FAILED, None
        return DeliveryStatus.PENDING, self.delay(attempt, rng, result.retry_after_seconds)


HALF_OPEN_RECHECK = timedelta(seconds=1)


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass
class _Circuit:
    failures: int = 0
    opened_until: datetime | None = None
    trial_started: datetime | None = None


class CircuitBreaker:
    """Per endpoint: after `threshold` failures in a row, stop sending for `cooldown`; then let
    one trial through (half-open): its success closes the circuit, its failure opens it again.

    State is per process: each replica protects the endpoint from its own traffic.
    """

    def __init__(self, threshold: int, cooldown: timedelta, trial_timeout: timedelta):
        self.threshold, self.cooldown, self.trial_timeout = threshold, cooldown, trial_timeout
        self._circuits: dict[str, _Circuit] = {}

    def state(self, endpoint: str, now: datetime) -> BreakerState:
        circuit = self._circuits.get(endpoint)
        if circuit is None or circuit.opened_until is None:
            return BreakerState.CLOSED
        return BreakerState.OPEN if now < circuit.opened_until else BreakerState.HALF_OPEN

    def allow(self, endpoint: str, now: datetime) -> bool:
        """Whether a request may go to `endpoint` now; in half-open, only one at a time."""
        state = self.state(endpoint, now)
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.OPEN:
            return False
        circuit = self._circuits[endpoint]
        # A trial that never reported back (its task died) must not block the endpoint forever.
        if circuit.trial_started is not None and now < circuit.trial_started + self.trial_timeout:
            return False
        circuit.trial_started = now
        return True

    def retry_at(self, endpoint: str, now: datetime) -> datetime:
        """When a request refused by `allow` should be tried again."""
        circuit = self._circuits.get(endpoint)
        if circuit is None or circuit.opened_until is None:
            return now
        if now < circuit.opened_until:
            return circuit.opened_until
        # Half-open with a trial in flight: look again soon, the trial may close the circuit.
        return now + min(self.cooldown, HALF_OPEN_RECHECK)

    def record(self, endpoint: str, result: AttemptResult, now: datetime) -> None:
        if not result.endpoint_failed:
            self._circuits.pop(endpoint, None)  # the endpoint answered: it is healthy
            return
        circuit = self._circuits.setdefault(endpoint, _Circuit())
        circuit.failures += 1
        half_open = circuit.opened_until is not None
        circuit.trial_started = None
        if half_open or circuit.failures >= self.threshold:
            circuit.opened_until = now + self.cooldown

    def open_endpoints(self, now: datetime) -> list[str]:
        return sorted(e for e in self._circuits if self.state(e, now) is not BreakerState.CLOSED)
