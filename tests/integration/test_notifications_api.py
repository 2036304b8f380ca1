"""Administering the notifications service over HTTP, with production settings (private webhook
targets refused): recipients and routing rules are stored and routed by, malformed ones are
refused with precise problem details and change nothing. Real nats-server (for the unit replica)
and a real database (SQLite and PostgreSQL)."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Databases, eventually_async, start_nats
from tests.integration.test_notifications_support import (
    OffsetClock,
    publish,
    serving,
    settings,
    unit,
)

SECRET = "api-test-secret-00112233445566778899"
UNITS = [
    ("360102", "东湖区", "county"),
    ("360103", "西湖区", "county"),
    ("nc-hitech", "南昌高新技术产业开发区", "devzone"),
    ("office", "市“五型”办", None),
]


@dataclass
class Api:
    client: httpx.AsyncClient

    async def put(self, path: str, body: dict[str, Any], english: bool = False) -> httpx.Response:
        headers = {"Accept-Language": "en"} if english else {}
        return await self.client.put(path, json=body, headers=headers)

    async def get(self, path: str, **params: Any) -> Any:
        response = await self.client.get(path, params=params)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(scope="module")
async def api(
    module_databases: Databases, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Api]:
    directory: Path = tmp_path_factory.mktemp("notifications-api")
    server = start_nats(directory)
    config = settings(server.url, module_databases.url("notifications"))
    assert config.webhook_allow_private_targets is False  # the production default
    try:
        async with serving(config, OffsetClock()) as (_service, client):
            for code, name, group in UNITS:
                await publish(server.url, unit(code, name, group))
            api = Api(client)
            await eventually_async(lambda: _units_known(api))
            yield api
    finally:
        server.stop()


async def _units_known(api: Api) -> bool:
    return len(await api.get("/v1/units")) == len(UNITS)


def rule(**changes: Any) -> dict[str, Any]:
    return {
        "description": "开发区督查问题抄送督查组",
        "topic": "finding_raised",
        "peer_group": "devzone",
        "min_severity": "general",
        "targets": ["recipient:inspection-team", "unit_head"],
        "channels": ["inbox", "email"],
    } | changes


UNIT_ITEMS = [
    "milestone",
    "obligation",
    "rectification",
    "rectification_plan",
    "public_request",
    "suggestion",
]


async def test_defaults_are_seeded(api: Api) -> None:
    rules = {r["id"]: r for r in await api.get("/v1/routing-rules")}
    assert rules["default-deadline-missed"]["targets"] == ["unit_contact"]
    assert rules["default-supervision-order"]["targets"] == ["unit_head", "office"]
    assert rules["default-public-notice"]["targets"] == ["all_units", "leaders", "office"]
    # Verification deadlines are the office's own: their reminders and notices go to it.
    assert rules["default-deadline-missed"]["item_types"] == UNIT_ITEMS
    assert rules["default-deadline-missed-office"]["item_types"] == ["verification"]
    assert rules["default-deadline-missed-office"]["targets"] == ["office"]
    recipients = {r["code"]: r for r in await api.get("/v1/recipients")}
    codes = {code: r["role"] for code, r in recipients.items()}
    assert codes["office"] == "office" and codes["leaders"] == "leader"
    assert recipients["office"]["digest"] is True  # routine notices come in its digest
    assert codes["nc-hitech:contact"] == "contact" and codes["360102:head"] == "head"


async def test_a_rule_routes_by_peer_group_and_severity(api: Api) -> None:
    team = {"role": "other", "name": "督查组", "emails": ["team@example.gov.cn"]}
    assert (await api.put("/v1/recipients/inspection-team", team)).status_code == 201
    created = await api.put("/v1/routing-rules/devzone-findings", rule())
    assert created.status_code == 201, created.text
    assert created.json()["targets"] == ["recipient:inspection-team", "unit_head"]

    async def preview(unit_code: str, severity: str) -> dict[str, list[str]]:
        routes = await api.get(
            "/v1/routing/preview", topic="finding_raised", unit=unit_code, severity=severity
        )
        return {r["recipient"]: r["channels"] for r in routes}

    assert await preview("nc-hitech", "general") == {
        "inspection-team": ["email", "inbox"],
        "nc-hitech:contact": ["inbox"],
        "nc-hitech:head": ["inbox"],
    }
    assert "inspection-team" not in await preview("nc-hitech", "minor")
    assert "inspection-team" not in await preview("360102", "critical")
    # Defaults add the head and the office for serious findings anywhere.
    assert set(await preview("360102", "serious")) == {"360102:contact", "360102:head", "office"}

    replaced = await api.put("/v1/routing-rules/devzone-findings", rule(enabled=False))
    assert replaced.status_code == 200
    assert "inspection-team" not in await preview("nc-hitech", "critical")


async def _refused(api: Api, path: str, body: dict[str, Any], english: bool = False) -> Any:
    response = await api.put(path, body, english)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return response.json()


@pytest.mark.parametrize(
    ("changes", "loc", "message"),
    [
        ({"topic": "deadline_mised"}, "body.topic", "应为以下取值之一"),
        ({"targets": []}, "body.targets", "至少 1 项"),
        ({"targets": ["boss"]}, "body.targets", "'boss' 不是有效的发送对象"),
        ({"targets": ["office", "office"]}, "body.targets", "发送对象 'office' 重复"),
        ({"channels": ["sms"]}, "body.channels.0", "应为以下取值之一：'inbox'、'email'、"),
        ({"unit": "360102"}, "body", "“unit”与“peer_group”只能填写其一"),
        ({"topic": "deadline_missed"}, "body", "min_severity 仅适用于有严重程度的主题"),
        ({"topic": "digest", "min_severity": None}, "body", "每日汇总发给选择汇总的收件人"),
        ({"priority": 1}, "body.priority", "不允许的字段"),
    ],
)
async def test_a_malformed_rule_is_refused_precisely(
    api: Api, changes: dict[str, Any], loc: str, message: str
) -> None:
    problem = await _refused(api, "/v1/routing-rules/bad-rule", rule(**changes))
    assert problem["code"] == "validation_failed"
    assert any(e["loc"] == loc and message in e["msg"] for e in problem["errors"]), problem
    missing = await api.client.get("/v1/routing-rules/bad-rule")
    assert (missing.status_code, missing.json()["code"]) == (404, "rule_not_found")


async def test_a_rule_naming_unknown_things_is_refused_with_each_reason(api: Api) -> None:
    body = rule(peer_group="villages", targets=["recipient:nobody", "office"])
    problem = await _refused(api, "/v1/routing-rules/bad-refs", body, english=True)
    assert (problem["code"], problem["title"]) == ("invalid_rule", "Invalid routing rule")
    assert problem["errors"] == [
        {
            "loc": "peer_group",
            "msg": "peer group 'villages' is not known (known: county, devzone)",
        },
        {"loc": "targets.0", "msg": "recipient 'nobody' does not exist"},
    ]
    # Targets that always exist (a seeded recipient, a role), so that only the unit is wrong.
    unknown_unit = await _refused(
        api,
        "/v1/routing-rules/bad-refs",
        rule(peer_group=None, unit="360199", targets=["office", "unit_head"]),
    )
    assert unknown_unit["title"] == "路由规则有误"
    assert unknown_unit["errors"] == [{"loc": "unit", "msg": "单位 '360199' 不在单位名录中"}]
    assert (await api.client.get("/v1/routing-rules/bad-refs")).status_code == 404


async def test_recipients_are_validated_and_secrets_are_write_only(api: Api) -> None:
    base = {"role": "contact", "unit": "360103", "name": "西湖区联络员"}
    hook = {"url": "https://hooks.example.gov.cn/fivetype?token=abc", "secret": SECRET}
    saved = await api.put("/v1/recipients/360103:contact", base | {"webhook": hook})
    assert saved.status_code == 200, saved.text
    assert saved.json()["webhook"] == {"url": hook["url"], "secret_set": True}
    assert SECRET not in saved.text
    # Omitting the secret keeps it; the response never shows it.
    kept = await api.put("/v1/recipients/360103:contact", base | {"webhook": {"url": hook["url"]}})
    assert kept.json()["webhook"]["secret_set"] is True and SECRET not in kept.text

    cases = [
        ("360103:contact", base | {"role": "head"}, "role", "is the contact mailbox of unit"),
        ("west-lake", base, "role", "a unit's contact mailbox is named <unit>:contact"),
        (
            "360103:contact",
            base | {"webhook": {"url": "http://127.0.0.1:8080/hook", "secret": SECRET}},
            "webhook.url",
            "127.0.0.1 is not a public address; private and loopback targets are refused",
        ),
        (
            "360103:contact",
            base | {"webhook": {"url": "http://10.1.2.3/hook", "secret": SECRET}},
            "webhook.url",
            "10.1.2.3 is not a public address",
        ),
        (
            "360103:contact",
            base | {"webhook": {"url": "http://localhost/hook", "secret": SECRET}},
            "webhook.url",
            "localhost is a loopback name",
        ),
    ]
    for code, body, loc, message in cases:
        problem = await _refused(api, f"/v1/recipients/{code}", body, english=True)
        assert problem["code"] == "invalid_recipient"
        assert any(e["loc"] == loc and message in e["msg"] for e in problem["errors"]), problem

    shape = [
        ({"emails": ["not-an-address"]}, "'not-an-address' is not an email address"),
        ({"webhook": {"url": "ftp://x.example/h", "secret": SECRET}}, "must start with https://"),
        (
            {"webhook": {"url": "https://u:p@x.example/h", "secret": SECRET}},
            "not carry credentials",
        ),
        ({"webhook": {"url": "https://x.example/h", "secret": "short"}}, "32 to 256 characters"),
        ({"role": "leader"}, "a leader recipient belongs to no unit"),
    ]
    for changes, message in shape:
        problem = await _refused(api, "/v1/recipients/360103:contact", base | changes, english=True)
        assert problem["code"] == "validation_failed"
        assert any(message in e["msg"] for e in problem["errors"]), problem
        assert SECRET not in str(problem)
    # The office reads the same refusals in Chinese.
    for changes, message in [
        ({"emails": ["a@x.example", "A@x.example"]}, "电子邮箱地址重复"),
        ({"webhook": {"url": "https://x.example/h#top", "secret": SECRET}}, "不得包含 # 片段"),
    ]:
        problem = await _refused(api, "/v1/recipients/360103:contact", base | changes)
        assert any(message in e["msg"] for e in problem["errors"]), problem
    private = {"webhook": {"url": "http://10.1.2.3/hook", "secret": SECRET}}
    problem = await _refused(api, "/v1/recipients/360103:contact", base | private)
    assert problem["errors"] == [
        {"loc": "webhook.url", "msg": "10.1.2.3 是本机或内网地址：不接受内网和本机地址"}
    ]

    after = await api.get("/v1/recipients/360103:contact")
    assert after["webhook"]["url"] == hook["url"] and after["role"] == "contact"


async def test_deleting_recipients_protects_mailboxes_and_rules(api: Api) -> None:
    mailbox = await api.client.delete("/v1/recipients/360102:contact")
    assert (mailbox.status_code, mailbox.json()["code"]) == (409, "unit_mailbox")
    # A recipient of this test's own, named by a rule of its own.
    clerk = {"role": "other", "name": "西湖区督查专员", "emails": ["clerk@example.gov.cn"]}
    assert (await api.put("/v1/recipients/west-lake-clerk", clerk)).status_code == 201
    uses = rule(peer_group=None, unit="360103", targets=["recipient:west-lake-clerk"])
    assert (await api.put("/v1/routing-rules/west-lake-findings", uses)).status_code == 201
    team = await api.client.delete("/v1/recipients/west-lake-clerk")
    assert (team.status_code, team.json()["code"]) == (409, "recipient_in_use")
    assert team.json()["detail"] == "引用它的路由规则：west-lake-findings"
    assert (await api.client.delete("/v1/routing-rules/west-lake-findings")).status_code == 204
    assert (await api.client.delete("/v1/recipients/west-lake-clerk")).status_code == 204
    gone = await api.client.get("/v1/inbox/west-lake-clerk", headers={"Accept-Language": "en"})
    assert (gone.status_code, gone.json()["title"]) == (404, "Recipient not found")
