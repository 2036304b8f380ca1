"""The daily digest: one summary of what is open and overdue and of the routine notices held
since the last one, for recipients who prefer it to a message per event. Pure: no I/O."""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time

from services.notifications.domain.escalation import Level
from services.notifications.domain.topics import TOPIC_NAMES, Topic
from services.notifications.domain.wording import overdue
from services.runtime.workdays import PROGRAMME_TZ, chinese_date

MAX_LINES = 50  # a digest is read, not searched; the inbox has the rest

LEVEL_NAMES = {
    Level.NOTICE: ("已催办", "notice sent"),
    Level.SUPERVISION_ORDER: ("已督办", "supervision order issued"),
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
                f"{overdue(item.working_days_overdue)[1]}, {en})"
            )
        else:
            lines.append(
                f"{n}. {item.unit_name} · {item.title}（限办日期{chinese_date(item.due_date)}，"
                f"{overdue(item.working_days_overdue)[0]}，{zh}）"
            )
    rest = len(ordered) - MAX_LINES
    if rest > 0:
        lines.append(f"… and {rest} more" if language == "en" else f"……另有{rest}项")
    if not lines:
        lines.append("(none)" if language == "en" else "（无）")
    return "\n".join(lines)


def _held(topics: Counter[Topic], language: str) -> str:
    parts = []
    for topic, count in sorted(topics.items(), key=lambda kv: (-kv[1], kv[0])):
        zh, en = TOPIC_NAMES[topic]
        parts.append(f"{en} {count}" if language == "en" else f"{zh}{count}条")
    if not parts:
        return ""
    return f" ({', '.join(parts)})" if language == "en" else f"（其中{'、'.join(parts)}）"


def digest_fields(day: date, items: list[OpenItem], held: Iterable[Topic]) -> dict[str, str]:
    """The digest's fields; `held` has the topic of each notification held since the last."""
    topics = Counter(held)
    return {
        "date": chinese_date(day),
        "date_en": day.isoformat(),
        "open_count": str(len(items)),
        "held_count": str(sum(topics.values())),
        "lines_zh": _lines(items, "zh"),
        "lines_en": _lines(items, "en"),
        "held_zh": _held(topics, "zh"),
        "held_en": _held(topics, "en"),
    }
