"""Scoring in the running platform, on SQLite and PostgreSQL: the measures service publishes its
unit directory and catalogue at start and scoring ranks by that replica (on a fresh platform
nobody has earned a score, so nobody is ranked or on a list); a missed deadline from the bus
lands on the unit's card with the rule that priced it."""

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from contracts import subjects
from contracts.measures import DeadlineItem
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


def provisional(stack: Stack) -> dict[str, Any]:
    body: dict[str, Any] = scoring(stack).get("/v1/rankings/2026-03").json()
    return {r["peer_group"]: r for r in body["provisional"]}


def test_rankings_follow_the_directory_the_measures_service_publishes(platform: Stack) -> None:
    groups = eventually(
        lambda: (
            (found := provisional(platform)).keys() >= {"county", "devzone", "department"} and found
        ),
        timeout=60,
    )
    county = groups["county"]
    assert county["peer_group_name_zh"] == "县区"
    assert "360102" in county["unscored"] and "office" not in county["unscored"]
    # nothing assigned, nothing earned: no score, no rank, no 红榜
    assert [g["entries"] for g in groups.values()] == [[], [], []]


def test_a_missed_deadline_is_priced_on_the_card(platform: Stack) -> None:
    event = missed(
        "360103",
        "A9/m1",
        date(2026, 3, 12),
        item_type=DeadlineItem.MILESTONE,
        measure_type="service",
        assignment_id="A9",
        milestone_id="m1",
    )
    busclient.publish(
        platform.nats_url,
        subjects.event(event.type, event.subject),
        event.model_dump(mode="json", exclude_none=True),
    )

    def card() -> dict[str, Any] | None:
        body: dict[str, Any] = scoring(platform).get("/v1/units/360103/cards/2026-03").json()
        return body if body["card"]["total"] == "0.00" else None

    body = eventually(card, timeout=30)
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
