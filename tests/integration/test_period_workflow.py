"""Closing a period as an office does, on a real nats-server and real SQLite and PostgreSQL:
close (公示) → one unit appeals (申诉) → the office corrects on review (复核) → 定档. Each step's
event is on the stream once; the card's history shows the correction with its reason; the
documents hold the figures; a late event after 定档 changes no final result; a rebuild from the
stream restores the workflow."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from io import BytesIO
from typing import Any

import httpx
import nats
import pytest
import sqlalchemy as sa
from docx import Document
from nats.js import JetStreamContext
from openpyxl import load_workbook

from contracts import subjects
from contracts.inspections import Severity
from services.runtime.db import Database
from services.runtime.messaging import outbox
from services.runtime.service import ServiceRuntime
from services.scoring.adapters import stream
from services.scoring.adapters.tables import appeals, dirty_units, result_stages
from services.scoring.bootstrap import build
from services.scoring.entrypoints.bus import DURABLES
from services.scoring.handlers.rebuild import rebuild
from services.scoring.settings import ScoringSettings
from tests import auth
from tests.conftest import Databases, eventually_async, start_nats
from tests.integration.test_scoring_service import publish, read
from tests.unit.scoring.events import GROUPS, at, finding, history, unit_registered

UNIT = "360102"
COUNTY = {"360102": "东湖区", "360103": "西湖区", "360104": "青云谱区"}
OFFICE = auth.headers()
OWN = auth.headers("unit_reporter", UNIT)
EVIDENCE = {"uri": "https://oa.example/doc/7", "sha256": "ab" * 32, "title": "整改销号材料"}


@dataclass
class Service:
    runtime: ServiceRuntime
    http: httpx.AsyncClient
    js: JetStreamContext
    shift: list[timedelta]  # the service's clock runs this far ahead of the real one


@pytest.fixture
async def service(databases: Databases, tmp_path: Any) -> AsyncIterator[Service]:
    server = start_nats(tmp_path)
    shift = [timedelta(0)]
    settings = ScoringSettings(
        nats_url=server.url,
        database_url=databases.url("scoring"),
        log_format="console",
        consumer_batch_timeout_seconds=0.05,
        outbox_poll_seconds=0.1,
        shutdown_grace_seconds=5,
        recompute_interval_seconds=0.2,
        rubric_reload_seconds=3600,
    )
    runtime, app = build(settings, clock=lambda: datetime.now(UTC) + shift[0])
    connection = await nats.connect(server.url)
    try:
        async with runtime.lifespan(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://scoring") as http:
                await eventually_async(lambda: _status(http, "/readyz", 200), within=30)
                yield Service(runtime, http, connection.jetstream(), shift)
    finally:
        await connection.close()
        server.stop()


async def _status(http: httpx.AsyncClient, path: str, status: int) -> bool:
    return (await http.get(path)).status_code == status


async def _settled(service: Service) -> bool:
    js = service.runtime.bus.jetstream()
    assert js is not None
    if not await stream.caught_up(js, DURABLES, await stream.last_sequence(js)):
        return False
    async with service.runtime.db.session() as session:
        dirty = await session.scalar(sa.select(sa.func.count()).select_from(dirty_units))
        unsent = await session.scalar(
            sa.select(sa.func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))
        )
    return dirty == 0 and unsent == 0


def _refused(response: httpx.Response, status: int, code: str) -> None:
    assert (response.status_code, response.json()["code"]) == (status, code), response.text


async def _post(service: Service, path: str, body: Any, headers: dict[str, str]) -> Any:
    return await service.http.post(path, json=body, headers=headers)


async def test_close_publicise_appeal_correct_finalise(service: Service, databases: Any) -> None:
    for code, name in COUNTY.items():
        await publish(service.js, unit_registered(code, name, "county"))
    for envelope in history(UNIT):
        await publish(service.js, envelope)
    await eventually_async(lambda: _settled(service), within=30)

    closed = await _post(service, "/v1/periods/2026-03/close", {"closed_by": "市五型办"}, OFFICE)
    assert closed.status_code == 201, closed.text
    publicised = closed.json()["publicised"]
    row = next(r for r in publicised["results"] if r["unit"] == UNIT)
    today = datetime.now(UTC).date()
    assert date.fromisoformat(publicised["appeal_deadline"]) > today
    period = (await service.http.get("/v1/periods/2026-03", headers=OWN)).json()
    assert (period["stage"], period["appeal_deadline"]) == (
        "publicised",
        publicised["appeal_deadline"],
    )

    card = (await service.http.get(f"/v1/units/{UNIT}/cards/2026-03", headers=OWN)).json()
    # the unit contests the completion credited to its 创新型 tasks (m2 was late, m3 missed)
    contested = next(li for li in card["card"]["line_items"] if li["rule"] == "tasks_innovative")
    key = f"{contested['rule']}:{contested['type']}"
    appeal = {
        "reason": "第m3阶段任务已按期完成，报送系统故障未能上报，完成度计算有误",
        "line_items": [key],
        "evidence": [EVIDENCE],
    }
    path = f"/v1/units/{UNIT}/appeals/2026-03"
    other = auth.headers("unit_reporter", "360103")
    _refused(await _post(service, path, appeal, other), 403, "outside_unit_scope")
    _refused(
        await _post(service, path, {**appeal, "reason": " "}, OWN), 422, "appeal_reason_missing"
    )
    wrong = {**appeal, "line_items": ["bonus_none:loyal"]}
    _refused(await _post(service, path, wrong, OWN), 422, "unknown_line_item")
    filed = await _post(service, path, appeal, OWN)
    assert filed.status_code == 201, filed.text
    assert (await _post(service, path, appeal, OWN)).status_code == 200  # the same, again
    _refused(
        await _post(service, path, {**appeal, "reason": "另一理由"}, OWN), 409, "appeal_exists"
    )

    decision_path = f"{path}/decision"
    fix = {"line_item": key, "points": 1.5, "reason": "经核实第m3阶段任务按期完成，予以补记"}
    decision = {"outcome": "corrected", "answer": "经复核，予以更正。", "adjustments": [fix]}
    _refused(await _post(service, decision_path, decision, OWN), 403, "role_not_allowed")
    _refused(
        await _post(service, decision_path, {**decision, "answer": " "}, OFFICE),
        422,
        "answer_missing",
    )
    decided = await _post(service, decision_path, decision, OFFICE)
    assert decided.status_code == 201, decided.text
    assert decided.json()["total_after"] == pytest.approx(row["total"] + 1.5)

    revisions = (
        await service.http.get(f"/v1/units/{UNIT}/cards/2026-03/revisions", headers=OWN)
    ).json()
    correction = revisions[-1]
    assert correction["kind"] == "review_correction"
    assert correction["correction"]["adjustments"][0]["reason"] == fix["reason"]
    assert float(correction["total"]) == pytest.approx(row["total"] + 1.5)

    _refused(
        await _post(service, "/v1/periods/2026-03/finalise", {}, OFFICE), 409, "publicity_not_over"
    )
    service.shift[0] = timedelta(days=20)  # the 公示 is over
    late_appeal = await _post(
        service, "/v1/units/360103/appeals/2026-03", appeal, auth.headers("unit_reporter", "360103")
    )
    _refused(late_appeal, 409, "appeal_window_closed")
    final = await _post(service, "/v1/periods/2026-03/finalise", {}, OFFICE)
    assert final.status_code == 201, final.text
    again = await _post(service, "/v1/periods/2026-03/finalise", {}, OFFICE)
    assert again.status_code == 200 and again.json() == final.json()
    final_row = next(r for r in final.json()["results"] if r["unit"] == UNIT)
    assert final_row["total"] == pytest.approx(row["total"] + 1.5)
    assert final_row["adjustments"] == 1.5
    _refused(
        await _post(
            service, "/v1/periods/2026-03/close", {"closed_by": "x", "revise": True}, OFFICE
        ),
        409,
        "period_finalised",
    )

    # The late-event rule: recorded and shown on the card, never in the final results.
    late = finding(UNIT, f"{UNIT}-late", Severity.CRITICAL, at(date(2026, 3, 30)))
    late = late.model_copy(update={"time": datetime.now(UTC) + timedelta(days=20)})
    await publish(service.js, late)

    async def shown() -> dict[str, Any] | None:
        body = (await service.http.get(f"/v1/units/{UNIT}/cards/2026-03", headers=OWN)).json()
        return body if late.id in body["late_events"] else None

    after = await eventually_async(shown, within=30)
    assert after["stage"] == "finalised" and after["result"] == final_row
    results = (await service.http.get("/v1/periods/2026-03/results", headers=OWN)).json()
    assert results["current"] == final.json()["results"]
    assert results["peer_groups"]["county"] == {"zh": GROUPS["county"], "en": "county"}
    await eventually_async(lambda: _settled(service), within=30)

    for name in ("ResultsPublicised", "ResultsFinalised"):
        assert len(await read(service.js, subjects.event(name, "office"))) == 1
    for name in ("AppealFiled", "AppealDecided"):
        assert len(await read(service.js, subjects.event(name, UNIT))) == 1

    workbook = await service.http.get("/v1/periods/2026-03/documents/results.xlsx", headers=OFFICE)
    assert workbook.status_code == 200, workbook.text
    sheet = load_workbook(BytesIO(workbook.content)).worksheets[0]
    assert "最终结果" in sheet["A1"].value
    totals = {r[1].value: r[3].value for r in sheet.iter_rows(min_row=4)}
    assert totals[UNIT] == pytest.approx(row["total"] + 1.5)
    sheet_path = f"/v1/units/{UNIT}/documents/2026-03/result-sheet.docx"
    own_sheet = await service.http.get(sheet_path, headers=OWN)
    assert own_sheet.status_code == 200
    text = "\n".join(p.text for p in Document(BytesIO(own_sheet.content)).paragraphs)
    assert "申诉复核：予以更正。" in text
    _refused(await service.http.get(sheet_path, headers=other), 403, "outside_unit_scope")
    notice = await service.http.get("/v1/periods/2026-03/documents/notice.docx", headers=OWN)
    _refused(notice, 403, "role_not_allowed")

    diff = await service.http.get(
        f"/v1/units/{UNIT}/cards/2026-03/diff",
        params={"from_as_of": "2026-03-10T00:00:00+08:00"},
        headers=OWN,
    )
    assert diff.status_code == 200 and diff.json()["lines"], diff.text

    rebuilt_url = databases.url("rebuilt")
    settings = service.runtime.settings
    await rebuild(rebuilt_url, settings.nats_url)
    rebuilt = Database(rebuilt_url)
    try:
        for table in (result_stages, appeals):
            assert await _rows(rebuilt, table) == await _rows(service.runtime.db, table)
    finally:
        await rebuilt.dispose()


async def _rows(db: Database, table: sa.Table) -> list[tuple[Any, ...]]:
    async with db.session() as session:
        query = sa.select(table).order_by(*table.primary_key.columns)
        return [tuple(row) for row in await session.execute(query)]
