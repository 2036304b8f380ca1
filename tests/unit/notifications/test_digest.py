from datetime import UTC, date, datetime, time

from services.notifications.domain.digest import MAX_LINES, OpenItem, digest_day, digest_fields
from services.notifications.domain.escalation import Level


def item(title: str, level: Level, due: date = date(2026, 7, 1)) -> OpenItem:
    return OpenItem("东湖区", title, due, level, 4)


def test_the_digest_is_due_after_the_local_hour() -> None:
    at = time(8, 30)
    assert digest_day(datetime(2026, 7, 1, 0, 29, tzinfo=UTC), at) is None  # 08:29 in China
    assert digest_day(datetime(2026, 7, 1, 0, 30, tzinfo=UTC), at) == date(2026, 7, 1)
    assert digest_day(datetime(2026, 7, 1, 12, 0, tzinfo=UTC), at) == date(2026, 7, 1)
    assert digest_day(datetime(2026, 7, 1, 16, 0, tzinfo=UTC), at) is None  # 00:00, 2 July


def test_the_most_escalated_items_come_first() -> None:
    fields = digest_fields(
        date(2026, 7, 9),
        [item("甲", Level.NOTICE), item("乙", Level.PUBLIC_NOTICE, date(2026, 6, 1))],
        held_count=3,
    )
    assert fields["open_count"] == "2" and fields["held_count"] == "3"
    assert fields["lines_zh"].splitlines() == [
        "1. 东湖区 · 乙（2026-06-01到期，逾期4个工作日，已通报）",
        "2. 东湖区 · 甲（2026-07-01到期，逾期4个工作日，已催办）",
    ]
    assert fields["lines_en"].startswith("1. 东湖区 · 乙 (due 2026-06-01, 4 working day(s)")


def test_a_long_digest_is_cut_and_an_empty_one_says_so() -> None:
    many = [item(f"事项{n:03}", Level.NOTICE) for n in range(MAX_LINES + 7)]
    lines = digest_fields(date(2026, 7, 9), many, 0)["lines_zh"].splitlines()
    assert len(lines) == MAX_LINES + 1 and lines[-1] == "……另有7项"
    assert digest_fields(date(2026, 7, 9), [], 2)["lines_en"] == "(none)"
