"""Rules for filing an inspection: refusals, the request schema and the content fingerprint."""

from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from contracts.inspections import InspectionKind, InspectionMethod
from contracts.reasons import Reason
from services.inspections.domain.fingerprint import fingerprint
from services.inspections.domain.inspections import (
    KIND_NAMES,
    METHOD_NAMES,
    FileInspection,
    filed_event,
    refusal_for,
)
from services.inspections.domain.refusals import RefusalCode
from tests.unit.inspections.support import INSPECTOR, OFFICE, REFERENCE, unit_actor

TODAY = date(2026, 6, 15)


def request(**changes: Any) -> FileInspection:
    fields: dict[str, Any] = {
        "inspection_id": "2026-DC-0001",
        "actor": INSPECTOR,
        "kind": "special",
        "method": "unannounced",
        "title": "营商环境专项督查",
        "inspector": "市五型办督查组",
        "inspected_on": "2026-06-15",
        "target_units": ["360102", "dept-fgw"],
        "measure_codes": ["M12"],
        "evidence": [{"uri": "s3://evidence/visit.pdf", "sha256": "a" * 64}],
    }
    return FileInspection.model_validate(fields | changes)


def test_an_inspection_dated_today_or_earlier_is_accepted() -> None:
    assert refusal_for(request(), TODAY, REFERENCE) is None
    assert refusal_for(request(inspected_on="2025-12-31"), TODAY, REFERENCE) is None


def test_an_inspection_dated_after_today_is_refused() -> None:
    refusal = refusal_for(request(inspected_on="2026-06-16"), TODAY, REFERENCE)
    assert refusal is not None
    assert refusal.code is RefusalCode.INSPECTED_IN_FUTURE
    assert "2026-06-16" in refusal.detail_en


def test_a_unit_listed_twice_is_refused_and_named() -> None:
    refusal = refusal_for(request(target_units=["360102", "dept-fgw", "360102"]), TODAY, REFERENCE)
    assert refusal is not None
    assert refusal.code is RefusalCode.DUPLICATE_TARGET_UNITS
    assert "360102" in refusal.detail_en
    assert "dept-fgw" not in refusal.detail_en


def test_units_and_measures_must_be_known() -> None:
    unknown_unit = refusal_for(request(target_units=["360102", "360199"]), TODAY, REFERENCE)
    assert unknown_unit is not None and unknown_unit.code is Reason.UNKNOWN_UNIT
    assert "360199" in unknown_unit.detail_en and "360102" not in unknown_unit.detail_en
    unknown_measure = refusal_for(request(measure_codes=["M12", "M99"]), TODAY, REFERENCE)
    assert unknown_measure is not None and unknown_measure.code is Reason.UNKNOWN_MEASURE
    assert "M99" in unknown_measure.detail_en


@pytest.mark.parametrize("actor", [OFFICE, unit_actor()])
def test_only_inspectors_file_inspections(actor: Any) -> None:
    refusal = refusal_for(request(actor=actor), TODAY, REFERENCE)
    assert refusal is not None
    assert refusal.code is RefusalCode.ACTOR_NOT_PERMITTED
    assert actor.role.value in refusal.detail_en


@pytest.mark.parametrize(
    "changes",
    [
        {"kind": "audit"},
        {"method": "phone"},
        {"target_units": []},
        {"target_units": [f"unit-{n}" for n in range(101)]},
        {"target_units": ["东湖区"]},
        {"inspection_id": "has space"},
        {"evidence": [{"uri": "s3://e", "sha256": "a" * 64}] * 51},
        {"unexpected": 1},
        {"actor": {"role": "unit", "id": "u-1", "name": "无单位"}},
        {"actor": {"role": "mayor", "id": "m-1", "name": "市长"}},
    ],
)
def test_the_schema_refuses_malformed_requests(changes: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        request(**changes)


def test_the_fingerprint_is_stable_across_construction_key_order_and_actor() -> None:
    original = request()
    rebuilt = FileInspection.model_validate_json(original.model_dump_json())
    reordered = FileInspection.model_validate(dict(reversed(original.model_dump().items())))
    by_colleague = request(actor={"role": "inspector", "id": "insp-008", "name": "李娜"})
    assert fingerprint(original) == fingerprint(rebuilt) == fingerprint(reordered)
    assert fingerprint(original) == fingerprint(by_colleague)
    assert len(fingerprint(original)) == 64


@pytest.mark.parametrize(
    "changes",
    [
        {"title": "营商环境专项督查（复查）"},
        {"inspected_on": "2026-06-14"},
        {"target_units": ["360102"]},
        {"evidence": []},
    ],
)
def test_the_fingerprint_changes_with_the_content(changes: dict[str, Any]) -> None:
    assert fingerprint(request(**changes)) != fingerprint(request())


def test_each_target_unit_gets_the_whole_inspection() -> None:
    event = filed_event(request(), "dept-fgw")
    assert event.unit == "dept-fgw"
    assert event.target_units == ["360102", "dept-fgw"]
    assert event.inspection_id == "2026-DC-0001"


def test_every_kind_and_method_has_a_chinese_name() -> None:
    assert set(KIND_NAMES) == set(InspectionKind)
    assert set(METHOD_NAMES) == set(InspectionMethod)
    assert KIND_NAMES[InspectionKind.SPECIAL] == "专项督查"
    assert METHOD_NAMES[InspectionMethod.UNANNOUNCED] == "四不两直"
