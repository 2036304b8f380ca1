from datetime import UTC, date, datetime

import pytest

from contracts.measures import DeadlineItem
from services.notifications.domain.escalation import (
    CaseStatus,
    Closure,
    LadderPolicy,
    Level,
    StepRefusal,
    case_key,
    closure_ref,
    manual_step_refusal,
)
from services.runtime.workdays import WorkingCalendar, local_date

# National Day 2026: 1-7 October off, Sunday 27 September and Saturday 10 October worked.
CALENDAR = WorkingCalendar(
    holidays=frozenset(date(2026, 10, d) for d in (1, 2, 5, 6, 7)),
    workdays=frozenset({date(2026, 9, 27), date(2026, 10, 10)}),
)
POLICY = LadderPolicy(supervision_after=3, sign_within=1)


def test_levels_fall_due_after_working_days_of_the_calendar() -> None:
    notice_on = date(2026, 9, 29)  # Tuesday before the holiday
    # Working days after it: 30 Sep, 8 Oct, 9 Oct -> the supervision order on 9 October.
    assert POLICY.next_due(Level.NOTICE, notice_on, CALENDAR) == date(2026, 10, 9)
    assert POLICY.next_step(Level.NOTICE, notice_on, date(2026, 10, 8), CALENDAR) is None
    assert POLICY.next_step(Level.NOTICE, notice_on, date(2026, 10, 9), CALENDAR) == (
        Level.SUPERVISION_ORDER
    )
    # 督办 is the top of a case's own ladder; the periodic bulletin lists it from then on.
    assert POLICY.next_due(Level.SUPERVISION_ORDER, date(2026, 10, 9), CALENDAR) is None
    assert (
        POLICY.next_step(Level.SUPERVISION_ORDER, date(2026, 10, 9), date(2027, 1, 1), CALENDAR)
        is None
    )


def test_signing_spares_only_the_reminder_to_sign() -> None:
    notice_on = date(2026, 9, 30)  # Wednesday before the holiday: next working day 8 October
    remind = POLICY.sign_reminder_due
    assert not remind(notice_on, False, False, date(2026, 10, 7), CALENDAR)
    assert remind(notice_on, False, False, date(2026, 10, 8), CALENDAR)
    assert not remind(notice_on, True, False, date(2026, 10, 8), CALENDAR)  # signed for
    assert not remind(notice_on, False, True, date(2026, 10, 9), CALENDAR)  # reminded once
    # The ladder's step does not ask whether the notice was signed for: it has no such input.
    assert POLICY.next_step(Level.NOTICE, notice_on, date(2026, 10, 10), CALENDAR) == (
        Level.SUPERVISION_ORDER
    )


def test_a_step_by_hand_is_refused_for_unknown_completed_and_topmost_cases() -> None:
    assert manual_step_refusal(None, None) is StepRefusal.NOT_FOUND
    assert manual_step_refusal(CaseStatus.CLOSED, Level.NOTICE) is StepRefusal.ITEM_COMPLETED
    assert manual_step_refusal(CaseStatus.OPEN, Level.SUPERVISION_ORDER) is StepRefusal.AT_TOP_LEVEL
    assert manual_step_refusal(CaseStatus.OPEN, Level.NOTICE) is None


def test_a_late_sweep_still_climbs_one_level_at_a_time() -> None:
    assert POLICY.next_step(Level.NOTICE, date(2026, 1, 5), date(2026, 12, 31), CALENDAR) == (
        Level.SUPERVISION_ORDER
    )


def test_each_step_waits_at_least_one_working_day() -> None:
    with pytest.raises(ValueError, match="at least one working day"):
        LadderPolicy(supervision_after=0)
    with pytest.raises(ValueError, match="at least one working day"):
        LadderPolicy(supervision_after=3, sign_within=0)


def test_closures_settle_their_deadline_or_any_missed_before_them() -> None:
    due = date(2026, 6, 30)
    named = Closure(datetime(2026, 6, 1, tzinfo=UTC), settles_due_date=due)
    assert named.closes(due) and named.closes(date(2026, 6, 1))
    assert not named.closes(date(2026, 7, 31))  # a reopened item's later deadline
    # A bare report counts only when dated (China time) after the deadline.
    assert not Closure(datetime(2026, 6, 30, 15, 59, tzinfo=UTC)).closes(due)
    assert Closure(datetime(2026, 6, 30, 16, 0, tzinfo=UTC)).closes(due)
    assert local_date(datetime(2026, 6, 30, 16, 0, tzinfo=UTC)) == date(2026, 7, 1)


def test_items_are_named_the_way_closing_facts_name_them() -> None:
    assert closure_ref(DeadlineItem.MILESTONE, "a-1:m-2", "m-2", "a-1") == ("milestone", "a-1/m-2")
    # The same milestone id in another assignment is another item.
    assert closure_ref(DeadlineItem.MILESTONE, "a-9:m-2", "m-2", "a-9") == ("milestone", "a-9/m-2")
    assert closure_ref(DeadlineItem.OBLIGATION, "occ-7", None, None) == ("milestone", "occ-7")
    assert closure_ref(DeadlineItem.RECTIFICATION, "f-1", None, None) == ("rectification", "f-1")
    key = case_key(DeadlineItem.RECTIFICATION, "f-1", "360102", date(2026, 6, 30))
    assert key == case_key(DeadlineItem.RECTIFICATION, "f-1", "360102", date(2026, 6, 30))
    assert key != case_key(DeadlineItem.RECTIFICATION, "f-1", "360102", date(2026, 7, 30))
