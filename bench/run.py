"""The platform's benchmark: every figure of issue 11 in one run, as ratios to plain nats-py
measured on the same machine in the same run where a baseline exists.

    make bench                                   # SQLite and PostgreSQL, full sizes
    .venv/bin/python bench/run.py --quick --backend sqlite
    .venv/bin/python bench/run.py --output results.json

Measured, per backend: intake (reports accepted, stored and published per second) against a
plain JetStream fetch-and-ack loop; the same intake with two replicas of the service on one
durable consumer; end to end, from reports waiting in the intake stream until scoring has
recomputed every card (ScoreUpdated); the latency from publishing a report to its
ProgressReported at fixed offered loads; the deadline sweep over 10k, 100k and 1M open milestones;
and, on SQLite, scoring's live rate and rebuild. Each service's peak RSS is read from /proc.
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
from fivetype.natsserver import NatsServer, free_port
from services.measures.bootstrap import MIGRATIONS as MEASURES_MIGRATIONS
from services.measures.settings import MeasuresSettings
from services.runtime.db import migrate

RESULTS = Path(__file__).resolve().parent / "results"
SWEEP_BATCH = MeasuresSettings.model_fields["deadline_batch_size"].default


def sizes(quick: bool) -> dict[str, Any]:
    if quick:
        return {
            "reports": 2_000,
            "loads": [100, 500],
            "load_seconds": 5,
            "milestones": [10_000],
            "live_events": 10_000,
            "rebuild_events": 20_000,
        }
    return {
        "reports": 20_000,
        "loads": [100, 500],
        "load_seconds": 30,
        "milestones": [10_000, 100_000, 1_000_000],
        "live_events": 50_000,
        "rebuild_events": 1_000_000,
    }


Row = dict[str, Any]


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
    kind: str, directory: Path, messages: list[tuple[str, bytes]], batch: int, plain: float
) -> list[Row]:
    rows = []
    for replicas in (1, 2):
        place = directory / f"intake-{replicas}"
        place.mkdir()
        rates = intake.run_service(kind, place, messages, batch, replicas)
        rows.append(
            {
                "measure": f"intake, {replicas} replica{'s' if replicas > 1 else ''}",
                "value": rates.accepted,
                "unit": "reports/s",
                "ratio": rates.accepted / plain,
                "target": "≥ 0.5" if replicas == 1 else "> 1 replica",
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
    kind: str, directory: Path, messages: list[tuple[str, bytes]], batch: int, plain: float
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
        "ratio": rate / plain,
        "target": "≥ 0.3",
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
    return {
        "measure": f"latency at {offered} reports/s offered",
        "value": p99,
        "unit": "ms p99",
        "ratio": None,
        "target": "< 100 ms" if offered == 500 else "",
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
                "target": "< 1 s" if count == 1_000_000 else "",
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
    return [
        {
            "measure": "scoring live",
            "value": rate,
            "unit": "events/s",
            "ratio": rate / plain,
            "target": "≥ 0.5",
            "notes": f"{live_events:,} events; plain loop {plain:,.0f}/s",
            "peak_rss_mb": {"scoring": rss},
        },
        {
            "measure": "runtime consumer, no-op handler",
            "value": ceiling,
            "unit": "events/s",
            "ratio": ceiling / plain,
            "target": "",
            "notes": "the ceiling of any handler on the runtime",
        },
        {
            "measure": f"scoring rebuild, {rebuild_events:,} events",
            "value": seconds,
            "unit": "s",
            "ratio": None,
            "target": "< 30 s" if rebuild_events == 1_000_000 else "",
            "notes": f"{rebuild_events / seconds:,.0f} events/s",
            "peak_rss_mb": {"rebuild": rebuild_rss},
        },
        {
            "measure": f"rebuild's stream read alone, {rebuild_events:,} events",
            "value": reading,
            "unit": "s",
            "ratio": None,
            "target": "",
            "notes": "nothing decoded or stored: the floor of any rebuild through nats-py",
        },
    ]


def backend_rows(kind: str, directory: Path, size: dict[str, Any], batch: int) -> list[Row]:
    messages = intake.payloads(size["reports"])
    plain = plain_baseline(directory, messages, batch)
    rows: list[Row] = [
        {
            "measure": "plain nats-py: JetStream async publish",
            "value": plain.publish,
            "unit": "msgs/s",
            "ratio": None,
            "target": "",
            "notes": "baseline",
        },
        {
            "measure": "plain nats-py: pull fetch and ack",
            "value": plain.fetch_ack,
            "unit": "msgs/s",
            "ratio": 1.0,
            "target": "",
            "notes": f"baseline; batch {batch}",
        },
        {
            "measure": "plain nats-py: fetch, publish one message each, ack",
            "value": plain.fetch_publish_ack,
            "unit": "msgs/s",
            "ratio": plain.fetch_publish_ack / plain.fetch_ack,
            "target": "",
            "notes": "the bus work of an intake that announces each report; nothing stored",
        },
    ]
    fetch_ack = plain.fetch_ack
    rows += intake_rows(kind, _fresh(directory, "intake"), messages, batch, fetch_ack)
    rows.append(end_to_end(kind, _fresh(directory, "e2e"), messages, batch, fetch_ack))
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
    return [{"backend": kind, **row} for row in rows]


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
    table = Table(title="fivetype benchmark")
    for name in ("backend", "measure", "value", "ratio", "target", "peak RSS MB", "notes"):
        table.add_column(name, justify="right" if name in ("value", "ratio") else "left")
    for row in rows:
        rss = ", ".join(f"{k} {v:.0f}" for k, v in row.get("peak_rss_mb", {}).items())
        table.add_row(
            row["backend"],
            row["measure"],
            f"{row['value']:,.3f} {row['unit']}"
            if row["unit"] == "s"
            else f"{row['value']:,.0f} {row['unit']}",
            "" if row["ratio"] is None else f"{row['ratio']:.2f}",
            row["target"],
            rss,
            row["notes"],
        )
    Console(width=200).print(table)


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
