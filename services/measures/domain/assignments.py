"""Assignments: a catalogue item given to a lead unit and co-operating units (牵头/协办) for a
programme year, with milestones, or with a recurrence rule that generates them. Pure rules."""

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from contracts.common import Day, MeasureCode, Name, Number, Text, invalid_value
from contracts.envelope import UnitCode
from contracts.measures import AssignmentRole, Key, MilestonePlan, Percent
from services.measures.domain.catalogue import (
    Catalogue,
    CatalogueItem,
    Obligation,
    UnitDirectory,
)
from services.measures.domain.errors import Code, Refused
from services.measures.domain.recurrence import (
    MAX_OCCURRENCES,
    TEMPLATES,
    ObligationKind,
    RecurrenceError,
    Roll,
    occurrences,
)
from services.runtime.workdays import WorkingCalendar, chinese_date

CUSTOM_RECURRENCE = "custom"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MilestoneInput(_Frozen):
    milestone_id: Key
    title: Name
    due_date: Day
    expected_percent: Percent | None = Field(
        default=None,
        description="Progress expected by the due date; omitted on every milestone: evenly spread.",
    )
    unit: UnitCode | None = Field(default=None, description="Who delivers it; default the lead.")


class RecurrenceInput(_Frozen):
    """A standard obligation kind, or an RFC 5545 rule (e.g. FREQ=MONTHLY;BYMONTHDAY=-1)."""

    kind: ObligationKind | None = None
    rule: str | None = Field(default=None, max_length=200)
    roll: Roll | None = Field(default=None, description="Default: the kind's, else preceding.")

    @model_validator(mode="after")
    def _kind_or_rule(self) -> Self:
        if self.kind is None and self.rule is None:
            raise invalid_value(
                "须填写标准责任类型“kind”或规则“rule”",
                "give a standard obligation kind or a rule",
            )
        return self


class CreateAssignment(_Frozen):
    assignment_id: Key
    year: int = Field(ge=2022, le=2100)
    measure_code: MeasureCode = Field(description="A measure, target or sub-task code.")
    lead_unit: UnitCode
    co_units: tuple[UnitCode, ...] = Field(default=(), max_length=50)
    title_zh: Name | None = None
    title_en: Name | None = None
    start_on: Day | None = Field(
        default=None,
        description="Start of the plan. Default: 1 January, or today for a plan made later.",
    )
    target_code: MeasureCode | None = None
    target_value: Number | None = None
    milestones: tuple[MilestoneInput, ...] = Field(default=(), max_length=MAX_OCCURRENCES)
    recurrence: RecurrenceInput | None = None
    created_by: Name
    note: Text = ""


class CreateObligations(_Frozen):
    """The standard obligation of one kind for the units that carry it (default: all of them,
    as the catalogue says: every responsible unit, the measure's lead units, or named units)."""

    year: int = Field(ge=2022, le=2100)
    kind: ObligationKind
    units: tuple[UnitCode, ...] = Field(default=(), max_length=500)
    created_by: Name


@dataclass(frozen=True)
class Plan:
    """A validated assignment, ready to store."""

    request: CreateAssignment
    item: CatalogueItem
    measure_type: str | None
    title_zh: str
    title_en: str
    start_on: date
    target_code: str | None
    target_value: float | None
    recurrence: str | None
    rule: str | None
    roll: Roll | None
    milestones: tuple[MilestonePlan, ...]

    @property
    def roles(self) -> dict[str, AssignmentRole]:
        return {
            self.request.lead_unit: AssignmentRole.LEAD,
            **dict.fromkeys(self.request.co_units, AssignmentRole.CO),
        }


def fingerprint(request: BaseModel) -> str:
    canonical = json.dumps(request.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def declared_obligation(catalogue: Catalogue | None, request: CreateObligations) -> Obligation:
    """The catalogue's declaration of the obligation; raises Refused when there is none."""
    if catalogue is None or catalogue.year != request.year:
        raise Refused(
            Code.UNKNOWN_YEAR,
            f"{request.year}年度没有生效的举措清单",
            f"no catalogue is in force for {request.year}",
        )
    declared = catalogue.obligation(request.kind.value)
    if declared is None:
        raise Refused(
            Code.NOT_AN_OBLIGATION,
            f"{request.year}年度举措清单没有“{TEMPLATES[request.kind].title_zh}”这项周期性工作任务",
            f"the {request.year} catalogue declares no {request.kind.value}",
        )
    return declared[2]


def obligation_units(
    request: CreateObligations,
    obligation: Obligation,
    units: UnitDirectory,
    lead_units: Iterable[str],
) -> tuple[str, ...]:
    """The units to give the obligation: those asked for, each of which must carry it, or every
    carrier. `lead_units` are the units leading the measure's assignments of the year."""
    match obligation.carried_by:
        case "named":
            carriers = obligation.units
        case "lead_units":
            carriers = tuple(sorted(set(lead_units)))
        case "all_units":
            carriers = tuple(u.code for u in units.units if not u.is_office)
    outside = [u for u in request.units if u not in carriers]
    if outside:
        raise Refused(
            Code.NOT_OBLIGATION_CARRIER,
            f"该项周期性工作任务由 {'、'.join(carriers) or '（暂无）'} 承担，"
            f"不由 {'、'.join(outside)} 承担",
            f"{request.kind.value} is carried by {obligation.carried_by} "
            f"({', '.join(carriers) or 'none yet'}), not by {', '.join(outside)}",
        )
    return request.units or carriers


def obligation_request(
    request: CreateObligations, unit: str, catalogue: Catalogue
) -> CreateAssignment:
    template = TEMPLATES[request.kind]
    declared = catalogue.obligation(request.kind.value)
    assert declared is not None, "declared_obligation checked it"
    return CreateAssignment(
        assignment_id=f"{request.kind.value}.{request.year}.{unit}",
        year=request.year,
        measure_code=declared[1].code,
        lead_unit=unit,
        title_zh=template.title_zh,
        title_en=template.title_en,
        recurrence=RecurrenceInput(kind=request.kind),
        created_by=request.created_by,
    )


def plan_assignment(
    request: CreateAssignment,
    catalogue: Catalogue | None,
    units: UnitDirectory,
    calendar: WorkingCalendar,
    today: date,
) -> Plan:
    """Check an assignment against the catalogue of its year and the directory; raises Refused.
    A plan made during its year starts today by default, so deadlines already past are not
    planned (and reported missed) by accident; give `start_on` to record an earlier plan."""
    if catalogue is None or catalogue.year != request.year:
        raise Refused(
            Code.UNKNOWN_YEAR,
            f"{request.year}年度没有举措清单",
            f"no catalogue is in force for {request.year}",
        )
    item = catalogue.item(request.measure_code)
    if item is None:
        raise Refused(
            Code.UNKNOWN_MEASURE,
            f"{request.year}年度举措清单中没有 {request.measure_code}",
            f"{request.measure_code!r} is not in the {request.year} catalogue",
        )
    _check_units(request, units, catalogue)
    target_code, target_value = _target(request, item)
    start_on = request.start_on or max(date(request.year, 1, 1), today)
    recurrence, rule, roll, milestones, start_on = _schedule(request, start_on, calendar)
    return Plan(
        request=request,
        item=item,
        measure_type=item.measure.type,
        title_zh=request.title_zh or item.title_zh,
        title_en=request.title_en or request.title_zh or item.title_en,
        start_on=start_on,
        target_code=target_code,
        target_value=target_value,
        recurrence=recurrence,
        rule=rule,
        roll=roll,
        milestones=milestones,
    )


def _check_units(request: CreateAssignment, units: UnitDirectory, catalogue: Catalogue) -> None:
    for code in (request.lead_unit, *request.co_units):
        unit = units.unit(code)
        if unit is None:
            raise Refused(
                Code.UNKNOWN_UNIT,
                f"单位名录中没有代码为 {code} 的单位",
                f"unit {code!r} is not in the directory",
            )
        if unit.is_office and not _named_carrier(request, catalogue, code):
            raise Refused(
                Code.UNIT_NOT_ASSIGNABLE,
                f"{unit.name_zh}是市“五型”办，不参加考核",
                f"{code!r} is the office",
            )
    if request.lead_unit in request.co_units:
        raise Refused(
            Code.INVALID_UNITS,
            f"{request.lead_unit} 既是牵头单位又是协办单位",
            f"{request.lead_unit!r} is both lead and co-operating",
        )
    if len(set(request.co_units)) != len(request.co_units):
        raise Refused(Code.INVALID_UNITS, "协办单位重复", "a co-operating unit is listed twice")


def _named_carrier(request: CreateAssignment, catalogue: Catalogue, unit: str) -> bool:
    """The office carries work only where the catalogue names it (G3's weekly feature report)."""
    kind = request.recurrence.kind if request.recurrence else None
    declared = catalogue.obligation(kind.value) if kind else None
    return declared is not None and unit in declared[2].units


def _target(request: CreateAssignment, item: CatalogueItem) -> tuple[str | None, float | None]:
    code = request.target_code or (item.target.code if item.target else None)
    if code is None:
        if request.target_value is not None:
            raise Refused(
                Code.UNKNOWN_TARGET,
                "填写目标值须注明量化目标编号",
                "target_value needs a target_code",
            )
        return None, None
    target = next((t for t in item.measure.targets if t.code == code), None)
    if target is None:
        raise Refused(
            Code.UNKNOWN_TARGET,
            f"举措 {item.measure.code}（{item.measure.title_zh}）没有编号为 {code} 的量化目标",
            f"{item.measure.code} has no target {code!r}",
        )
    value = request.target_value
    if value is None and isinstance(target.value, int | float) and target.metric != "boolean":
        value = float(target.value)
    if value is not None and (problem := target.out_of_range(value)):
        raise Refused(Code.VALUE_OUT_OF_RANGE, *problem)
    return code, value


def _schedule(
    request: CreateAssignment, start_on: date, calendar: WorkingCalendar
) -> tuple[str | None, str | None, Roll | None, tuple[MilestonePlan, ...], date]:
    """The milestones, and the plan's start: an obligation planned in the middle of a period
    covers that whole period, so work done since the period began counts."""
    if (request.recurrence is None) == (not request.milestones):
        raise Refused(
            Code.INVALID_MILESTONES,
            "节点任务和周期规则只能二选一",
            "give either milestones or a recurrence rule",
        )
    if request.recurrence is None:
        return None, None, None, _milestones(request, start_on), start_on
    recurrence = request.recurrence
    template = TEMPLATES[recurrence.kind] if recurrence.kind else None
    rule = recurrence.rule or (template.rule if template else "")
    roll = recurrence.roll or (template.roll if template else Roll.PRECEDING)
    try:
        found = [o for o in occurrences(rule, roll, request.year, calendar) if o.due >= start_on]
    except RecurrenceError as exc:
        raise Refused(Code.INVALID_RECURRENCE, f"周期规则 {rule} 无法解析", str(exc)) from exc
    if not found:
        raise Refused(
            Code.INVALID_RECURRENCE,
            f"{chinese_date(start_on)}及以后没有到期的周期性工作任务",
            f"no occurrence is due on or after {start_on}",
        )
    title = request.title_zh or (template.title_zh if template else request.measure_code)
    plans = tuple(
        MilestonePlan(
            milestone_id=o.key,
            title=f"{title}（{o.key}）",
            unit=request.lead_unit,
            due_date=o.due,
            expected_percent=round(100 * (n + 1) / len(found), 2),
        )
        for n, o in enumerate(found)
    )
    kind = recurrence.kind.value if recurrence.kind and not recurrence.rule else CUSTOM_RECURRENCE
    return kind, rule, roll, plans, min(start_on, found[0].period_start)


def _milestones(request: CreateAssignment, start_on: date) -> tuple[MilestonePlan, ...]:
    ordered = sorted(request.milestones, key=lambda m: m.due_date)
    ids = [m.milestone_id for m in ordered]
    if len(set(ids)) != len(ids):
        raise Refused(Code.INVALID_MILESTONES, "节点编号重复", "two milestones share an id")
    allowed = {request.lead_unit, *request.co_units}
    for m in ordered:
        if m.due_date < start_on:
            raise Refused(
                Code.INVALID_MILESTONES,
                f"节点任务 {m.milestone_id} 的限办日期早于开始日期{chinese_date(start_on)}",
                f"{m.milestone_id} is due before {start_on}",
            )
        if m.due_date.year > request.year + 1:
            raise Refused(
                Code.INVALID_MILESTONES,
                f"节点任务 {m.milestone_id} 的限办日期晚于{request.year + 1}年",
                f"{m.milestone_id} is due after {request.year + 1}",
            )
        if m.unit is not None and m.unit not in allowed:
            raise Refused(
                Code.INVALID_MILESTONES,
                f"节点任务 {m.milestone_id} 的责任单位 {m.unit} 不在该交办任务的单位之中",
                f"{m.milestone_id}: {m.unit!r} is not on the assignment",
            )
    return tuple(
        MilestonePlan(
            milestone_id=m.milestone_id,
            title=m.title,
            unit=m.unit or request.lead_unit,
            due_date=m.due_date,
            expected_percent=expected,
        )
        for m, expected in zip(ordered, _expected_curve(ordered), strict=True)
    )


def _expected_curve(ordered: list[MilestoneInput]) -> list[float]:
    given = [m.expected_percent for m in ordered]
    if all(p is None for p in given):
        return [round(100 * (n + 1) / len(ordered), 2) for n in range(len(ordered))]
    if any(p is None for p in given):
        raise Refused(
            Code.INVALID_MILESTONES,
            "应完成进度须每个节点都填或都不填",
            "give expected_percent on every milestone or none",
        )
    values = [float(p or 0) for p in given]
    if any(later < earlier for earlier, later in pairwise(values)):
        raise Refused(
            Code.INVALID_MILESTONES,
            "应完成进度不能比上一节点低",
            "expected_percent falls between milestones",
        )
    if values[-1] != 100:
        raise Refused(
            Code.INVALID_MILESTONES,
            "最后一个节点的应完成进度须为100%",
            "the last milestone must expect 100 percent",
        )
    return values
