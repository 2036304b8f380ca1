"""The office's time limits of the rectification loop, in working days, and when to remind."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from contracts.inspections import RectificationCategory, Severity
from services.inspections.domain.rectification import RectificationRules, load_rules
from services.runtime.workdays import load_calendar

RULES = load_rules()
CALENDAR = load_calendar()
C, S = RectificationCategory, Severity


def test_default_deadlines_grow_shorter_with_severity_in_each_category() -> None:
    for category in C:
        days = [RULES.deadlines[category][s] for s in S]
        assert days == sorted(days, reverse=True), category
    assert RULES.deadlines[C.IMMEDIATE][S.CRITICAL] < RULES.deadlines[C.TIME_LIMITED][S.CRITICAL]
    assert RULES.deadlines[C.TIME_LIMITED][S.MINOR] < RULES.deadlines[C.LONG_TERM][S.MINOR]


def test_deadlines_count_working_days_over_holidays() -> None:
    # Raised on Tuesday 29 September 2026: National Day runs 1-7 October, 10 October is worked.
    raised = date(2026, 9, 29)
    assert RULES.default_due_date(C.IMMEDIATE, S.CRITICAL, raised, CALENDAR) == date(2026, 10, 9)
    assert RULES.plan_due_date(C.TIME_LIMITED, raised, CALENDAR) == date(2026, 10, 12)
    assert RULES.plan_due_date(C.IMMEDIATE, raised, CALENDAR) is None
    # Ten working days from Monday 15 June, over the Dragon Boat Festival (Friday 19 June).
    assert RULES.verification_due_date(date(2026, 6, 15), CALENDAR) == date(2026, 6, 30)


def test_reminders_at_the_smallest_offset_reached() -> None:
    assert [RULES.reminder_offset(d) for d in (5, 4, 3, 2, 1, 0)] == [None, None, 3, 3, 1, 1]


def test_a_request_is_reminded_by_the_share_of_its_own_time_limit_left() -> None:
    # A 24-hour 工单: half of it left after 12 hours, a fifth of it left 4.8 hours before.
    received = datetime(2026, 3, 2, 2, tzinfo=UTC)
    due = received + timedelta(hours=24)
    hours = (1, 11, 12, 19, 20, 23.9, 24, 25)
    shares = [RULES.request_reminder(received, due, received + timedelta(hours=h)) for h in hours]
    assert shares == [None, None, 50, 50, 20, 20, None, None]


def test_reminder_shares_are_percentages_below_a_hundred() -> None:
    rules = RULES.model_dump() | {"request_reminder_percent": [50, 100]}
    with pytest.raises(ValidationError, match="request_reminder_percent"):
        RectificationRules.model_validate(rules)


def test_rules_must_cover_every_category_and_severity(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="long_term"):
        RectificationRules.model_validate(
            {
                "plan_working_days": 5,
                "verification_working_days": 10,
                "deadlines": {c.value: {s.value: 5 for s in S} for c in list(C)[:2]},
            }
        )
