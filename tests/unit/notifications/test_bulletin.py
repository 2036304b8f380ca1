from datetime import UTC, date, datetime

from services.notifications.domain.bulletin import (
    Cadence,
    CaseState,
    Kind,
    Period,
    bulletin_fields,
    overdue_at,
    period_due,
)
from services.runtime.workdays import WorkingCalendar

# National Day 2026: 1-7 October off, Saturday 10 October worked.
CALENDAR = WorkingCalendar(
    holidays=frozenset(date(2026, 10, d) for d in (1, 2, 5, 6, 7)),
    workdays=frozenset({date(2026, 10, 10)}),
)


def case(unit: str, title: str, due: date, **changes: object) -> CaseState:
    values: dict[str, object] = {
        "unit": unit,
        "unit_name": {"360102": "东湖区", "360103": "西湖区"}[unit],
        "item_type": "milestone",
        "item_id": title,
        "title": title,
        "due_date": due,
        "notice_on": due,
        "supervision_on": None,
        "closed_at": None,
    }
    return CaseState(**(values | changes))  # type: ignore[arg-type]


def test_a_period_is_issued_on_the_first_working_day_after_it() -> None:
    week = Period.containing(date(2026, 9, 30), Cadence.WEEKLY)
    assert (week.start, week.end) == (date(2026, 9, 28), date(2026, 10, 4))
    # The week after National Day's week: Monday 5 October to Wednesday 7 are holidays.
    assert period_due(date(2026, 10, 7), Cadence.WEEKLY, CALENDAR) is None
    assert period_due(date(2026, 10, 8), Cadence.WEEKLY, CALENDAR) == week
    assert period_due(date(2026, 10, 11), Cadence.WEEKLY, CALENDAR) == week
    month = period_due(date(2026, 11, 2), Cadence.MONTHLY, CALENDAR)
    assert month == Period(date(2026, 10, 1), date(2026, 10, 31))


def test_a_bulletin_lists_what_was_still_overdue_at_the_end_of_its_period() -> None:
    end = date(2026, 10, 4)
    cases = [
        case("360103", "乙", date(2026, 9, 28), supervision_on=date(2026, 10, 1)),
        case("360102", "甲", date(2026, 9, 25)),
        # Completed within the period, or due too late to be overdue by its end: not listed.
        case("360102", "丙", date(2026, 9, 25), closed_at=datetime(2026, 10, 3, 2, tzinfo=UTC)),
        case("360102", "丁", date(2026, 10, 4)),
        # Completed after the period's end: it was still overdue at the end.
        case("360103", "戊", date(2026, 9, 29), closed_at=datetime(2026, 10, 4, 16, tzinfo=UTC)),
        # Under 督办 only after the period: not marked.
        case("360103", "己", date(2026, 9, 30), supervision_on=date(2026, 10, 8)),
    ]
    entries = overdue_at(cases, end, CALENDAR)
    assert [(e.unit, e.title, e.working_days_overdue, e.supervision_order) for e in entries] == [
        ("360102", "甲", 3, False),  # 28, 29, 30 September; 1 and 2 October are holidays
        ("360103", "乙", 2, True),
        ("360103", "戊", 1, False),
        ("360103", "己", 0, False),
    ]
    fields = bulletin_fields(
        Kind.PERIODIC, Period(date(2026, 9, 28), end), entries, "", lambda t: ("工作节点", t)
    )
    assert (fields["count"], fields["unit_count"]) == ("4", "2")
    assert fields["period_zh"] == "2026年9月28日至2026年10月4日"
    assert fields["lines_zh"].splitlines()[:3] == [
        "东湖区（1项）：",
        "  - 工作节点“甲”，限办日期2026年9月25日，逾期3个工作日",
        "西湖区（3项）：",
    ]
    assert "逾期2个工作日，已督办" in fields["lines_zh"]
    assert "己”，限办日期2026年9月30日，已逾期" in fields["lines_zh"]  # never "逾期0个工作日"
    assert (
        bulletin_fields(Kind.AD_HOC, Period(end, end), [], "约谈", lambda t: ("", ""))["lines_zh"]
        == "（无）"
    )
