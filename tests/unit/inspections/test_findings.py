"""The rectification state machine, who may move it, deadlines, and raising a finding."""

from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from contracts.inspections import FindingSource, FiveType, RectificationCategory
from contracts.measures import DeadlineItem
from contracts.reasons import Reason
from services.inspections.domain.actors import Actor
from services.inspections.domain.findings import (
    AWAITING_UNIT,
    STATE_NAMES,
    Action,
    CloseRectification,
    FileRectificationPlan,
    RaiseFinding,
    RectificationState,
    ReopenRectification,
    ReturnRectification,
    SubmitRectification,
    Transition,
    current_deadline,
    is_overdue,
    measure_type,
    next_state,
    raise_refusal,
    submitted_on_time,
    transition_refusal,
)
from services.inspections.domain.refusals import Refusal, RefusalCode
from tests.unit.inspections.support import INSPECTOR, OFFICE, REFERENCE, unit_actor

S = RectificationState
TODAY = date(2026, 6, 15)
EVIDENCE = [{"uri": "s3://evidence/fixed.jpg", "sha256": "b" * 64}]

# Every state and action, and where it leads: None means refused.
EXPECTED: dict[tuple[RectificationState, Action], RectificationState | None] = {
    (S.OPEN, Action.PLAN): S.PLANNED,
    (S.OPEN, Action.SUBMIT): S.SUBMITTED,
    (S.OPEN, Action.CLOSE): None,
    (S.OPEN, Action.RETURN): None,
    (S.OPEN, Action.REOPEN): None,
    (S.PLANNED, Action.PLAN): None,
    (S.PLANNED, Action.SUBMIT): S.SUBMITTED,
    (S.PLANNED, Action.CLOSE): None,
    (S.PLANNED, Action.RETURN): None,
    (S.PLANNED, Action.REOPEN): None,
    (S.SUBMITTED, Action.PLAN): None,
    (S.SUBMITTED, Action.SUBMIT): None,
    (S.SUBMITTED, Action.CLOSE): S.CLOSED,
    (S.SUBMITTED, Action.RETURN): S.RETURNED,
    (S.SUBMITTED, Action.REOPEN): None,
    (S.RETURNED, Action.PLAN): None,
    (S.RETURNED, Action.SUBMIT): S.SUBMITTED,
    (S.RETURNED, Action.CLOSE): None,
    (S.RETURNED, Action.RETURN): None,
    (S.RETURNED, Action.REOPEN): None,
    (S.CLOSED, Action.PLAN): None,
    (S.CLOSED, Action.SUBMIT): None,
    (S.CLOSED, Action.CLOSE): None,
    (S.CLOSED, Action.RETURN): None,
    (S.CLOSED, Action.REOPEN): S.REOPENED,
    (S.REOPENED, Action.PLAN): S.PLANNED,
    (S.REOPENED, Action.SUBMIT): S.SUBMITTED,
    (S.REOPENED, Action.CLOSE): None,
    (S.REOPENED, Action.RETURN): None,
    (S.REOPENED, Action.REOPEN): None,
}


def test_the_table_covers_every_state_and_action() -> None:
    assert set(EXPECTED) == {(s, a) for s in S for a in Action}
    assert set(STATE_NAMES) == set(S)


@pytest.mark.parametrize(("state", "action"), sorted(EXPECTED))
def test_each_transition(state: RectificationState, action: Action) -> None:
    outcome = next_state(state, action)
    expected = EXPECTED[(state, action)]
    if expected is None:
        assert isinstance(outcome, Refusal)
        assert outcome.code is Reason.INVALID_TRANSITION
        assert state.value in outcome.detail_en
    else:
        assert outcome is expected


def request_for(action: Action, actor: Actor, due_date: str = "2026-06-30") -> Transition:
    body: dict[str, Any] = {"actor": actor}
    match action:
        case Action.PLAN:
            return FileRectificationPlan(**body, **PLAN)
        case Action.SUBMIT:
            return SubmitRectification(**body, summary="已整改", evidence=EVIDENCE)
        case Action.CLOSE:
            return CloseRectification(**body, opinion="整改到位", approved_by="市五型办主任 张伟")
        case Action.RETURN:
            return ReturnRectification(**body, reason="证据不足")
        case Action.REOPEN:
            return ReopenRectification(**body, reason="问题反弹", due_date=due_date)


PLAN: dict[str, Any] = {
    "measures": ["增设自助服务终端", "高峰时段增开窗口"],
    "responsible_leader": "副区长 李强",
    "responsible_person": "政务服务中心主任 赵敏",
    "milestones": [{"title": "终端到位", "due_date": "2026-06-25"}],
}

STARTS = {
    Action.PLAN: S.OPEN,
    Action.SUBMIT: S.OPEN,
    Action.CLOSE: S.SUBMITTED,
    Action.RETURN: S.SUBMITTED,
    Action.REOPEN: S.CLOSED,
}


@pytest.mark.parametrize("action", [Action.CLOSE, Action.RETURN, Action.REOPEN])
def test_only_inspectors_and_the_office_verify_close_return_and_reopen(action: Action) -> None:
    for actor in (INSPECTOR, OFFICE):
        allowed = request_for(action, actor)
        assert transition_refusal(allowed, STARTS[action], "360102", TODAY, False) is None
    refusal = transition_refusal(
        request_for(action, unit_actor("360102")), STARTS[action], "360102", TODAY, False
    )
    assert refusal is not None and refusal.code is RefusalCode.ACTOR_NOT_PERMITTED


def test_only_the_responsible_unit_submits_its_rectification() -> None:
    own = request_for(Action.SUBMIT, unit_actor("360102"))
    assert transition_refusal(own, S.OPEN, "360102", TODAY, False) is None
    other = transition_refusal(
        request_for(Action.SUBMIT, unit_actor("360103")), S.OPEN, "360102", TODAY, False
    )
    assert other is not None and other.code is RefusalCode.NOT_RESPONSIBLE_UNIT
    assert "360103" in other.detail_en
    inspector = transition_refusal(
        request_for(Action.SUBMIT, INSPECTOR), S.OPEN, "360102", TODAY, False
    )
    assert inspector is not None and inspector.code is RefusalCode.ACTOR_NOT_PERMITTED


def test_permission_is_checked_before_the_state() -> None:
    refusal = transition_refusal(
        request_for(Action.CLOSE, unit_actor()), S.OPEN, "360102", TODAY, False
    )
    assert refusal is not None and refusal.code is RefusalCode.ACTOR_NOT_PERMITTED


def test_a_new_deadline_cannot_be_in_the_past() -> None:
    past = request_for(Action.REOPEN, INSPECTOR, due_date="2026-06-14")
    refusal = transition_refusal(past, S.CLOSED, "360102", TODAY, False)
    assert refusal is not None and refusal.code is RefusalCode.DUE_DATE_PASSED
    today = request_for(Action.REOPEN, INSPECTOR, due_date="2026-06-15")
    assert transition_refusal(today, S.CLOSED, "360102", TODAY, False) is None


@pytest.mark.parametrize(
    ("state", "due", "overdue"),
    [
        (S.OPEN, date(2026, 6, 14), True),
        (S.OPEN, date(2026, 6, 15), False),  # due today: still on time
        (S.RETURNED, date(2026, 6, 1), True),
        (S.REOPENED, date(2026, 6, 1), True),
        (S.SUBMITTED, date(2026, 6, 1), False),  # waiting on the inspector
        (S.CLOSED, date(2026, 6, 1), False),
    ],
)
def test_only_items_the_unit_owes_can_be_overdue(
    state: RectificationState, due: date, overdue: bool
) -> None:
    assert is_overdue(state, due, TODAY) is overdue
    assert (state in AWAITING_UNIT) or not overdue


def test_on_time_is_judged_on_the_china_date_of_the_submission() -> None:
    due = date(2026, 6, 30)
    # 2026-06-30 23:30 in Beijing is 15:30 UTC: still on the due date.
    assert submitted_on_time(datetime(2026, 6, 30, 15, 30, tzinfo=UTC), due)
    # 2026-06-30 16:30 UTC is 00:30 on 1 July in Beijing: a day late.
    assert not submitted_on_time(datetime(2026, 6, 30, 16, 30, tzinfo=UTC), due)


def finding(**changes: Any) -> RaiseFinding:
    fields: dict[str, Any] = {
        "finding_id": "F-2026-001",
        "actor": INSPECTOR,
        "unit": "360102",
        "severity": "serious",
        "category": {"measure_code": "M12"},
        "title": "政务服务窗口排长队",
        "due_date": "2026-07-15",
    }
    return RaiseFinding.model_validate(fields | changes)


TARGETS = ["360102", "dept-fgw"]


def test_a_valid_finding_is_accepted_and_takes_its_measures_type() -> None:
    request = finding()
    assert raise_refusal(request, TARGETS, TODAY, REFERENCE) is None
    assert measure_type(request.category, REFERENCE) is FiveType.SERVICE
    by_type = finding(category={"type": "disciplined"})
    assert measure_type(by_type.category, REFERENCE) is FiveType.DISCIPLINED


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"actor": OFFICE}, RefusalCode.ACTOR_NOT_PERMITTED),
        ({"unit": "360199"}, Reason.UNKNOWN_UNIT),
        ({"unit": "360103"}, RefusalCode.UNIT_NOT_INSPECTED),
        ({"category": {"measure_code": "M99"}}, Reason.UNKNOWN_MEASURE),
        ({"category": {"measure_code": "M12", "type": "loyal"}}, RefusalCode.CATEGORY_MISMATCH),
        ({"due_date": "2026-06-14"}, RefusalCode.DUE_DATE_PASSED),
        (
            {"clues": [{"kind": "public_request", "ref": "R-1"}] * 2},
            RefusalCode.DUPLICATE_CLUES,
        ),
    ],
)
def test_a_finding_is_refused_with_a_precise_code(changes: dict[str, Any], code: object) -> None:
    refusal = raise_refusal(finding(**changes), TARGETS, TODAY, REFERENCE)
    assert refusal is not None and refusal.code is code


@pytest.mark.parametrize(
    "changes",
    [
        {"severity": "grave"},
        {"category": {}},
        {"category": {"type": "brave"}},
        {"clues": [{"kind": "rumour", "ref": "x"}]},
        {"clues": [{"kind": "public_request", "ref": "R 1"}]},
        {"finding_id": "F 1"},
    ],
)
def test_the_schema_refuses_malformed_findings(changes: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        finding(**changes)


def test_a_submission_needs_a_summary_and_evidence() -> None:
    with pytest.raises(ValidationError):
        SubmitRectification(actor=unit_actor(), summary="已整改", evidence=[])
    with pytest.raises(ValidationError):
        SubmitRectification.model_validate(
            {"actor": unit_actor(), "summary": "", "evidence": EVIDENCE}
        )


# ----------------------------------------------------------------------------- the plan stage


def test_an_item_with_a_plan_stage_takes_the_plan_before_the_report() -> None:
    unit = unit_actor("360102")
    plan = request_for(Action.PLAN, unit)
    report = request_for(Action.SUBMIT, unit)
    assert transition_refusal(plan, S.OPEN, "360102", TODAY, True) is None
    early = transition_refusal(report, S.OPEN, "360102", TODAY, True)
    assert early is not None and early.code is RefusalCode.PLAN_REQUIRED
    assert transition_refusal(report, S.PLANNED, "360102", TODAY, True) is None
    # 反弹 restarts the loop: a new plan first.
    again = transition_refusal(report, S.REOPENED, "360102", TODAY, True)
    assert again is not None and again.code is RefusalCode.PLAN_REQUIRED
    # 立行立改: no plan stage, straight to the report.
    assert transition_refusal(report, S.OPEN, "360102", TODAY, False) is None
    needless = transition_refusal(plan, S.OPEN, "360102", TODAY, False)
    assert needless is not None and needless.code is RefusalCode.PLAN_NOT_REQUIRED


@pytest.mark.parametrize(
    ("changes", "missing"),
    [
        ({"measures": []}, "measures"),
        ({"measures": ["  "]}, "measures"),
        ({"responsible_leader": ""}, "responsible_leader"),
        ({"responsible_person": " "}, "responsible_person"),
    ],
)
def test_a_plan_needs_measures_and_both_responsible_people(
    changes: dict[str, Any], missing: str
) -> None:
    plan = FileRectificationPlan(actor=unit_actor(), **(PLAN | changes))
    refusal = transition_refusal(plan, S.OPEN, "360102", TODAY, True)
    assert refusal is not None and refusal.code is RefusalCode.PLAN_INCOMPLETE
    assert missing in refusal.detail_en


@pytest.mark.parametrize(
    ("changes", "missing"),
    [({"opinion": ""}, "opinion"), ({"approved_by": " "}, "approved_by")],
)
def test_a_close_out_needs_a_written_opinion_and_its_approving_leader(
    changes: dict[str, Any], missing: str
) -> None:
    body = {"opinion": "整改到位", "approved_by": "市五型办主任 张伟"} | changes
    close = CloseRectification(actor=INSPECTOR, **body)
    refusal = transition_refusal(close, S.SUBMITTED, "360102", TODAY, False)
    assert refusal is not None and refusal.code is RefusalCode.CLOSE_OUT_INCOMPLETE
    assert missing in refusal.detail_en


def test_the_deadline_an_item_waits_on_follows_its_stage() -> None:
    plan_due, due, check = date(2026, 6, 20), date(2026, 7, 15), date(2026, 7, 1)
    assert current_deadline(S.OPEN, True, plan_due, due, None) == (
        DeadlineItem.RECTIFICATION_PLAN,
        plan_due,
    )
    assert current_deadline(S.OPEN, False, None, due, None) == (DeadlineItem.RECTIFICATION, due)
    assert current_deadline(S.PLANNED, True, plan_due, due, None) == (
        DeadlineItem.RECTIFICATION,
        due,
    )
    assert current_deadline(S.SUBMITTED, True, plan_due, due, check) == (
        DeadlineItem.VERIFICATION,
        check,
    )
    assert current_deadline(S.CLOSED, True, plan_due, due, check) is None


def test_a_finding_without_a_source_or_category_is_an_immediate_supervision_item() -> None:
    request = finding()
    assert request.source is FindingSource.SUPERVISION
    assert request.rectification_category is RectificationCategory.IMMEDIATE
    assert finding(due_date=None).due_date is None  # the rules give the default
