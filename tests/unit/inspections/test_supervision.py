"""The supervisors' terms and the rules for their suggestions."""

from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from contracts.reasons import Reason
from services.inspections.domain.refusals import RefusalCode
from services.inspections.domain.supervision import (
    AnswerSuggestion,
    FileSuggestion,
    SuggestionFeedback,
    SuggestionState,
    Term,
    answer_refusal,
    current_term,
    exit_refusal,
    feedback_refusal,
    filing_refusal,
    serving,
    term_refusal,
)
from tests.unit.inspections.support import (
    INSPECTOR,
    OFFICE,
    REFERENCE,
    supervisor_actor,
    unit_actor,
)

TODAY = date(2026, 6, 15)
FIRST = Term(date(2025, 1, 1), date(2026, 12, 31))


def test_a_term_covers_its_days_until_an_exit() -> None:
    assert FIRST.covers(date(2025, 1, 1)) and FIRST.covers(date(2026, 12, 31))
    assert not FIRST.covers(date(2027, 1, 1))
    exited = Term(date(2025, 1, 1), date(2026, 12, 31), exited_on=date(2026, 6, 15))
    assert exited.last_day == date(2026, 6, 14)
    assert serving([exited], date(2026, 6, 14)) and not serving([exited], TODAY)


def test_terms_must_end_after_they_start_and_must_not_overlap() -> None:
    backwards = term_refusal(date(2027, 1, 1), date(2027, 1, 1), [FIRST])
    assert backwards is not None and backwards.code is RefusalCode.TERM_NOT_AFTER_START
    overlap = term_refusal(date(2026, 12, 31), date(2028, 12, 31), [FIRST])
    assert overlap is not None and overlap.code is RefusalCode.TERM_OVERLAPS
    assert term_refusal(date(2027, 1, 1), date(2028, 12, 31), [FIRST]) is None


def test_after_an_exit_the_unserved_rest_of_the_term_is_free_again() -> None:
    exited = Term(date(2025, 1, 1), date(2026, 12, 31), exited_on=date(2026, 3, 1))
    assert term_refusal(date(2026, 6, 1), date(2027, 5, 31), [exited]) is None
    assert term_refusal(date(2026, 2, 28), date(2027, 5, 31), [exited]) is not None


def test_an_exit_must_fall_in_a_term() -> None:
    assert exit_refusal(TODAY, [FIRST]) is None
    assert current_term([FIRST], TODAY) == 0
    refusal = exit_refusal(date(2027, 3, 1), [FIRST])
    assert refusal is not None and refusal.code is RefusalCode.EXIT_OUTSIDE_TERM


def suggestion(**changes: Any) -> FileSuggestion:
    fields: dict[str, Any] = {
        "suggestion_id": "S-2026-01",
        "actor": OFFICE,
        "supervisor_id": "SV-001",
        "unit": "dept-xzspj",
        "title": "建议延长政务大厅周末服务时间",
        "content": "群众反映周末办事不便，建议周六上午开放。",
    }
    return FileSuggestion.model_validate(fields | changes)


DUE = date(2026, 7, 15)


def test_the_office_or_the_supervisor_in_person_files_a_suggestion() -> None:
    assert filing_refusal(suggestion(), [FIRST], DUE, TODAY, REFERENCE) is None
    own = suggestion(actor=supervisor_actor("SV-001"))
    assert filing_refusal(own, [FIRST], DUE, TODAY, REFERENCE) is None
    for actor in (supervisor_actor("SV-002"), INSPECTOR, unit_actor()):
        refusal = filing_refusal(suggestion(actor=actor), [FIRST], DUE, TODAY, REFERENCE)
        assert refusal is not None and refusal.code is RefusalCode.ACTOR_NOT_PERMITTED


@pytest.mark.parametrize(
    ("terms", "changes", "due", "code"),
    [
        (None, {}, DUE, RefusalCode.UNKNOWN_SUPERVISOR),
        ([Term(date(2024, 1, 1), date(2025, 12, 31))], {}, DUE, RefusalCode.SUPERVISOR_NOT_SERVING),
        ([FIRST], {"unit": "dept-none"}, DUE, Reason.UNKNOWN_UNIT),
        ([FIRST], {}, date(2026, 6, 14), RefusalCode.DUE_DATE_PASSED),
    ],
)
def test_a_suggestion_is_refused_with_a_precise_code(
    terms: list[Term] | None, changes: dict[str, Any], due: date, code: object
) -> None:
    refusal = filing_refusal(suggestion(**changes), terms, due, TODAY, REFERENCE)
    assert refusal is not None and refusal.code is code


def test_only_the_assigned_unit_answers_and_only_once_per_round() -> None:
    answer = AnswerSuggestion(actor=unit_actor("dept-xzspj"), answer="已调整为周六上午开放")
    assert answer_refusal(answer, SuggestionState.ASSIGNED, "dept-xzspj") is None
    again = answer_refusal(answer, SuggestionState.ANSWERED, "dept-xzspj")
    assert again is not None and again.code is Reason.INVALID_TRANSITION
    other = answer_refusal(
        answer.model_copy(update={"actor": unit_actor("360102")}),
        SuggestionState.ASSIGNED,
        "dept-xzspj",
    )
    assert other is not None and other.code is RefusalCode.NOT_RESPONSIBLE_UNIT


def test_feedback_follows_an_answer_and_a_new_round_needs_a_deadline() -> None:
    satisfied = SuggestionFeedback(actor=supervisor_actor("SV-001"), satisfied=True)
    assert feedback_refusal(satisfied, SuggestionState.ANSWERED, "SV-001", TODAY) is None
    early = feedback_refusal(satisfied, SuggestionState.ASSIGNED, "SV-001", TODAY)
    assert early is not None and early.code is Reason.INVALID_TRANSITION
    with pytest.raises(ValidationError, match="due_date"):
        SuggestionFeedback(actor=OFFICE, satisfied=False)
    past = SuggestionFeedback(actor=OFFICE, satisfied=False, due_date=date(2026, 6, 1))
    refusal = feedback_refusal(past, SuggestionState.ANSWERED, "SV-001", TODAY)
    assert refusal is not None and refusal.code is RefusalCode.DUE_DATE_PASSED
