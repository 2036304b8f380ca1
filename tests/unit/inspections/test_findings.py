"""The rectification state machine, who may move it, deadlines, and raising a finding."""

from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from contracts.inspections import FiveType
from contracts.reasons import Reason
from services.inspections.domain.actors import Actor
from services.inspections.domain.findings import (
    AWAITING_UNIT,
    STATE_NAMES,
    Action,
    CloseRectification,
    RaiseFinding,
    RectificationState,
    ReopenRectification,
    ReturnRectification,
    SubmitRectification,
    Transition,
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
    (S.OPEN, Action.SUBMIT): S.SUBMITTED,
    (S.OPEN, Action.CLOSE): None,
    (S.OPEN, Action.RETURN): None,
    (S.OPEN, Action.REOPEN): None,
    (S.SUBMITTED, Action.SUBMIT): None,
    (S.SUBMITTED, Action.CLOSE): S.CLOSED,
    (S.SUBMITTED, Action.RETURN): S.RETURNED,
    (S.SUBMITTED, Action.REOPEN): None,
    (S.RETURNED, Action.SUBMIT): S.SUBMITTED,
    (S.RETURNED, Action.CLOSE): None,
    (S.RETURNED, Action.RETURN): None,
    (S.RETURNED, Action.REOPEN): None,
    (S.CLOSED, Action.SUBMIT): None,
    (S.CLOSED, Action.CLOSE): None,
    (S.CLOSED, Action.RETURN): None,
    (S.CLOSED, Action.REOPEN): S.REOPENED,
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
        assert state.value in outcome.detail
    else:
        assert outcome is expected


def request_for(action: Action, actor: Actor, due_date: str = "2026-06-30") -> Transition:
    body: dict[str, Any] = {"actor": actor}
    match action:
        case Action.SUBMIT:
            return SubmitRectification(**body, summary="已整改", evidence=EVIDENCE)
        case Action.CLOSE:
            return CloseRectification(**body)
        case Action.RETURN:
            return ReturnRectification(**body, reason="证据不足")
        case Action.REOPEN:
            return ReopenRectification(**body, reason="问题反弹", due_date=due_date)


STARTS = {
    Action.SUBMIT: S.OPEN,
    Action.CLOSE: S.SUBMITTED,
    Action.RETURN: S.SUBMITTED,
    Action.REOPEN: S.CLOSED,
}


@pytest.mark.parametrize("action", [Action.CLOSE, Action.RETURN, Action.REOPEN])
def test_only_inspectors_verify_close_return_and_reopen(action: Action) -> None:
    allowed = request_for(action, INSPECTOR)
    assert transition_refusal(allowed, STARTS[action], "360102", TODAY) is None
    for actor in (unit_actor("360102"), OFFICE):
        refusal = transition_refusal(request_for(action, actor), STARTS[action], "360102", TODAY)
        assert refusal is not None and refusal.code is RefusalCode.ACTOR_NOT_PERMITTED


def test_only_the_responsible_unit_submits_its_rectification() -> None:
    own = request_for(Action.SUBMIT, unit_actor("360102"))
    assert transition_refusal(own, S.OPEN, "360102", TODAY) is None
    other = transition_refusal(
        request_for(Action.SUBMIT, unit_actor("360103")), S.OPEN, "360102", TODAY
    )
    assert other is not None and other.code is RefusalCode.NOT_RESPONSIBLE_UNIT
    assert "360103" in other.detail
    inspector = transition_refusal(request_for(Action.SUBMIT, INSPECTOR), S.OPEN, "360102", TODAY)
    assert inspector is not None and inspector.code is RefusalCode.ACTOR_NOT_PERMITTED


def test_permission_is_checked_before_the_state() -> None:
    refusal = transition_refusal(request_for(Action.CLOSE, unit_actor()), S.OPEN, "360102", TODAY)
    assert refusal is not None and refusal.code is RefusalCode.ACTOR_NOT_PERMITTED


def test_a_new_deadline_cannot_be_in_the_past() -> None:
    past = request_for(Action.REOPEN, INSPECTOR, due_date="2026-06-14")
    refusal = transition_refusal(past, S.CLOSED, "360102", TODAY)
    assert refusal is not None and refusal.code is RefusalCode.DUE_DATE_PASSED
    today = request_for(Action.REOPEN, INSPECTOR, due_date="2026-06-15")
    assert transition_refusal(today, S.CLOSED, "360102", TODAY) is None


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
