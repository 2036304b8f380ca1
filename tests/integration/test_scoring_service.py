"""The scoring service on a real nats-server and real SQLite and PostgreSQL: events in any order
and with duplicates become explained cards; ScoreUpdated is coalesced; closing a period publishes
rankings that late events never change; rubrics are versioned and a bad one changes nothing; a
rebuild from the stream into a fresh store gives the same cards as live processing.

The tests of this module share one service and run in order (each builds on the last)."""

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
    for code, name in COUNTY.items():
        await publish(scoring.js, unit_registered(code, name, "county"))
    for code, name in DEVZONE.items():
        await publish(scoring.js, unit_registered(code, name, "devzone"))
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


async def test_score_updated_is_coalesced_not_one_per_event(scoring: Scoring) -> None:
    unit = "360111"
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
    early = await scoring.http.post("/v1/periods/2099-01/close", json={"closed_by": "市五型办"})
    assert (early.status_code, early.json()["code"]) == (409, "period_not_ended")
    provisional = (await scoring.http.get("/v1/rankings/2026-03")).json()
    assert provisional["status"] == "provisional"

    closed = await scoring.http.post("/v1/periods/2026-03/close", json={"closed_by": "市五型办"})
    assert closed.status_code == 201, closed.text
    county = next(r for r in closed.json()["rankings"] if r["peer_group"] == "county")
    assert [(e["unit"], e["rank"], e["tied"]) for e in county["entries"]] == [
        ("360103", 1, True),
        ("360104", 1, True),
        ("360111", 1, True),
        ("360102", 4, False),
    ]
    assert county["red_list"] == ["360103", "360104", "360111"]
    assert county["black_list"] == ["360102"]  # last and below 95
    published = await eventually_async(
        lambda: read(scoring.js, subjects.event("RankingPublished", "office")), within=10
    )
    assert {p["data"]["peer_group"] for p in published} == {"county", "devzone"}

    again = await scoring.http.post("/v1/periods/2026-03/close", json={"closed_by": "市五型办"})
    assert (again.status_code, again.json()["code"]) == (409, "period_already_closed")

    late = finding(UNIT, f"{UNIT}-late", Severity.CRITICAL, at(date(2026, 3, 30)))
    late = late.model_copy(update={"time": datetime.now(UTC)})  # learnt after the close
    await publish(scoring.js, late)

    async def revised() -> dict[str, Any] | None:
        body = await card(scoring, UNIT, "2026-03")
        return body if body["changed_since_publication"] else None

    body = await eventually_async(revised, within=30)
    assert (body["status"], body["late_events"]) == ("closed", [late.id])
    assert (body["published"]["total"], body["published"]["rank"]) == ("86.77", 4)
    assert body["published"]["card"]["total"] == "86.77"
    assert body["card"]["total"] == "86.77"  # the finding cap (3 a month) was already reached
    finding_line = next(li for li in body["card"]["line_items"] if li["rule"] == "finding")
    assert late.id in finding_line["events"] and finding_line["uncapped"] == "-5.50"
    ranking = (await scoring.http.get("/v1/rankings/2026-03")).json()
    assert (ranking["status"], ranking["revision"]) == ("published", 1)

    revision = await scoring.http.post(
        "/v1/periods/2026-03/close",
        json={"closed_by": "市五型办", "revise": True, "note": "采纳迟到事件"},
    )
    assert revision.status_code == 201 and revision.json()["revision"] == 2
    now_published = await card(scoring, UNIT, "2026-03")
    assert (now_published["late_events"], now_published["changed_since_publication"]) == ([], False)
    first = (await scoring.http.get("/v1/rankings/2026-03", params={"revision": 1})).json()
    assert first["revision"] == 1


async def test_rubric_versions_and_refusals(scoring: Scoring) -> None:
    yaml_type = {"content-type": "application/yaml"}
    broken = RUBRIC_2026.replace("loyal: 15", "loyal: 10").replace('"2026.1"', '"2026.2"')
    refused = await scoring.http.put("/v1/rubrics/2026", content=broken, headers=yaml_type)
    assert (refused.status_code, refused.json()["code"]) == (422, "rubric_invalid")
    assert refused.json()["errors"] == [
        {"loc": "weights", "msg": "sum to 95, but weights_total declares 100"}
    ]
    conflict = RUBRIC_2026.replace(
        "points: 0.5\n    cap: {month: 1", "points: 0.6\n    cap: {month: 1"
    )
    clash = await scoring.http.put("/v1/rubrics/2026", content=conflict, headers=yaml_type)
    assert (clash.status_code, clash.json()["code"]) == (409, "rubric_version_conflict")
    same = await scoring.http.put("/v1/rubrics/2026", content=RUBRIC_2026, headers=yaml_type)
    assert (same.status_code, same.json()["activated"]) == (200, False)

    stricter = (
        RUBRIC_2026.replace('"2026.1"', '"2026.2"')
        .replace("critical: 2}", "critical: 3}")
        .replace("share_of_type: 0.4", "share_of_type: 0.5")
    )
    put = await scoring.http.put("/v1/rubrics/2026", content=stricter, headers=yaml_type)
    assert (put.status_code, put.json()["in_force"]) == (201, "2026.2")
    older = await scoring.http.put("/v1/rubrics/2026", content=RUBRIC_2026, headers=yaml_type)
    assert older.status_code == 200  # 2026.1 is kept, and stays out of force

    async def rescored() -> dict[str, Any] | None:
        body = await card(scoring, UNIT, "2026-04")
        return body if body["card"]["rubric_version"] == "2026.2" else None

    await eventually_async(rescored, within=30)
    await eventually_async(lambda: settled(scoring), within=30)
    appeal = await card(scoring, UNIT, "2026-03", rubric_version="2026.1")
    assert (appeal["computed_on_request"], appeal["card"]["rubric_version"]) == (True, "2026.1")
    assert appeal["published"]["rubric_version"] == "2026.1"
    past = await card(scoring, UNIT, "2026-03", as_of="2026-03-19T10:00:00+08:00")
    assert past["card"]["as_of"] == "2026-03-19T02:00:00Z"
    known_then = {(li["rule"], li["type"]) for li in past["card"]["line_items"]}
    assert ("deadline_missed", "responsible") in known_then  # G-1, detected on 3-13
    assert ("deadline_missed", "innovative") not in known_then  # detected on 3-21 and later

    (scoring.rubric_dir / "2026.yaml").write_text(
        RUBRIC_2026.replace('"2026.1"', '"2026.3"').replace("input: report", "input: reports"),
        encoding="utf-8",
    )
    index = (await scoring.http.post("/v1/rubrics/reload")).json()
    assert index["years"][0]["in_force"] == "2026.2"
    problems = next(f for f in index["files"] if f["file"] == "2026.yaml")["problems"]
    assert problems[0].startswith("indicators[2] (report_late): input 'reports' is not a")
    wrong_type = await scoring.http.put(
        "/v1/rubrics/2026", content=b"\x00", headers={"content-type": "image/png"}
    )
    assert (wrong_type.status_code, wrong_type.json()["code"]) == (415, "unsupported_media_type")


async def _rows(db: Database, table: sa.Table, *columns: str) -> list[tuple[Any, ...]]:
    """The rows of a table, in primary key order."""
    async with db.session() as session:
        query = sa.select(*(table.c[c] for c in columns)).order_by(*table.primary_key.columns)
        return [tuple(row) for row in await session.execute(query)]


async def test_a_rebuild_from_the_stream_equals_live_processing(scoring: Scoring) -> None:
    await eventually_async(lambda: settled(scoring), within=30)
    url = scoring.databases.url("rebuilt")
    result = await rebuild(url, scoring.nats_url, scoring.rubric_dir)
    assert result.facts > 0 and result.skipped == 0
    rebuilt = Database(url)
    try:
        live_cards = await _rows(scoring.runtime.db, scorecards, "unit", "period", "card")
        assert len(live_cards) > 17
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
