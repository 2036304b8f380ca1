"""Who may call what: 401 without a valid token, the role rule of every route, a unit
reporter confined to its own unit, and problem bodies that give nothing away."""

import asyncio
import importlib
import json
import re
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts

from contracts import subjects
from contracts.envelope import utcnow, wrap
from contracts.measures import DeadlineItem, DeadlineMissed
from fivetype.stack import SERVICES, Stack
from services.runtime.auth import Role, issue
from tests import auth
from tests.conftest import SecureNats, eventually
from tests.e2e.test_progress_flow import m07_assignment, report
from tests.integration.test_inspections_service import inspection
from tests.security.conftest import SecurePlatform

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
        ("measures", f"/v1/status?unit={OTHER}"),
        ("measures", f"/v1/journal?unit={OTHER}"),
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
    """Naming another unit itself (in the path or a query) is refused: that reveals nothing."""
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
    submitted = reporter["inspections"].post("/v1/findings/SEC-F1/submissions", json=submission)
    assert submitted.status_code == 404, submitted.text  # as if there were no such finding
    assert submitted.json()["code"] == "unknown_finding"
    closing = {
        "actor": {"role": "inspector", "id": "i", "name": "假督查"},
        "opinion": "销号",
        "approved_by": "假领导",
    }
    closed = reporter["inspections"].post("/v1/findings/SEC-F1/close", json=closing)
    assert closed.status_code == 403  # no unit may close out, whoever's the finding
    assert closed.json()["code"] == "role_not_allowed"
    assert office["inspections"].get("/v1/findings/SEC-F1").json()["state"] == "open"


@pytest.fixture(scope="module")
def others(secure_platform: SecurePlatform, office: dict[str, httpx.Client]) -> dict[str, str]:
    """Another unit's item of every kind a unit could ask for by id (beside the fixture's
    assignment m07-OTHER, inspection SEC-1 and finding SEC-F1): its id by kind."""
    measures, inspections = office["measures"], office["inspections"]
    ok(measures.post(f"/v1/assignments/m07-{OTHER}/change-requests", json=change_request(OTHER)))
    ok(
        inspections.post(
            f"/v1/units/{OTHER}/public-requests/SEC-R1/steps",
            json={"actor": CHANNEL, "step": RECEIVED},
        )
    )
    ok(inspections.post("/v1/supervisors", json=SUPERVISOR))
    ok(inspections.post("/v1/suggestions", json=SUGGESTION))
    asyncio.run(_miss_a_deadline(secure_platform.nats))
    notifications = office["notifications"]
    case = eventually(lambda: notifications.get("/v1/escalations", params={"unit": OTHER}).json())
    recipients = notifications.get("/v1/recipients").json()
    mailbox = {r["unit"]: r["code"] for r in recipients if r["code"].endswith(":contact")}
    message = eventually(lambda: notifications.get(f"/v1/inbox/{mailbox[OTHER]}").json())
    return {
        "assignment": f"m07-{OTHER}",
        "change request": "SEC-CR1",
        "inspection": "SEC-1",
        "finding": "SEC-F1",
        "public request": "SEC-R1",
        "suggestion": "SEC-S1",
        "escalation": case[0]["key"],
        "mailbox": mailbox[OTHER],
        "own mailbox": mailbox[OWN],
        "message": str(message[0]["id"]),
    }


def ok(response: httpx.Response) -> None:
    assert response.is_success, response.text


async def _miss_a_deadline(nats: SecureNats) -> None:
    """A DeadlineMissed about OTHER, published as measures publishes it: it opens a case."""
    missed = DeadlineMissed(
        item_type=DeadlineItem.MILESTONE,
        item_id="m1",
        unit=OTHER,
        title="网上可办",
        measure_code="M07",
        due_date=date(2026, 3, 31),
        detected_at=utcnow(),
        assignment_id=f"m07-{OTHER}",
        milestone_id="m1",
    )
    envelope = wrap(missed, subject=OTHER, source="measures")
    connection = await nats.as_service("measures")
    try:
        await connection.jetstream().publish(
            subjects.event(DeadlineMissed.NAME, OTHER),
            envelope.to_json(),
            headers={"Nats-Msg-Id": envelope.id},
        )
    finally:
        await connection.close()


def change_request(unit: str) -> dict[str, Any]:
    return {
        "request_id": "SEC-CR1",
        "unit": unit,
        "kind": "extension",
        "milestone_id": "m1",
        "proposed_due_date": "2027-01-15",
        "reason": "需协调省级部门",
        "requested_by": "联络员",
    }


CHANNEL = {"role": "channel", "id": "12345-center", "name": "12345热线"}
RECEIVED = {
    "step": "received",
    "channel": "hotline_12345",
    "title": "小区路灯不亮",
    "received_at": "2026-03-03T09:00:00+08:00",
    "due_at": "2026-03-06T09:00:00+08:00",
}
SUPERVISOR = {
    "supervisor_id": "SEC-SV1",
    "actor": {"role": "office", "id": "office-01", "name": "刘洋"},
    "name": "陈静",
    "category": "npc_deputy",
    "term_starts_on": "2026-01-01",
    "term_ends_on": "2030-12-31",
}
SUGGESTION = {
    "suggestion_id": "SEC-S1",
    "actor": {"role": "supervisor", "id": "SEC-SV1", "name": "陈静"},
    "supervisor_id": "SEC-SV1",
    "unit": OTHER,
    "title": "建议周末开放政务大厅",
    "content": "群众反映工作日难以请假办事。",
    "due_date": "2099-12-31",
}
UNIT_ACTOR = {"role": "unit", "id": "staff", "name": "联络员", "unit": OWN}
# Every route by which a unit's token can ask for an item by id, with the kind of item (its id
# goes where {} or "<item>" is) and a body that passes validation, so that only the lookup decides.
BY_ID: list[tuple[str, str, str, str, dict[str, Any] | None]] = [
    (
        "measures",
        "POST",
        f"/v1/units/{OWN}/progress-reports",
        "assignment",
        report(OWN, "SEC-P1", assignment_id="<item>"),
    ),
    ("measures", "GET", "/v1/assignments/{}", "assignment", None),
    ("measures", "GET", "/v1/assignments/{}/progress-reports", "assignment", None),
    (
        "measures",
        "POST",
        "/v1/assignments/{}/change-requests",
        "assignment",
        change_request(OWN) | {"request_id": "SEC-CR2"},
    ),
    ("measures", "GET", "/v1/change-requests/{}", "change request", None),
    ("inspections", "GET", "/v1/inspections/{}", "inspection", None),
    ("inspections", "GET", "/v1/findings/{}", "finding", None),
    ("inspections", "GET", "/v1/findings/{}/journal", "finding", None),
    ("inspections", "POST", "/v1/findings/{}/plan", "finding", {"actor": UNIT_ACTOR}),
    (
        "inspections",
        "POST",
        "/v1/findings/{}/submissions",
        "finding",
        {"actor": UNIT_ACTOR, "summary": "已整改", "evidence": EVIDENCE},
    ),
    ("inspections", "GET", "/v1/public-requests/{}", "public request", None),
    (
        "inspections",
        "POST",
        f"/v1/units/{OWN}/public-requests/{{}}/steps",
        "public request",
        {"actor": UNIT_ACTOR, "step": {"step": "closed", "closed_at": "2026-03-05T09:00:00+08:00"}},
    ),
    ("inspections", "GET", "/v1/suggestions/{}", "suggestion", None),
    (
        "inspections",
        "POST",
        "/v1/suggestions/{}/answer",
        "suggestion",
        {"actor": UNIT_ACTOR, "answer": "自4月起周六上午开放", "evidence": EVIDENCE},
    ),
    ("notifications", "GET", "/v1/escalations/{}", "escalation", None),
    ("notifications", "GET", "/v1/inbox/{}", "mailbox", None),
    ("notifications", "POST", "/v1/inbox/{}/1/read", "mailbox", None),
    ("notifications", "POST", "/v1/inbox/{}/1/acknowledge", "mailbox", None),
    ("notifications", "POST", "/v1/inbox/<own mailbox>/{}/read", "message", None),
    ("notifications", "POST", "/v1/inbox/<own mailbox>/{}/acknowledge", "message", None),
]
MISSING = {"mailbox": "360199:contact", "message": "999999999"}  # other kinds: SEC-NONE


@pytest.mark.parametrize(
    ("service", "method", "path", "kind", "body"), BY_ID, ids=[f"{m} {p}" for _, m, p, *_ in BY_ID]
)
def test_another_units_item_is_answered_as_a_missing_one(
    others: dict[str, str],
    office: dict[str, httpx.Client],
    reporter: dict[str, httpx.Client],
    service: str,
    method: str,
    path: str,
    kind: str,
    body: dict[str, Any] | None,
) -> None:
    """A unit must not learn that another unit's item exists: asked for by id, it answers
    exactly as an id on record nowhere does (status, code, title and detail but the id)."""
    path = path.replace("<own mailbox>", others["own mailbox"])

    def answer(item: str) -> tuple[int, str, dict[str, Any]]:
        payload = json.loads(json.dumps(body).replace("<item>", item))
        response = reporter[service].request(method, path.format(item), json=payload)
        problem = {
            key: value.replace(item, "<id>") if isinstance(value, str) else value
            for key, value in response.json().items()
        }
        return response.status_code, response.headers["content-type"], problem

    hidden, missing = answer(others[kind]), answer(MISSING.get(kind, "SEC-NONE"))
    assert hidden[2]["code"].startswith("unknown_") or hidden[2]["code"].endswith("_not_found")
    assert hidden == missing
    if method == "GET":  # the office still reads it
        assert office[service].get(path.format(others[kind])).status_code == 200
