"""The envelope and decoding rules every consumer relies on."""

import json
import typing
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from pydantic import BaseModel

from contracts import subjects
from contracts.envelope import ContractError, decode, fact_id, wrap
from contracts.measures import ProgressReported, ReportProgress
from contracts.reasons import REASON_TEXT, Reason
from contracts.registry import MESSAGES


def command(unit: str = "360102", **changes: object) -> dict[str, object]:
    data = ReportProgress(
        report_id="r-1",
        unit=unit,
        measure_code="M07",
        percent_complete=50,
        reported_at=datetime(2026, 11, 1, tzinfo=UTC),
        reporter="oa",
    )
    document = wrap(data, subject=unit, source=f"unit/{unit}").model_dump(mode="json")
    return {**document, **changes}


def raw(document: dict[str, object]) -> bytes:
    return json.dumps(document).encode()


def test_round_trip_keeps_every_attribute() -> None:
    document = command()
    envelope = decode(raw(document), ReportProgress, arrived_on="fivetype.intake.x.360102")
    assert envelope.model_dump(mode="json") == document
    assert envelope.dataschema == "urn:fivetype:schema:ReportProgress:v1"
    assert envelope.specversion == "1.0"


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{not json", Reason.MALFORMED_JSON),
        (b"\xff\xfe", Reason.MALFORMED_JSON),
        (b"[1, 2]", Reason.MALFORMED_JSON),
        (raw(command(type="ProgressReported")), Reason.UNKNOWN_TYPE),
        (raw(command(schemaversion=2)), Reason.UNSUPPORTED_VERSION),
        (raw(command(time="yesterday")), Reason.SCHEMA_VIOLATION),
        (raw(command(extra="field")), Reason.SCHEMA_VIOLATION),
        (raw(command(subject="360103")), Reason.UNIT_MISMATCH),
    ],
)
def test_every_failure_has_a_reason(payload: bytes, reason: Reason) -> None:
    with pytest.raises(ContractError) as caught:
        decode(payload, ReportProgress)
    assert caught.value.reason is reason


def test_schema_violation_lists_the_fields() -> None:
    document = command()
    document["data"] = {**document["data"], "percent_complete": 101}  # type: ignore[dict-item]
    with pytest.raises(ContractError) as caught:
        decode(raw(document), ReportProgress)
    assert caught.value.errors[0]["loc"] == "data.percent_complete"
    assert caught.value.document == document


def test_subject_of_another_unit_is_refused() -> None:
    with pytest.raises(ContractError) as caught:
        decode(raw(command()), ReportProgress, arrived_on=subjects.intake("ReportProgress", "x-y"))
    assert caught.value.reason is Reason.UNIT_MISMATCH


def test_oversized_is_refused_before_parsing() -> None:
    with pytest.raises(ContractError) as caught:
        decode(b" " * 11, ReportProgress, max_bytes=10)
    assert caught.value.reason is Reason.OVERSIZED


def test_fact_ids_are_deterministic() -> None:
    assert fact_id("DeadlineMissed", "milestone", 7, "2026-06-30") == fact_id(
        "DeadlineMissed", "milestone", 7, "2026-06-30"
    )
    assert fact_id("a", 1) != fact_id("a", 2)


def test_subjects_end_with_the_unit() -> None:
    assert subjects.intake("ReportProgress", "360102") == "fivetype.intake.report_progress.360102"
    assert subjects.event("DeadlineMissed") == "fivetype.events.deadline_missed.*"
    assert subjects.unit_of("fivetype.rejections.dept-fgw") == "dept-fgw"


def test_every_reason_has_chinese_and_english_text() -> None:
    assert set(REASON_TEXT) == set(Reason)
    assert all(zh and en and zh != en for zh, en in REASON_TEXT.values())


def _models(model: type[BaseModel], path: str) -> Iterator[tuple[type[BaseModel], str]]:
    """`model` and every model its fields hold, however nested, with their paths."""
    yield model, path
    for name, field in model.model_fields.items():
        for kind in (*typing.get_args(field.annotation), field.annotation):
            for inner in typing.get_args(kind) or (kind,):
                if isinstance(inner, type) and issubclass(inner, BaseModel):
                    yield from _models(inner, f"{path}.{name}")


def _nullable_without_default(model: type[BaseModel], path: str) -> list[str]:
    return [
        f"{where}.{name}"
        for part, where in _models(model, path)
        for name, field in part.model_fields.items()
        if field.is_required() and type(None) in typing.get_args(field.annotation)
    ]


def test_every_nullable_field_has_a_default() -> None:
    """Envelopes leave None values out of their JSON, so a required nullable field would make a
    message fail its own schema when it is read back (a unit on neither list, say)."""
    found = [
        problem
        for spec in MESSAGES
        for problem in _nullable_without_default(spec.model, spec.model.NAME)
    ]
    assert found == []


def test_no_message_carries_nan_or_infinity() -> None:
    """JSON has neither; PostgreSQL refuses them in a JSON column, so one that got in would
    fail every consumer that stores it."""
    allowing = [
        where
        for spec in MESSAGES
        for part, where in _models(spec.model, spec.model.NAME)
        if part.model_config.get("allow_inf_nan", True)
    ]
    assert allowing == []


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
def test_a_float_that_is_no_number_is_refused(value: str) -> None:
    data = {
        "report_id": "r-1",
        "unit": "360102",
        "unit_name": "市发展改革委",
        "measure_code": "M07",
        "measure_title": "x",
        "percent_complete": 50,
        "reported_at": "2026-11-01T00:00:00Z",
        "reporter": "oa",
        "target_value": 1.0,
    }
    document = wrap(ProgressReported(**data), subject="360102", source="measures")  # type: ignore[arg-type]
    text = document.model_dump_json().replace('"target_value":1.0', f'"target_value":{value}')
    with pytest.raises(ContractError) as caught:
        decode(text.encode(), ProgressReported)
    assert caught.value.reason is Reason.SCHEMA_VIOLATION
    assert caught.value.errors[0]["loc"] == "data.target_value"
