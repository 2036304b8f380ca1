"""The scoring service on a real nats-server and real SQLite and PostgreSQL: events in any order
and with duplicates become explained cards; ScoreUpdated is coalesced; closing a period publishes
rankings that late events never change; rubrics are versioned and a bad one changes nothing; a
rebuild from the stream into a fresh store gives the same cards as live processing.

The tests of this module share one service and pass in any order: each registers the units it
scores and publishes their facts (the same facts again are harmless), and none closes a period,
changes a rubric or adds facts in a period another one asserts on: the explained cards are
2026-03's, the coalesced ones 2026-05's, the closed ones the departments' 2026-Q1, the rebuild's
2026-04, and the rubric versions are programme year 2025's."""

import json
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
import sqlalchemy as sa
from nats.js import JetStreamContext
from nats.js.api import DeliverPolicy

from contracts import subjects
from contracts.envelope import Envelope
from contracts.inspections import Severity
from services.runtime.db import Database
from services.runtime.messaging import outbox
from services.runtime.service import ServiceRuntime
from services.scoring.adapters import stream
from services.scoring.adapters.tables import closures, dirty_units, published_rankings, scorecards
from services.scoring.bootstrap import build
from services.scoring.entrypoints.bus import DURABLES
from services.scoring.handlers.rebuild import rebuild
from services.scoring.settings import ScoringSettings
from tests import auth
from tests.conftest import Databases, eventually_async, start_nats
from tests.unit.scoring.events import RUBRIC_2026, at, finding, history, unit_registered

UNIT = "360102"
COUNTY = {"360102": "东湖区", "360103": "西湖区", "360104": "青云谱区", "360111": "青山湖区"}
DEVZONE = {"nc-gaoxin": "南昌高新技术产业开发区"}
DEPARTMENTS = {"dept-fgw": "市发展改革委", "dept-kjj": "市科技局", "dept-gxj": "市工信局"}
LAST_DEPARTMENT = ("dept-czj", "市财政局")  # its year so far (history) ranks it last
RUBRIC_2025 = RUBRIC_2026.replace("2026", "2025")


@dataclass
class Scoring:
    runtime: ServiceRuntime
    http: httpx.AsyncClient
    js: JetStreamContext
    nats_url: str
    rubric_dir: Path
    databases: Databases


@pytest.fixture(scope="module")
async def scoring(
    module_databases: Databases, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Scoring]:
    directory = tmp_path_factory.mktemp("scoring")
    server = start_nats(directory)
    rubric_dir = directory / "rubrics"
    rubric_dir.mkdir()
    # The module checks the service's mechanics on the deduction model's arithmetic (2026.1);
    # the earned model's rules are checked in tests/unit/scoring.
    (rubric_dir / "2026.yaml").write_text(RUBRIC_2026, encoding="utf-8")
    settings = ScoringSettings(
        nats_url=server.url,
        database_url=module_databases.url("scoring"),
        log_format="console",
        consumer_batch_timeout_seconds=0.05,
        retry_base_delay_seconds=0.05,
        consumer_max_deliver=3,
        outbox_poll_seconds=0.1,
        shutdown_grace_seconds=5,
        recompute_interval_seconds=0.3,
        rubric_reload_seconds=3600,
        rubric_dir=rubric_dir,
    )
    runtime, app = build(settings)
    connection = await nats.connect(server.url)
    async with runtime.lifespan(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://scoring", headers=auth.headers()
        ) as client:
            await eventually_async(lambda: _ready(client))
            yield Scoring(
                runtime, client, connection.jetstream(), server.url, rubric_dir, module_databases
            )
    await connection.close()
    server.stop()


async def _ready(client: httpx.AsyncClient) -> bool:
    return (await client.get("/readyz")).status_code == 200


async def publish(js: JetStreamContext, envelope: Envelope[Any], copy: str | None = None) -> None:
    subject = subjects.event(envelope.type, envelope.subject)
    await js.publish(subject, envelope.to_json(), headers={"Nats-Msg-Id": copy or envelope.id})


async def read(js: JetStreamContext, subject: str) -> list[dict[str, Any]]:
    subscription = await js.subscribe(
        subject, ordered_consumer=True, deliver_policy=DeliverPolicy.ALL
    )
    found = []
    try:
        while True:
            found.append(json.loads((await subscription.next_msg(timeout=0.5)).data))
    except nats.errors.TimeoutError:
        pass
    finally:
        await subscription.unsubscribe()
    return found


async def register(scoring: Scoring, units: dict[str, str], peer_group: str) -> None:
    for code, name in units.items():
        await publish(scoring.js, unit_registered(code, name, peer_group))


async def card(scoring: Scoring, unit: str, period: str, **params: str) -> dict[str, Any]:
    response = await scoring.http.get(f"/v1/units/{unit}/cards/{period}", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def settled(scoring: Scoring) -> bool:
    """Every event in the stream processed, every card recomputed, every event published."""
    js = scoring.runtime.bus.jetstream()
    assert js is not None
    if not await stream.caught_up(js, DURABLES, await stream.last_sequence(js)):
        return False
    async with scoring.runtime.db.session() as session:
        dirty = await session.scalar(sa.select(sa.func.count()).select_from(dirty_units))
        unsent = await session.scalar(
            sa.select(sa.func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))
        )
    return dirty == 0 and unsent == 0


async def test_events_in_any_order_and_duplicated_become_explained_cards(
    scoring: Scoring,
) -> None:
    await register(scoring, COUNTY, "county")
    await register(scoring, DEVZONE, "devzone")
    events = history(UNIT)
    for envelope in reversed(events):  # out of order: the newest first
        await publish(scoring.js, envelope)
    for envelope in events[2:5]:  # redelivered beyond the duplicate window
        await publish(scoring.js, envelope, copy=f"again-{envelope.id}")

    async def march() -> dict[str, Any] | None:
        body = await card(scoring, UNIT, "2026-03")
        stored = body["card"]["total"] == "86.77" and not body["computed_on_request"]
        return body if stored else None

    await eventually_async(march, within=30)
    await eventually_async(lambda: settled(scoring), within=30)
    body = await card(scoring, UNIT, "2026-03")
    items = {(li["rule"], li["type"]): li["points"] for li in body["card"]["line_items"]}
    assert items[("finding", "disciplined")] == "-3.00"
    assert items[("milestone_on_time", "innovative")] == "-5.33"
    assert body["unit_name"] == "东湖区" and body["peer_group"] == "county"
    assert (body["status"], body["computed_on_request"], body["published"]) == ("open", False, None)
    finding_ids = sorted(e.id for e in events if e.type == "FindingRaised")
    finding_line = next(li for li in body["card"]["line_items"] if li["rule"] == "finding")
    assert finding_line["events"] == finding_ids

    untouched = await card(scoring, "360103", "2026-03")  # registered, nothing to score yet
    assert (untouched["card"]["total"], untouched["computed_on_request"]) == ("100.00", True)
    unknown = await scoring.http.get("/v1/units/360999/cards/2026-03")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "unknown_unit")
    bad = await scoring.http.get("/v1/units/360102/cards/2026-13")
    assert (bad.status_code, bad.json()["code"]) == (422, "validation_failed")

    filtered = await scoring.http.get(
        f"/v1/units/{UNIT}/cards/2026-03/line-items", params={"type": "service"}
    )
    assert {li["rule"] for li in filtered.json()} == {
        "rectification_overdue",
        "hotline_on_time",
        "hotline_satisfaction",
        "hotline_repeat",
        "hotline_reopen",
    }
    history_points = (
        await scoring.http.get(f"/v1/units/{UNIT}/history", params={"kind": "month"})
    ).json()
    assert [p["period"] for p in history_points][:4] == ["2026-01", "2026-02", "2026-03", "2026-04"]
    assert history_points[2]["total"] == "86.77"

    past = await card(scoring, UNIT, "2026-03", as_of="2026-03-19T10:00:00+08:00")
    assert past["card"]["as_of"] == "2026-03-19T02:00:00Z"
    known_then = {(li["rule"], li["type"]) for li in past["card"]["line_items"]}
    assert ("deadline_missed", "responsible") in known_then  # G-1, detected on 3-13
    assert ("deadline_missed", "innovative") not in known_then  # detected on 3-21 and later


async def test_score_updated_is_coalesced_not_one_per_event(scoring: Scoring) -> None:
    unit = "360111"
    await register(scoring, {unit: COUNTY[unit]}, "county")
    findings = [
        finding(unit, f"{unit}-F{n}", Severity.MINOR, at(date(2026, 5, 1 + n % 28)))
        for n in range(150)
    ]
    for envelope in findings:
        await publish(scoring.js, envelope)

    async def may() -> bool:
        return (await card(scoring, unit, "2026-05"))["card"]["total"] == "97.00"  # cap 3

    await eventually_async(may, within=30)
    await eventually_async(lambda: settled(scoring), within=30)
    updates = [u["data"] for u in await read(scoring.js, subjects.event("ScoreUpdated", unit))]
    per_card = Counter(u["period"] for u in updates)
    assert per_card["2026-05"] < len(findings) / 10
    last = max((u for u in updates if u["period"] == "2026-05"), key=lambda u: u["revision"])
    assert (last["total"], last["unit_name"], last["period_closed"]) == (97.0, "青山湖区", False)
    revisions = (await scoring.http.get(f"/v1/units/{unit}/cards/2026-05/revisions")).json()
    assert [r["revision"] for r in revisions] == list(range(1, len(revisions) + 1))
    assert len(revisions) == per_card["2026-05"]


async def test_closing_publishes_rankings_and_late_events_never_change_them(
    scoring: Scoring,
) -> None:
    last, last_name = LAST_DEPARTMENT
    await register(scoring, DEPARTMENTS | {last: last_name}, "department")
    for envelope in history(last):
        await publish(scoring.js, envelope)
    await eventually_async(lambda: settled(scoring), within=30)

    early = await scoring.http.post("/v1/periods/2099-01/close", json={"closed_by": "市五型办"})
    assert (early.status_code, early.json()["code"]) == (409, "period_not_ended")
    provisional = (await scoring.http.get("/v1/rankings/2026-Q1")).json()
    assert provisional["status"] == "provisional"
    one_group = await scoring.http.get("/v1/rankings/2026-Q1", params={"peer_group": "department"})
    assert [r["peer_group"] for r in one_group.json()["provisional"]] == ["department"]
    unknown = await scoring.http.get("/v1/rankings/2026-Q1", params={"peer_group": "villages"})
    assert (unknown.status_code, unknown.json()["code"]) == (422, "unknown_peer_group")
    assert "villages" in unknown.json()["detail"]

    closed = await scoring.http.post("/v1/periods/2026-Q1/close", json={"closed_by": "市五型办"})
    assert closed.status_code == 201, closed.text
    groups = {r["peer_group"]: r for r in closed.json()["rankings"]}
    departments = groups["department"]
    assert [(e["unit"], e["rank"], e["tied"]) for e in departments["entries"]] == [
        ("dept-fgw", 1, True),
        ("dept-gxj", 1, True),
        ("dept-kjj", 1, True),
        (last, 4, False),
    ]
    assert departments["red_list"] == ["dept-fgw", "dept-gxj", "dept-kjj"]
    assert departments["black_list"] == [last]  # last and below 95

    async def all_published() -> bool:
        events = await read(scoring.js, subjects.event("RankingPublished", "office"))
        published = {e["data"]["peer_group"] for e in events if e["data"]["period"] == "2026-Q1"}
        return published == groups.keys()

    await eventually_async(all_published, within=10)

    again = await scoring.http.post("/v1/periods/2026-Q1/close", json={"closed_by": "市五型办"})
    assert (again.status_code, again.json()["code"]) == (409, "period_already_closed")

    late = finding(last, f"{last}-late", Severity.CRITICAL, at(date(2026, 3, 30)))
    late = late.model_copy(update={"time": datetime.now(UTC)})  # learnt after the close
    await publish(scoring.js, late)

    async def revised() -> dict[str, Any] | None:
        body = await card(scoring, last, "2026-Q1")
        return body if body["changed_since_publication"] else None

    body = await eventually_async(revised, within=30)
    assert (body["status"], body["late_events"]) == ("closed", [late.id])
    assert (body["published"]["total"], body["published"]["rank"]) == ("86.27", 4)
    assert body["published"]["card"]["total"] == "86.27"
    assert body["card"]["total"] == "84.77"  # the quarter's cap (5) takes 1.50 of its 2
    finding_line = next(li for li in body["card"]["line_items"] if li["rule"] == "finding")
    assert late.id in finding_line["events"] and finding_line["uncapped"] == "-5.50"
    ranking = (await scoring.http.get("/v1/rankings/2026-Q1")).json()
    assert (ranking["status"], ranking["revision"]) == ("published", 1)

    revision = await scoring.http.post(
        "/v1/periods/2026-Q1/close",
        json={"closed_by": "市五型办", "revise": True, "note": "采纳迟到事件"},
    )
    assert revision.status_code == 201 and revision.json()["revision"] == 2
    now_published = await card(scoring, last, "2026-Q1")
    assert (now_published["late_events"], now_published["changed_since_publication"]) == ([], False)
    first = (await scoring.http.get("/v1/rankings/2026-Q1", params={"revision": 1})).json()
    assert first["revision"] == 1


async def test_rubric_versions_and_refusals(scoring: Scoring) -> None:
    """Programme year 2025, which no other test scores: its versions change only its cards."""
    yaml_type = {"content-type": "application/yaml"}
    unit = "360124"
    await register(scoring, {unit: "进贤县"}, "county")
    initial = await scoring.http.put("/v1/rubrics/2025", content=RUBRIC_2025, headers=yaml_type)
    assert (initial.status_code, initial.json()["in_force"]) == (201, "2025.1")
    for raised in (date(2025, 3, 5), date(2025, 4, 8)):
        await publish(scoring.js, finding(unit, f"{unit}-{raised}", Severity.CRITICAL, at(raised)))

    async def april(version: str, total: str) -> bool:  # the stored card, not one on request
        body = await card(scoring, unit, "2025-04")
        found = (body["card"]["rubric_version"], body["card"]["total"])
        return not body["computed_on_request"] and found == (version, total)

    await eventually_async(lambda: april("2025.1", "98.00"), within=30)  # a critical finding: 2
    closed = await scoring.http.post("/v1/periods/2025-03/close", json={"closed_by": "市五型办"})
    assert closed.status_code == 201, closed.text

    broken = RUBRIC_2025.replace("loyal: 15", "loyal: 10").replace('"2025.1"', '"2025.2"')
    refused = await scoring.http.put("/v1/rubrics/2025", content=broken, headers=yaml_type)
    assert (refused.status_code, refused.json()["code"]) == (422, "rubric_invalid")
    assert refused.json()["errors"] == [
        {"loc": "weights", "msg": "权重之和为 95，而 weights_total 为 100"}
    ]
    english = {**yaml_type, "Accept-Language": "en"}
    in_english = await scoring.http.put("/v1/rubrics/2025", content=broken, headers=english)
    assert in_english.json()["errors"] == [
        {"loc": "weights", "msg": "sum to 95, but weights_total declares 100"}
    ]
    conflict = RUBRIC_2025.replace(
        "points: 0.5\n    cap: {month: 1", "points: 0.6\n    cap: {month: 1"
    )
    clash = await scoring.http.put("/v1/rubrics/2025", content=conflict, headers=yaml_type)
    assert (clash.status_code, clash.json()["code"]) == (409, "rubric_version_conflict")
    same = await scoring.http.put("/v1/rubrics/2025", content=RUBRIC_2025, headers=yaml_type)
    assert (same.status_code, same.json()["activated"]) == (200, False)

    stricter = (
        RUBRIC_2025.replace('"2025.1"', '"2025.2"')
        .replace("critical: 2}", "critical: 3}")
        .replace("share_of_type: 0.4", "share_of_type: 0.5")
    )
    put = await scoring.http.put("/v1/rubrics/2025", content=stricter, headers=yaml_type)
    assert (put.status_code, put.json()["in_force"]) == (201, "2025.2")
    older = await scoring.http.put("/v1/rubrics/2025", content=RUBRIC_2025, headers=yaml_type)
    assert older.status_code == 200  # 2025.1 is kept, and stays out of force

    await eventually_async(lambda: april("2025.2", "97.00"), within=30)  # rescored: 3
    await eventually_async(lambda: settled(scoring), within=30)
    appeal = await card(scoring, unit, "2025-03", rubric_version="2025.1")
    assert (appeal["computed_on_request"], appeal["card"]["rubric_version"]) == (True, "2025.1")
    assert appeal["published"]["rubric_version"] == "2025.1"

    (scoring.rubric_dir / "2025.yaml").write_text(
        RUBRIC_2025.replace('"2025.1"', '"2025.3"').replace("input: report", "input: reports"),
        encoding="utf-8",
    )
    index = (await scoring.http.post("/v1/rubrics/reload")).json()
    assert {y["year"]: y["in_force"] for y in index["years"]}[2025] == "2025.2"
    problems = next(f for f in index["files"] if f["file"] == "2025.yaml")["problems"]
    assert problems[0].startswith("indicators[2] (report_late): input 'reports' is not a")
    chinese = next(f for f in index["files"] if f["file"] == "2025.yaml")["problems_zh"]
    assert chinese[0].startswith("indicators[2] (report_late): 'reports' 不是计分输入")
    wrong_type = await scoring.http.put(
        "/v1/rubrics/2025", content=b"\x00", headers={"content-type": "image/png"}
    )
    assert (wrong_type.status_code, wrong_type.json()["code"]) == (415, "unsupported_media_type")


async def _rows(db: Database, table: sa.Table, *columns: str) -> list[tuple[Any, ...]]:
    """The rows of a table, in primary key order."""
    async with db.session() as session:
        query = sa.select(*(table.c[c] for c in columns)).order_by(*table.primary_key.columns)
        return [tuple(row) for row in await session.execute(query)]


async def test_a_rebuild_from_the_stream_equals_live_processing(scoring: Scoring) -> None:
    unit = "nc-etdz"
    await register(scoring, {unit: "南昌经济技术开发区"}, "devzone")
    for envelope in history(unit):
        await publish(scoring.js, envelope)
    await eventually_async(lambda: settled(scoring), within=30)
    closed = await scoring.http.post("/v1/periods/2026-04/close", json={"closed_by": "市五型办"})
    assert closed.status_code == 201, closed.text
    await eventually_async(lambda: settled(scoring), within=30)
    url = scoring.databases.url("rebuilt")
    result = await rebuild(url, scoring.nats_url, scoring.rubric_dir)
    assert result.facts > 0 and result.skipped == 0
    rebuilt = Database(url)
    try:
        live_cards = await _rows(scoring.runtime.db, scorecards, "unit", "period", "card")
        assert [row[0] for row in live_cards].count(unit) == 17  # months, quarters, the year
        assert await _rows(rebuilt, scorecards, "unit", "period", "card") == live_cards
        for table, columns in (
            (closures, ("period", "revision", "as_of", "rubric_version", "closed_by")),
            (published_rankings, ("period", "revision", "peer_group", "event_id", "ranking")),
        ):
            assert await _rows(rebuilt, table, *columns) == await _rows(
                scoring.runtime.db, table, *columns
            )
    finally:
        await rebuilt.dispose()


async def test_a_verdict_needs_a_known_unit_and_a_rubric_with_grades(scoring: Scoring) -> None:
    """The module's rubric is the deduction model, which has no 等次 to veto (the earned model's
    verdicts are tested in tests/unit/scoring/test_verdicts.py)."""
    await publish(scoring.js, unit_registered("360102", "东湖区", "county"))
    verdict = {
        "verdict_id": "V-http",
        "period": "2026",
        "kind": "veto",
        "reason": "发生重大安全生产责任事故",
        "document": "洪五型办〔2026〕9号",
        "decided_on": "2026-12-01",
    }
    unknown = await scoring.http.post("/v1/units/360199/verdicts", json=verdict)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "unknown_unit")

    async def refused() -> httpx.Response | None:
        answer = await scoring.http.post("/v1/units/360102/verdicts", json=verdict)
        return answer if answer.status_code == 409 else None

    answer = await eventually_async(refused)
    assert answer.json()["code"] == "verdict_needs_grades"
