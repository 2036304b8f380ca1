"""How notices write dates and lateness in Chinese and English. Pure."""

from datetime import date, datetime, timedelta

from services.runtime.workdays import PROGRAMME_TZ


def en_date(day: date) -> str:
    return day.isoformat()


def en_moment(moment: datetime) -> str:
    """2026-04-11 09:30, in China Standard Time like every date of a notice."""
    return f"{moment.astimezone(PROGRAMME_TZ):%Y-%m-%d %H:%M}"


def days_left(days: int) -> tuple[str, str]:
    """ "距限办日期还有3天"; an item due today is "今日到期", never "还有0天"."""
    if days <= 0:
        return "今日到期", "due today"
    return f"距限办日期还有{days}天", f"{days} day(s) left"


def hours_left(left: timedelta) -> tuple[str, str]:
    """Before a time limit to the minute (a 12345 工单): "距限办时间还有1天5小时", "…还有5小时"
    (whole hours, rounded down), "距限办时间不足1小时"."""
    hours = int(left.total_seconds() // 3600)
    if hours < 1:
        return "距限办时间不足1小时", "less than an hour left"
    days, rest = divmod(hours, 24)
    parts = [(days, "天", "day(s)"), (rest, "小时", "hour(s)")]
    zh = "".join(f"{n}{unit}" for n, unit, _ in parts if n)
    en = " ".join(f"{n} {unit}" for n, _, unit in parts if n)
    return f"距限办时间还有{zh}", f"{en} left"


def lateness(days: int, unit_zh: str = "天", unit_en: str = "day(s)") -> tuple[str, str]:
    """ "按期" for on time, never "逾期0天"."""
    if days <= 0:
        return "按期", "on time"
    return f"逾期{days}{unit_zh}", f"{days} {unit_en} late"


def overdue(working_days: int) -> tuple[str, str]:
    """ "逾期3个工作日"; an item missed over a weekend is "已逾期", never "逾期0个工作日"."""
    if working_days <= 0:
        return "已逾期", "overdue"
    return f"逾期{working_days}个工作日", f"{working_days} working day(s) overdue"
