"""How notices write dates and lateness in Chinese and English. Pure."""

from datetime import date


def en_date(day: date) -> str:
    return day.isoformat()


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
