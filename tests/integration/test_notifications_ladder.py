"""The escalation ladder on a real nats-server and a real database (SQLite and PostgreSQL), with
the service in-process on a real HTTP port and a clock the tests move forward: only completion
stops a ladder (signing for a notice does not), a 12345 工单 closed late leaves it, and a weekly
通报 lists every overdue item instead of one message per item.

The tests of this module share one service and one clock, which only moves forward. Each test runs
in any order in a time window of its own (`window`, later than any test before it), with units of
its own, and asserts only on what it made."""

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest

from contracts import streams, subjects
from contracts.envelope import fact_id, utcnow
from contracts.inspections import (
    FindingRaised,
    InspectionKind,
    PublicChannel,
    PublicRequestClosed,
    RectificationClosed,
    Severity,
)
from contracts.measures import DeadlineItem, DeadlineMissed, ProgressReported, ProgressReturned
from services.notifications.bootstrap import Service
from services.notifications.domain.occurrences import notification_id
from services.notifications.domain.signing import IDEMPOTENCY_HEADER
from services.notifications.domain.topics import Topic
from services.notifications.entrypoints import jobs
from services.notifications.handlers.digest import digest_id
from services.runtime.workdays import PROGRAMME_TZ, chinese_date, local_date
from tests.conftest import Databases, eventually_async, start_nats
from tests.integration.test_notifications_support import (
    OffsetClock,
    Receiver,
    publish,
    receiving,
    serving,
    settings,
    unit,
)

SECRET = "ladder-test-secret-0123456789abcdef"
UNITS = [
    ("360102", "东湖区", "county"),
    ("360103", "西湖区", "county"),
    ("360104", "青云谱区", "county"),
    ("360111", "青山湖区", "county"),
    ("360112", "新建区", "county"),
    ("360113", "红谷滩区", "county"),
    ("360121", "南昌县", "county"),
    ("360123", "安义县", "county"),
    ("360124", "进贤县", "county"),
    ("nc-hitech", "南昌高新技术产业开发区", "devzone"),
    ("nc-etdz", "南昌经济技术开发区", "devzone"),
    ("nc-xiaolan", "小蓝经济技术开发区", "devzone"),
    ("nc-lingkong", "南昌临空经济区", "devzone"),
    ("office", "市“五型”办", None),
]
ASSIGNMENT = "2026-M07-360"
DIGEST_AT = time(8, 30)  # the service's default

# The tests are written in the dates of 2026, from late June (Wednesday 1 July is the first
# notice) to Monday 19 October; each runs in a window of its own, those dates moved forward by a
# whole number of strides (whole weeks, so weekdays stay; longer than the span, so windows never
# overlap). In every window the moved 2 July (a Thursday) is a holiday and the moved Saturday 4
# July a working day, so the ladder must count working days from the calendar, not weekdays.
ORIGIN = date(2026, 7, 1)
STRIDE = timedelta(weeks=17)
WINDOWS = 16  # more than the tests of this module


def calendar_text() -> str:
    by_year: dict[int, dict[str, list[str]]] = {}
    for k in range(WINDOWS):
        for kind, day in (("holidays", date(2026, 7, 2)), ("workdays", date(2026, 7, 4))):
            moved = day + k * STRIDE
            by_year.setdefault(moved.year, {"holidays": [], "workdays": []})[kind].append(
                moved.isoformat()
            )
    return "".join(
        f"{year}:\n  holidays: [{', '.join(d['holidays'])}]\n"
        f"  workdays: [{', '.join(d['workdays'])}]\n"
        for year, d in sorted(by_year.items())
    )


def china(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), PROGRAMME_TZ).astimezone(UTC)


@dataclass
class World:
    service: Service
    api: httpx.AsyncClient
    clock: OffsetClock
    nats_url: str
    receiver: Receiver

    async def json(self, path: str, **params: Any) -> Any:
        response = await self.api.get(path, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    async def inbox(self, recipient: str, kind: str | None = None) -> list[dict[str, Any]]:
        params = {"limit": 500} | ({"kind": kind} if kind else {})
        found: list[dict[str, Any]] = await self.json(f"/v1/inbox/{recipient}", **params)
        return found

    async def case(self, unit_code: str) -> dict[str, Any]:
        cases = await self.json("/v1/escalations", unit=unit_code)
        assert len(cases) == 1, cases
        found: dict[str, Any] = cases[0]
        return found

    async def escalate(self, key: str) -> httpx.Response:
        return await self.api.post(f"/v1/escalations/{key}/escalate")

    async def sweep(self) -> int:
        return await jobs.escalate(
            self.service.runtime.db, self.service.context, self.service.runtime.relay.notify
        )

    async def caught_up(self, durable: str) -> bool:
        connection = await nats.connect(self.nats_url)
        try:
            info = await connection.jetstream().consumer_info(streams.EVENTS.name, durable)
        finally:
            await connection.close()
        return info.num_pending == 0 and info.num_ack_pending == 0


@pytest.fixture(scope="module")
async def world(
    module_databases: Databases, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    directory: Path = tmp_path_factory.mktemp("notifications-ladder")
    server = start_nats(directory)
    calendar = directory / "calendar.yaml"
    calendar.write_text(calendar_text(), encoding="utf-8")
    clock = OffsetClock(china(ORIGIN - timedelta(weeks=1)))  # before the first window
    config = settings(
        server.url,
        module_databases.url("notifications"),
        calendar_path=calendar,
        supervision_after_working_days=2,
        webhook_allow_private_targets=True,
    )
    try:
        async with receiving() as receiver, serving(config, clock) as (service, api):
            world = World(service, api, clock, server.url, receiver)
            for code, name, group in UNITS:
                await publish(server.url, unit(code, name, group))
            await eventually_async(lambda: _units_known(world, len(UNITS)))
            yield world
    finally:
        server.stop()


async def _units_known(world: World, count: int) -> bool:
    return len(await world.json("/v1/units")) == count


@dataclass
class Window:
    """A test's own stretch of time: `day(7, 1)` is 1 July 2026 moved to this window."""

    world: World
    shift: timedelta

    def day(self, month: int, day: int) -> date:
        return date(2026, month, day) + self.shift

    def at(self, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
        return china(self.day(month, day), hour, minute)

    def jump(self, month: int, day: int, hour: int = 10, minute: int = 0) -> None:
        self.world.clock.jump_to(self.at(month, day, hour, minute))

    async def begin(self, month: int, day: int, hour: int = 10, minute: int = 0) -> None:
        """Move the clock to where the test starts, and run now what that sets off for earlier
        tests' items (the 通报 due, their climbs, the day's digests), so that it does not
        happen while this test counts its own messages."""
        self.jump(month, day, hour, minute)
        service = self.world.service
        db, ctx, notify = service.runtime.db, service.context, service.runtime.relay.notify
        await jobs.issue_bulletin(db, ctx, notify)
        await self.world.sweep()
        await jobs.send_digests(db, ctx, DIGEST_AT)


@pytest.fixture
def window(world: World) -> Window:
    """The first window wholly after the shared clock's date: later than all an earlier test
    saw, so the test may move the clock to any moment of it."""
    today = local_date(world.clock())
    for k in range(WINDOWS):
        if ORIGIN - timedelta(days=3) + k * STRIDE > today:
            return Window(world, k * STRIDE)
    raise AssertionError(f"no time window left after {today}; raise WINDOWS")


def missed(
    unit_code: str, item: str, due: date, item_type: DeadlineItem = DeadlineItem.MILESTONE
) -> tuple[DeadlineMissed, str]:
    """As measures says it (item id derived from assignment and milestone), or inspections."""
    milestone = item_type is DeadlineItem.MILESTONE
    item_id = fact_id("Milestone", ASSIGNMENT, item) if milestone else item
    event = DeadlineMissed(
        item_type=item_type,
        item_id=item_id,
        unit=unit_code,
        title=f"事项 {item}",
        measure_code="M07" if milestone else None,
        due_date=due,
        detected_at=utcnow(),
        assignment_id=ASSIGNMENT if milestone else None,
        milestone_id=item if milestone else None,
    )
    return event, fact_id("DeadlineMissed", item_type.value, item_id, due.isoformat())


async def put_webhook(world: World, recipient: str, path: str, **extra: Any) -> None:
    unit_code, role = recipient.split(":")
    body = {
        "role": role,
        "unit": unit_code,
        "name": f"{unit_code} {role}",
        "webhook": {"url": world.receiver.url(path), "secret": SECRET},
        **extra,
    }
    response = await world.api.put(f"/v1/recipients/{recipient}", json=body)
    assert response.status_code == 200, response.text


def _topic_of(body: bytes) -> str:
    topic: str = json.loads(body)["topic"]
    return topic


async def test_a_missed_deadline_notifies_each_recipient_exactly_once(
    world: World, window: Window
) -> None:
    await window.begin(7, 1)
    await put_webhook(world, "360102:contact", "/360102")
    due = window.day(6, 30)
    event, event_id = missed("360102", "ms-1", due)
    # The same fact twice under one id (redelivery) and once under another id (a second
    # detector that did not derive the id): still one case, one notice per recipient.
    await publish(world.nats_url, event, id=event_id, copies=2)
    await publish(world.nats_url, event.model_copy(update={"detected_at": utcnow()}))

    notices = await eventually_async(lambda: world.inbox("360102:contact", "deadline_missed"))
    await eventually_async(lambda: world.caught_up("notifications-deadline-missed"))
    await eventually_async(lambda: _delivered(world, "360102:contact", "webhook"))
    assert len(await world.inbox("360102:contact", "deadline_missed")) == 1
    assert notices[0]["title"] == "【催办】东湖区：工作节点“事项 ms-1”逾期未办结"
    assert f"限办日期为{chinese_date(due)}" in notices[0]["body"]
    assert notices[0]["event_id"] == event_id
    posts = [p for p in world.receiver.to("/360102") if _topic_of(p[1]) == "deadline_missed"]
    assert len(posts) == 1
    deliveries = await world.json(
        "/v1/deliveries", recipient="360102:contact", notification=notices[0]["notification_id"]
    )
    assert sorted(d["channel"] for d in deliveries) == ["inbox", "webhook"]
    assert posts[0][0][IDEMPOTENCY_HEADER.lower()] == next(
        d["key"] for d in deliveries if d["channel"] == "webhook"
    )
    case = await world.case("360102")
    assert (case["level_name"], case["level_name_zh"], case["status"], case["notice_on"]) == (
        "notice",
        "催办",
        "open",
        window.day(7, 1).isoformat(),
    )
    raised = await _escalations_on_bus(world, "360102")
    assert [(r["level"], r["recipients"]) for r in raised] == [("notice", ["360102:contact"])]


async def _delivered(world: World, recipient: str, channel: str) -> bool:
    found = await world.json("/v1/deliveries", recipient=recipient, channel=channel)
    return bool(found) and all(d["status"] == "delivered" for d in found)


async def _escalations_on_bus(world: World, unit_code: str) -> list[dict[str, Any]]:
    return [e["data"] for e in await _on_bus(world, "EscalationRaised", unit_code)]


async def _on_bus(world: World, event: str, unit_code: str) -> list[dict[str, Any]]:
    """The envelopes of `event` published about a unit."""
    connection = await nats.connect(world.nats_url)
    try:
        js = connection.jetstream()
        subscription = await js.subscribe(subjects.event(event, unit_code), ordered_consumer=True)
        found = []
        try:
            while True:
                message = await subscription.next_msg(timeout=0.5)
                found.append(json.loads(message.data))
        except nats.errors.TimeoutError:
            pass
        return found
    finally:
        await connection.close()


async def test_the_ladder_climbs_on_working_days_once_per_level(
    world: World, window: Window
) -> None:
    await window.begin(7, 1)
    event, event_id = missed("360103", "ms-2", window.day(6, 30))
    await publish(world.nats_url, event, id=event_id)
    await eventually_async(lambda: world.inbox("360103:contact", "deadline_missed"))

    window.jump(7, 3)  # two weekdays later, but 2 July is a holiday
    await world.sweep()
    assert (await world.case("360103"))["level"] == 1

    window.jump(7, 4)  # Saturday, a make-up working day
    await eventually_async(lambda: _level(world, "360103", 2))
    orders = await world.inbox("360103:head", "supervision_order")
    assert len(orders) == 1 and "已逾期3个工作日" in orders[0]["body"]
    notice_text = (
        f"限办日期为{chinese_date(window.day(6, 30))}，"
        f"经{chinese_date(window.day(7, 1))}催办，未签收，仍未办结"
    )
    assert notice_text in orders[0]["body"]
    assert [o for o in await world.inbox("office", "supervision_order") if o["unit"] == "360103"]

    window.jump(7, 20)
    await world.sweep()
    case = await world.case("360103")
    assert (case["level"], case["supervision_on"], case["status"]) == (
        2,
        window.day(7, 4).isoformat(),
        "open",
    )
    assert len(await world.inbox("360103:head", "supervision_order")) == 1
    envelopes = await _on_bus(world, "EscalationRaised", "360103")
    raised = [e["data"] for e in envelopes]
    assert [r["level"] for r in raised] == ["notice", "supervision_order"]
    assert raised[1]["recipients"] == ["360103:head", "office"]
    # Stamped by the service's clock, by which scoring dates the 督办 (the demo's programme time).
    assert [_instant(e["time"]) for e in envelopes] == [_instant(r["raised_at"]) for r in raised]
    assert _instant(envelopes[1]["time"]).astimezone(PROGRAMME_TZ).date() == window.day(7, 4)


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def _level(world: World, unit_code: str, level: int) -> bool:
    return bool((await world.case(unit_code))["level"] == level)


def progress(
    unit_code: str, milestone: str, due: date, completed: bool, at: datetime
) -> ProgressReported:
    return ProgressReported(
        report_id=f"r-{milestone}-{completed}",
        unit=unit_code,
        unit_name="青云谱区",
        measure_code="M07",
        measure_title="扎实推动数字政府建设大跨越",
        milestone_id=milestone,
        percent_complete=100 if completed else 10,
        reported_at=at,
        reporter="oa",
        assignment_id=ASSIGNMENT,
        milestone_due_date=due,
        milestone_completed=completed,
    )


async def report(world: World, event: ProgressReported) -> str:
    """As measures publishes it: its id names the unit and report."""
    return await publish(
        world.nats_url, event, id=fact_id("ProgressReported", event.unit, event.report_id)
    )


def returned(unit_code: str, report_id: str, at: datetime) -> ProgressReturned:
    return ProgressReturned(
        report_id=report_id,
        unit=unit_code,
        assignment_id=ASSIGNMENT,
        measure_code="M07",
        milestone_id="ms-3",
        reviewer="五型办",
        reviewed_at=at,
        reason="佐证材料不全",
        milestone_completed=False,
    )


def request_closed(unit_code: str, request_id: str, due: date, at: datetime) -> PublicRequestClosed:
    return PublicRequestClosed(
        request_id=request_id,
        unit=unit_code,
        channel=PublicChannel.HOTLINE_12345,
        title="路灯不亮",
        due_date=due,
        closed_at=at,
        on_time=False,
        working_days_late=3,
    )


def rectification_closed(
    unit_code: str, finding: str, due: date, at: datetime
) -> RectificationClosed:
    return RectificationClosed(
        finding_id=finding,
        inspection_id="insp-1",
        unit=unit_code,
        unit_name="青山湖区",
        finding_title=f"问题 {finding}",
        severity=Severity.GENERAL,
        due_date=due,
        closed_at=at,
        submitted_at=at,
        on_time=False,
        days_late=5,
        actor_name="督查组",
    )


async def test_closing_the_item_stops_the_ladder(world: World, window: Window) -> None:
    await window.begin(7, 20)
    now = window.at(7, 20, 11)  # when the events below say they happened
    due = window.day(7, 15)
    ms3, ms3_id = missed("360104", "ms-3", due)
    await publish(world.nats_url, ms3, id=ms3_id)
    await eventually_async(lambda: world.inbox("360104:contact", "deadline_missed"))
    # A token report that leaves the milestone incomplete does not stop it; completing it does.
    await publish(world.nats_url, progress("360104", "ms-3", due, False, now))
    await eventually_async(lambda: world.caught_up("notifications-progress"))
    assert (await world.case("360104"))["status"] == "open"
    await report(world, progress("360104", "ms-3", due, True, now))
    await eventually_async(lambda: _status(world, "360104", "closed"))
    # The office sends the completing report back: the ladder is on again until a new one.
    await publish(world.nats_url, returned("360104", "r-ms-3-True", now))
    await eventually_async(lambda: _status(world, "360104", "open"))
    await report(
        world,
        progress("360104", "ms-3", due, True, now).model_copy(update={"report_id": "r-2"}),
    )
    await eventually_async(lambda: _status(world, "360104", "closed"))

    # A 12345 工单 closed late leaves the ladder too.
    h7, h7_id = missed("360124", "H-7", due, DeadlineItem.PUBLIC_REQUEST)
    await publish(world.nats_url, h7.model_copy(update={"title": "路灯不亮"}), id=h7_id)
    h7_notice = await eventually_async(lambda: world.inbox("360124:contact", "deadline_missed"))
    assert h7_notice[0]["title"] == "【催办】进贤县：诉求工单“路灯不亮”逾期未办结"
    await publish(world.nats_url, request_closed("360124", "H-7", due, now))
    await eventually_async(lambda: _status(world, "360124", "closed"))

    # A rectification closed before its DeadlineMissed is handled: the case opens closed.
    await publish(world.nats_url, rectification_closed("360111", "f-9", due, now))
    await eventually_async(lambda: world.inbox("360111:contact", "rectification_closed"))
    f9, f9_id = missed("360111", "f-9", due, DeadlineItem.RECTIFICATION)
    await publish(world.nats_url, f9, id=f9_id)
    await eventually_async(lambda: _status(world, "360111", "closed"))

    # ... and one closed after it stops the ladder it started.
    f10, f10_id = missed("360112", "f-10", due, DeadlineItem.RECTIFICATION)
    await publish(world.nats_url, f10, id=f10_id)
    await eventually_async(lambda: world.inbox("360112:contact", "deadline_missed"))
    await publish(world.nats_url, rectification_closed("360112", "f-10", due, now))
    await eventually_async(lambda: _status(world, "360112", "closed"))

    window.jump(8, 31)
    await world.sweep()
    for unit_code in ("360104", "360111", "360112", "360124"):
        assert (await world.case(unit_code))["level"] == 1
        assert not await world.inbox(f"{unit_code}:head", "supervision_order")
    assert not await world.inbox("360111:contact", "deadline_missed")


async def _status(world: World, unit_code: str, status: str) -> bool:
    cases = await world.json("/v1/escalations", unit=unit_code)
    return [c["status"] for c in cases] == [status]


async def test_a_signed_but_unfinished_item_reaches_supervision(
    world: World, window: Window
) -> None:
    await window.begin(8, 31)  # a Monday
    due = window.day(8, 28)  # the Friday before: the notice goes out today
    event, event_id = missed("360113", "ms-4", due)
    await publish(world.nats_url, event, id=event_id)
    notice = (await eventually_async(lambda: world.inbox("360113:contact", "deadline_missed")))[0]
    # Not signed for by the next working day: one reminder to sign.
    window.jump(9, 1)
    await world.sweep()
    await world.sweep()
    reminders = await world.inbox("360113:contact", "sign_reminder")
    assert len(reminders) == 1 and "签收不停止督办" in reminders[0]["body"]
    # Signing is recorded and shown, and the ladder goes on.
    signed = await world.api.post(f"/v1/inbox/360113:contact/{notice['id']}/acknowledge")
    assert signed.status_code == 200, signed.text
    assert signed.json()["acknowledged_at"] is not None
    case = await world.case("360113")
    assert (case["status"], case["acknowledged_by"]) == ("open", "360113:contact")
    wrong = await world.api.post(f"/v1/inbox/360113:head/{notice['id']}/acknowledge")
    assert (wrong.status_code, wrong.json()["code"]) == (404, "message_not_found")

    window.jump(9, 2)
    await eventually_async(lambda: _level(world, "360113", 2))
    order = (await world.inbox("360113:head", "supervision_order"))[0]
    assert f"已于{chinese_date(window.day(9, 1))}签收但仍未办结" in order["body"]
    assert (await world.escalate(case["key"])).json()["code"] == "at_top_level"

    # Completion stops it; signing for or escalating a completed item is refused.
    await publish(world.nats_url, progress("360113", "ms-4", due, True, world.clock()))
    await eventually_async(lambda: _status(world, "360113", "closed"))
    late = await world.api.post(f"/v1/inbox/360113:head/{order['id']}/acknowledge")
    assert (late.status_code, late.json()["code"]) == (409, "item_completed")
    assert (await world.escalate(case["key"])).json()["code"] == "item_completed"
    unknown = [await world.escalate("no-such-case"), await world.api.get("/v1/escalations/x")]
    assert {(r.status_code, r.json()["code"]) for r in unknown} == {(404, "escalation_not_found")}


def finding(unit_code: str, finding_id: str) -> FindingRaised:
    return FindingRaised(
        finding_id=finding_id,
        inspection_id="insp-2",
        unit=unit_code,
        unit_name="南昌县",
        finding_title="政务服务窗口超时办理",
        severity=Severity.MINOR,
        due_date=date(2026, 10, 30),
        inspection_title="政务服务专项督查",
        inspection_kind=InspectionKind.SPECIAL,
        inspector="督查一组",
        evidence=[],
        raised_at=utcnow(),
    )


async def test_a_recipient_who_prefers_a_digest_gets_one_a_day(
    world: World, window: Window
) -> None:
    await window.begin(10, 12, 7)  # before the 08:30 digest
    await put_webhook(world, "360121:contact", "/digest", digest=True)
    await publish(world.nats_url, finding("360121", "f-20"))
    held = await eventually_async(
        lambda: world.json("/v1/deliveries", recipient="360121:contact", status="held")
    )
    assert [d["channel"] for d in held] == ["webhook"]
    # An overdue item is urgent: its notice goes out at once, digest or not.
    event, event_id = missed("360121", "ms-5", window.day(10, 9))
    await publish(world.nats_url, event, id=event_id)
    await eventually_async(lambda: _topics(world, "/digest", ["deadline_missed"]))

    window.jump(10, 12, 8, 30)
    await eventually_async(lambda: _topics(world, "/digest", ["deadline_missed", "digest"]))
    digest = next(b for b in world.receiver.bodies("/digest") if b["topic"] == "digest")
    day = chinese_date(window.day(10, 12))
    assert digest["title"]["zh"] == f"{day}每日督办摘要：逾期未办结1项"
    assert f"南昌县 · 事项 ms-5（限办日期{chinese_date(window.day(10, 9))}" in digest["body"]["zh"]
    assert "另有1条通知（其中督查问题1条），请登录系统查看" in digest["body"]["zh"]
    digested = await world.json("/v1/deliveries", recipient="360121:contact", status="digested")
    assert [d["id"] for d in digested] == [d["id"] for d in held]
    assert len(await world.inbox("360121:contact", "digest")) == 1

    window.jump(10, 12, 18)  # later the same day: no second digest
    await publish(world.nats_url, finding("360121", "f-21"))
    await eventually_async(
        lambda: world.json("/v1/deliveries", recipient="360121:contact", status="held")
    )
    await jobs.send_digests(world.service.runtime.db, world.service.context, DIGEST_AT)
    assert _topic_list(world, "/digest") == ["deadline_missed", "digest"]


def _topic_list(world: World, path: str) -> list[str]:
    # The weekly 通报 goes to every unit's contact as well; it is not what these tests count.
    bodies = world.receiver.bodies(path)
    return [body["topic"] for body in bodies if body["topic"] != "public_notice"]


async def _topics(world: World, path: str, expected: list[str]) -> bool:
    return _topic_list(world, path) == expected


async def test_the_office_reads_routine_notices_in_its_digest(world: World, window: Window) -> None:
    await window.begin(7, 1, 7)  # before the 08:30 digest
    event, event_id = missed("360123", "ms-6", window.day(6, 30))
    await publish(world.nats_url, event, id=event_id)
    routine = progress("360123", "ms-7", window.day(7, 31), False, world.clock())
    reported = notification_id(Topic.PROGRESS_REPORTED, await report(world, routine))
    # A report is routine: the office, which prefers a digest, has it held for the next one.
    held = await eventually_async(
        lambda: world.json("/v1/deliveries", recipient="office", notification=reported)
    )
    assert [(d["channel"], d["status"]) for d in held] == [("inbox", "held")]

    window.jump(7, 1, 8, 30)
    digested = await eventually_async(
        lambda: world.json(
            "/v1/deliveries", recipient="office", notification=reported, status="digested"
        )
    )
    assert digested[0]["digest_id"] == digest_id("office", window.day(7, 1))
    digests = [
        d
        for d in await world.inbox("office", "digest")
        if d["notification_id"] == digested[0]["digest_id"]
    ]
    assert len(digests) == 1 and "报送进展" in digests[0]["body"]
    assert not await world.inbox("office", "progress_reported")
    held_ever = await world.json("/v1/deliveries", recipient="office", status="digested")
    assert {d["channel"] for d in held_ever} == {"inbox"}

    # The exceptions, the supervision orders, arrive one by one.
    window.jump(7, 6)  # past 3 and 4 July, the second working day after the notice
    await eventually_async(lambda: _level(world, "360123", 2))
    orders = await eventually_async(
        lambda: _unit_messages(world, "office", "supervision_order", "360123")
    )
    assert len(orders) == 1


async def _unit_messages(
    world: World, recipient: str, kind: str, unit_code: str
) -> list[dict[str, Any]]:
    return [m for m in await world.inbox(recipient, kind) if m["unit"] == unit_code]


async def test_one_weekly_bulletin_lists_every_overdue_item(world: World, window: Window) -> None:
    await window.begin(10, 7)  # a Wednesday
    # Overdue since Tuesday: one item goes on to 督办 this week, another is completed at once.
    supervised, supervised_id = missed("nc-xiaolan", "b-0", window.day(10, 6))
    await publish(world.nats_url, supervised, id=supervised_id)
    done, done_id = missed("nc-lingkong", "b-9", window.day(10, 6))
    await publish(world.nats_url, done, id=done_id)
    await eventually_async(lambda: world.inbox("nc-lingkong:contact", "deadline_missed"))
    await report(world, progress("nc-lingkong", "b-9", window.day(10, 6), True, world.clock()))
    await eventually_async(lambda: _status(world, "nc-lingkong", "closed"))

    window.jump(10, 12)  # Monday: b-0 climbs, due since Friday (two working days after its notice)
    await eventually_async(lambda: _level(world, "nc-xiaolan", 2))
    due = window.day(10, 9)
    for unit_code, item in (("nc-hitech", "b-1"), ("nc-etdz", "b-2"), ("nc-etdz", "b-3")):
        event, event_id = missed(unit_code, item, due)
        await publish(world.nats_url, event, id=event_id)
    await eventually_async(lambda: _notified(world, "nc-etdz:contact", 2))
    await eventually_async(lambda: _notified(world, "nc-hitech:contact", 1))

    window.jump(10, 19)  # Monday: last week's bulletin is due
    start, end = window.day(10, 12), window.day(10, 18)
    issued = await eventually_async(lambda: _bulletin(world, start.isoformat()))
    entries = {(e["unit"], e["title"]): e for e in issued["entries"]}
    mine = {("nc-hitech", "事项 b-1"), ("nc-etdz", "事项 b-2"), ("nc-etdz", "事项 b-3")}
    assert mine | {("nc-xiaolan", "事项 b-0")} <= set(entries)
    assert entries[("nc-xiaolan", "事项 b-0")]["supervision_order"] is True
    # b-2 climbs today, after the week: not under 督办 in last week's bulletin.
    assert entries[("nc-etdz", "事项 b-2")]["supervision_order"] is False
    assert entries[("nc-etdz", "事项 b-2")]["working_days_overdue"] == 5
    assert "nc-lingkong" not in {e["unit"] for e in issued["entries"]}
    # One message for all of them, to the leaders and to every unit, overdue or not.
    period = f"{chinese_date(start)}至{chinese_date(end)}"
    notices = [n for n in await world.inbox("leaders", "public_notice") if period in n["title"]]
    assert len(notices) == 1
    line = f"事项 b-3”，限办日期{chinese_date(due)}，逾期5个工作日"
    assert line in notices[0]["body"]
    unit_notices = await world.inbox("nc-lingkong:contact", "public_notice")
    assert len([n for n in unit_notices if period in n["title"]]) == 1

    # The office may also issue a 通报 about one unit; the same request at the same instant
    # again (a retry, a replayed programme clock) is answered with the same one; not about an
    # unknown unit.
    about = {"unit": "nc-etdz", "note": "两项工作节点逾期未办结"}
    with world.clock.held():
        answer = await world.api.post("/v1/bulletins", json=about)
        again = await world.api.post("/v1/bulletins", json=about)
    assert answer.status_code == 201, answer.text
    assert (answer.json()["kind"], len(answer.json()["entries"])) == ("ad_hoc", 2)
    assert (again.status_code, again.json()) == (201, answer.json())
    listed = await world.json("/v1/bulletins", unit="nc-etdz")
    assert [b["bulletin_id"] for b in listed] == [answer.json()["bulletin_id"]]
    unknown = await world.api.post("/v1/bulletins", json={"unit": "360199", "note": "x"})
    assert (unknown.status_code, unknown.json()["code"]) == (404, "unknown_unit")


async def _notified(world: World, recipient: str, count: int) -> bool:
    return len(await world.inbox(recipient, "deadline_missed")) == count


async def _bulletin(world: World, period_start: str) -> dict[str, Any] | None:
    for envelope in await _on_bus(world, "BulletinIssued", "office"):
        issued = envelope["data"]
        if issued["kind"] == "periodic" and issued["period_start"] == period_start:
            # Stamped by the service's clock, by which scoring dates the listed items.
            assert _instant(envelope["time"]) == _instant(issued["issued_at"])
            return issued
    return None
