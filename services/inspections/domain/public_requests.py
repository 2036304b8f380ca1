"""The life of a public request (12345 hotline, mailboxes, …) as its channel reports it. Pure.

    received ──► open ──closed──► closed ──reopened──► reopened ──closed──► closed …
                                    └──rated (once per closure)

Steps come in order with their own timestamps; the time limit (`due_at`) is the channel's.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from contracts.inspections import (
    PublicChannel,
    RequestClosed,
    RequestRated,
    RequestReceived,
    RequestReopened,
)
from contracts.reasons import Reason
from services.inspections.domain.actors import Actor, Role, require_role, require_unit
from services.inspections.domain.reference import ReferenceData
from services.inspections.domain.refusals import Refusal
from services.runtime.workdays import chinese_moment

Step = RequestReceived | RequestClosed | RequestRated | RequestReopened
LaterStep = RequestClosed | RequestRated | RequestReopened


class RequestState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    REOPENED = "reopened"


STATE_NAMES: dict[RequestState, tuple[str, str]] = {
    RequestState.OPEN: ("办理中", "in progress"),
    RequestState.CLOSED: ("已办结", "closed"),
    RequestState.REOPENED: ("重办中", "reopened"),
}
CHANNEL_NAMES: dict[PublicChannel, str] = {
    PublicChannel.HOTLINE_12345: "12345政务服务便民热线",
    PublicChannel.MAYOR_MAILBOX: "市长手机信箱",
    PublicChannel.GOVERNOR_MAILBOX: "省长手机信箱",
    PublicChannel.WENZHENG_JIANGXI: "问政江西",
    PublicChannel.STYLE_COLUMN: "“怕慢假庸散”专栏",
    PublicChannel.OTHER: "其他渠道",
}
RATING_NAMES: dict[int, str] = {
    5: "非常满意",
    4: "满意",
    3: "基本满意",
    2: "不满意",
    1: "非常不满意",
}
OPEN_STATES = frozenset({RequestState.OPEN, RequestState.REOPENED})
# Each step as a refusal says it.
STEP_NAMES: dict[str, str] = {
    "received": "受理",
    "closed": "办结",
    "rated": "评价",
    "reopened": "重办",
}


@dataclass(frozen=True)
class RequestSnapshot:
    """What the rules need to know about a stored request."""

    unit: str
    state: RequestState
    last_step_at: datetime
    rated_since_closure: bool


def step_time(step: Step) -> datetime:
    match step:
        case RequestReceived():
            return step.received_at
        case RequestClosed():
            return step.closed_at
        case RequestRated():
            return step.rated_at
        case RequestReopened():
            return step.reopened_at


def state_after(step: Step) -> RequestState:
    match step:
        case RequestReceived():
            return RequestState.OPEN
        case RequestClosed() | RequestRated():
            return RequestState.CLOSED
        case RequestReopened():
            return RequestState.REOPENED


def permission_refusal(actor: Actor, step: Step, unit: str) -> Refusal | None:
    """The channel reports every step; the office may too; a unit may report its own closure."""
    if isinstance(step, RequestClosed) and actor.role is Role.UNIT:
        return require_unit(actor, unit, action=("办结诉求工单", "close a public request"))
    action = (f"报送诉求工单{STEP_NAMES[step.step]}环节", f"report a {step.step} step")
    return require_role(actor, Role.CHANNEL, Role.OFFICE, action=action)


def _in_future(moment: datetime, now: datetime, skew: timedelta) -> Refusal | None:
    if moment > now + skew:
        return Refusal(
            Reason.REPORTED_IN_FUTURE,
            f"{chinese_moment(moment)}晚于当前时间{chinese_moment(now)}",
            f"{moment.isoformat()} is after {now.isoformat()}",
        )
    return None


def _deadline_refusal(due_at: datetime, start: datetime) -> Refusal | None:
    if due_at > start:
        return None
    return Refusal(
        Reason.DEADLINE_NOT_AFTER_START,
        f"办理时限{chinese_moment(due_at)}不晚于开始时间{chinese_moment(start)}",
        f"due_at {due_at.isoformat()} is not after {start.isoformat()}",
    )


def receipt_refusal(
    unit: str,
    step: RequestReceived,
    reference: ReferenceData,
    repeat_known: bool,
    now: datetime,
    skew: timedelta,
) -> Refusal | None:
    """Why a new request cannot be recorded; `repeat_known` tells whether `repeat_of` exists."""
    if reference.unit(unit) is None:
        return Refusal(
            Reason.UNKNOWN_UNIT,
            f"单位名录中没有 {unit}",
            f"unit {unit!r} is not in the directory",
        )
    if refusal := _in_future(step.received_at, now, skew):
        return refusal
    if refusal := _deadline_refusal(step.due_at, step.received_at):
        return refusal
    if step.repeat_of is not None and not repeat_known:
        return Refusal(
            Reason.UNKNOWN_PUBLIC_REQUEST,
            f"所称重复的诉求工单 {step.repeat_of} 不存在",
            f"repeat_of {step.repeat_of!r} is not on record",
        )
    return None


def later_step_refusal(
    step: LaterStep, request: RequestSnapshot, now: datetime, skew: timedelta
) -> Refusal | None:
    """Why a step cannot follow what is on record for the request, or None."""
    moment = step_time(step)
    if refusal := _in_future(moment, now, skew):
        return refusal
    if moment < request.last_step_at:
        return Refusal(
            Reason.STEP_OUT_OF_ORDER,
            f"{STEP_NAMES[step.step]}时间{chinese_moment(moment)}早于上一环节的时间"
            f"{chinese_moment(request.last_step_at)}",
            f"{step.step} at {moment.isoformat()} is before the previous step at "
            f"{request.last_step_at.isoformat()}",
        )
    allowed = {
        "closed": request.state in OPEN_STATES,
        "rated": request.state is RequestState.CLOSED and not request.rated_since_closure,
        "reopened": request.state is RequestState.CLOSED,
    }[step.step]
    if not allowed:
        already = " and already rated" if request.rated_since_closure else ""
        already_zh = "且已评价" if request.rated_since_closure else ""
        return Refusal(
            Reason.INVALID_TRANSITION,
            f"诉求工单当前为“{STATE_NAMES[request.state][0]}”{already_zh}，"
            f"不能登记{STEP_NAMES[step.step]}",
            f"cannot record {step.step!r} for a request that is {request.state.value}{already}",
        )
    if isinstance(step, RequestReopened):
        return _deadline_refusal(step.due_at, step.reopened_at)
    return None
