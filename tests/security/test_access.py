"""Who may call what: 401 without a valid token, the role rule of every route, a unit
reporter confined to its own unit, and problem bodies that give nothing away."""

import importlib
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts

from fivetype.stack import SERVICES, Stack
from services.runtime.auth import Role, issue
from tests import auth
from tests.e2e.test_progress_flow import m07_assignment, report
from tests.integration.test_inspections_service import inspection

OWN, OTHER = "360103", "360102"  # the reporter's unit, and the unit it must not reach
EVIDENCE = [{"uri": "s3://evidence/after.jpg", "sha256": "d" * 64}]
FILLERS = {"unit": OWN, "year": "2026", "period": "2026-03"}


def _roles(dependant: Dependant) -> Iterator[frozenset[Role]]:
    for dependency in dependant.dependencies:
        if roles := getattr(dependency.call, "roles", None):
            yield roles
        yield from _roles(dependency)


def _routes() -> list[tuple[str, str, str, frozenset[Role]]]:
    """(service, method, path, roles) of every /v1 route, read from the apps themselves."""
    found = []
    for service in SERVICES:
        app: FastAPI = importlib.import_module(f"services.{service}.bootstrap").build()[1]
        for route in iter_route_contexts(app.routes):  # through included routers too
            if route.path.startswith("/v1"):
                (roles,) = _roles(route.dependant)  # exactly one rule per route
                found += [(service, method, route.path, roles) for method in route.methods]
    return found


ROUTES = _routes()


def _path(template: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: FILLERS.get(m[1], "x1"), template)


def _token_of(role: Role) -> dict[str, str]:
    return auth.headers(role.value, OWN if role is Role.UNIT_REPORTER else None)


@pytest.mark.parametrize(("service", "method", "path", "roles"), ROUTES)
def test_every_route_enforces_its_role_rule(
    platform: Stack, service: str, method: str, path: str, roles: frozenset[Role]
) -> None:
    url = platform.service(service).url + _path(path)
    for role in Role:
        response = httpx.request(method, url, headers=_token_of(role), timeout=10)
        if role in roles:
            assert response.status_code not in (401, 403), (role, response.text)
        else:
            assert response.status_code == 403, (role, response.text)
            assert response.json()["code"] == "role_not_allowed"


@pytest.mark.parametrize(("service", "method", "path", "_roles"), ROUTES)
def test_every_route_needs_a_token(
    platform: Stack, service: str, method: str, path: str, _roles: Any
) -> None:
    response = httpx.request(method, platform.service(service).url + _path(path), timeout=10)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


def _bad_tokens() -> dict[str, str]:
    def forged(**claims: Any) -> str:
        base = {"sub": "x", "role": "office_admin", "iat": 1, "exp": 4_000_000_000, "jti": "j"}
        return jwt.encode(base | claims, auth.TEST_SECRET, algorithm="HS256")

    return {
        "garbage": "not-a-jwt",
        "wrong secret": issue(
            "another-secret-0123456789abcdef0123456789",
            subject="x",
            role=Role.OFFICE_ADMIN,
            unit=None,
            ttl=timedelta(hours=1),
        ),
        "expired": forged(exp=1000),
        "unknown role": forged(role="mayor"),
        "reporter without unit": forged(role="unit_reporter"),
        "free-text subject": forged(sub="张三 <script>"),
        "unsigned": jwt.encode({"sub": "x", "role": "office_admin"}, None, algorithm="none"),
    }


@pytest.mark.parametrize("kind", list(_bad_tokens()))
def test_invalid_tokens_are_refused_without_saying_more(platform: Stack, kind: str) -> None:
    token = _bad_tokens()[kind]
    response = httpx.get(
        f"{platform.service('measures').url}/v1/catalogue",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] in {"invalid_token", "token_expired"}
    assert set(body) <= {"type", "title", "status", "code"}  # no detail, no echo
    assert token not in response.text


def test_probes_and_metrics_stay_open(platform: Stack) -> None:
    for service in platform.services:
        for path in ("/healthz", "/readyz"):
            assert httpx.get(service.url + path).status_code == 200
        assert httpx.get(service.metrics_url).status_code == 200


def test_metrics_are_not_on_the_api_port(platform: Stack) -> None:
    """Unit scores are for the monitoring peers the NetworkPolicy admits to the metrics port."""
    for service in platform.services:
        assert httpx.get(f"{service.url}/metrics").status_code == 404


def test_openapi_offers_bearer_authentication(platform: Stack) -> None:
    document = httpx.get(f"{platform.service('scoring').url}/openapi.json").json()
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


@pytest.fixture(scope="module")
def office(platform: Stack) -> Iterator[dict[str, httpx.Client]]:
    """Clients of the office admin, with another unit's assignment and finding on record."""
    clients = {
        s.name: httpx.Client(base_url=s.url, headers=auth.headers(), timeout=10)
        for s in platform.services
    }
    assert clients["measures"].post("/v1/assignments", json=m07_assignment(OTHER)).is_success
    posted = clients["measures"].post(
        f"/v1/units/{OTHER}/progress-reports", json=report(OTHER, "other-1")
    )
    assert posted.is_success, posted.text
    inspections = clients["inspections"]
    assert inspections.post("/v1/inspections", json=inspection("SEC-1")).is_success
    finding = {
        "finding_id": "SEC-F1",
        "actor": {"role": "inspector", "id": "insp-007", "name": "王敏"},
        "unit": OTHER,
        "severity": "serious",
        "category": {"measure_code": "M12"},
        "title": "窗口排队超过一小时",
        "description": "暗访发现排队超过一小时。",
        "due_date": "2099-12-31",
        "evidence": [],
    }
    assert inspections.post("/v1/inspections/SEC-1/findings", json=finding).is_success
    yield clients
    for client in clients.values():
        client.close()


@pytest.fixture(scope="module")
def reporter(platform: Stack) -> dict[str, httpx.Client]:
    """Clients of unit OWN's system."""
    return {
        s.name: httpx.Client(base_url=s.url, headers=auth.headers("unit_reporter", OWN), timeout=10)
        for s in platform.services
    }


def refused_out_of_scope(response: httpx.Response) -> None:
    assert response.status_code == 403, response.text
    assert response.json()["code"] in {"outside_unit_scope", "not_responsible_unit"}


@pytest.mark.parametrize(
    ("service", "path"),
    [
        ("measures", f"/v1/units/{OTHER}/progress-reports"),
        ("measures", f"/v1/units/{OTHER}/progress-reports/other-1"),
        ("measures", f"/v1/assignments/m07-{OTHER}"),
        ("measures", f"/v1/assignments/m07-{OTHER}/progress-reports"),
        ("measures", f"/v1/status?unit={OTHER}"),
        ("measures", f"/v1/journal?unit={OTHER}"),
        ("inspections", "/v1/findings/SEC-F1"),
        ("inspections", "/v1/findings/SEC-F1/journal"),
        ("inspections", f"/v1/ledger?unit={OTHER}"),
        ("inspections", f"/v1/units/{OTHER}/indicators?period=2026-03"),
        ("scoring", f"/v1/units/{OTHER}/progress"),
        ("scoring", f"/v1/units/{OTHER}/cards/2026-03"),
        ("notifications", f"/v1/escalations?unit={OTHER}"),
    ],
)
def test_a_unit_cannot_read_another_units_data(
    office: Any, reporter: dict[str, httpx.Client], service: str, path: str
) -> None:
    refused_out_of_scope(reporter[service].get(path))


def test_a_units_lists_show_only_its_own_data(
    office: Any, reporter: dict[str, httpx.Client]
) -> None:
    ledger = reporter["inspections"].get("/v1/ledger").json()
    assert ledger["total"] == 0  # SEC-F1 belongs to OTHER
    assert reporter["measures"].get("/v1/status").json()["assignments"] == []
    assert office["inspections"].get("/v1/ledger").json()["total"] == 1


def test_a_unit_cannot_report_for_another_unit(
    office: Any, reporter: dict[str, httpx.Client]
) -> None:
    refused_out_of_scope(
        reporter["measures"].post(
            f"/v1/units/{OTHER}/progress-reports", json=report(OTHER, "forged-1")
        )
    )
    # Its own path with another unit in the body is refused as inconsistent.
    mixed = reporter["measures"].post(
        f"/v1/units/{OWN}/progress-reports", json=report(OTHER, "forged-2")
    )
    assert mixed.status_code == 422
    assert office["measures"].get(f"/v1/units/{OTHER}/progress-reports").json()[0]["report_id"] == (
        "other-1"
    )


def test_a_unit_cannot_rectify_or_close_another_units_finding(
    office: Any, reporter: dict[str, httpx.Client]
) -> None:
    # Whatever actor the body claims, the token decides who acts.
    claimed = {"role": "unit", "id": "staff", "name": "联络员", "unit": OTHER}
    submission = {"actor": claimed, "summary": "已整改", "evidence": EVIDENCE}
    refused_out_of_scope(
        reporter["inspections"].post("/v1/findings/SEC-F1/submissions", json=submission)
    )
    closing = {
        "actor": {"role": "inspector", "id": "i", "name": "假督查"},
        "opinion": "销号",
        "approved_by": "假领导",
    }
    closed = reporter["inspections"].post("/v1/findings/SEC-F1/close", json=closing)
    assert closed.status_code == 403
    assert office["inspections"].get("/v1/findings/SEC-F1").json()["state"] == "open"
