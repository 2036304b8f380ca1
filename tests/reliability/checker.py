"""After a fault: message by message, did every acknowledged input produce exactly one fact in
its producer's store, one event on the stream, one fact in scoring and one notice in the
office's inbox? And are the live scorecards the ones an offline rebuild computes from the
stream (scoring's own rebuild path, into a fresh database)?"""

import asyncio
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import nats
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from contracts import streams
from fivetype.stack import Stack
from services.runtime.db import Database
from services.runtime.settings import nats_servers
from services.scoring.adapters import tables
from services.scoring.handlers import rebuild
from tests import busclient
from tests.reliability.load import Input, Kind, client

SCORED = {Kind.PROGRESS_HTTP, Kind.PROGRESS_NATS, Kind.FINDING}  # scored and notified
PUBLISHED = SCORED | {Kind.INSPECTION}  # produce an event on FIVETYPE_EVENTS
_EVENT_KEYS = {  # the field of each event that names the input it came from
    "ProgressReported": "report_id",
    "InspectionFiled": "inspection_id",
    "FindingRaised": "finding_id",
}


@dataclass
class Row:
    """One fault's numbers, as the suite reports them."""

    fault: str
    detail: str = ""  # what the injector did
    inputs_sent: int = 0
    acknowledged: int = 0
    facts_stored: int = 0
    events_published: int = 0
    duplicates_suppressed: int = 0
    dead_lettered: int = 0
    rejected: int = 0  # IntakeRejected answers to units
    lost: int = 0
    double_counted: int = 0
    cards_compared: int = 0
    cards_differing: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Observed:
    """What the stores and the stream hold for each input, by input key."""

    stored: Counter[str]
    events: dict[str, list[str]]  # input key -> ids of the events on the stream
    scored: Counter[str]  # event id -> facts in scoring's store
    notified: Counter[str]  # event id -> notices in the office's inbox


class DuplicateCounter:
    """Samples the consumers' `duplicate` outcomes from every service's /metrics while the load
    runs; a killed process's counters die with it, so the last sample of each process counts,
    less what the processes already running had counted before (a platform serves several
    faults in turn)."""

    def __init__(self, stack: Stack):
        self.stack = stack
        self.last: dict[tuple[str, int], float] = {}
        self.before: dict[tuple[str, int], float] = {}

    async def run(self, stop: asyncio.Event) -> None:
        await self.sample()
        self.before = dict(self.last)
        while not stop.is_set():
            await self.sample()
            await asyncio.sleep(0.5)
        await self.sample()

    async def sample(self) -> None:
        for service in self.stack.services:
            if service.process is None or service.exited():
                continue
            try:
                async with client(service.url) as http:
                    text = (await http.get(service.metrics_url)).text
            except Exception:  # down or restarting: the previous sample stands
                continue
            self.last[(service.name, service.process.pid)] = _duplicates(text)

    @property
    def total(self) -> int:
        return int(sum(value - self.before.get(key, 0) for key, value in self.last.items()))


def _duplicates(metrics_text: str) -> float:
    """The sum of fivetype_messages_total{outcome="duplicate"}; the lines are filtered before
    parsing, since parsing every service's whole exposition twice a second starves the load."""
    wanted = [
        line
        for line in metrics_text.splitlines()
        if line.startswith("fivetype_messages_total{") and 'outcome="duplicate"' in line
    ]
    return sum(
        sample.value
        for family in text_string_to_metric_families("\n".join(wanted) + "\n")
        for sample in family.samples
    )


async def stored_messages(nats_url: str, stream: streams.StreamSpec) -> int:
    connection = await nats.connect(nats_servers(nats_url))
    try:
        info = await connection.jetstream().stream_info(stream.name)
    finally:
        await connection.close()
    return info.state.messages


def memory_mb(pid: int, field_name: str) -> float:
    """VmRSS (now) or VmHWM (the peak so far) of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field_name}:"):
            return int(line.split()[1]) / 1024
    raise LookupError(field_name)


async def caught_up(nats_url: str, stream: str, durable: str) -> bool:
    connection = await nats.connect(nats_servers(nats_url))
    try:
        info = await connection.jetstream().consumer_info(stream, durable)
    finally:
        await connection.close()
    return (info.num_pending, info.num_ack_pending) == (0, 0)


async def scored_ids(stack: Stack) -> set[str]:
    return set(await _scored(database_url(stack, "scoring")))


# ----------------------------------------------------------------------------- observing


async def _stored(stack: Stack, inputs: list[Input]) -> Counter[str]:
    paths = {
        Kind.PROGRESS_HTTP: ("measures", "/v1/units/{unit}/progress-reports/{key}"),
        Kind.PROGRESS_NATS: ("measures", "/v1/units/{unit}/progress-reports/{key}"),
        Kind.INSPECTION: ("inspections", "/v1/inspections/{key}"),
        Kind.FINDING: ("inspections", "/v1/findings/{key}"),
        Kind.PUBLIC_REQUEST_HTTP: ("inspections", "/v1/public-requests/{key}"),
        Kind.PUBLIC_REQUEST_NATS: ("inspections", "/v1/public-requests/{key}"),
    }
    found: Counter[str] = Counter()
    for service in ("measures", "inspections"):
        async with client(stack.service(service).url) as http:
            for item in inputs:
                owner, path = paths[item.kind]
                if owner != service:
                    continue
                answer = await http.get(path.format(unit=item.unit, key=item.key))
                assert answer.status_code in (200, 404), answer.text
                found[item.key] += answer.status_code == 200
    return found


def _events(nats_url: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for message in busclient.read(
        nats_servers(nats_url)[0], "fivetype.events.>", streams.EVENTS.name
    ):
        try:
            envelope = busclient.data_of(message)
            key = envelope["data"][_EVENT_KEYS[envelope["type"]]]
        except (ValueError, KeyError, TypeError):  # poison, or an event no input causes
            continue
        found.setdefault(key, []).append(envelope["id"])
    return found


def database_url(stack: Stack, service: str) -> str:
    return stack.service(service).env[f"FIVETYPE_{service.upper()}_DATABASE_URL"]


async def _scored(scoring_url: str) -> Counter[str]:
    db = Database(scoring_url)
    try:
        async with db.session() as session:
            ids = await session.scalars(sa.select(tables.facts.c.event_id))
            return Counter(ids)
    finally:
        await db.dispose()


async def _office_inbox(notifications_url: str) -> Counter[str]:
    notices: Counter[str] = Counter()
    async with client(notifications_url) as http:
        for offset in range(0, 1_000_000, 500):
            page = (
                await http.get("/v1/inbox/office", params={"limit": 500, "offset": offset})
            ).json()
            notices.update(entry["event_id"] for entry in page)
            if len(page) < 500:
                return notices
    return notices


async def observe(stack: Stack, inputs: list[Input]) -> Observed:
    return Observed(
        stored=await _stored(stack, inputs),
        events=await asyncio.to_thread(_events, stack.nats_url),
        scored=await _scored(database_url(stack, "scoring")),
        notified=await _office_inbox(stack.service("notifications").url),
    )


# ----------------------------------------------------------------------------- judging


def counts(item: Input, seen: Observed) -> dict[str, int]:
    """How many times each store holds the input's fact, and how many it should."""
    events = seen.events.get(item.key, [])
    found = {"store": seen.stored[item.key]}
    if item.kind in PUBLISHED:
        found["stream"] = len(events)
    if item.kind in SCORED:
        found["scoring"] = sum(seen.scored[e] for e in events)
        found["inbox"] = sum(seen.notified[e] for e in events)
    return found


def judge(row: Row, inputs: list[Input], seen: Observed) -> None:
    row.inputs_sent = len(inputs)
    row.acknowledged = sum(i.acknowledged for i in inputs)
    row.facts_stored = sum(min(seen.stored[i.key], 1) for i in inputs)
    row.events_published = sum(len(seen.events.get(i.key, [])) for i in inputs)
    row.lost = row.double_counted = 0
    row.problems = []
    for item in inputs:
        found = counts(item, seen)
        if item.acknowledged and min(found.values()) == 0:
            row.lost += 1
            row.problems.append(f"lost {item.kind} {item.key}: {found}")
        elif not item.acknowledged and found["store"] > 0 and min(found.values()) == 0:
            row.lost += 1  # stored although never acknowledged, yet not carried through
            row.problems.append(f"half-done {item.kind} {item.key}: {found}")
        if max(found.values()) > 1:
            row.double_counted += 1
            row.problems.append(f"double {item.kind} {item.key}: {found}")


async def settle(stack: Stack, row: Row, inputs: list[Input], within: float) -> None:
    """Judge until nothing is lost or `within` seconds pass: facts travel through outboxes and
    consumers, and a consumer catches up on what it missed while down."""
    deadline = time.monotonic() + within
    while True:
        judge(row, inputs, await observe(stack, inputs))
        if row.lost == 0 or time.monotonic() > deadline:
            return
        await asyncio.sleep(1.0)


# ----------------------------------------------------------------------------- scores


async def _cards(url: str) -> dict[tuple[str, str], str]:
    db = Database(url)
    try:
        async with db.session() as session:
            rows = await session.execute(
                sa.select(
                    tables.scorecards.c.unit, tables.scorecards.c.period, tables.scorecards.c.digest
                )
            )
            return {(unit, period): digest for unit, period, digest in rows}
    finally:
        await db.dispose()


async def _recomputing(url: str) -> bool:
    db = Database(url)
    try:
        async with db.session() as session:
            marked = await session.scalar(
                sa.select(sa.func.count()).select_from(tables.dirty_units)
            )
    finally:
        await db.dispose()
    return bool(marked)


async def compare_scores(stack: Stack, row: Row, directory: Path, within: float) -> None:
    """Rebuild scoring offline from the stream into a fresh database and compare every card's
    digest with the live service's, once the live service has recomputed what it was told."""
    rebuilt_url = f"sqlite:///{directory / 'scoring-rebuilt.db'}"
    await rebuild.rebuild(rebuilt_url, stack.nats_url)
    offline = await _cards(rebuilt_url)
    live_url = database_url(stack, "scoring")
    deadline = time.monotonic() + within
    while True:
        live = await _cards(live_url) if not await _recomputing(live_url) else {}
        differing = _differing(live, offline)
        if not differing or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    row.cards_compared = len(offline)
    row.cards_differing = len(differing)
    row.problems += [
        f"card differs from the rebuild: {unit} {period}" for unit, period in differing
    ]


def _differing(
    live: dict[tuple[str, str], str], offline: dict[tuple[str, str], str]
) -> list[tuple[str, str]]:
    return sorted(k for k in live.keys() | offline.keys() if live.get(k) != offline.get(k))
