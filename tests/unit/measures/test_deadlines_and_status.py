"""When the deadline watcher speaks, and the traffic lights."""

from datetime import date, timedelta

from services.measures.domain.deadlines import Miss, Remind, alert, next_alert_on
from services.measures.domain.status import (
    AssignmentState,
    Cause,
    Light,
    MilestoneState,
    assess,
    expected_percent,
)

DUE = date(2026, 6, 30)
OFFSETS = (7, 3, 1)


def days(n: int) -> timedelta:
    return timedelta(days=n)


def test_the_first_alert_is_the_earliest_reminder() -> None:
    assert next_alert_on(DUE, OFFSETS, None) == DUE - days(7)
    assert next_alert_on(DUE, OFFSETS, 3) == DUE - days(1)
    assert next_alert_on(DUE, OFFSETS, 1) == DUE + days(1)  # only the miss is left
    assert next_alert_on(DUE, (), None) == DUE + days(1)


def test_each_offset_is_reminded_once_then_the_miss() -> None:
    said, next_on, reminded = alert(DUE, DUE - days(7), OFFSETS, None)
    assert (said, next_on, reminded) == (Remind(7, 7), DUE - days(3), 7)
    said, next_on, reminded = alert(DUE, DUE - days(3), OFFSETS, reminded)
    assert (said, next_on, reminded) == (Remind(3, 3), DUE - days(1), 3)
    said, next_on, reminded = alert(DUE, DUE - days(1), OFFSETS, reminded)
    assert (said, next_on, reminded) == (Remind(1, 1), DUE + days(1), 1)
    assert alert(DUE, DUE, OFFSETS, reminded) == (None, DUE + days(1), 1)
    assert alert(DUE, DUE + days(1), OFFSETS, reminded) == (Miss(), None, 1)


def test_after_a_pause_only_the_nearest_reminder_or_the_miss_is_said() -> None:
    said, next_on, reminded = alert(DUE, DUE - days(2), OFFSETS, None)
    assert (said, next_on, reminded) == (Remind(3, 2), DUE - days(1), 3)
    assert alert(DUE, DUE + days(40), OFFSETS, None)[0] == Miss()


def test_reconfigured_offsets_move_the_next_alert() -> None:
    assert alert(DUE, DUE - days(7), (2,), None) == (None, DUE - days(2), None)


START = date(2026, 1, 1)


def state(
    *milestones: MilestoneState, percent: float = 0, recurring: bool = False
) -> AssignmentState:
    return AssignmentState(START, recurring, percent, milestones)


PLAN = (
    MilestoneState("m1", date(2026, 4, 1), 40, completed=False),
    MilestoneState("m2", date(2026, 12, 31), 100, completed=False),
)


def test_the_expected_curve_is_linear_between_milestones() -> None:
    assert expected_percent(START, PLAN, START) == 0
    assert expected_percent(START, PLAN, date(2026, 4, 1)) == 40
    halfway = date(2026, 4, 1) + (date(2026, 12, 31) - date(2026, 4, 1)) / 2
    assert expected_percent(START, PLAN, halfway) == 70
    assert expected_percent(START, PLAN, date(2027, 2, 1)) == 100


def test_green_on_track() -> None:
    status = assess(state(*PLAN, percent=30), date(2026, 3, 1), warn_days=7, tolerance=10)
    assert (status.light, status.causes) == (Light.GREEN, ())


def test_yellow_behind_the_curve_or_near_a_deadline() -> None:
    behind = assess(state(*PLAN, percent=5), date(2026, 3, 1), warn_days=7, tolerance=10)
    assert (behind.light, behind.causes) == (Light.YELLOW, (Cause.BEHIND_PLAN,))
    near = assess(state(*PLAN, percent=40), date(2026, 3, 27), warn_days=7, tolerance=10)
    assert (near.light, near.due_soon) == (Light.YELLOW, ("m1",))


def test_red_overdue_until_completed() -> None:
    late = assess(state(*PLAN, percent=60), date(2026, 4, 2), warn_days=7, tolerance=10)
    assert (late.light, late.overdue) == (Light.RED, ("m1",))
    done = MilestoneState("m1", date(2026, 4, 1), 40, completed=True)
    caught_up = assess(
        state(done, PLAN[1], percent=45), date(2026, 4, 2), warn_days=7, tolerance=10
    )
    assert caught_up.light is Light.GREEN


def test_completed_milestones_prove_progress() -> None:
    done = MilestoneState("m1", date(2026, 4, 1), 40, completed=True)
    status = assess(state(done, PLAN[1], percent=0), date(2026, 5, 1), warn_days=7, tolerance=10)
    assert (status.actual_percent, status.light) == (40, Light.GREEN)


def test_a_weekly_obligation_is_yellow_only_in_its_last_days() -> None:
    weeks = (
        MilestoneState("w1", date(2026, 11, 20), 50, completed=True),
        MilestoneState("w2", date(2026, 11, 27), 100, completed=False),
    )
    monday = assess(state(*weeks, recurring=True), date(2026, 11, 23), warn_days=7, tolerance=10)
    assert monday.light is Light.GREEN
    thursday = assess(state(*weeks, recurring=True), date(2026, 11, 26), warn_days=7, tolerance=10)
    assert thursday.light is Light.YELLOW
    saturday = assess(state(*weeks, recurring=True), date(2026, 11, 28), warn_days=7, tolerance=10)
    assert (saturday.light, saturday.actual_percent) == (Light.RED, 50)
