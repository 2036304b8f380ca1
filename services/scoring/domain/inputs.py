"""The inputs a rubric can score: named series of observations derived from a unit's facts.

Most facts give one observation each (a finding, a missed deadline). Two inputs are derived
across facts: `milestone` (a milestone's outcome, from its plan, extensions, reports, reviews and
missed deadlines) and `public_service` (the latest revision of each month's 12345 indicators).
Every derivation is a function of the set of facts, so arrival order never matters.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from contracts.inspections import FiveType, InspectionKind, Severity
from contracts.measures import AchievementKind, DeadlineItem
from services.scoring.domain.facts import PUBLIC_SERVICE_COUNTS, Fact, FactKind
from services.scoring.domain.reference import Reference

FIVE_TYPES: tuple[str, ...] = tuple(t.value for t in FiveType)
BOOLEAN = ("true", "false")


@dataclass(frozen=True)
class InputSpec:
    name_zh: str
    name_en: str
    # attribute -> its allowed values (rubric `where` filters compare against these)
    attributes: Mapping[str, tuple[str, ...]]
    # numeric fields a rubric may sum or multiply by
    numbers: tuple[str, ...] = ()


_SEVERITY = tuple(s.value for s in Severity)
INPUTS: Mapping[str, InputSpec] = {
    "report": InputSpec(
        "进展报告",
        "progress reports",
        {
            "late": BOOLEAN,
            "empty": BOOLEAN,
            "review": ("pending", "accepted", "returned"),
        },
    ),
    "milestone": InputSpec("节点任务", "milestones", {"outcome": ("on_time", "late", "missed")}),
    "deadline_missed": InputSpec(
        "逾期事项",
        "missed deadlines",
        {"item_type": tuple(i.value for i in DeadlineItem), "waived": BOOLEAN},
    ),
    "finding": InputSpec(
        "督查发现问题",
        "inspection findings",
        {"severity": _SEVERITY, "inspection_kind": tuple(k.value for k in InspectionKind)},
    ),
    "rectification_returned": InputSpec(
        "整改被退回", "rectifications returned", {"severity": _SEVERITY}
    ),
    "rectification_closed": InputSpec(
        "整改销号",
        "rectifications closed",
        {"severity": _SEVERITY, "on_time": BOOLEAN},
        ("days_late",),
    ),
    "rectification_reopened": InputSpec(
        "整改重新打开", "rectifications reopened", {"severity": _SEVERITY}
    ),
    "suggestion_answered": InputSpec(
        "监督员建议办理", "supervisors' suggestions answered", {"on_time": BOOLEAN}, ("days_late",)
    ),
    "achievement": InputSpec(
        "争先创优", "recognitions and titles", {"kind": tuple(k.value for k in AchievementKind)}
    ),
    "public_service": InputSpec(
        "12345等群众诉求",
        "public requests (12345 hotline and mailboxes)",
        {},
        PUBLIC_SERVICE_COUNTS,
    ),
}


@dataclass(frozen=True, slots=True)
class Observation:
    input: str
    day: date
    measure_type: str | None
    attrs: Mapping[str, str]  # attribute values as strings ("true"/"false" for flags)
    numbers: Mapping[str, int]
    events: tuple[str, ...]


def _flag(value: object) -> str:
    return "true" if value else "false"


class _Typing:
    """A measure's type: the event's own if it names one of the five, else the catalogue's."""

    def __init__(self, reference: Reference):
        self._reference = reference

    def __call__(self, data: Mapping[str, Any], day: date) -> str | None:
        own = data.get("measure_type")
        if own in FIVE_TYPES:
            return str(own)
        found = self._reference.type_of(day.year, data.get("measure_code"))
        return found if found in FIVE_TYPES else None


def _newest_report(reports: Iterable[Fact]) -> Fact | None:
    return max(reports, key=lambda f: (f.data["reported_at"], f.event_id), default=None)


def _reviews(facts: list[Fact]) -> dict[str, str]:
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
class _Milestone:
    plan_due: date | None = None
    extended_due: date | None = None  # the latest approved extension's new due date
    measure_type: str | None = None
    measure_code: str | None = None
    reports: list[Fact] = field(default_factory=list)
    missed: list[Fact] = field(default_factory=list)

    @property
    def due(self) -> date | None:
        """The due date in force: extended, else planned, else as the reports or misses say."""
        if self.extended_due is not None:
            return self.extended_due
        if self.plan_due is not None:
            return self.plan_due
        reported = _newest_report(self.reports)
        if reported is not None and reported.data["milestone_due_date"]:
            return date.fromisoformat(reported.data["milestone_due_date"])
        return max((date.fromisoformat(m.data["due_date"]) for m in self.missed), default=None)

    def measure(self) -> dict[str, Any]:
        """Type and code from the plan, else from the first report or miss that names them."""
        others = sorted([*self.reports, *self.missed], key=lambda f: f.event_id)
        return {
            "measure_type": self.measure_type
            or next((f.data["measure_type"] for f in others if f.data["measure_type"]), None),
            "measure_code": self.measure_code
            or next((f.data["measure_code"] for f in others if f.data["measure_code"]), None),
        }


def _milestones(facts: list[Fact]) -> dict[tuple[str, str], _Milestone]:
    """Milestones by (assignment, milestone); `facts` come oldest first, so the latest wins."""
    milestones: dict[tuple[str, str], _Milestone] = defaultdict(_Milestone)
    for fact in facts:
        data = fact.data
        if fact.kind is FactKind.ASSIGNMENT:
            for milestone_id, due in data["milestones"].items():
                entry = milestones[(data["assignment_id"], milestone_id)]
                entry.plan_due = date.fromisoformat(due)
                entry.measure_type = data["measure_type"]
                entry.measure_code = data["measure_code"]
        elif fact.kind is FactKind.EXTENSION:
            entry = milestones[(data["assignment_id"], data["milestone_id"])]
            entry.extended_due = date.fromisoformat(data["due_date_after"])
        elif fact.kind is FactKind.PROGRESS and data["milestone_id"]:
            milestones[(data["assignment_id"] or "", data["milestone_id"])].reports.append(fact)
        elif (
            fact.kind is FactKind.DEADLINE_MISSED
            and data["item_type"] == DeadlineItem.MILESTONE.value
            and data["milestone_id"]
        ):
            milestones[(data["assignment_id"] or "", data["milestone_id"])].missed.append(fact)
    return milestones


def _waived(fact: Fact, milestones: Mapping[tuple[str, str], _Milestone]) -> bool:
    """A missed milestone deadline is waived when the office later extended it past that date."""
    data = fact.data
    if data["item_type"] != DeadlineItem.MILESTONE.value or not data["milestone_id"]:
        return False
    entry = milestones.get((data["assignment_id"] or "", data["milestone_id"]))
    extended = entry.extended_due if entry else None
    return extended is not None and extended > date.fromisoformat(data["due_date"])


def _milestone_outcome(
    entry: _Milestone, reviews: Mapping[str, str], typing: _Typing
) -> Observation | None:
    due = entry.due
    if due is None:
        return None
    completions = [
        r
        for r in entry.reports
        if r.data["milestone_completed"] and reviews.get(r.data["report_id"]) != "returned"
    ]
    completion = min(completions, key=lambda r: (r.data["reported_at"], r.event_id), default=None)
    missed = tuple(
        sorted(m.event_id for m in entry.missed if m.data["due_date"] == due.isoformat())
    )
    if completion is None and not missed:
        return None  # still open and not yet overdue: it counts once it is settled
    if completion is None:
        outcome, events = "missed", missed
    elif date.fromisoformat(completion.data["reported_on"]) <= due:
        outcome, events = "on_time", (completion.event_id,)
    else:
        outcome, events = "late", (completion.event_id, *missed)
    return Observation(
        "milestone", due, typing(entry.measure(), due), {"outcome": outcome}, {}, events
    )


def _public_service(facts: list[Fact]) -> list[Observation]:
    latest: dict[str, Fact] = {}
    for fact in facts:
        if fact.kind is FactKind.PUBLIC_SERVICE and fact.day is not None:
            month = fact.data["period"]
            current = latest.get(month)
            key = (fact.data["revision"], fact.known_at, fact.event_id)
            if current is None or key > (
                current.data["revision"],
                current.known_at,
                current.event_id,
            ):
                latest[month] = fact
    return [
        Observation(
            "public_service",
            day,
            None,
            {},
            {name: int(fact.data[name]) for name in PUBLIC_SERVICE_COUNTS},
            (fact.event_id,),
        )
        for _month, fact in sorted(latest.items())
        if (day := fact.day) is not None
    ]


_ONE_TO_ONE: Mapping[FactKind, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    # kind -> (input, attributes copied from the fact's data, numbers copied)
    FactKind.FINDING: ("finding", ("severity", "inspection_kind"), ()),
    FactKind.RECTIFICATION_RETURNED: ("rectification_returned", ("severity",), ()),
    FactKind.RECTIFICATION_CLOSED: (
        "rectification_closed",
        ("severity", "on_time"),
        ("days_late",),
    ),
    FactKind.RECTIFICATION_REOPENED: ("rectification_reopened", ("severity",), ()),
    FactKind.SUGGESTION_ANSWERED: ("suggestion_answered", ("on_time",), ("days_late",)),
    FactKind.ACHIEVEMENT: ("achievement", ("kind",), ()),
}


def _text(value: object) -> str:
    return _flag(value) if isinstance(value, bool) else str(value)


def observe(facts: Iterable[Fact], reference: Reference) -> list[Observation]:
    """Every observation a unit's facts give, in a deterministic order."""
    unique = sorted({f.event_id: f for f in facts}.values(), key=lambda f: (f.known_at, f.event_id))
    typing = _Typing(reference)
    reviews = _reviews(unique)
    milestones = _milestones(unique)
    found: list[Observation] = []
    for fact in unique:
        data, day = fact.data, fact.day
        if day is None:
            continue
        if fact.kind is FactKind.PROGRESS:
            attrs = {
                "late": _flag(data["on_time"] is False),
                "empty": _flag(data["empty"]),
                "review": reviews.get(data["report_id"], "pending"),
            }
            found.append(Observation("report", day, typing(data, day), attrs, {}, (fact.event_id,)))
        elif fact.kind is FactKind.DEADLINE_MISSED:
            attrs = {"item_type": data["item_type"], "waived": _flag(_waived(fact, milestones))}
            found.append(
                Observation("deadline_missed", day, typing(data, day), attrs, {}, (fact.event_id,))
            )
        elif fact.kind in _ONE_TO_ONE:
            name, attributes, numbers = _ONE_TO_ONE[fact.kind]
            found.append(
                Observation(
                    name,
                    day,
                    typing(data, day),
                    {a: _text(data[a]) for a in attributes},
                    {n: int(data[n]) for n in numbers},
                    (fact.event_id,),
                )
            )
    for entry in milestones.values():
        if (outcome := _milestone_outcome(entry, reviews, typing)) is not None:
            found.append(outcome)
    found.extend(_public_service(unique))
    found.sort(key=lambda o: (o.input, o.day, o.events))
    return found
