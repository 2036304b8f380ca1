"""What the office and the units ask of an assignment besides reporting progress: reviews of
reports, extension and change requests and their decisions, and recognitions. Pure rules."""

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from contracts.common import Day, Evidence, Flag, MeasureCode, Name, Number, Text
from contracts.envelope import UnitCode
from contracts.measures import AchievementKind, AchievementLevel, ChangeKind, Key
from services.measures.domain.catalogue import Target
from services.measures.domain.errors import Code, Refused
from services.runtime.workdays import chinese_date


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Decision(StrEnum):
    ACCEPT = "accept"
    RETURN = "return"


class ReviewReport(_Frozen):
    decision: Decision
    reason: Text = Field(default="", description="Required when the report is returned.")
    reviewer: Name


class RequestChange(_Frozen):
    """A unit asks to move a milestone's deadline (extension) or to change the assignment's or a
    milestone's title or the target value (change)."""

    request_id: Key
    unit: UnitCode
    kind: ChangeKind
    milestone_id: str | None = Field(default=None, max_length=64)
    proposed_due_date: Day | None = None
    proposed_title: Name | None = None
    proposed_target_value: Number | None = None
    reason: Text = Field(min_length=1)
    requested_by: Name


class DecideChange(_Frozen):
    approve: Flag
    reason: Text = Field(default="", description="Required when the request is refused.")
    decided_by: Name


class RecordAchievement(_Frozen):
    achievement_id: Key
    unit: UnitCode
    kind: AchievementKind
    level: AchievementLevel | None = Field(
        default=None, description="国家级/省级/市级; default by kind: national, or city for titles."
    )
    title: Name
    measure_code: MeasureCode | None = Field(
        default=None, description="Default by kind: M04, M06, M09 or G2."
    )
    recognised_on: Day
    evidence: Evidence
    recorded_by: Name


# The measure each kind of recognition counts for, as the policy names them.
ACHIEVEMENT_MEASURE = {
    AchievementKind.NATIONAL_RECOGNITION: "M04",  # 每年至少有一项工作在全国当先锋、作表率
    AchievementKind.NATIONAL_PILOT: "M06",  # 改革创新举措得到国家层面认可或作为全国试点
    AchievementKind.STATE_COUNCIL_INCENTIVE: "M09",  # 国务院督查激励
    AchievementKind.DEMONSTRATION_TITLE: "G2",  # 示范创建
}


def check_review(review: ReviewReport) -> None:
    if review.decision is Decision.RETURN and not review.reason.strip():
        raise Refused(Code.REASON_REQUIRED, "请说明退回理由", "say why the report is returned")


def check_decision(decision: DecideChange) -> None:
    if not decision.approve and not decision.reason.strip():
        raise Refused(
            Code.REASON_REQUIRED, "请说明不予批准的理由", "say why the request is refused"
        )


def check_change(
    request: RequestChange, current_due: date | None, target: Target | None, year: int
) -> None:
    """Whether the request could be approved as asked; `current_due` is the milestone's."""
    if request.kind is ChangeKind.EXTENSION:
        if current_due is None or request.proposed_due_date is None:
            raise Refused(
                Code.INVALID_CHANGE,
                "延期申请须注明节点任务和新的限办日期",
                "an extension names a milestone and a new due date",
            )
        if request.proposed_due_date <= current_due:
            raise Refused(
                Code.INVALID_CHANGE,
                f"新的限办日期{chinese_date(request.proposed_due_date)}不晚于原限办日期{chinese_date(current_due)}",
                f"the new due date {request.proposed_due_date} is not after {current_due}",
            )
        if request.proposed_due_date.year > year + 1:
            raise Refused(
                Code.INVALID_CHANGE,
                f"延期不能超过{year + 1}年",
                f"an extension cannot go beyond {year + 1}",
            )
        if request.proposed_title or request.proposed_target_value is not None:
            raise Refused(
                Code.INVALID_CHANGE,
                "延期申请只能变更限办日期",
                "an extension changes the due date only",
            )
        return
    if request.proposed_due_date is not None:
        raise Refused(
            Code.INVALID_CHANGE,
            "变更限办日期请提出延期申请",
            "ask for a new due date with an extension",
        )
    if request.proposed_title is None and request.proposed_target_value is None:
        raise Refused(
            Code.INVALID_CHANGE,
            "变更申请须提出新的名称或目标值",
            "a change proposes a title or a target value",
        )
    if request.proposed_target_value is not None:
        if request.milestone_id is not None or target is None:
            raise Refused(
                Code.INVALID_CHANGE,
                "只有设有量化目标的交办任务才能变更目标值",
                "only an assignment with a target has a value",
            )
        if problem := target.out_of_range(request.proposed_target_value):
            raise Refused(Code.VALUE_OUT_OF_RANGE, *problem)
