"""Schemathesis against every service's OpenAPI document, as the office admin: generated
requests that fit the documented schema never cause a server error, every response has a
status the document lists for its operation and fits the schema the document promises.
Bounded and derandomized, so a run is short and repeatable."""

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from fivetype.stack import SERVICES, Stack
from tests import auth
from tests.security.conftest import FUZZ_SCALE

EXAMPLES_PER_OPERATION = round(10 * FUZZ_SCALE)
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


def _exercise(operation: Any, base_url: str, headers: dict[str, str]) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # report the failing case; no slow shrinking
        suppress_health_check=list(HealthCheck),
    )
    def check(case: schemathesis.Case) -> None:
        response = case.call(base_url=base_url, headers=headers, timeout=10)
        case.validate_response(response, checks=CHECKS)

    check()


@pytest.mark.parametrize("service", list(SERVICES))
def test_the_api_keeps_its_openapi_promises(platform: Stack, service: str) -> None:
    base_url = platform.service(service).url
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    headers = auth.headers()
    failures: dict[str, str] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        try:
            _exercise(operation, base_url, headers)
        except (Exception, BaseExceptionGroup) as exc:  # every operation's failures
            failures[operation.label] = str(exc)[:2000]
    assert not failures, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())
