"""The platform's benchmark: every figure of issues 11 and 24 in one run, as ratios to plain
nats-py measured on the same machine in the same run where a baseline exists, each printed beside
its target.

    make bench                                   # SQLite and PostgreSQL, full sizes
    .venv/bin/python bench/run.py --quick --backend sqlite
    .venv/bin/python bench/run.py --output results.json

Measured, per backend: intake (reports accepted, stored and published per second) against a
plain JetStream fetch-and-ack loop; the same intake with two replicas of the service on one
durable consumer; end to end, from reports waiting in the intake stream until scoring has
recomputed every card (ScoreUpdated); the latency from publishing a report to its
ProgressReported at fixed offered loads; the deadline sweep over 10k, 100k and 1M open milestones;
and, on SQLite, scoring's live rate, the runtime's consumer with a no-op handler, the as-of card
of a unit-year and the rebuild. Each service's peak RSS is read from /proc.

Issue 24 sets each target against the floor it is measured on, in the same run: intake and end to
end against plain fetch + publish + ack (the bus work of an intake that announces each report);
the no-op consumer against plain fetch-and-ack of the same stream; live scoring against the no-op
consumer; the rebuild against the stream read alone. Every row has `ratio` (to plain fetch-and-ack,
as before), `floor` and `vs_floor` (the ratio the target is set on), `target` and `met`.
The table is printed and written as JSON (default bench/results/<UTC timestamp>.json).
"""

import argparse
import asyncio
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nats
import psycopg
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import deadline_sweep
import measures_intake as intake
import scoring_bench
from common import peak_rss_mb

from contracts import subjects
from contracts.measures import ProgressReported
from fivetype.natsserver import NatsServer
from fivetype.ports import free_port
from services.measures.bootstrap import MIGRATIONS as MEASURES_MIGRATIONS
from services.measures.settings import MeasuresSettings
from services.runtime.db import migrate

RESULTS = Path(__file__).resolve().parent / "results"
SWEEP_BATCH = MeasuresSettings.model_fields["deadline_batch_size"].default


def sizes(quick: bool) -> dict[str, Any]:
    if quick:
        return {
            "reports": 2_000,
            "loads": [100, 200, 500],
            "load_seconds": 5,
            "milestones": [10_000],
            "live_events": 10_000,
            "rebuild_events": 20_000,
        }
    return {
        "reports": 20_000,
        "loads": [100, 200, 500],
        "load_seconds": 30,
        "milestones": [10_000, 100_000, 1_000_000],
        "live_events": 50_000,
        "rebuild_events": 1_000_000,
    }


Row = dict[str, Any]

# The floors of issue 24, each measured in the same run.
FETCH_ACK = "fetch-and-ack"
FETCH_PUBLISH_ACK = "fetch-publish-ack"
NO_OP = "no-op consumer"
READ_ALONE = "stream read alone"
LATENCY_TARGET_LOAD = 200  # reports/s offered at which p99 < 100 ms is asked (on PostgreSQL)
RSS_LIMIT_MB = 200.0


def against(
    floor: str | None, vs_floor: float | None, target: str, met: bool | None
) -> dict[str, Any]:
    """The fields of a row that compare it with its target: the floor its ratio is taken
    against (None for absolute targets), that ratio, the target as printed, and whether it is
    met (None where the row has no target)."""
    return {"floor": floor, "vs_floor": vs_floor, "target": target, "met": met}


def _server(directory: Path, name: str) -> NatsServer:
    server = NatsServer(directory / name, free_port())
    server.start()
    return server


def plain_baseline(
    directory: Path, messages: list[tuple[str, bytes]], batch: int
) -> intake.Baseline:
    server = _server(directory, "nats-baseline")
    try:
        return asyncio.run(intake.baseline(server.url, messages, batch))
    finally:
        server.stop()


def intake_rows(
    kind: str,
    directory: Path,
    messages: list[tuple[str, bytes]],
    batch: int,
    plain: intake.Baseline,
) -> list[Row]:
    rows = []
    one = 0.0
    for replicas in (1, 2):
        place = directory / f"intake-{replicas}"
        place.mkdir()
        rates = intake.run_service(kind, place, messages, batch, replicas)
        if replicas == 1:
            one = rates.accepted
            vs = rates.accepted / plain.fetch_publish_ack
            compared = against(FETCH_PUBLISH_ACK, vs, "≥ 0.5", vs >= 0.5)
        else:
            vs = rates.accepted / one
            compared = against("1 replica", vs, "> 1", vs > 1)
        rows.append(
            {
                "measure": f"intake, {replicas} replica{'s' if replicas > 1 else ''}",
                "value": rates.accepted,
                "unit": "reports/s",
                "ratio": rates.accepted / plain.fetch_ack,
                **compared,
                "notes": f"stored {rates.stored:,.0f}/s, published {rates.published:,.0f}/s",
                "peak_rss_mb": {"measures": rates.peak_rss_mb},
            }
        )
    return rows


class Stack:
    """measures and scoring on one nats-server, each on its own database of `kind`."""

    def __init__(self, kind: str, directory: Path, batch: int):
        self.directory = directory
        self.nats = _server(directory, "nats")
        self.databases = {s: intake.database(kind, directory, s) for s in ("measures", "scoring")}
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        try:
            for service, (url, _drop) in self.databases.items():
                self.processes[service], base = intake.start_service(
                    directory, self.nats.url, url, batch, service
                )
                if service == "measures":
                    intake.assign(base)
        except BaseException:
            self.close()
            raise

    def peak_rss(self) -> dict[str, float]:
        return {service: peak_rss_mb(p.pid) for service, p in self.processes.items()}

    def close(self) -> None:
        for process in self.processes.values():
            intake.stop(process)
        for _url, drop in self.databases.values():
            drop()
        self.nats.stop()


def end_to_end(
    kind: str,
    directory: Path,
    messages: list[tuple[str, bytes]],
    batch: int,
    plain: intake.Baseline,
) -> Row:
    """Reports published into intake at once; timed until scoring settled on every card."""
    stack = Stack(kind, directory, batch)
    try:
        started = time.perf_counter()
        asyncio.run(intake.publish(stack.nats.url, messages))
        scoring_url = stack.databases["scoring"][0]
        asyncio.run(_until(lambda: _processed_and_scored(stack.nats.url, scoring_url, messages)))
        rate = len(messages) / (time.perf_counter() - started)
        rss = stack.peak_rss()
    finally:
        stack.close()
    return {
        "measure": "end to end, intake to ScoreUpdated",
        "value": rate,
        "unit": "reports/s",
        "ratio": rate / plain.fetch_ack,
        **against(
            FETCH_PUBLISH_ACK,
            rate / plain.fetch_publish_ack,
            "≥ 0.3",
            rate / plain.fetch_publish_ack >= 0.3,
        ),
        "notes": f"{len(messages):,} reports waiting in the intake stream",
        "peak_rss_mb": rss,
    }


async def _processed_and_scored(
    nats_url: str, scoring_url: str, messages: list[tuple[str, bytes]]
) -> bool:
    connection = await nats.connect(nats_url)
    try:
        published = await intake.count_published(connection.jetstream())
    finally:
        await connection.close()
    return published >= len(messages) and await scoring_bench.settled(nats_url, scoring_url)


async def _until(done: Callable[[], Any], within: float = 900.0) -> None:
    async with asyncio.timeout(within):
        # The state lives in JetStream and a database: poll both.
        while not await done():  # noqa: ASYNC110
            await asyncio.sleep(0.25)


def latency(
    kind: str,
    directory: Path,
    messages: list[tuple[str, bytes]],
    batch: int,
    loads: list[int],
    seconds: int,
) -> list[Row]:
    stack = Stack(kind, directory, batch)
    rows = []
    try:
        remaining = iter(messages)
        for offered in loads:
            wanted = [next(remaining) for _ in range(offered * seconds)]
            found = asyncio.run(_paced(stack.nats.url, wanted, offered))
            rows.append(_latency_row(offered, found, len(wanted)))
    finally:
        stack.close()
    return rows


def _latency_row(offered: int, found: list[float], sent: int) -> Row:
    cuts = statistics.quantiles(found, n=100) if len(found) > 1 else [float("nan")] * 99
    p50, p95, p99 = (cuts[49] * 1000, cuts[94] * 1000, cuts[98] * 1000)
    # Issue 24 asks p99 < 100 ms at 200 reports/s (on PostgreSQL); issue 11 asked it at 500.
    # A report never seen counts against the target.
    asked = offered in (LATENCY_TARGET_LOAD, 500)
    met = p99 < 100 and len(found) == sent if asked else None
    return {
        "measure": f"latency at {offered} reports/s offered",
        "value": p99,
        "unit": "ms p99",
        "ratio": None,
        **against(None, None, "< 100 ms" if asked else "", met),
        "notes": f"p50 {p50:.0f} ms, p95 {p95:.0f} ms; {len(found):,} of {sent:,} seen",
    }


async def _paced(url: str, messages: list[tuple[str, bytes]], per_second: int) -> list[float]:
    """Publish at `per_second` into intake; seconds from each publish to its ProgressReported."""
    connection = await nats.connect(url)
    js = connection.jetstream()
    sent: dict[str, float] = {}
    seen: list[float] = []
    everything = asyncio.Event()

    async def arrived(message: Any) -> None:
        report = json.loads(message.data)["data"]["report_id"]
        if report in sent:
            seen.append(time.perf_counter() - sent.pop(report))
        if not sent and len(seen) >= len(messages):
            everything.set()

    await connection.subscribe(subjects.event(ProgressReported.NAME), cb=arrived)
    started = time.perf_counter()
    for n, (subject, body) in enumerate(messages):
        await asyncio.sleep(max(0.0, started + n / per_second - time.perf_counter()))
        sent[json.loads(body)["data"]["report_id"]] = time.perf_counter()
        await js.publish(subject, body)
    with contextlib.suppress(TimeoutError):  # what never arrived counts as not seen
        await asyncio.wait_for(everything.wait(), 60)
    await connection.close()
    return seen


def sweeps(kind: str, directory: Path, counts: list[int]) -> list[Row]:
    rows = []
    for count in counts:
        url, drop = intake.database(kind, directory, f"sweep{count}")
        try:
            migrate(url, MEASURES_MIGRATIONS)
            deadline_sweep.load(url, count)
            timed = asyncio.run(deadline_sweep.timed_sweeps(url, SWEEP_BATCH))
        finally:
            drop()
        found = {label: (value, note) for label, value, note in timed}
        first, first_note = found["first sweep of the day"]
        regular, _ = found["next sweep (nothing due)"]
        rows.append(
            {
                "measure": f"deadline sweep, {count:,} open milestones",
                "value": regular,
                "unit": "s",
                "ratio": None,
                **(
                    against(None, None, "< 1 s", regular < 1)
                    if count == 1_000_000
                    else against(None, None, "", None)
                ),
                "notes": f"first sweep of the day {first:.2f} s ({first_note})",
            }
        )
    return rows


def scoring_rows(directory: Path, live_events: int, rebuild_events: int) -> list[Row]:
    """Scoring's own benchmark (SQLite): live rate and rebuild, against its plain loop."""
    return asyncio.run(_scoring_rows(directory, live_events, rebuild_events))


async def _scoring_rows(directory: Path, live_events: int, rebuild_events: int) -> list[Row]:
    server = _server(directory, "nats-scoring")
    try:
        await scoring_bench.publish(server.url, live_events)
        plain = await scoring_bench.plain_loop(server.url, live_events)
        rate, rss = await scoring_bench.live(server.url, live_events, directory)
        ceiling = await scoring_bench.runtime_ceiling(server.url, live_events, directory)
        facts, in_force, archived = await scoring_bench.as_of_card(directory / "live.db")
    finally:
        server.stop()
    server = _server(directory, "nats-rebuild")
    try:
        await scoring_bench.publish(server.url, rebuild_events)
        reading = await scoring_bench.read_only(server.url)
        _report, seconds, rebuild_rss = await asyncio.to_thread(
            scoring_bench.rebuild, server.url, directory
        )
    finally:
        server.stop()
    slowest = max(in_force, archived)
    return [
        {
            "measure": "plain nats-py: fetch and ack, scoring's stream",
            "value": plain,
            "unit": "events/s",
            "ratio": 1.0,
            **against(None, None, "", None),
            "notes": f"baseline of the scoring rows; {live_events:,} events, batch 100",
        },
        {
            "measure": "runtime consumer, no-op handler",
            "value": ceiling,
            "unit": "events/s",
            "ratio": ceiling / plain,
            **against(FETCH_ACK, ceiling / plain, "≥ 0.6", ceiling / plain >= 0.6),
            "notes": "the ceiling of any handler on the runtime (15 consumers)",
        },
        {
            "measure": "scoring live",
            "value": rate,
            "unit": "events/s",
            "ratio": rate / plain,
            **against(NO_OP, rate / ceiling, "≥ 0.8", rate / ceiling >= 0.8),
            "notes": f"{live_events:,} events until every card is recomputed",
            "peak_rss_mb": {"scoring": rss},
        },
        {
            "measure": "as-of card of a unit-year",
            "value": slowest,
            "unit": "s",
            "ratio": None,
            **against(None, None, "< 0.2 s", slowest < 0.2),
            "notes": (
                f"{facts:,} facts; {in_force:.3f} s under the rubric in force, "
                f"{archived:.3f} s under the archived 2026.1 (median of 5)"
            ),
        },
        {
            "measure": f"scoring rebuild, {rebuild_events:,} events",
            "value": seconds,
            "unit": "s",
            "ratio": None,
            **against(READ_ALONE, seconds / reading, "≤ 2", seconds / reading <= 2),
            "notes": f"{rebuild_events / seconds:,.0f} events/s",
            "peak_rss_mb": {"rebuild": rebuild_rss},
        },
        {
            "measure": f"rebuild's stream read alone, {rebuild_events:,} events",
            "value": reading,
            "unit": "s",
            "ratio": None,
            **against(None, None, "", None),
            "notes": "nothing decoded or stored: the floor of any rebuild through nats-py",
        },
    ]


def backend_rows(kind: str, directory: Path, size: dict[str, Any], batch: int) -> list[Row]:
    messages = intake.payloads(size["reports"])
    plain = plain_baseline(directory, messages, batch)
    none = against(None, None, "", None)
    rows: list[Row] = [
        {
            "measure": "plain nats-py: JetStream async publish",
            "value": plain.publish,
            "unit": "msgs/s",
            "ratio": None,
            **none,
            "notes": "baseline",
        },
        {
            "measure": "plain nats-py: pull fetch and ack",
            "value": plain.fetch_ack,
            "unit": "msgs/s",
            "ratio": 1.0,
            **none,
            "notes": f"baseline ({FETCH_ACK}); batch {batch}",
        },
        {
            "measure": "plain nats-py: fetch, publish one message each, ack",
            "value": plain.fetch_publish_ack,
            "unit": "msgs/s",
            "ratio": plain.fetch_publish_ack / plain.fetch_ack,
            **none,
            "notes": f"floor ({FETCH_PUBLISH_ACK}): the bus work of an intake that announces "
            "each report; nothing stored",
        },
    ]
    rows += intake_rows(kind, _fresh(directory, "intake"), messages, batch, plain)
    rows.append(end_to_end(kind, _fresh(directory, "e2e"), messages, batch, plain))
    load_messages = intake.payloads(sum(size["loads"]) * size["load_seconds"])
    rows += latency(
        kind,
        _fresh(directory, "latency"),
        load_messages,
        batch,
        size["loads"],
        size["load_seconds"],
    )
    rows += sweeps(kind, _fresh(directory, "sweeps"), size["milestones"])
    if kind == "sqlite":
        rows += scoring_rows(
            _fresh(directory, "scoring"), size["live_events"], size["rebuild_events"]
        )
    rows.append(memory_row(rows))
    return [{"backend": kind, **row} for row in rows]


def memory_row(rows: list[Row]) -> Row:
    """Every service < 200 MB RSS: the largest peak of any service process of the backend."""
    peaks = [(mb, service) for row in rows for service, mb in row.get("peak_rss_mb", {}).items()]
    largest, which = max(peaks, default=(float("nan"), "none measured"))
    return {
        "measure": "peak RSS, largest service process",
        "value": largest,
        "unit": "MB",
        "ratio": None,
        **against(None, None, f"< {RSS_LIMIT_MB:.0f} MB", largest < RSS_LIMIT_MB),
        "notes": f"{which}; at the workloads' units (23 intake, 40 scoring), not 10,000",
    }


def _fresh(directory: Path, name: str) -> Path:
    place = directory / name
    place.mkdir()
    return place


def machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "load_average": os.getloadavg(),
        "python": platform.python_version(),
        "system": platform.platform(),
    }


def show(rows: list[Row]) -> None:
    table = Table(title="fivetype benchmark (targets of issue 24, each against its floor)")
    columns = (
        "backend",
        "measure",
        "value",
        "× fetch-ack",
        "floor",
        "× floor",
        "target",
        "met",
        "peak RSS MB",
        "notes",
    )
    for name in columns:
        right = name in ("value", "× fetch-ack", "× floor")
        table.add_column(name, justify="right" if right else "left", overflow="fold")
    for row in rows:
        rss = ", ".join(f"{k} {v:.0f}" for k, v in row.get("peak_rss_mb", {}).items())
        table.add_row(
            row["backend"],
            row["measure"],
            f"{row['value']:,.3f} {row['unit']}"
            if row["unit"] == "s"
            else f"{row['value']:,.0f} {row['unit']}",
            "" if row["ratio"] is None else f"{row['ratio']:.2f}",
            row["floor"] or "",
            "" if row["vs_floor"] is None else f"{row['vs_floor']:.2f}",
            row["target"],
            {True: "yes", False: "NO", None: ""}[row["met"]],
            rss,
            row["notes"],
        )
    Console(width=240).print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--batch", type=int, default=100, help="pull batch of every loop")
    parser.add_argument("--output", type=Path, help="JSON file (default bench/results/…)")
    args = parser.parse_args()
    kinds = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    size = sizes(args.quick)
    started = datetime.now(UTC)
    rows: list[Row] = []
    for kind in kinds:
        with tempfile.TemporaryDirectory(prefix=f"fivetype-bench-{kind}-") as scratch:
            try:
                rows += backend_rows(kind, Path(scratch), size, args.batch)
            except psycopg.OperationalError as exc:
                print(f"{kind}: not reachable ({exc}); skipped", file=sys.stderr)
    show(rows)
    output = args.output or RESULTS / f"{started:%Y%m%dT%H%M%SZ}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    document = {"started": started.isoformat(), "machine": machine(), "sizes": size, "rows": rows}
    output.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    print(f"written to {output}")


if __name__ == "__main__":
    main()
