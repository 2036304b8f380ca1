"""How notices write dates and lateness in Chinese and English. Pure."""

from datetime import date


def zh_date(day: date) -> str:
    """2026年4月11日: the form official documents use."""
    return f"{day.year}年{day.month}月{day.day}日"


def en_date(day: date) -> str:
    return day.isoformat()


def lateness(days: int, unit_zh: str = "天", unit_en: str = "day(s)") -> tuple[str, str]:
    """ "按期" for on time, never "逾期0天"."""
    if days <= 0:
        return "按期", "on time"
    return f"逾期{days}{unit_zh}", f"{days} {unit_en} late"
