"""Every input is bounded and every bad one refused with a reason, never a 500: dates outside the
years 2000-2100, numbers that are booleans or subnormal, bodies that are not JSON, not UTF-8 or
not sent as JSON; and every OpenAPI document says which problems each operation answers with."""

import json
from typing import Any

import httpx
import pytest

from contracts.envelope import ContractError, decode
from contracts.measures import ReportProgress
from contracts.reasons import Reason
from fivetype.stack import SERVICES, Stack
from tests import auth
from tests.e2e.test_progress_flow import command, m07_assignment, report
from tests.security.conftest import UNIT_A

UNIT = "360104"  # no other test of the platform reports for it


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


def refused_field(response: httpx.Response, field: str, words: str) -> None:
    body = problem(response, 422, "validation_failed")
    assert any(field in e["loc"] and words in e["msg"] for e in body["errors"]), body


@pytest.mark.parametrize(
    "changes",
    [
        {"start_on": "0001-01-01"},
        {"milestones": [{"milestone_id": "m1", "title": "网上可办", "due_date": "0001-01-01"}]},
    ],
)
def test_dates_out_of_range_are_refused_with_a_reason(
    platform: Stack, changes: dict[str, Any]
) -> None:
    measures = platform.service("measures").url
    body = {**m07_assignment(UNIT), **changes}
    response = httpx.post(f"{measures}/v1/assignments", json=body, headers=auth.headers())
    refused_field(response, next(iter(changes)), "2000-2100")


def test_an_instant_out_of_range_is_refused_with_a_reason(platform: Stack) -> None:
    scoring = platform.service("scoring").url
    response = httpx.get(
        f"{scoring}/v1/units/{UNIT_A}/cards/2026",
        params={"as_of": "0001-01-01T00:00:00+14:00"},
        headers=auth.headers(),
    )
    refused_field(response, "as_of", "2000-2100")


@pytest.mark.parametrize(
    ("value", "zh", "en"),
    [
        (True, "应为数字", "valid number"),
        (1e-320, "非规格化", "subnormal"),
        ("70", "应为数字", "valid number"),
    ],
)
def test_a_number_is_a_normal_json_number(platform: Stack, value: object, zh: str, en: str) -> None:
    """Said in Chinese, or in English when the client asks for it."""
    measures = platform.service("measures").url
    for lang, words in (("zh", zh), ("en", en)):
        response = httpx.post(
            f"{measures}/v1/units/{UNIT}/progress-reports",
            json=report(UNIT, "strict-1", percent_complete=value),
            headers=auth.headers("unit_reporter", UNIT) | {"accept-language": lang},
        )
        refused_field(response, "percent_complete", words)


@pytest.mark.parametrize(
    "body",
    [b'{"report_id": "x",', b'{"report_id": "\xff\xfe"}', b"[" * 5000 + b"]" * 5000],
    ids=["truncated", "not utf-8", "nested too deep"],
)
def test_a_body_that_does_not_parse_is_malformed_json(platform: Stack, body: bytes) -> None:
    measures = platform.service("measures").url
    response = httpx.post(
        f"{measures}/v1/units/{UNIT}/progress-reports",
        content=body,
        headers={**auth.headers("unit_reporter", UNIT), "Content-Type": "application/json"},
    )
    problem(response, 400, "malformed_json")


def test_a_json_body_must_be_sent_as_json(platform: Stack) -> None:
    measures = platform.service("measures").url
    response = httpx.post(
        f"{measures}/v1/units/{UNIT}/progress-reports",
        content=json.dumps(report(UNIT, "plain-1")),
        headers={**auth.headers("unit_reporter", UNIT), "Content-Type": "text/plain"},
    )
    problem(response, 415, "unsupported_media_type")


@pytest.mark.parametrize("service", list(SERVICES))
def test_every_operation_documents_its_problems(platform: Stack, service: str) -> None:
    document = httpx.get(f"{platform.service(service).url}/openapi.json").json()
    assert "Problem" in document["components"]["schemas"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            expected = {"401", "403"} if path.startswith("/v1/") else set()
            if "requestBody" in operation:
                expected |= {"400", "415"}
            assert expected <= responses.keys(), (method, path, sorted(responses))
            for status in expected | ({"422"} & responses.keys()):
                assert "application/problem+json" in responses[status]["content"], (path, status)


def test_a_command_over_nats_is_bounded_by_the_same_contract() -> None:
    raw = command(UNIT, "nats-bounds")
    raw["data"] |= {"reported_at": "0001-01-01T00:00:00+14:00", "percent_complete": True}
    with pytest.raises(ContractError) as refused:
        decode(json.dumps(raw).encode(), ReportProgress)
    assert refused.value.reason is Reason.SCHEMA_VIOLATION
    assert {e["loc"] for e in refused.value.errors} == {"data.reported_at", "data.percent_complete"}
