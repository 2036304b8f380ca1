"""Rules for accepting a unit's progress report. Pure: no I/O; the handler loads the facts (the
unit, the assignments the report may mean and their milestones) and passes the clock in."""

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from contracts.measures import AssignmentRole, ProgressReported, ReportProgress
from contracts.reasons import Reason
from services.measures.domain.catalogue import Catalogue, Target, Unit
from services.runtime.workdays import chinese_date, chinese_moment, local_date


@dataclass(frozen=True)
class Refusal:
    """Why a report is refused: `detail` in English; `detail_zh` in Chinese with the unit and
    measure by name (or the fields a schema error names), None where the reason says it all."""

    reason: Reason
    detail: str
    detail_zh: str | None = None


def measure_name(catalogue: Catalogue | None, code: str) -> str:
    """M07（扎实推动数字政府建设大跨越）, or the bare code for one the catalogue lacks."""
    item = catalogue.item(code) if catalogue else None
    return f"{code}（{item.title_zh}）" if item else code


@dataclass(frozen=True)
class AssignmentFacts:
    """What intake needs to know of an assignment."""

    pk: int
    assignment_id: str
    year: int
    measure_code: str
    measure_root: str
    measure_type: str | None
    roles: dict[str, AssignmentRole]
    start_on: date
    target_code: str | None
    recurrence: str | None


@dataclass(frozen=True)
class MilestoneFacts:
    pk: int
    assignment_pk: int
    milestone_id: str
    unit: str
    due_date: date


@dataclass(frozen=True)
class Facts:
    """Everything the rules read for one report."""

    unit: Unit | None
    catalogues: dict[int, Catalogue]
    candidates: Sequence[AssignmentFacts]
    milestones: Sequence[MilestoneFacts] = field(default_factory=tuple)


@dataclass(frozen=True)
class Checked:
    """A report that passed every rule, with what it was found to be about."""

    unit: Unit
    assignment: AssignmentFacts
    milestone: MilestoneFacts | None
    target_code: str | None
    measure_title: str


def check(
    report: ReportProgress, facts: Facts, now: datetime, clock_skew: timedelta
) -> Checked | Refusal:
    """Whether `report` can be accepted, and what it is about."""
    if facts.unit is None:
        return Refusal(
            Reason.UNKNOWN_UNIT,
            f"unit {report.unit!r} is not in the directory",
            f"单位名录中没有代码为 {report.unit} 的单位",
        )
    if report.reported_at > now + clock_skew:
        return Refusal(
            Reason.REPORTED_IN_FUTURE,
            f"reported_at {report.reported_at.isoformat()} is after {now.isoformat()}",
            f"报告时间 {chinese_moment(report.reported_at)} 晚于当前时间 {chinese_moment(now)}",
        )
    assignment = _assignment(report, facts)
    if isinstance(assignment, Refusal):
        return assignment
    if local_date(report.reported_at) < assignment.start_on:
        return Refusal(
            Reason.REPORTED_BEFORE_START,
            f"{assignment.assignment_id} starts on {assignment.start_on}",
            f"交办任务 {assignment.assignment_id} 自{chinese_date(assignment.start_on)}开始",
        )
    milestone = _milestone(report, assignment, facts.milestones)
    if isinstance(milestone, Refusal):
        return milestone
    catalogue = facts.catalogues[assignment.year]
    target = _target(report, assignment, catalogue)
    if isinstance(target, Refusal):
        return target
    item = catalogue.item(report.measure_code)
    return Checked(
        unit=facts.unit,
        assignment=assignment,
        milestone=milestone,
        target_code=target.code if target else None,
        measure_title=item.title_zh if item else report.measure_code,
    )


def _assignment(report: ReportProgress, facts: Facts) -> AssignmentFacts | Refusal:
    year = local_date(report.reported_at).year
    if report.assignment_id is not None:
        # Another unit's assignment is answered as one that does not exist: a unit must not
        # learn which assignments other units have (docs/security.md, unit isolation).
        found = [
            a
            for a in facts.candidates
            if a.assignment_id == report.assignment_id and report.unit in a.roles
        ]
        if not found:
            unit_zh = facts.unit.name_zh if facts.unit else report.unit
            return Refusal(
                Reason.UNKNOWN_ASSIGNMENT,
                f"{report.unit} has no assignment {report.assignment_id!r}",
                f"{unit_zh}没有编号为 {report.assignment_id} 的交办任务",
            )
        chosen = found[0]
    else:
        chosen_or_refusal = _implied_assignment(report, facts, year)
        if isinstance(chosen_or_refusal, Refusal):
            return chosen_or_refusal
        chosen = chosen_or_refusal
    if report.measure_code not in (chosen.measure_code, chosen.measure_root):
        catalogue = facts.catalogues.get(chosen.year)
        return Refusal(
            Reason.MEASURE_MISMATCH,
            f"{chosen.assignment_id} is about {chosen.measure_code}, not {report.measure_code}",
            f"交办任务 {chosen.assignment_id} 对应举措 "
            f"{measure_name(catalogue, chosen.measure_code)}，不是 {report.measure_code}",
        )
    return chosen


def _implied_assignment(
    report: ReportProgress, facts: Facts, year: int
) -> AssignmentFacts | Refusal:
    """The unit's one assignment of the measure in the report's year (exact code first)."""
    mine = [a for a in facts.candidates if report.unit in a.roles and a.year == year]
    found = [a for a in mine if a.measure_code == report.measure_code] or [
        a for a in mine if a.measure_root == report.measure_code
    ]
    if len(found) == 1:
        return found[0]
    if found:
        ids = sorted(a.assignment_id for a in found)
        return Refusal(
            Reason.AMBIGUOUS_ASSIGNMENT,
            f"name one of: {', '.join(ids)}",
            f"请注明交办任务编号：{'、'.join(ids)}",
        )
    catalogue = facts.catalogues.get(year)
    if catalogue is None:
        return Refusal(
            Reason.UNKNOWN_ASSIGNMENT,
            f"no programme catalogue for {year}",
            f"{year}年度没有举措清单",
        )
    if catalogue.item(report.measure_code) is None:
        return Refusal(
            Reason.UNKNOWN_MEASURE,
            f"measure {report.measure_code!r} is not in the {year} catalogue",
            f"{year}年度举措清单中没有 {report.measure_code}",
        )
    unit_zh = facts.unit.name_zh if facts.unit else report.unit
    return Refusal(
        Reason.UNKNOWN_ASSIGNMENT,
        f"{report.unit} has no assignment of {report.measure_code} in {year}",
        f"{unit_zh}没有{year}年度{measure_name(catalogue, report.measure_code)}的交办任务",
    )


def _milestone(
    report: ReportProgress, assignment: AssignmentFacts, milestones: Sequence[MilestoneFacts]
) -> MilestoneFacts | Refusal | None:
    own = [m for m in milestones if m.assignment_pk == assignment.pk]
    if report.milestone_id is None:
        if assignment.recurrence is None:
            return None
        return _current_occurrence(report, assignment, own)
    found = next((m for m in own if m.milestone_id == report.milestone_id), None)
    if found is None:
        return Refusal(
            Reason.UNKNOWN_MILESTONE,
            f"{assignment.assignment_id} has no milestone {report.milestone_id!r}",
            f"交办任务 {assignment.assignment_id} 没有编号为 {report.milestone_id} 的节点任务",
        )
    if found.unit != report.unit:
        return Refusal(
            Reason.MILESTONE_OF_OTHER_UNIT,
            f"milestone {found.milestone_id} is delivered by {found.unit}",
            f"节点任务 {found.milestone_id} 由 {found.unit} 负责",
        )
    return found


def _current_occurrence(
    report: ReportProgress, assignment: AssignmentFacts, own: list[MilestoneFacts]
) -> MilestoneFacts | Refusal:
    day = local_date(report.reported_at)
    upcoming = sorted(
        (m for m in own if m.unit == report.unit and m.due_date >= day), key=lambda m: m.due_date
    )
    if not upcoming:
        return Refusal(
            Reason.UNKNOWN_MILESTONE,
            f"{assignment.assignment_id} has no occurrence due on or after {day}; "
            "name the milestone",
            f"交办任务 {assignment.assignment_id} 在{chinese_date(day)}及以后没有到期的周期性"
            "工作任务，请注明节点编号",
        )
    return upcoming[0]


def _target(
    report: ReportProgress, assignment: AssignmentFacts, catalogue: Catalogue
) -> Target | Refusal | None:
    if report.target_code is None and report.target_value is None:
        return None
    code = report.target_code or assignment.target_code
    measure = catalogue.measure(assignment.measure_root)
    target = next((t for t in measure.targets if t.code == code), None) if measure else None
    if target is None:
        name = measure_name(catalogue, assignment.measure_root)
        if code:
            return Refusal(
                Reason.UNKNOWN_TARGET,
                f"{assignment.measure_root} has no target {code!r}",
                f"举措 {name} 没有编号为 {code} 的量化目标",
            )
        return Refusal(
            Reason.UNKNOWN_TARGET,
            f"{assignment.assignment_id} has no target; name target_code",
            f"交办任务 {assignment.assignment_id} 没有量化目标，请注明目标编号",
        )
    if report.target_value is None:
        return Refusal(
            Reason.VALUE_OUT_OF_RANGE,
            f"{target.code} needs a target_value",
            f"量化目标 {target.code} 需填报目标值",
        )
    if problem := target.out_of_range(report.target_value):
        return Refusal(Reason.VALUE_OUT_OF_RANGE, problem[1], problem[0])
    return target


def fingerprint(report: ReportProgress) -> str:
    """Content hash that tells a retried report from a different one reusing its id."""
    canonical = json.dumps(report.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def reported_event(
    report: ReportProgress, checked: Checked, milestone_completed: bool | None
) -> ProgressReported:
    assignment, milestone = checked.assignment, checked.milestone
    return ProgressReported(
        report_id=report.report_id,
        unit=report.unit,
        unit_name=checked.unit.name_zh,
        measure_code=report.measure_code,
        measure_title=checked.measure_title,
        milestone_id=milestone.milestone_id if milestone else None,
        percent_complete=report.percent_complete,
        summary=report.summary,
        reported_at=report.reported_at,
        reporter=report.reporter,
        evidence=report.evidence,
        assignment_id=assignment.assignment_id,
        year=assignment.year,
        role=assignment.roles[report.unit],
        measure_type=assignment.measure_type,
        peer_group=checked.unit.peer_group,
        recurrence=assignment.recurrence,
        milestone_due_date=milestone.due_date if milestone else None,
        on_time=local_date(report.reported_at) <= milestone.due_date if milestone else None,
        milestone_completed=milestone_completed,
        target_code=checked.target_code,
        target_value=report.target_value,
    )
