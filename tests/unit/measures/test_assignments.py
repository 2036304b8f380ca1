"""Planning an assignment: catalogue item, units, targets, milestones and recurrence."""

from datetime import date
from typing import Any

import pytest

from contracts.measures import AssignmentRole
from services.measures.domain.assignments import (
    CreateAssignment,
    CreateObligations,
    declared_obligation,
    obligation_request,
    obligation_units,
    plan_assignment,
)
from services.measures.domain.calendar import shipped_calendar_years, working_calendar
from services.measures.domain.catalogue import load_catalogue, load_units
from services.measures.domain.errors import Code, Refused
from services.measures.domain.recurrence import ObligationKind

CATALOGUE = load_catalogue()
UNITS = load_units()
CALENDAR = working_calendar(shipped_calendar_years())
TODAY = date(2026, 11, 26)


def request(**changes: Any) -> CreateAssignment:
    fields: dict[str, Any] = {
        "assignment_id": "a-1",
        "year": 2026,
        "measure_code": "M12-T1",
        "lead_unit": "dept-fgw",
        "co_units": ["360102"],
        "start_on": "2026-01-01",
        "milestones": [
            {"milestone_id": "m2", "title": "全部落地", "due_date": "2026-12-31"},
            {"milestone_id": "m1", "title": "过半", "due_date": "2026-06-30", "unit": "360102"},
        ],
        "created_by": "office",
    }
    return CreateAssignment.model_validate(fields | changes)


def plan(**changes: Any) -> Any:
    return plan_assignment(request(**changes), CATALOGUE, UNITS, CALENDAR, TODAY)


def refusal(**changes: Any) -> Code:
    with pytest.raises(Refused) as caught:
        plan(**changes)
    return caught.value.code


def test_a_target_assignment_takes_the_catalogue_value() -> None:
    planned = plan()
    assert (planned.item.measure.code, planned.measure_type) == ("M12", "service")
    assert (planned.target_code, planned.target_value) == ("M12-T1", 172.0)
    assert planned.title_zh == "优化营商环境172项具体工作举措落地落实"
    assert planned.roles == {"dept-fgw": AssignmentRole.LEAD, "360102": AssignmentRole.CO}
    assert [(m.milestone_id, m.unit, m.expected_percent) for m in planned.milestones] == [
        ("m1", "360102", 50.0),
        ("m2", "dept-fgw", 100.0),
    ]


def test_a_plan_made_during_its_year_starts_today() -> None:
    planned = plan(
        start_on=None, milestones=[{"milestone_id": "m", "title": "t", "due_date": "2026-12-20"}]
    )
    assert planned.start_on == TODAY


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"year": 2031}, Code.UNKNOWN_YEAR),
        ({"measure_code": "M12-T9"}, Code.UNKNOWN_MEASURE),
        ({"lead_unit": "360199"}, Code.UNKNOWN_UNIT),
        ({"co_units": ["office"]}, Code.UNIT_NOT_ASSIGNABLE),
        ({"co_units": ["dept-fgw"]}, Code.INVALID_UNITS),
        ({"co_units": ["360102", "360102"]}, Code.INVALID_UNITS),
        ({"target_code": "M07-T1"}, Code.UNKNOWN_TARGET),
        ({"measure_code": "M02", "target_value": 3}, Code.UNKNOWN_TARGET),
        ({"target_value": 1.5}, Code.VALUE_OUT_OF_RANGE),
        ({"milestones": []}, Code.INVALID_MILESTONES),
        ({"recurrence": {"kind": "annual_plan"}}, Code.INVALID_MILESTONES),
        (
            {"milestones": [{"milestone_id": "m", "title": "t", "due_date": "2025-12-31"}]},
            Code.INVALID_MILESTONES,
        ),
        (
            {"milestones": [{"milestone_id": "m", "title": "t", "due_date": "2028-01-01"}]},
            Code.INVALID_MILESTONES,
        ),
        (
            {
                "milestones": [
                    {"milestone_id": "m", "title": "t", "due_date": "2026-05-01"},
                    {"milestone_id": "m", "title": "u", "due_date": "2026-06-01"},
                ]
            },
            Code.INVALID_MILESTONES,
        ),
        (
            {
                "milestones": [
                    {"milestone_id": "m", "title": "t", "due_date": "2026-05-01", "unit": "360103"}
                ]
            },
            Code.INVALID_MILESTONES,
        ),
        (
            {
                "milestones": [
                    {
                        "milestone_id": "a",
                        "title": "t",
                        "due_date": "2026-05-01",
                        "expected_percent": 60,
                    },
                    {
                        "milestone_id": "b",
                        "title": "u",
                        "due_date": "2026-06-01",
                        "expected_percent": 50,
                    },
                ]
            },
            Code.INVALID_MILESTONES,
        ),
        (
            {
                "milestones": [
                    {
                        "milestone_id": "a",
                        "title": "t",
                        "due_date": "2026-05-01",
                        "expected_percent": 60,
                    }
                ]
            },
            Code.INVALID_MILESTONES,
        ),
        ({"milestones": [], "recurrence": {"rule": "FREQ=HOURLY"}}, Code.INVALID_RECURRENCE),
        (
            {"milestones": [], "recurrence": {"kind": "annual_plan"}, "start_on": "2026-06-01"},
            Code.INVALID_RECURRENCE,
        ),
    ],
)
def test_refusals(changes: dict[str, Any], code: Code) -> None:
    assert refusal(**changes) is code


def test_standard_obligations_generate_their_occurrences() -> None:
    weekly = obligation_request(
        CreateObligations(
            year=2026, kind=ObligationKind.WEEKLY_FEATURE_REPORT, created_by="office"
        ),
        "dept-media",
        CATALOGUE,
    )
    planned = plan_assignment(weekly, CATALOGUE, UNITS, CALENDAR, date(2026, 1, 1))
    assert weekly.assignment_id == "weekly_feature_report.2026.dept-media"
    assert (planned.item.code, planned.recurrence, planned.roll) == (
        "G3-T1",
        "weekly_feature_report",
        "preceding",
    )
    assert len(planned.milestones) == 51
    assert planned.milestones[-1].expected_percent == 100
    late = plan_assignment(weekly, CATALOGUE, UNITS, CALENDAR, TODAY)
    assert late.start_on == date(2026, 11, 23)  # planned on a Thursday: the whole week counts
    assert [m.milestone_id for m in late.milestones] == [
        "2026-11-29",
        "2026-12-06",
        "2026-12-13",
        "2026-12-20",
        "2026-12-27",
    ]


def test_a_custom_rule_is_kept_with_its_roll() -> None:
    planned = plan(
        milestones=[],
        measure_code="M10",
        recurrence={"rule": "FREQ=MONTHLY;BYMONTHDAY=15", "roll": "following"},
    )
    assert (planned.recurrence, planned.rule) == ("custom", "FREQ=MONTHLY;BYMONTHDAY=15")
    assert planned.milestones[1].due_date == date(2026, 2, 24)  # 15 Feb: Spring Festival


def carriers(kind: ObligationKind, units: tuple[str, ...] = (), leads: tuple[str, ...] = ()) -> Any:
    request = CreateObligations(year=2026, kind=kind, units=units, created_by="office")
    return obligation_units(request, declared_obligation(CATALOGUE, request), UNITS, leads)


def test_each_obligation_falls_on_the_units_the_catalogue_names() -> None:
    # G3: the city's media and the office publish the weekly feature report, no one else.
    assert carriers(ObligationKind.WEEKLY_FEATURE_REPORT) == ("office", "dept-media")
    # G1 and G4: every responsible unit, never the office.
    every_unit = carriers(ObligationKind.ANNUAL_REPORT)
    assert "office" not in every_unit and len(every_unit) == len(UNITS.units) - 1
    assert carriers(ObligationKind.ANNUAL_PLAN) == every_unit
    # M10's half-yearly round: the units leading M10 that year.
    assert carriers(ObligationKind.HALF_YEARLY_BOTTLENECK_ROUND, leads=("dept-fgw",)) == (
        "dept-fgw",
    )
    with pytest.raises(Refused) as caught:
        carriers(ObligationKind.WEEKLY_FEATURE_REPORT, units=("360102",))
    assert caught.value.code is Code.NOT_OBLIGATION_CARRIER


def test_the_office_carries_only_what_the_catalogue_names_it_for() -> None:
    weekly = obligation_request(
        CreateObligations(year=2026, kind=ObligationKind.WEEKLY_FEATURE_REPORT, created_by="o"),
        "office",
        CATALOGUE,
    )
    assert plan_assignment(weekly, CATALOGUE, UNITS, CALENDAR, TODAY).request.lead_unit == "office"
    annual = CreateAssignment.model_validate(
        weekly.model_dump() | {"recurrence": {"kind": ObligationKind.ANNUAL_REPORT}}
    )
    with pytest.raises(Refused) as caught:
        plan_assignment(annual, CATALOGUE, UNITS, CALENDAR, TODAY)
    assert caught.value.code is Code.UNIT_NOT_ASSIGNABLE


def test_aspirations_are_never_obligations() -> None:
    """争取/力争 goals (M04, M06, M09, M12's city-level goals) earn bonuses; nobody owes them."""
    aspirations = {t.code for m in CATALOGUE.measures for t in m.targets if t.aspiration}
    assert {"M04-T1", "M06-T1", "M09-T1", "M12-T4", "M12-T5", "M12-T6"} <= aspirations
    declared = {t.code for m in CATALOGUE.measures for t in m.targets if t.obligation}
    assert declared == {"G1-T1", "G3-T1", "G4-T7", "M10-T1"}
