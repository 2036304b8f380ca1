"""挂牌督办, 约谈 and 问责: who may record them and what is refused."""

from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from contracts.reasons import Reason
from services.inspections.domain.accountability import (
    ListItem,
    OpenItem,
    RecordAccountability,
    RecordInterview,
    listing_refusal,
    record_refusal,
)
from services.inspections.domain.refusals import RefusalCode
from tests.unit.inspections.support import INSPECTOR, OFFICE, REFERENCE, unit_actor

TODAY = date(2026, 6, 15)
OPEN = OpenItem("360102", "窗口排队超过一小时", completed=False)


def listing(**changes: Any) -> ListItem:
    fields: dict[str, Any] = {
        "listing_id": "GP-1",
        "actor": OFFICE,
        "item_type": "rectification",
        "item_id": "F-1",
        "reason": "逾期未整改",
        "document": "洪五型办督〔2026〕1号",
        "due_date": "2026-06-30",
    }
    return ListItem.model_validate(fields | changes)


def test_the_office_lists_an_open_item() -> None:
    assert listing_refusal(listing(), OPEN, already_listed=False, today=TODAY) is None


@pytest.mark.parametrize(
    ("request_changes", "item", "listed", "code"),
    [
        ({"actor": INSPECTOR}, OPEN, False, RefusalCode.ACTOR_NOT_PERMITTED),
        ({"actor": unit_actor()}, OPEN, False, RefusalCode.ACTOR_NOT_PERMITTED),
        ({}, None, False, RefusalCode.UNKNOWN_ITEM),
        ({}, OpenItem("360102", "已销号", completed=True), False, RefusalCode.ITEM_CLOSED),
        ({}, OPEN, True, RefusalCode.ALREADY_LISTED),
        ({"due_date": "2026-06-14"}, OPEN, False, RefusalCode.DUE_DATE_PASSED),
    ],
)
def test_a_listing_is_refused_with_a_precise_code(
    request_changes: dict[str, Any], item: OpenItem | None, listed: bool, code: RefusalCode
) -> None:
    refusal = listing_refusal(listing(**request_changes), item, listed, TODAY)
    assert refusal is not None and refusal.code is code


def interview(**changes: Any) -> RecordInterview:
    fields: dict[str, Any] = {
        "interview_id": "YT-1",
        "actor": OFFICE,
        "unit": "360102",
        "held_on": "2026-06-12",
        "interviewer": "市“五型”办主任",
        "interviewees": ["副区长 李强"],
        "reason": "整改逾期",
        "outcome": "限期完成",
    }
    return RecordInterview.model_validate(fields | changes)


def decision(**changes: Any) -> RecordAccountability:
    fields: dict[str, Any] = {
        "decision_id": "WZ-1",
        "actor": OFFICE,
        "unit": "360102",
        "persons": ["赵敏"],
        "form": "admonishment",
        "reason": "整改不力",
        "document": "洪五型办字〔2026〕2号",
        "decided_on": "2026-06-12",
    }
    return RecordAccountability.model_validate(fields | changes)


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({}, None),
        ({"actor": INSPECTOR}, RefusalCode.ACTOR_NOT_PERMITTED),
        ({"unit": "360199"}, Reason.UNKNOWN_UNIT),
        ({"unit": "office"}, Reason.UNKNOWN_UNIT),
    ],
)
def test_interviews_and_decisions_are_the_offices_about_a_known_unit(
    changes: dict[str, Any], code: object
) -> None:
    for request in (interview(**changes), decision(**changes)):
        held = request.held_on if isinstance(request, RecordInterview) else request.decided_on
        refusal = record_refusal(request, held, TODAY, REFERENCE)
        assert (refusal.code if refusal else None) is code


def test_nothing_is_recorded_ahead_of_its_date_or_half_linked() -> None:
    ahead = record_refusal(interview(), date(2026, 6, 20), TODAY, REFERENCE)
    assert ahead is not None and ahead.code is RefusalCode.DATE_IN_FUTURE
    half = decision(item_id="F-1")
    refusal = record_refusal(half, half.decided_on, TODAY, REFERENCE)
    assert refusal is not None and refusal.code is RefusalCode.UNKNOWN_ITEM


@pytest.mark.parametrize(
    "changes", [{"persons": []}, {"document": ""}, {"form": "demotion"}, {"reason": ""}]
)
def test_a_decision_names_persons_a_form_a_reason_and_its_document(
    changes: dict[str, Any],
) -> None:
    with pytest.raises(ValidationError):
        decision(**changes)
