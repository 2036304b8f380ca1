"""The inspections service end to end: a real nats-server and database (the shared `nats` and
`databases` fixtures: SQLite, and PostgreSQL when reachable), the service as a child process,
HTTP in and InspectionFiled events out on JetStream."""

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import nats as nats_py
import pytest
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext

from contracts import streams, subjects
from contracts.envelope import decode, fact_id
from contracts.inspections import InspectionFiled
from fivetype.natsserver import NatsServer, free_port

if TYPE_CHECKING:
    from tests.conftest import Databases

REPO = Path(__file__).resolve().parents[2]
DEADLINE_SECONDS = 30.0
REFUSED_UNIT = "360111"


def wait_for(condition: Callable[[], bool], what: str, log: Path) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-4000:]
            raise AssertionError(f"timed out waiting for {what}\n{tail}")
        time.sleep(0.05)


def is_ready(base_url: str, process: subprocess.Popen[bytes]) -> bool:
    if process.poll() is not None:
        raise AssertionError(f"the service exited with {process.returncode}")
    try:
        return httpx.get(f"{base_url}/readyz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def service_url(nats: NatsServer, databases: "Databases", tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "FIVETYPE_INSPECTIONS_NATS_URL": nats.url,
        "FIVETYPE_INSPECTIONS_DATA_DIR": str(tmp_path),
        "FIVETYPE_INSPECTIONS_DATABASE_URL": databases.url("inspections"),
        "FIVETYPE_INSPECTIONS_HTTP_PORT": str(port),
        "FIVETYPE_INSPECTIONS_SHUTDOWN_GRACE_SECONDS": "5",
    }
    log = tmp_path / "service.log"
    with log.open("wb") as out:
        service = subprocess.Popen(
            [sys.executable, "-m", "services.inspections"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: is_ready(base_url, service), "the service to be ready", log)
        yield base_url
    finally:
        stop(service)


def inspection(inspection_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "inspection_id": inspection_id,
        "kind": "special",
        "method": "unannounced",
        "title": "营商环境专项督查",
        "inspector": "市五型办督查组",
        "inspected_on": (date.today() - timedelta(days=30)).isoformat(),
        "target_units": ["360102", "dept-fgw"],
        "measure_codes": ["M12"],
        "evidence": [{"uri": "s3://evidence/visit.pdf", "sha256": "a" * 64}],
    } | changes


async def filed_messages(js: JetStreamContext, units: set[str]) -> list[Msg]:
    """Every InspectionFiled message in the stream, read once each of `units` has one and nothing
    more is pending, so that an extra copy would be seen."""
    sub = await js.pull_subscribe(subjects.event(InspectionFiled.NAME), stream=streams.EVENTS.name)
    received: list[Msg] = []
    deadline = time.monotonic() + DEADLINE_SECONDS
    try:
        while (
            len({subjects.unit_of(m.subject) for m in received} & units) < len(units)
            or (await sub.consumer_info()).num_pending
        ):
            assert time.monotonic() < deadline, f"events so far: {[m.subject for m in received]}"
            try:
                batch = await sub.fetch(batch=50, timeout=0.5)
            except NatsTimeout:
                continue
            for message in batch:
                await message.ack()  # else it is redelivered after ack_wait and counted twice
            received += batch
    finally:
        await sub.unsubscribe()
    return received


async def test_filing_an_inspection(service_url: str, nats: NatsServer) -> None:
    filing = inspection("2026-ZX-0001")
    async with httpx.AsyncClient(base_url=service_url) as http:
        created = await http.post("/v1/inspections", json=filing)
        assert created.status_code == 201, created.text
        assert created.headers["location"] == "/v1/inspections/2026-ZX-0001"
        assert created.json()["kind_name"] == "专项督查"
        assert created.json()["method_name"] == "四不两直"

        retried = await http.post("/v1/inspections", json=filing)
        assert retried.status_code == 200
        assert retried.json() == created.json()

        changed = await http.post("/v1/inspections", json=filing | {"title": "另一次督查"})
        assert changed.status_code == 409
        assert changed.json()["code"] == "duplicate_conflict"
        assert changed.json()["title"] == "该督查编号已使用，且内容不同"

        # Refused filings target another unit, so their absence on the bus can be checked too.
        future = (date.today() + timedelta(days=2)).isoformat()
        refusals: dict[str, dict[str, Any]] = {
            "inspected_in_future": {"inspected_on": future},
            "validation_failed": {"kind": "audit"},
            "duplicate_target_units": {"target_units": [REFUSED_UNIT] * 2},
        }
        for number, (code, changes) in enumerate(refusals.items(), start=2):
            body = inspection(
                f"2026-ZX-{number:04}", **({"target_units": [REFUSED_UNIT]} | changes)
            )
            english = {"Accept-Language": "en"}
            answer = await http.post("/v1/inspections", json=body, headers=english)
            assert (answer.status_code, answer.json()["code"]) == (422, code), answer.text
            assert answer.json()["title"].isascii()
            assert answer.headers["content-type"] == "application/problem+json"

    connection = await nats_py.connect(nats.url)
    try:
        received = await filed_messages(connection.jetstream(), set(filing["target_units"]))
    finally:
        await connection.close()
    assert REFUSED_UNIT not in {subjects.unit_of(m.subject) for m in received}
    messages = [m for m in received if subjects.unit_of(m.subject) in filing["target_units"]]
    mine = [decode(m.data, InspectionFiled, arrived_on=m.subject) for m in messages]
    assert sorted((e.subject, e.id) for e in mine) == sorted(
        (unit, fact_id("InspectionFiled", "2026-ZX-0001", unit)) for unit in filing["target_units"]
    )
    for envelope, message in zip(mine, messages, strict=True):
        assert message.subject == subjects.event("InspectionFiled", envelope.subject)
        assert message.headers and message.headers["Nats-Msg-Id"] == envelope.id
        assert envelope.source == "fivetype/inspections"
        assert envelope.data.target_units == filing["target_units"]


async def test_reading_inspections(service_url: str) -> None:
    async with httpx.AsyncClient(base_url=service_url) as http:
        for number, units in [(1, ["360121"]), (2, ["360121", "360122"])]:
            filing = inspection(f"2026-RC-000{number}", target_units=units, kind="routine")
            assert (await http.post("/v1/inspections", json=filing)).status_code == 201

        found = await http.get("/v1/inspections/2026-RC-0002")
        assert found.status_code == 200
        assert found.json()["target_units"] == ["360121", "360122"]
        assert found.json()["kind_name"] == "日常督办"
        assert found.json()["filed_at"].endswith("Z")

        missing = await http.get("/v1/inspections/2026-RC-9999")
        assert (missing.status_code, missing.json()["code"]) == (404, "inspection_not_found")

        async def listed(**params: Any) -> list[str]:
            page = await http.get("/v1/inspections", params=params)
            assert page.status_code == 200, page.text
            return [item["inspection_id"] for item in page.json()]

        assert await listed(unit="360121") == ["2026-RC-0002", "2026-RC-0001"]
        assert await listed(unit="360122") == ["2026-RC-0002"]
        assert await listed(unit="360121", limit=1, offset=1) == ["2026-RC-0001"]
        assert await listed(unit="360199") == []
        assert (await http.get("/v1/inspections", params={"unit": "东湖区"})).status_code == 422
