"""The rules for accepting a progress report against the unit's assignments."""

from datetime import UTC, date, datetime, timedelta

import pytest

from contracts.measures import AssignmentRole, ReportProgress
from contracts.reasons import Reason
from services.measures.domain.catalogue import load_catalogue, load_units
from services.measures.domain.progress import (
    AssignmentFacts,
    Checked,
    Facts,
    MilestoneFacts,
    Refusal,
    check,
    fingerprint,
    reported_event,
)

CATALOGUE = load_catalogue()
UNITS = load_units()
NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
SKEW = timedelta(minutes=5)
LEAD, CO = AssignmentRole.LEAD, AssignmentRole.CO


def assignment(pk: int = 1, **changes: object) -> AssignmentFacts:
    fields: dict[str, object] = {
        "pk": pk,
        "assignment_id": f"a-{pk}",
        "year": 2026,
        "measure_code": "M12",
        "measure_root": "M12",
        "measure_type": "service",
        "roles": {"360102": LEAD, "dept-fgw": CO},
        "start_on": date(2026, 1, 1),
        "target_code": "M12-T1",
        "recurrence": None,
    }
    return AssignmentFacts(**(fields | changes))  # type: ignore[arg-type]


MILESTONES = (
    MilestoneFacts(10, 1, "m1", "360102", date(2026, 6, 30)),
    MilestoneFacts(11, 1, "m2", "dept-fgw", date(2026, 12, 31)),
)


def report(**changes: object) -> ReportProgress:
    fields: dict[str, object] = {
        "report_id": "r-1",
        "unit": "360102",
        "measure_code": "M12",
        "percent_complete": 50,
        "reported_at": NOW - timedelta(hours=1),
        "reporter": "oa",
    }
    return ReportProgress.model_validate(fields | changes)


def facts(*candidates: AssignmentFacts, unit: str = "360102") -> Facts:
    return Facts(
        unit=UNITS.unit(unit),
        catalogues={2026: CATALOGUE},
        candidates=candidates or (assignment(),),
        milestones=MILESTONES,
    )


def accepted(outcome: Checked | Refusal) -> Checked:
    assert isinstance(outcome, Checked), outcome
    return outcome


def refused(outcome: Checked | Refusal) -> Reason:
    assert isinstance(outcome, Refusal), outcome
    return outcome.reason


def test_a_report_without_assignment_id_finds_the_units_assignment() -> None:
    checked = accepted(check(report(), facts(), NOW, SKEW))
    assert checked.assignment.assignment_id == "a-1"
    assert checked.milestone is None
    assert checked.measure_title == "大力推动营商环境优化升级"


def test_the_item_code_and_its_measure_both_name_the_assignment() -> None:
    subtask = assignment(measure_code="M12-S1", target_code=None)
    assert accepted(check(report(measure_code="M12-S1"), facts(subtask), NOW, SKEW))
    assert accepted(check(report(measure_code="M12"), facts(subtask), NOW, SKEW))


def test_two_assignments_of_the_measure_must_be_told_apart() -> None:
    two = facts(assignment(1), assignment(2, measure_code="M12-S1"))
    assert accepted(check(report(), two, NOW, SKEW)).assignment.pk == 1  # the exact code wins
    both_subtasks = facts(
        assignment(1, measure_code="M12-S1"), assignment(2, measure_code="M12-S2")
    )
    assert refused(check(report(), both_subtasks, NOW, SKEW)) is Reason.AMBIGUOUS_ASSIGNMENT
    named = report(assignment_id="a-2", measure_code="M12-S2")
    assert accepted(check(named, both_subtasks, NOW, SKEW)).assignment.pk == 2


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (report(unit="999999"), Reason.UNKNOWN_UNIT),
        (report(reported_at=NOW + SKEW + timedelta(seconds=1)), Reason.REPORTED_IN_FUTURE),
        (report(measure_code="M19"), Reason.UNKNOWN_MEASURE),
        (report(measure_code="M07"), Reason.UNKNOWN_ASSIGNMENT),
        (report(assignment_id="nope"), Reason.UNKNOWN_ASSIGNMENT),
        (report(assignment_id="a-1", measure_code="M07"), Reason.MEASURE_MISMATCH),
        (report(reported_at=datetime(2025, 12, 31, 1, tzinfo=UTC)), Reason.UNKNOWN_ASSIGNMENT),
        (report(milestone_id="m9"), Reason.UNKNOWN_MILESTONE),
        (report(milestone_id="m2"), Reason.MILESTONE_OF_OTHER_UNIT),
        (report(target_code="M07-T1", target_value=1), Reason.UNKNOWN_TARGET),
        (report(target_value=-3), Reason.VALUE_OUT_OF_RANGE),
        (report(target_value=12.5), Reason.VALUE_OUT_OF_RANGE),
        (report(target_code="M12-T1"), Reason.VALUE_OUT_OF_RANGE),
    ],
)
def test_refusals_name_the_reason(bad: ReportProgress, reason: Reason) -> None:
    assert refused(check(bad, facts(unit=bad.unit), NOW, SKEW)) is reason


def test_another_units_assignment_is_refused_as_unknown() -> None:
    """As if it did not exist: a unit must not learn which assignments other units have."""
    named, missing = (
        check(report(unit="360103", assignment_id=name), facts(unit="360103"), NOW, SKEW)
        for name in ("a-1", "a-9")
    )
    assert isinstance(named, Refusal) and isinstance(missing, Refusal)
    assert named.reason is missing.reason is Reason.UNKNOWN_ASSIGNMENT
    assert (named.detail.replace("a-1", "a-9"), named.detail_zh.replace("a-1", "a-9")) == (
        missing.detail,
        missing.detail_zh,
    )


def test_reports_before_the_plan_starts_are_refused() -> None:
    late_start = assignment(start_on=date(2026, 11, 1))
    early = report(reported_at=datetime(2026, 10, 31, 12, tzinfo=UTC))
    assert refused(check(early, facts(late_start), NOW, SKEW)) is Reason.REPORTED_BEFORE_START


def test_a_co_operating_unit_reports_on_its_own_milestone() -> None:
    own = report(unit="dept-fgw", milestone_id="m2")
    checked = accepted(check(own, facts(unit="dept-fgw"), NOW, SKEW))
    assert checked.milestone == MILESTONES[1]


def test_targets_are_checked_against_their_metric() -> None:
    rate = assignment(measure_code="M14", measure_root="M14", target_code="M14-T1")
    ok = report(measure_code="M14", target_value=97.5)
    assert accepted(check(ok, facts(rate), NOW, SKEW)).target_code == "M14-T1"
    too_high = report(measure_code="M14", target_value=100.5)
    assert refused(check(too_high, facts(rate), NOW, SKEW)) is Reason.VALUE_OUT_OF_RANGE


def test_a_recurring_report_falls_on_the_current_occurrence() -> None:
    weekly = assignment(
        measure_code="G3-T1", measure_root="G3", measure_type=None, recurrence="weekly"
    )
    weeks = (
        MilestoneFacts(20, 1, "2026-11-22", "360102", date(2026, 11, 20)),
        MilestoneFacts(21, 1, "2026-11-29", "360102", date(2026, 11, 27)),
    )
    on = Facts(UNITS.unit("360102"), {2026: CATALOGUE}, (weekly,), weeks)
    checked = accepted(check(report(measure_code="G3"), on, NOW, SKEW))
    assert checked.milestone == weeks[1]
    after = report(measure_code="G3", reported_at=datetime(2026, 11, 28, 1, tzinfo=UTC))
    assert refused(check(after, on, NOW + timedelta(days=3), SKEW)) is Reason.UNKNOWN_MILESTONE


def test_the_event_carries_what_scoring_needs() -> None:
    on_time = report(milestone_id="m1", percent_complete=100, reported_at=NOW - timedelta(days=1))
    late = accepted(check(on_time, facts(), NOW, SKEW))
    event = reported_event(on_time, late, milestone_completed=True)
    assert (event.unit_name, event.measure_type, event.peer_group) == (
        "东湖区",
        "service",
        "county",
    )
    assert (event.assignment_id, event.role, event.year) == ("a-1", LEAD, 2026)
    assert (event.milestone_due_date, event.on_time, event.milestone_completed) == (
        date(2026, 6, 30),
        False,
        True,
    )


def test_on_time_is_judged_on_the_local_date() -> None:
    # 2026-06-30T23:30+08:00 is still 30 June in Nanchang, though 15:30 UTC.
    at = datetime(2026, 6, 30, 15, 30, tzinfo=UTC)
    early = report(milestone_id="m1", reported_at=at)
    checked = accepted(check(early, facts(), NOW, SKEW))
    assert reported_event(early, checked, milestone_completed=False).on_time is True


def test_fingerprint_tells_a_retry_from_a_changed_report() -> None:
    assert fingerprint(report()) == fingerprint(report())
    assert fingerprint(report()) != fingerprint(report(percent_complete=51))
