"""Scoring in the running platform, on SQLite and PostgreSQL: the measures service publishes its
unit directory and catalogue at start and scoring ranks by that replica (in a month nobody has
earned a score in, nobody is ranked or on a list); a missed deadline from the bus lands on the
unit's card with the rule that priced it. The tests share a platform per backend; each scores
and closes only a unit and month of its own."""

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from contracts import subjects
from contracts.envelope import Envelope
from contracts.measures import DeadlineItem, DeadlineMissed
from fivetype.stack import Stack
from tests import auth, busclient
from tests.conftest import Databases, eventually, start_nats, start_platform
from tests.unit.scoring.events import missed


@pytest.fixture(scope="module")
def platform(
    module_databases: Databases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    directory: Path = tmp_path_factory.mktemp("platform")
    nats = start_nats(directory)
    stack = start_platform(directory, nats.url, module_databases)
    yield stack
    stack.stop(grace=5)
    nats.stop()


def scoring(stack: Stack) -> httpx.Client:
    return httpx.Client(base_url=stack.service("scoring").url, timeout=10, headers=auth.headers())


def rankings(stack: Stack, period: str) -> dict[str, Any]:
    body: dict[str, Any] = scoring(stack).get(f"/v1/rankings/{period}").json()
    return body


def provisional(stack: Stack, period: str) -> dict[str, Any]:
    return {r["peer_group"]: r for r in rankings(stack, period)["provisional"]}


def miss_a_deadline(
    stack: Stack, unit: str, due: date, assignment: str
) -> tuple[dict[str, Any], Envelope[DeadlineMissed]]:
    """Publish a missed service-measure milestone of `unit` and wait until its card of the
    month of `due` prices it; returns the card's body and the event."""
    event = missed(
        unit,
        f"{assignment}/m1",
        due,
        item_type=DeadlineItem.MILESTONE,
        measure_type="service",
        assignment_id=assignment,
        milestone_id="m1",
    )
    busclient.publish(
        stack.nats_url,
        subjects.event(event.type, event.subject),
        event.model_dump(mode="json", exclude_none=True),
    )

    def card() -> dict[str, Any] | None:
        response = scoring(stack).get(f"/v1/units/{unit}/cards/{due:%Y-%m}")
        if response.status_code != 200:  # the unit directory has not reached scoring yet
            return None
        body: dict[str, Any] = response.json()
        priced = any(event.id in li["events"] for li in body["card"]["line_items"])
        return body if priced else None

    return eventually(card, timeout=30), event


def test_rankings_follow_the_directory_the_measures_service_publishes(platform: Stack) -> None:
    # A month of its own, that no other test scores or closes: still open, so provisional.
    period = "2026-02"
    assert rankings(platform, period)["status"] == "provisional"
    groups = eventually(
        lambda: (
            (found := provisional(platform, period)).keys() >= {"county", "devzone", "department"}
            and found
        ),
        timeout=60,
    )
    county = groups["county"]
    assert county["peer_group_name_zh"] == "县区"
    assert "360102" in county["unscored"] and "office" not in county["unscored"]
    # nothing assigned, nothing earned: no score, no rank, no 红榜
    assert [g["entries"] for g in groups.values()] == [[], [], []]


def test_a_missed_deadline_is_priced_on_the_card(platform: Stack) -> None:
    # The unit and month of its own: no other test publishes facts of 360103 in March.
    body, event = miss_a_deadline(platform, "360103", date(2026, 3, 12), "A9")
    assert body["card"]["total"] == "0.00"
    line = next(li for li in body["card"]["line_items"] if li["rule"] == "tasks_service")
    assert (line["type"], line["points"], line["events"]) == ("service", "0.00", [event.id])
    assert [(i["id"], i["outcome"], i["due_date"]) for i in line["items"]] == [
        ("A9/m1", "missed", "2026-03-12")
    ]
    assert (body["unit_name"], body["peer_group"]) == ("西湖区", "county")
    english = scoring(platform).get(
        "/v1/units/360199/cards/2026-03", headers={"Accept-Language": "en"}
    )
    assert (english.status_code, english.json()["title"]) == (404, "Unknown responsible unit")


def _inbox(stack: Stack, recipient: str, topic: str) -> list[dict[str, Any]]:
    notifications = httpx.Client(
        base_url=stack.service("notifications").url, timeout=10, headers=auth.headers()
    )
    found: list[dict[str, Any]] = notifications.get(
        f"/v1/inbox/{recipient}", params={"limit": 500}
    ).json()
    return [n for n in found if n["kind"] == topic]


def test_the_unit_hears_of_the_publicity_and_of_the_answer_to_its_appeal(
    platform: Stack,
) -> None:
    """The unit appeals the line item its own missed deadline put on its card; the month is
    its own, as only this test closes a period."""
    miss_a_deadline(platform, "360104", date(2026, 4, 14), "A7")
    http = scoring(platform)
    closed = http.post("/v1/periods/2026-04/close", json={"closed_by": "市五型办"})
    assert closed.status_code == 201, closed.text
    publicised = eventually(lambda: _inbox(platform, "360104:contact", "results_publicised"))
    assert "2026年4月考核结果公示" in publicised[0]["title"]

    appeal = {"reason": "该任务已按期完成", "line_items": ["tasks_service:service"]}
    own = auth.headers("unit_reporter", "360104")
    filed = http.post("/v1/units/360104/appeals/2026-04", json=appeal, headers=own)
    assert filed.status_code == 201, filed.text
    assert eventually(lambda: _inbox(platform, "office", "appeal_filed"))
    answer = {"outcome": "upheld", "answer": "经复核，逾期属实，维持原结果。"}
    decided = http.post("/v1/units/360104/appeals/2026-04/decision", json=answer)
    assert decided.status_code == 201, decided.text
    heard = eventually(lambda: _inbox(platform, "360104:contact", "appeal_decided"))
    assert "维持原结果" in heard[0]["body"]
