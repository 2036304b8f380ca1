"""Public-service indicators of one unit for one month. Pure; the formulas are documented in
docs/inspections.md and each count is attributed to the month its defining moment falls in
(China time), so a month's figures are final once every step of that month has arrived:

- 按时办结率 on-time closure rate = closed_on_time / due: requests whose first time limit falls
  in the month, and of those the ones first closed at or before that limit;
- 满意率 satisfaction rate = satisfied_ratings / ratings: ratings recorded in the month, and of
  those the ones of 3 (基本满意) or better;
- 重复投诉率 repeat-complaint rate = repeat_received / received: requests received in the month,
  and of those the ones repeating an earlier request;
- 重办率 reopen rate = reopens / closures: reopenings and closures recorded in the month.

A rate whose denominator is zero is None: an empty month has no rate, not 0 % or 100 %.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from services.inspections.domain.calendar import Period

SATISFIED_FROM = 3  # 基本满意 and better count as satisfied


@dataclass(frozen=True)
class RequestHistory:
    """Everything the indicators read about one request."""

    received_at: datetime
    first_due_at: datetime
    repeat: bool
    closures: tuple[datetime, ...] = ()
    reopens: tuple[datetime, ...] = ()
    ratings: tuple[tuple[datetime, int], ...] = ()

    @property
    def first_closed_at(self) -> datetime | None:
        return min(self.closures, default=None)

    def moments(self) -> list[datetime]:
        """Every moment that can put the request into a month's figures."""
        return [
            self.received_at,
            self.first_due_at,
            *self.closures,
            *self.reopens,
            *(at for at, _ in self.ratings),
        ]


def percent(numerator: int, denominator: int) -> float | None:
    """numerator / denominator as a percentage rounded half up to two decimals."""
    if denominator == 0:
        return None
    value = Decimal(100 * numerator) / Decimal(denominator)
    return float(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Indicators:
    received: int = 0
    repeat_received: int = 0
    due: int = 0
    closed_on_time: int = 0
    closures: int = 0
    reopens: int = 0
    ratings: int = 0
    satisfied_ratings: int = 0

    @property
    def on_time_closure_rate(self) -> float | None:
        return percent(self.closed_on_time, self.due)

    @property
    def satisfaction_rate(self) -> float | None:
        return percent(self.satisfied_ratings, self.ratings)

    @property
    def repeat_complaint_rate(self) -> float | None:
        return percent(self.repeat_received, self.received)

    @property
    def reopen_rate(self) -> float | None:
        return percent(self.reopens, self.closures)


def _closed_on_time(history: RequestHistory) -> bool:
    first_closed = history.first_closed_at
    return first_closed is not None and first_closed <= history.first_due_at


def compute(period: Period, histories: list[RequestHistory]) -> Indicators:
    received = [h for h in histories if period.contains(h.received_at)]
    due = [h for h in histories if period.contains(h.first_due_at)]
    ratings = [r for h in histories for at, r in h.ratings if period.contains(at)]
    return Indicators(
        received=len(received),
        repeat_received=sum(h.repeat for h in received),
        due=len(due),
        closed_on_time=sum(_closed_on_time(h) for h in due),
        closures=sum(period.contains(at) for h in histories for at in h.closures),
        reopens=sum(period.contains(at) for h in histories for at in h.reopens),
        ratings=len(ratings),
        satisfied_ratings=sum(r >= SATISFIED_FROM for r in ratings),
    )
