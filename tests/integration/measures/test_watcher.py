"""The deadline watcher says each thing exactly once: two replicas sweep one database (in small
batches, so their sweeps interleave), both are stopped, and both restart thirteen days later
and catch up; a third start changes nothing. Real nats-server, SQLite and PostgreSQL."""

import re
from collections import Counter
from pathlib import Path

import httpx

from contracts.measures import DeadlineApproaching, DeadlineMissed
from fivetype.natsserver import NatsServer
from tests import auth
from tests.conftest import Databases, eventually
from tests.integration.measures.conftest import MeasuresService, events, start_all, stop_all
from tests.security.test_audit import entries, verify

BEFORE = "2026-06-20T09:00:00+08:00"  # a Saturday
AFTER = "2026-07-03T09:00:00+08:00"  # a Friday, thirteen days later
UNITS = [f"3601{n:02d}" for n in (2, 3, 4, 11, 12, 13, 21, 23, 24)] + ["wanli"]
SWEEPS = re.compile(
    r'^fivetype_task_duration_seconds_count\{[^}]*task="deadline-watcher"[^}]*\} (\S+)$', re.M
)


def sweeps(service: MeasuresService) -> float:
    metrics = httpx.get(f"http://127.0.0.1:{service.metrics_port}/metrics", timeout=5)
    found = SWEEPS.search(metrics.text)
    return float(found[1]) if found else 0.0


def settle(*replicas: MeasuresService) -> None:
    """Wait until every replica has swept three more times. On SQLite the two replicas' sweeps
    queue for the one writer, which on a busy machine can hold a sweep for many seconds."""
    start = [sweeps(r) for r in replicas]
    eventually(
        lambda: all(sweeps(r) >= s + 3 for r, s in zip(replicas, start, strict=True)), timeout=45
    )


def plan(client: httpx.Client) -> None:
    milestones = [("m1", "2026-06-22"), ("m2", "2026-06-26"), ("m3", "2026-06-30")]
    response = client.post(
        "/v1/assignments",
        json={
            "assignment_id": "plan",
            "year": 2026,
            "measure_code": "M13",
            "lead_unit": "360102",
            "start_on": "2026-06-01",
            "milestones": [
                {"milestone_id": m, "title": m, "due_date": due}
                for m, due in [*milestones, ("m4", "2026-07-10")]
            ],
            "created_by": "office",
        },
    )
    assert response.status_code == 201, response.text
    # The weekly report as every unit's own recurring assignment: the catalogue's standard
    # obligation falls on the city's media and the office only.
    for unit in UNITS:
        weekly = client.post(
            "/v1/assignments",
            json={
                "assignment_id": f"weekly_feature_report.2026.{unit}",
                "year": 2026,
                "measure_code": "G3-T1",
                "lead_unit": unit,
                "recurrence": {"kind": "weekly_feature_report"},
                "created_by": "office",
            },
        )
        assert weekly.status_code == 201, weekly.text


def said(nats_url: str) -> tuple[Counter[tuple[str, str]], Counter[tuple[str, str, int]]]:
    """What was published: misses per milestone, reminders per milestone and offset."""
    missed = events(nats_url, DeadlineMissed)
    reminded = events(nats_url, DeadlineApproaching)
    for found in (missed, reminded):
        assert len({e["id"] for e in found}) == len(found)
    return (
        Counter((e["data"]["assignment_id"], e["data"]["milestone_id"]) for e in missed),
        Counter(
            (e["data"]["assignment_id"], e["data"]["milestone_id"], e["data"]["offset_days"])
            for e in reminded
        ),
    )


def weekly(milestone_id: str) -> set[tuple[str, str]]:
    """The weekly obligation's occurrence `milestone_id` of every unit."""
    return {(f"weekly_feature_report.2026.{u}", milestone_id) for u in UNITS}


def reminded_at(offset: int, occurrences: set[tuple[str, str]]) -> set[tuple[str, str, int]]:
    return {(a, m, offset) for a, m in occurrences}


def missed_in_journal(service: MeasuresService) -> int:
    entries = httpx.get(
        f"{service.url}/v1/journal", params={"limit": 1000}, headers=auth.headers(), timeout=5
    ).json()
    return sum(e["action"] == "deadline_missed" for e in entries)


def test_two_replicas_and_restarts_say_each_deadline_once(
    nats: NatsServer, databases: Databases, tmp_path: Path
) -> None:
    url = databases.url("measures")
    settings = {"FIXED_NOW": BEFORE, "DEADLINE_SWEEP_SECONDS": "0.05", "DEADLINE_BATCH_SIZE": "3"}
    first = MeasuresService(tmp_path, nats.url, url, **settings)
    second = MeasuresService(tmp_path, nats.url, url, **settings)
    start_all(first, second)
    try:
        with first.client() as client:
            plan(client)
        # Saturday 20 June: m1 is two days off (its 3-day reminder; the 7-day one is stale),
        # m2 and the first weekly report (Friday 26 June) are six days off.
        expected_reminders = {("plan", "m1", 3), ("plan", "m2", 7)} | reminded_at(
            7, weekly("2026-06-28")
        )
        eventually(lambda: set(said(nats.url)[1]) == expected_reminders)
        settle(first, second)
        missed, reminded = said(nats.url)
        assert not missed
        assert set(reminded) == expected_reminders and set(reminded.values()) == {1}
    finally:
        stop_all(first, second)

    # Thirteen days later both come back and catch up.
    start_all(first, second, FIXED_NOW=AFTER)
    try:
        expected_misses = {("plan", "m1"), ("plan", "m2"), ("plan", "m3")} | weekly("2026-06-28")
        expected_reminders |= (
            {("plan", "m4", 7)}
            | reminded_at(1, weekly("2026-07-05"))
            | reminded_at(7, weekly("2026-07-12"))
        )
        eventually(lambda: set(said(nats.url)[0]) == expected_misses)
        eventually(lambda: set(said(nats.url)[1]) == expected_reminders)
        settle(first, second)
        missed, reminded = said(nats.url)
        assert set(missed) == expected_misses and set(missed.values()) == {1}
        assert set(reminded) == expected_reminders and set(reminded.values()) == {1}
        assert missed_in_journal(first) == len(expected_misses)
        assert sweeps(first) > 0 and sweeps(second) > 0
    finally:
        stop_all(first, second)

    first.start(FIXED_NOW=AFTER)
    try:
        settle(first)
        assert said(nats.url) == (missed, reminded)
        assert missed_in_journal(first) == len(expected_misses)
        overdue = httpx.get(
            f"{first.url}/v1/overdue", params={"unit": "360102"}, headers=auth.headers()
        ).json()
        assert [o["milestone_id"] for o in overdue if o["assignment_id"] == "plan"] == [
            "m1",
            "m2",
            "m3",
        ]
        # Batches that moved alerts on are audited as the watcher's; the empty sweeps, every
        # 50 ms, are not. The chain is whole despite two replicas writing it.
        by_watcher = [e for e in entries(url) if e["actor"] == "system/deadline-watcher"]
        assert 0 < len(by_watcher) <= len(expected_misses) + len(expected_reminders)
        assert verify(url)[0] == 0
    finally:
        first.stop()
