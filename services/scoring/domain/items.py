"""Work items derived across a unit's facts. Pure, and a function of the set of facts.

- a task: a milestone or one occurrence of a recurring obligation, with the due date in force
  (plan, approved extension) and what became of it (completed on time, late, or missed);
- a quantified target: the value the unit reported against the threshold (or last year's value
  where the policy only says "raise");
- a finding's spells: from its deadline (or a reopened one's) to the submission the office
  accepted, or to `today` while still open, month by month.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from contracts.measures import DeadlineItem
from services.scoring.domain.facts import Fact, FactKind
from services.scoring.domain.incremental import Recall, fresh
from services.scoring.domain.observation import Observation, Typing, flag

ONE = Decimal(1)


def newest_report(reports: Iterable[Fact]) -> Fact | None:
    return max(reports, key=lambda f: (f.data["reported_at"], f.event_id), default=None)


def reviews(facts: list[Fact]) -> dict[str, str]:
    """report_id -> accepted | returned, by the latest review of the report."""
    latest: dict[str, Fact] = {}
    for fact in facts:
        if fact.kind in (FactKind.PROGRESS_ACCEPTED, FactKind.PROGRESS_RETURNED):
            report_id = fact.data["report_id"]
            current = latest.get(report_id)
            if current is None or (fact.data["reviewed_at"], fact.event_id) > (
                current.data["reviewed_at"],
                current.event_id,
            ):
                latest[report_id] = fact
    return {
        report_id: "returned" if fact.kind is FactKind.PROGRESS_RETURNED else "accepted"
        for report_id, fact in latest.items()
    }


@dataclass
class WorkItem:
    """A milestone or an obligation's occurrence, by (assignment, milestone)."""

    plan_due: date | None = None
    extended_due: date | None = None  # the latest approved extension's new due date
    measure_type: str | None = None
    measure_code: str | None = None
    title: str | None = None
    recurring: bool = False
    reports: list[Fact] = field(default_factory=list)
    missed: list[Fact] = field(default_factory=list)

    @property
    def due(self) -> date | None:
        """The due date in force: extended, else planned, else as the reports or misses say."""
        if self.extended_due is not None:
            return self.extended_due
        if self.plan_due is not None:
            return self.plan_due
        reported = newest_report(self.reports)
        if reported is not None and reported.data["milestone_due_date"]:
            return date.fromisoformat(reported.data["milestone_due_date"])
        return max((date.fromisoformat(m.data["due_date"]) for m in self.missed), default=None)

    def measure(self) -> dict[str, Any]:
        """Type, code and title from the plan, else from the first report or miss naming them."""
        others = sorted([*self.reports, *self.missed], key=lambda f: f.event_id)
        return {
            "measure_type": self.measure_type
            or next((f.data["measure_type"] for f in others if f.data["measure_type"]), None),
            "measure_code": self.measure_code
            or next((f.data["measure_code"] for f in others if f.data["measure_code"]), None),
            "title": self.title or next((t for f in others if (t := f.data.get("title"))), None),
        }

    def completion(self, review: Mapping[str, str]) -> Fact | None:
        """The earliest report completing the item that the office has not returned."""
        completions = [
            r
            for r in self.reports
            if r.data["milestone_completed"] and review.get(r.data["report_id"]) != "returned"
        ]
        return min(completions, key=lambda r: (r.data["reported_at"], r.event_id), default=None)

    def misses_of(self, due: date) -> tuple[str, ...]:
        return tuple(
            sorted(m.event_id for m in self.missed if m.data["due_date"] == due.isoformat())
        )

    def inputs(self, review: Mapping[str, str]) -> tuple[Any, ...]:
        """All that the item's observation is derived from (incremental.py)."""
        return (
            self.plan_due,
            self.extended_due,
            self.measure_type,
            self.measure_code,
            self.title,
            self.recurring,
            tuple(r.event_id for r in self.reports),
            tuple(review.get(r.data["report_id"]) for r in self.reports),
            tuple(m.event_id for m in self.missed),
        )


def work_items(facts: list[Fact], missed_types: frozenset[str]) -> dict[tuple[str, str], WorkItem]:
    """Items by (assignment, milestone); `facts` come oldest first, so the latest wins. Misses
    count for the item types in `missed_types`."""
    items: dict[tuple[str, str], WorkItem] = defaultdict(WorkItem)
    for fact in facts:
        data = fact.data
        if fact.kind is FactKind.ASSIGNMENT:
            titles = data.get("titles", {})
            for milestone_id, due in data["milestones"].items():
                entry = items[(data["assignment_id"], milestone_id)]
                entry.plan_due = date.fromisoformat(due)
                entry.measure_type = data["measure_type"]
                entry.measure_code = data["measure_code"]
                entry.title = titles.get(milestone_id)
                entry.recurring = bool(data.get("recurrence"))
        elif fact.kind is FactKind.EXTENSION:
            entry = items[(data["assignment_id"], data["milestone_id"])]
            entry.extended_due = date.fromisoformat(data["due_date_after"])
        elif fact.kind is FactKind.PROGRESS and data["milestone_id"]:
            entry = items[(data["assignment_id"] or "", data["milestone_id"])]
            entry.reports.append(fact)
            entry.recurring = entry.recurring or bool(data.get("recurrence"))
        elif (
            fact.kind is FactKind.DEADLINE_MISSED
            and data["item_type"] in missed_types
            and data["milestone_id"]
        ):
            entry = items[(data["assignment_id"] or "", data["milestone_id"])]
            entry.missed.append(fact)
            entry.recurring = entry.recurring or data["item_type"] == DeadlineItem.OBLIGATION.value
    return items


TASK_TYPES = frozenset({DeadlineItem.MILESTONE.value, DeadlineItem.OBLIGATION.value})


def _task(
    key: tuple[str, str], entry: WorkItem, review: Mapping[str, str], typing: Typing
) -> Observation | None:
    due = entry.due
    if due is None:
        return None
    completion = entry.completion(review)
    missed = entry.misses_of(due)
    if completion is None and not missed:
        return None  # still open and not yet overdue: it counts once it is settled
    kind = "obligation" if entry.recurring else "milestone"
    measure = entry.measure()
    done = date.fromisoformat(completion.data["reported_on"]) if completion else None
    if done is None:
        outcome, days_late, events = "missed", 0, missed
    elif done <= due:
        outcome, days_late, events = "on_time", 0, (completion.event_id,) if completion else ()
    else:
        outcome, days_late = "late", (done - due).days
        events = (completion.event_id, *missed) if completion else missed
    measure_type = typing(measure, due)
    item = typing.item(
        kind,
        f"{key[0]}/{key[1]}",
        {**measure, "due_date": due},
        due,
        outcome=outcome,
        days_late=days_late or None,
    )
    return Observation(
        "task",
        due,
        measure_type,
        {"kind": kind, "outcome": outcome, "typed": flag(measure_type is not None)},
        {"days_late": days_late},
        events,
        item,
        completed_on=done,
    )


def tasks(
    facts: list[Fact], typing: Typing, review: Mapping[str, str], recall: Recall = fresh
) -> list[Observation]:
    found = []
    for key, entry in work_items(facts, TASK_TYPES).items():
        inputs = (entry.inputs(review), typing.catalogues)
        task = recall(("task", key), inputs, partial(_task, key, entry, review, typing))
        if task is not None:
            found.append(task)
    return found


# ----------------------------------------------------------------------------- targets


def _latest_value(
    facts: list[Fact], code: str, year: int, review: Mapping[str, str]
) -> Fact | None:
    reports = [
        f
        for f in facts
        if f.kind is FactKind.PROGRESS
        and f.data.get("target_code") == code
        and f.data.get("target_value") is not None
        and f.data["reported_on"][:4] == str(year)
        and review.get(f.data["report_id"]) != "returned"
    ]
    return newest_report(reports)


def judge_target(
    target: Mapping[str, Any], threshold: float | None, value: float, baseline: float | None
) -> tuple[str, Decimal | None]:
    """(outcome, credit): met 1, partly in proportion, not_met 0; `level` (a 'rises' target that
    stayed level: the rubric says its credit) and `no_baseline` carry no credit."""
    if target.get("metric") == "boolean":
        return ("met", ONE) if value >= 1 else ("not_met", Decimal(0))
    comparator = target.get("comparator")
    if comparator is not None and threshold is not None:
        v, t = Decimal(str(value)), Decimal(str(threshold))
        if comparator == ">=":
            share = ONE if t <= 0 or v >= t else max(Decimal(0), v / t)
        elif comparator == "<=":
            share = ONE if v <= t else t / v
        else:
            share = ONE if v == t else max(Decimal(0), 1 - abs(v - t) / max(abs(t), ONE))
        outcome = "met" if share >= 1 else "partly" if share > 0 else "not_met"
        return outcome, min(share, ONE)
    if baseline is None:
        return "no_baseline", None
    rises = target.get("direction") != "down"
    if value == baseline:
        return "level", None
    return ("met", ONE) if (value > baseline) == rises else ("not_met", Decimal(0))


def targets(facts: list[Fact], typing: Typing) -> list[Observation]:
    """Each assigned target with a value reported in its year, or with its work overdue and no
    value (not met). Judged once a year: the observation falls on 31 December."""
    review = reviews(facts)
    overdue = {
        f.data["assignment_id"]
        for f in facts
        if f.kind is FactKind.DEADLINE_MISSED and f.data.get("assignment_id")
    }
    found = []
    for fact in facts:
        data = fact.data
        code = data.get("target_code") if fact.kind is FactKind.ASSIGNMENT else None
        if not code:
            continue
        year = int(data.get("year") or fact.known_at.year)
        definition = typing.reference.targets.get(year, {}).get(code)
        if definition is None:
            continue
        reported = _latest_value(facts, code, year, review)
        day = date(year, 12, 31)
        threshold = data.get("target_value")
        if threshold is None:
            threshold = definition.get("value")
        credit: Decimal | None
        events: tuple[str, ...]
        if reported is None:
            if data["assignment_id"] not in overdue:
                continue
            outcome, credit, value, events = "not_reported", Decimal(0), None, ()
        else:
            value = reported.data["target_value"]
            before = _latest_value(facts, code, year - 1, review)
            baseline = before.data["target_value"] if before else None
            outcome, credit = judge_target(definition, threshold, value, baseline)
            events = (reported.event_id,)
        if outcome == "no_baseline":
            continue  # nothing to compare a 'raise' with: not assessable this year
        measure = {**data, "title": definition.get("description_zh"), "due_date": day}
        note = f"报送值 {value:g}" if value is not None else "未报送目标值"
        if threshold is not None and value is not None:
            note += f"，目标值 {threshold:g}"
        item = typing.item(
            "target", code, measure, day, outcome=outcome, credit=credit, note_zh=note
        )
        found.append(
            Observation(
                "target",
                day,
                typing(data, day),
                {"outcome": outcome},
                {},
                (fact.event_id, *events),
                item,
                credit=credit,
            )
        )
    return found


# ----------------------------------------------------------------------------- findings


@dataclass
class _Spell:
    due: date
    ended: date | None = None  # the day of the submission the office accepted
    events: list[str] = field(default_factory=list)


def _spells(steps: list[Fact]) -> list[_Spell]:
    spells: list[_Spell] = []
    for fact in sorted(steps, key=lambda f: (f.day or date.min, f.known_at, f.event_id)):
        due = date.fromisoformat(fact.data["due_date"])
        if fact.kind in (FactKind.FINDING, FactKind.RECTIFICATION_REOPENED):
            if fact.kind is FactKind.FINDING and spells:
                continue  # raised after a reopen arrived first: the reopen's spell stands
            spells.append(_Spell(due, events=[fact.event_id]))
        elif fact.kind is FactKind.RECTIFICATION_CLOSED and spells and spells[-1].ended is None:
            submitted = fact.data.get("submitted_on")
            spells[-1].ended = date.fromisoformat(submitted) if submitted else fact.day
            spells[-1].events.append(fact.event_id)
    return spells


def _months(first: date, last: date) -> list[date]:
    """The first day in each month from `first` to `last` (the first one is `first` itself)."""
    days, day = [], first
    while day <= last:
        days.append(day)
        day = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
    return days


def findings(
    facts: list[Fact], typing: Typing, today: date | None, recall: Recall = fresh
) -> list[Observation]:
    """`rectification`: each spell's outcome (on time, late, overdue); `open_finding`: one
    observation per month a spell was open past its deadline, up to `today`."""
    by_finding: dict[str, list[Fact]] = defaultdict(list)
    for fact in facts:
        if fact.kind in (
            FactKind.FINDING,
            FactKind.RECTIFICATION_CLOSED,
            FactKind.RECTIFICATION_REOPENED,
        ) and fact.data.get("due_date"):
            by_finding[fact.data["finding_id"]].append(fact)
    found = []
    for finding_id, steps in sorted(by_finding.items()):
        inputs = (tuple(f.event_id for f in steps), today, typing.catalogues)
        derive = partial(_finding, finding_id, steps, typing, today)
        found.extend(recall(("finding", finding_id), inputs, derive))
    return found


def _finding(
    finding_id: str, steps: list[Fact], typing: Typing, today: date | None
) -> list[Observation]:
    found = []
    latest = max(steps, key=lambda f: (f.known_at, f.event_id)).data
    severity = latest["severity"]
    for spell in _spells(steps):
        end = spell.ended or today
        if spell.ended is not None:
            outcome = "on_time" if spell.ended <= spell.due else "late"
        elif today is not None and today > spell.due:
            outcome = "overdue"
        else:
            continue
        data = {**latest, "due_date": spell.due}
        item = typing.item("finding", finding_id, data, spell.due, outcome=outcome)
        attrs = {"severity": severity, "outcome": outcome}
        events = tuple(spell.events)
        kind = typing(data, spell.due)
        found.append(Observation("rectification", spell.due, kind, attrs, {}, events, item))
        if end is None or end <= spell.due:
            continue
        still_open = {"severity": severity}
        for month in _months(spell.due + timedelta(days=1), end):
            note = f"逾期未整改（{month.year}年{month.month}月）"
            found.append(
                Observation("open_finding", month, kind, still_open, {}, events, item, note_zh=note)
            )
    return found
