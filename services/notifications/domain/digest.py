"""The daily digest: one summary of what is open and overdue, for recipients who prefer it to a
message per event. Pure: no I/O."""

from dataclasses import dataclass
from datetime import date, datetime, time

from services.notifications.domain.escalation import Level
from services.runtime.workdays import PROGRAMME_TZ

MAX_LINES = 50  # a digest is read, not searched; the inbox has the rest

LEVEL_NAMES = {
    Level.NOTICE: ("已催办", "notice sent"),
    Level.SUPERVISION_ORDER: ("已督办", "supervision order issued"),
    Level.PUBLIC_NOTICE: ("已通报", "publicly notified"),
}


@dataclass(frozen=True)
class OpenItem:
    unit_name: str
    title: str
    due_date: date
    level: Level
    working_days_overdue: int


def digest_day(now: datetime, at: time) -> date | None:
    """The local date whose digest is due at `now`, or None before the day's digest time."""
    local = now.astimezone(PROGRAMME_TZ)
    return local.date() if local.time() >= at else None


def _lines(items: list[OpenItem], language: str) -> str:
    ordered = sorted(items, key=lambda i: (-i.level, i.due_date, i.unit_name, i.title))
    lines = []
    for n, item in enumerate(ordered[:MAX_LINES], start=1):
        zh, en = LEVEL_NAMES[item.level]
        if language == "en":
            lines.append(
                f"{n}. {item.unit_name} · {item.title} (due {item.due_date.isoformat()}, "
                f"{item.working_days_overdue} working day(s) overdue, {en})"
            )
        else:
            lines.append(
                f"{n}. {item.unit_name} · {item.title}（{item.due_date.isoformat()}到期，"
                f"逾期{item.working_days_overdue}个工作日，{zh}）"
            )
    rest = len(ordered) - MAX_LINES
    if rest > 0:
        lines.append(f"… and {rest} more" if language == "en" else f"……另有{rest}项")
    if not lines:
        lines.append("(none)" if language == "en" else "（无）")
    return "\n".join(lines)


def digest_fields(day: date, items: list[OpenItem], held_count: int) -> dict[str, str]:
    return {
        "date": day.isoformat(),
        "open_count": str(len(items)),
        "held_count": str(held_count),
        "lines_zh": _lines(items, "zh"),
        "lines_en": _lines(items, "en"),
    }
