"""The 通报: a bulletin of the items still overdue at the end of a period, issued on the first
working day after it, and the on-demand 通报 about one unit. Pure: no I/O.

An entry is an escalation case whose deadline fell on or before the period's end and that was
not completed by then; its working days overdue are counted to the period's end, and it is
marked as under 督办 if its supervision order was issued by then.
"""

import calendar as months
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from services.notifications.domain.wording import overdue
from services.runtime.workdays import WorkingCalendar, chinese_date, local_date

MAX_LINES = 200  # a bulletin lists every entry; the event carries them all regardless


class Cadence(StrEnum):
    WEEKLY = "weekly"  # Monday to Sunday
    MONTHLY = "monthly"


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    @classmethod
    def containing(cls, day: date, cadence: Cadence) -> "Period":
        if cadence is Cadence.WEEKLY:
            start = day - timedelta(days=day.weekday())
            return cls(start, start + timedelta(days=6))
        last = months.monthrange(day.year, day.month)[1]
        return cls(day.replace(day=1), day.replace(day=last))

    def before(self, cadence: Cadence) -> "Period":
        return Period.containing(self.start - timedelta(days=1), cadence)


def period_due(today: date, cadence: Cadence, calendar: WorkingCalendar) -> Period | None:
    """The period whose bulletin is due today or was due earlier in the current period: the last
    one ended, once the first working day after it has come."""
    last = Period.containing(today, cadence).before(cadence)
    issue_on = calendar.add_working_days(last.end, 1)
    return last if today >= issue_on else None


@dataclass(frozen=True)
class CaseState:
    """What a bulletin needs of an escalation case."""

    unit: str
    unit_name: str
    item_type: str
    item_id: str
    title: str
    due_date: date
    notice_on: date
    supervision_on: date | None
    closed_at: datetime | None


@dataclass(frozen=True)
class Entry:
    unit: str
    unit_name: str
    item_type: str
    item_id: str
    title: str
    due_date: date
    working_days_overdue: int
    supervision_order: bool


def overdue_at(cases: Iterable[CaseState], end: date, calendar: WorkingCalendar) -> list[Entry]:
    """The entries of a bulletin whose period ends on `end`, by unit and due date."""
    entries = [
        Entry(
            unit=case.unit,
            unit_name=case.unit_name,
            item_type=case.item_type,
            item_id=case.item_id,
            title=case.title,
            due_date=case.due_date,
            working_days_overdue=max(0, calendar.working_days_between(case.due_date, end)),
            supervision_order=case.supervision_on is not None and case.supervision_on <= end,
        )
        for case in cases
        if case.due_date < end
        and case.notice_on <= end
        and (case.closed_at is None or local_date(case.closed_at) > end)
    ]
    return sorted(entries, key=lambda e: (e.unit, e.due_date, e.title, e.item_id))


class Kind(StrEnum):
    PERIODIC = "periodic"
    AD_HOC = "ad_hoc"


KIND_NAMES = {
    Kind.PERIODIC: ("定期通报", "periodic bulletin"),
    Kind.AD_HOC: ("专项通报", "bulletin"),
}


def _lines(entries: list[Entry], kind_name: Callable[[str], tuple[str, str]], language: str) -> str:
    """One paragraph per unit, one line per item."""
    if not entries:
        return "(none)" if language == "en" else "（无）"
    lines: list[str] = []
    by_unit: dict[str, list[Entry]] = {}
    for entry in entries:
        by_unit.setdefault(entry.unit, []).append(entry)
    shown = 0
    for group in by_unit.values():
        head = group[0].unit_name
        lines.append(
            f"{head} ({len(group)}):" if language == "en" else f"{head}（{len(group)}项）："
        )
        for entry in group:
            shown += 1
            if shown > MAX_LINES:
                break
            zh, en = kind_name(entry.item_type)
            if language == "en":
                flag = ", under supervision order" if entry.supervision_order else ""
                lines.append(
                    f'  - {en} "{entry.title}", due {entry.due_date.isoformat()}, '
                    f"{overdue(entry.working_days_overdue)[1]}{flag}"
                )
            else:
                flag = "，已督办" if entry.supervision_order else ""
                lines.append(
                    f"  - {zh}“{entry.title}”，限办日期{chinese_date(entry.due_date)}，"
                    f"{overdue(entry.working_days_overdue)[0]}{flag}"
                )
    if len(entries) > MAX_LINES:
        rest = len(entries) - MAX_LINES
        lines.append(f"… and {rest} more" if language == "en" else f"……另有{rest}项")
    return "\n".join(lines)


def bulletin_fields(
    kind: Kind,
    period: Period,
    entries: list[Entry],
    note: str,
    kind_name: Callable[[str], tuple[str, str]],
) -> dict[str, str]:
    zh, en = KIND_NAMES[kind]
    return {
        "kind_zh": zh,
        "kind_en": en,
        "period_zh": f"{chinese_date(period.start)}至{chinese_date(period.end)}",
        "period_en": f"{period.start.isoformat()} to {period.end.isoformat()}",
        "count": str(len(entries)),
        "unit_count": str(len({e.unit for e in entries})),
        "lines_zh": _lines(entries, kind_name, "zh"),
        "lines_en": _lines(entries, kind_name, "en"),
        "note": f"{note}\n" if note else "",
    }
