"""The inputs a rubric can score: named series of observations derived from a unit's facts.

Most facts give one observation each (a finding, a missed deadline, an escalation). Some inputs
are derived across facts: `milestone` (2026.1: a milestone's outcome), `task` (a milestone's or an
obligation occurrence's outcome), `target` (a quantified target's reported value),
`rectification` and `open_finding` (a finding's spells, see items.py) and `public_service` (the
latest revision of each month's 12345 indicators). Every derivation is a function of the set of
facts (and of `today` for what is still open), so arrival order never matters.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any

from contracts.inspections import AccountabilityForm, InspectionKind, Severity
from contracts.measures import DEFAULT_LEVEL, AchievementKind, AchievementLevel, DeadlineItem
from contracts.notifications import EscalationLevel
from services.scoring.domain import items
from services.scoring.domain.facts import PUBLIC_SERVICE_COUNTS, Fact, FactKind
from services.scoring.domain.incremental import Recall, fresh
from services.scoring.domain.items import WorkItem
from services.scoring.domain.observation import FIVE_TYPES, Observation, Typing, flag
from services.scoring.domain.reference import Reference

__all__ = ["FIVE_TYPES", "INPUTS", "Observation", "observe"]
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
        "争先创优",
        "recognitions and titles",
        {
            "kind": tuple(k.value for k in AchievementKind),
            "level": tuple(level.value for level in AchievementLevel),
        },
    ),
    "public_service": InputSpec(
        "12345等群众诉求",
        "public requests (12345 hotline and mailboxes)",
        {},
        PUBLIC_SERVICE_COUNTS,
    ),
    "task": InputSpec(
        "交办任务",
        "assigned tasks (milestones and recurring obligations)",
        {
            "kind": ("milestone", "obligation"),
            "outcome": ("on_time", "late", "missed"),
            "typed": BOOLEAN,
        },
        ("days_late",),
    ),
    "target": InputSpec(
        "量化目标",
        "quantified targets",
        {"outcome": ("met", "partly", "not_met", "not_reported", "level")},
    ),
    "rectification": InputSpec(
        "问题整改",
        "rectifications by their deadline",
        {"severity": _SEVERITY, "outcome": ("on_time", "late", "overdue")},
    ),
    "open_finding": InputSpec(
        "逾期未整改问题（按月）",
        "findings open past their deadline, per month",
        {"severity": _SEVERITY},
    ),
    "bulletin": InputSpec(
        "通报",
        "overdue items listed in a bulletin (通报)",
        {"kind": ("periodic", "ad_hoc"), "item_type": tuple(i.value for i in DeadlineItem)},
        ("working_days_overdue",),
    ),
    "listing": InputSpec(
        "挂牌督办",
        "items the office put under 挂牌督办",
        {"item_type": tuple(i.value for i in DeadlineItem)},
    ),
    "interview": InputSpec("约谈", "interviews (约谈) of the unit's leaders", {}),
    "accountability": InputSpec(
        "问责",
        "accountability decisions (问责)",
        {"form": tuple(f.value for f in AccountabilityForm)},
    ),
    "escalation": InputSpec(
        "督办升级",
        "escalations of overdue items",
        {
            "level": tuple(level.value for level in EscalationLevel),
            "item_type": tuple(i.value for i in DeadlineItem),
        },
    ),
}


def _waived(fact: Fact, milestones: Mapping[tuple[str, str], WorkItem]) -> bool:
    """A missed milestone deadline is waived when the office later extended it past that date."""
    data = fact.data
    if data["item_type"] != DeadlineItem.MILESTONE.value or not data["milestone_id"]:
        return False
    entry = milestones.get((data["assignment_id"] or "", data["milestone_id"]))
    extended = entry.extended_due if entry else None
    return extended is not None and extended > date.fromisoformat(data["due_date"])


def _milestone_outcome(
    entry: WorkItem, review: Mapping[str, str], typing: Typing
) -> Observation | None:
    """2026.1's milestone input: obligations are not milestones there."""
    due = entry.due
    if due is None:
        return None
    completion = entry.completion(review)
    missed = entry.misses_of(due)
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


def _public_service(facts: list[Fact], recall: Recall) -> list[Observation]:
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
        recall(("public_service", month), fact.event_id, partial(_indicators, fact, day))
        for month, fact in sorted(latest.items())
        if (day := fact.day) is not None
    ]


def _indicators(fact: Fact, day: date) -> Observation:
    numbers = {name: int(fact.data[name]) for name in PUBLIC_SERVICE_COUNTS}
    return Observation("public_service", day, None, {}, numbers, (fact.event_id,))


_ONE_TO_ONE: Mapping[FactKind, tuple[str, tuple[str, ...], tuple[str, ...], str]] = {
    # kind -> (input, attributes copied from the fact's data, numbers copied, the item's id)
    FactKind.FINDING: ("finding", ("severity", "inspection_kind"), (), "finding_id"),
    FactKind.RECTIFICATION_RETURNED: (
        "rectification_returned",
        ("severity",),
        (),
        "finding_id",
    ),
    FactKind.RECTIFICATION_CLOSED: (
        "rectification_closed",
        ("severity", "on_time"),
        ("days_late",),
        "finding_id",
    ),
    FactKind.RECTIFICATION_REOPENED: (
        "rectification_reopened",
        ("severity",),
        (),
        "finding_id",
    ),
    FactKind.SUGGESTION_ANSWERED: (
        "suggestion_answered",
        ("on_time",),
        ("days_late",),
        "suggestion_id",
    ),
    FactKind.ACHIEVEMENT: ("achievement", ("kind", "level"), (), "achievement_id"),
    FactKind.ESCALATION: ("escalation", ("level", "item_type"), (), "item_id"),
    FactKind.BULLETIN: ("bulletin", ("kind", "item_type"), ("working_days_overdue",), "item_id"),
    FactKind.LISTING: ("listing", ("item_type",), (), "listing_id"),
    FactKind.INTERVIEW: ("interview", (), (), "interview_id"),
    FactKind.ACCOUNTABILITY: ("accountability", ("form",), (), "decision_id"),
}


def _text(value: object) -> str:
    return flag(value) if isinstance(value, bool) else str(value)


def _attribute(data: Mapping[str, Any], name: str) -> str:
    if name == "level" and name not in data:  # a recognition stored before levels existed
        return DEFAULT_LEVEL[AchievementKind(data["kind"])].value
    return _text(data[name])


def _one(
    fact: Fact, day: date, typing: Typing, extra: Mapping[str, str] | None = None
) -> Observation:
    name, attributes, numbers, ident = _ONE_TO_ONE[fact.kind]
    data = fact.data
    return Observation(
        name,
        day,
        typing(data, day),
        {a: _attribute(data, a) for a in attributes},
        {n: int(data[n]) for n in numbers},
        (fact.event_id,),
        typing.item(name, str(data[ident]), data, day),
    )


def _report(fact: Fact, day: date, typing: Typing, review: str) -> Observation:
    data = fact.data
    attrs = {"late": flag(data["on_time"] is False), "empty": flag(data["empty"]), "review": review}
    item = typing.item("report", data["report_id"], data, day)
    return Observation("report", day, typing(data, day), attrs, {}, (fact.event_id,), item)


def _missed(fact: Fact, day: date, typing: Typing, waived: bool) -> Observation:
    data = fact.data
    attrs = {"item_type": data["item_type"], "waived": flag(waived)}
    item = typing.item(data["item_type"], data["item_id"], data, day, outcome="missed")
    return Observation("deadline_missed", day, typing(data, day), attrs, {}, (fact.event_id,), item)


def observe(
    facts: Iterable[Fact],
    reference: Reference,
    today: date | None = None,
    recall: Recall = fresh,
) -> list[Observation]:
    """Every observation a unit's facts give, in a deterministic order; items still open past
    their deadline count up to `today` (none when it is not given). Each derivation goes through
    `recall`, which gives back the last scoring's observations when its inputs are the same."""
    unique = sorted({f.event_id: f for f in facts}.values(), key=lambda f: (f.known_at, f.event_id))
    typing = Typing(reference)
    catalogues = typing.catalogues
    review = items.reviews(unique)
    milestones = items.work_items(unique, frozenset({DeadlineItem.MILESTONE.value}))
    found: list[Observation] = []
    for fact in unique:
        day = fact.day
        if day is None:
            continue
        key = (fact.kind, fact.event_id)
        if fact.kind is FactKind.PROGRESS:
            status = review.get(fact.data["report_id"], "pending")
            derive = partial(_report, fact, day, typing, status)
            found.append(recall(key, (status, catalogues), derive))
        elif fact.kind is FactKind.DEADLINE_MISSED:
            waived = _waived(fact, milestones)
            derive = partial(_missed, fact, day, typing, waived)
            found.append(recall(key, (waived, catalogues), derive))
        elif fact.kind in _ONE_TO_ONE:
            found.append(recall(key, catalogues, partial(_one, fact, day, typing)))
    for item_key, entry in milestones.items():
        inputs = (entry.inputs(review), catalogues)
        outcome = partial(_milestone_outcome, entry, review, typing)
        if (observed := recall(("milestone", item_key), inputs, outcome)) is not None:
            found.append(observed)
    found.extend(items.tasks(unique, typing, review, recall))
    found.extend(items.targets(unique, typing))
    found.extend(items.findings(unique, typing, today, recall))
    found.extend(_public_service(unique, recall))
    found.sort(key=lambda o: (o.input, o.day, o.events))
    return found
