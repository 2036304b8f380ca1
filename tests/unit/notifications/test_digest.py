from datetime import UTC, date, datetime, time

from services.notifications.domain.digest import MAX_LINES, OpenItem, digest_day, digest_fields
from services.notifications.domain.escalation import Level
from services.notifications.domain.topics import Topic


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
        [item("甲", Level.NOTICE), item("乙", Level.SUPERVISION_ORDER, date(2026, 6, 1))],
        [Topic.PROGRESS_REPORTED] * 2 + [Topic.PROGRESS_ACCEPTED],
    )
    assert fields["open_count"] == "2" and fields["held_count"] == "3"
    assert fields["lines_zh"].splitlines() == [
        "1. 东湖区 · 乙（限办日期2026年6月1日，逾期4个工作日，已督办）",
        "2. 东湖区 · 甲（限办日期2026年7月1日，逾期4个工作日，已催办）",
    ]
    # The routine notices held since the last digest, counted by kind.
    assert fields["held_zh"] == "（其中报送进展2条、进展审核通过1条）"
    assert fields["held_en"] == " (progress reported 2, progress accepted 1)"
    assert fields["date"] == "2026年7月9日" and fields["date_en"] == "2026-07-09"
    assert fields["lines_en"].startswith("1. 东湖区 · 乙 (due 2026-06-01, 4 working day(s)")


def test_a_long_digest_is_cut_and_an_empty_one_says_so() -> None:
    many = [item(f"事项{n:03}", Level.NOTICE) for n in range(MAX_LINES + 7)]
    lines = digest_fields(date(2026, 7, 9), many, [])["lines_zh"].splitlines()
    assert len(lines) == MAX_LINES + 1 and lines[-1] == "……另有7项"
    empty = digest_fields(date(2026, 7, 9), [], [])
    assert (empty["lines_en"], empty["held_zh"]) == ("(none)", "")
