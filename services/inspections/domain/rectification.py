"""The office's time limits of the rectification loop: the default 整改时限 by deadline category
and severity, the 整改方案's time limit, the office's own time limit to verify (验收), and when to
remind of these and of the service's other deadlines (supervisors' suggestions, 12345 工单). Pure:
the rules are data (`data/rectification.yaml`), the calendar is passed in."""

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from contracts.inspections import RectificationCategory, Severity
from services.runtime.workdays import WorkingCalendar

DEFAULT_RULES_PATH = Path(__file__).resolve().parents[1] / "data" / "rectification.yaml"
WorkingDays = int


class RectificationRules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    plan_working_days: WorkingDays = Field(ge=1, le=60)
    verification_working_days: WorkingDays = Field(ge=1, le=60)
    reminder_days: tuple[int, ...] = Field(default=(3, 1), max_length=5)
    request_reminder_percent: tuple[int, ...] = Field(default=(50, 20), max_length=5)
    deadlines: dict[RectificationCategory, dict[Severity, WorkingDays]]

    @model_validator(mode="after")
    def _every_category_and_severity(self) -> Self:
        for category in RectificationCategory:
            given = self.deadlines.get(category, {})
            if missing := [s.value for s in Severity if s not in given]:
                raise ValueError(f"deadlines.{category.value}: no days for {missing}")
            if any(days < 1 for days in given.values()):
                raise ValueError(f"deadlines.{category.value}: days must be 1 or more")
        if any(days < 0 for days in self.reminder_days):
            raise ValueError("reminder_days must be 0 or more")
        if any(not 0 < share < 100 for share in self.request_reminder_percent):
            raise ValueError("request_reminder_percent must be from 1 to 99")
        return self

    def default_due_date(
        self,
        category: RectificationCategory,
        severity: Severity,
        raised_on: date,
        calendar: WorkingCalendar,
    ) -> date:
        """The 整改时限 of a finding raised on `raised_on` when the inspector gives none."""
        return calendar.add_working_days(raised_on, self.deadlines[category][severity])

    def plan_due_date(
        self, category: RectificationCategory, start: date, calendar: WorkingCalendar
    ) -> date | None:
        """When the 整改方案 is due; None for 立行立改, which has no plan stage."""
        if category is RectificationCategory.IMMEDIATE:
            return None
        return calendar.add_working_days(start, self.plan_working_days)

    def verification_due_date(self, submitted_on: date, calendar: WorkingCalendar) -> date:
        return calendar.add_working_days(submitted_on, self.verification_working_days)

    def reminder_offset(self, days_left: int) -> int | None:
        """The smallest reminder offset `days_left` has reached, or None before the first."""
        reached = [offset for offset in self.reminder_days if days_left <= offset]
        return min(reached) if reached else None

    def request_reminder(self, started: datetime, due: datetime, now: datetime) -> int | None:
        """The smallest share (per cent) of a 工单's time limit, from `started` (receipt or
        reopening) to `due`, that the time left at `now` has reached; None before the first or
        once the limit has passed (the miss takes over)."""
        limit, left = due - started, due - now
        if left <= timedelta(0):
            return None
        reached = [share for share in self.request_reminder_percent if left * 100 <= limit * share]
        return min(reached) if reached else None


def load_rules(path: Path = DEFAULT_RULES_PATH) -> RectificationRules:
    return RectificationRules.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
