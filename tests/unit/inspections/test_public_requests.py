"""The rules for each step of a public request."""

from datetime import datetime, timedelta
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from contracts.inspections import (
    PublicChannel,
    PublicRequestStep,
    RequestClosed,
    RequestRated,
    RequestReceived,
    RequestReopened,
)
from contracts.reasons import Reason
from services.inspections.domain.public_requests import (
    CHANNEL_NAMES,
    RATING_NAMES,
    RequestSnapshot,
    RequestState,
    later_step_refusal,
    permission_refusal,
    receipt_refusal,
    state_after,
    step_time,
)
from services.inspections.domain.refusals import RefusalCode
from tests.unit.inspections.support import CHANNEL, INSPECTOR, OFFICE, REFERENCE, unit_actor

NOW = datetime.fromisoformat("2026-03-10T12:00:00+08:00")
SKEW = timedelta(minutes=5)
STEPS: TypeAdapter[Any] = TypeAdapter(PublicRequestStep)


def received(**changes: Any) -> RequestReceived:
    fields: dict[str, Any] = {
        "channel": "hotline_12345",
        "title": "小区路灯不亮",
        "received_at": "2026-03-10T09:00:00+08:00",
        "due_at": "2026-03-13T09:00:00+08:00",
    }
    return RequestReceived.model_validate(fields | changes)


def snapshot(state: RequestState, rated: bool = False) -> RequestSnapshot:
    return RequestSnapshot("360102", state, datetime.fromisoformat("2026-03-10T09:00+08:00"), rated)


def test_a_valid_receipt_is_accepted() -> None:
    assert receipt_refusal("360102", received(), REFERENCE, True, NOW, SKEW) is None


@pytest.mark.parametrize(
    ("unit", "changes", "repeat_known", "code"),
    [
        ("360199", {}, True, Reason.UNKNOWN_UNIT),
        ("360102", {"received_at": "2026-03-10T12:06:00+08:00"}, True, Reason.REPORTED_IN_FUTURE),
        ("360102", {"due_at": "2026-03-10T09:00:00+08:00"}, True, Reason.DEADLINE_NOT_AFTER_START),
        ("360102", {"repeat_of": "R-0"}, False, Reason.UNKNOWN_PUBLIC_REQUEST),
    ],
)
def test_a_receipt_is_refused_with_a_precise_reason(
    unit: str, changes: dict[str, Any], repeat_known: bool, code: Reason
) -> None:
    refusal = receipt_refusal(unit, received(**changes), REFERENCE, repeat_known, NOW, SKEW)
    assert refusal is not None and refusal.code is code


def test_a_receipt_within_the_clock_skew_is_accepted() -> None:
    step = received(received_at="2026-03-10T12:04:00+08:00", due_at="2026-03-11T12:00:00+08:00")
    assert receipt_refusal("360102", step, REFERENCE, True, NOW, SKEW) is None


CLOSED = RequestClosed(closed_at=datetime.fromisoformat("2026-03-10T11:00+08:00"))
RATED = RequestRated(rated_at=datetime.fromisoformat("2026-03-10T11:30+08:00"), rating=4)
REOPENED = RequestReopened(
    reopened_at=datetime.fromisoformat("2026-03-10T11:30+08:00"),
    due_at=datetime.fromisoformat("2026-03-12T11:30+08:00"),
)


@pytest.mark.parametrize(
    ("step", "state", "rated", "allowed"),
    [
        (CLOSED, RequestState.OPEN, False, True),
        (CLOSED, RequestState.REOPENED, False, True),
        (CLOSED, RequestState.CLOSED, False, False),
        (RATED, RequestState.CLOSED, False, True),
        (RATED, RequestState.CLOSED, True, False),  # one rating per closure
        (RATED, RequestState.OPEN, False, False),
        (REOPENED, RequestState.CLOSED, True, True),
        (REOPENED, RequestState.OPEN, False, False),
        (REOPENED, RequestState.REOPENED, False, False),
    ],
)
def test_each_step_follows_only_the_states_it_may(
    step: Any, state: RequestState, rated: bool, allowed: bool
) -> None:
    refusal = later_step_refusal(step, snapshot(state, rated), NOW, SKEW)
    if allowed:
        assert refusal is None
    else:
        assert refusal is not None and refusal.code is Reason.INVALID_TRANSITION


def test_a_step_dated_before_the_previous_one_is_out_of_order() -> None:
    early = RequestClosed(closed_at=datetime.fromisoformat("2026-03-10T08:59+08:00"))
    refusal = later_step_refusal(early, snapshot(RequestState.OPEN), NOW, SKEW)
    assert refusal is not None and refusal.code is Reason.STEP_OUT_OF_ORDER


def test_a_step_in_the_future_is_refused() -> None:
    future = RequestClosed(closed_at=NOW + timedelta(minutes=6))
    refusal = later_step_refusal(future, snapshot(RequestState.OPEN), NOW, SKEW)
    assert refusal is not None and refusal.code is Reason.REPORTED_IN_FUTURE


def test_a_reopening_needs_a_limit_after_it() -> None:
    same_time = REOPENED.model_copy(update={"due_at": REOPENED.reopened_at})
    refusal = later_step_refusal(same_time, snapshot(RequestState.CLOSED), NOW, SKEW)
    assert refusal is not None and refusal.code is Reason.DEADLINE_NOT_AFTER_START


@pytest.mark.parametrize("rating", [0, 6, -1])
def test_ratings_out_of_range_are_refused_by_the_schema(rating: int) -> None:
    with pytest.raises(ValidationError, match="rating"):
        STEPS.validate_python(
            {"step": "rated", "rated_at": "2026-03-10T10:00+08:00", "rating": rating}
        )


def test_steps_are_told_apart_by_their_step_field() -> None:
    parsed = STEPS.validate_python({"step": "closed", "closed_at": "2026-03-10T10:00+08:00"})
    assert isinstance(parsed, RequestClosed)
    with pytest.raises(ValidationError):
        STEPS.validate_python({"step": "escalated", "at": "2026-03-10T10:00+08:00"})
    with pytest.raises(ValidationError):  # times without an offset are ambiguous
        STEPS.validate_python({"step": "closed", "closed_at": "2026-03-10T10:00"})


def test_who_may_report_which_step() -> None:
    for step in (received(), CLOSED, RATED, REOPENED):
        assert permission_refusal(CHANNEL, step, "360102") is None
        assert permission_refusal(OFFICE, step, "360102") is None
        inspector = permission_refusal(INSPECTOR, step, "360102")
        assert inspector is not None and inspector.code is RefusalCode.ACTOR_NOT_PERMITTED
    assert permission_refusal(unit_actor("360102"), CLOSED, "360102") is None
    other = permission_refusal(unit_actor("360103"), CLOSED, "360102")
    assert other is not None and other.code is RefusalCode.NOT_RESPONSIBLE_UNIT
    rating_by_unit = permission_refusal(unit_actor("360102"), RATED, "360102")
    assert rating_by_unit is not None and rating_by_unit.code is RefusalCode.ACTOR_NOT_PERMITTED


def test_states_and_times_of_steps() -> None:
    assert state_after(received()) is RequestState.OPEN
    assert state_after(CLOSED) is state_after(RATED) is RequestState.CLOSED
    assert state_after(REOPENED) is RequestState.REOPENED
    assert step_time(RATED) == RATED.rated_at
    assert set(CHANNEL_NAMES) == set(PublicChannel)
    assert sorted(RATING_NAMES) == [1, 2, 3, 4, 5]
