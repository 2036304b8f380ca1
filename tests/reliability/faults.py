"""Fault injectors: SIGKILL a service and start it again, stop and start nats-server, a
three-node nats-server cluster whose stream leader can be killed, a TCP proxy between the
services and PostgreSQL that can be cut, and a flood of poison messages."""

import asyncio
import contextlib
import json
import random
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import nats
from sqlalchemy.engine import make_url

from contracts import streams, subjects
from fivetype.natsserver import NatsServer, binary
from fivetype.ports import free_port
from fivetype.stack import ServiceProcess, Stack
from services.runtime.settings import nats_servers
from tests.conftest import Databases, eventually, eventually_async, scaled
from tests.reliability.load import UNITS, Input, Kind, intake_envelope, progress_report
from tests.unit.scoring import events as scoring_events


async def pause(rng: random.Random, low: float, high: float, stop: asyncio.Event) -> bool:
    """Wait a random while; False if `stop` came first."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), rng.uniform(low, high))
    return not stop.is_set()


async def restart(service: ServiceProcess) -> None:
    service.start()
    await asyncio.to_thread(Stack.wait_ready, [service], scaled(90))


async def stop_services(
    stack: Stack, rng: random.Random, stop: asyncio.Event, how: signal.Signals
) -> str:
    """Until `stop`, and at least once each: send every service `how` at random moments, each
    on its own schedule, leave it down a moment and start it again. A SIGTERM must end the
    process within its shutdown grace period. Says how often each went down."""

    async def hound(service: ServiceProcess) -> str:
        exits: list[float] = []
        while await pause(rng, 0.5, 4.0, stop) or not exits:
            assert service.process is not None
            service.process.send_signal(how)
            exits.append(await asyncio.to_thread(_exit_seconds, service))
            assert exits[-1] < _GRACE_SECONDS + 2, f"{service.name} took {exits[-1]:.1f} s"
            await asyncio.sleep(rng.uniform(0.2, 1.0))
            await restart(service)
        return f"{service.name} ×{len(exits)} (exit ≤ {max(exits):.1f} s)"

    return ", ".join(await asyncio.gather(*(hound(s) for s in stack.services)))


# The services' SHUTDOWN_GRACE_SECONDS under test (tests/conftest.py's fast settings).
_GRACE_SECONDS = 5.0


def _exit_seconds(service: ServiceProcess) -> float:
    assert service.process is not None
    began = time.monotonic()
    service.process.wait(60)
    return time.monotonic() - began


async def restart_nats(server: NatsServer, rng: random.Random, stop: asyncio.Event) -> str:
    """Stop nats-server at a random moment mid-load, keep it down a few seconds, start it."""
    await pause(rng, 1.0, 3.0, stop)
    await asyncio.to_thread(server.stop)
    down = rng.uniform(2.0, 4.0)
    await asyncio.sleep(down)
    await asyncio.to_thread(server.start)
    return f"down {down:.1f} s"


# ----------------------------------------------------------------------------- the cluster


@dataclass
class ClusterNode:
    name: str
    port: int
    route_port: int
    directory: Path
    process: subprocess.Popen[bytes] | None = None

    def config(self, routes: list[int]) -> str:
        """nats-server's configuration format (JSON is a subset of it)."""
        return json.dumps(
            {
                "server_name": self.name,
                "listen": f"127.0.0.1:{self.port}",
                "jetstream": {"store_dir": str(self.directory / "jetstream")},
                "cluster": {
                    "name": "fivetype-reliability",
                    "listen": f"127.0.0.1:{self.route_port}",
                    "routes": [f"nats-route://127.0.0.1:{port}" for port in routes],
                },
            },
            indent=2,
        )

    def start(self, routes: list[int]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        config = self.directory / "nats.conf"
        config.write_text(self.config(routes))
        self.process = subprocess.Popen(
            [binary(), "-c", str(config), "-l", str(self.directory / "nats-server.log")],
            stdin=subprocess.DEVNULL,
        )

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


@dataclass
class NatsCluster:
    """Three nats-servers with JetStream, routed to each other on loopback."""

    directory: Path
    nodes: list[ClusterNode] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.nodes = [
            ClusterNode(f"n{i}", free_port(), free_port(), self.directory / f"n{i}")
            for i in range(1, 4)
        ]

    @property
    def url(self) -> str:
        """A multi-server NATS_URL, as the services take it."""
        return ",".join(f"nats://127.0.0.1:{node.port}" for node in self.nodes)

    def start(self) -> None:
        for node in self.nodes:
            self.start_node(node)
        asyncio.run(self._wait_for_jetstream())

    def start_node(self, node: ClusterNode) -> None:
        node.start([other.route_port for other in self.nodes if other is not node])
        _wait_listening(node.port)

    async def _wait_for_jetstream(self) -> None:
        """Until the cluster has a JetStream meta leader, streams cannot be created."""
        connection = await nats.connect(nats_servers(self.url))

        async def answers() -> bool:
            try:
                await connection.jetstream().account_info()
            except Exception:
                return False
            return True

        try:
            await eventually_async(answers, within=30, interval=0.2)
        finally:
            await connection.close()

    async def settled(self) -> bool:
        """Every stream has a leader and all its replicas are current: after a node rejoins,
        a stream can stay leaderless for seconds, and asking for its state times out."""
        try:
            connection = await nats.connect(nats_servers(self.url))
        except (nats.errors.Error, OSError):
            return False
        try:
            for spec in streams.ALL:
                cluster = (await connection.jetstream().stream_info(spec.name)).cluster
                if cluster is None or cluster.leader is None:
                    return False
                if not all(replica.current for replica in cluster.replicas or []):
                    return False
        except (nats.errors.Error, TimeoutError):
            return False
        finally:
            await connection.close()
        return True

    def node(self, name: str) -> ClusterNode:
        return next(node for node in self.nodes if node.name == name)

    async def leader(self, stream: str) -> str:
        connection = await nats.connect(nats_servers(self.url))
        try:
            info = await connection.jetstream().stream_info(stream)
        finally:
            await connection.close()
        assert info.cluster is not None and info.cluster.leader is not None
        return info.cluster.leader

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


def _wait_listening(port: int) -> None:
    def listening() -> bool:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        except OSError:
            return False
        return True

    eventually(listening, timeout=10, interval=0.05)


async def kill_stream_leader(
    cluster: NatsCluster, stream: str, rng: random.Random, stop: asyncio.Event
) -> str:
    """SIGKILL the server leading `stream` at a random moment mid-load, start it again a few
    seconds later and wait until every stream has a leader and current replicas again (the
    judging that follows reads stream state). Says which server it killed."""
    await pause(rng, 1.0, 3.0, stop)
    leader = cluster.node(await cluster.leader(stream))
    await asyncio.to_thread(leader.kill)
    down = rng.uniform(2.0, 4.0)
    await asyncio.sleep(down)
    await asyncio.to_thread(cluster.start_node, leader)
    await eventually_async(cluster.settled, within=60, interval=0.5)
    return f"leader {leader.name} of {stream} killed, down {down:.1f} s"


# ----------------------------------------------------------------------------- the database


class Proxy:
    """A TCP proxy from a free loopback port to PostgreSQL. `cut()` closes every connection
    and refuses new ones, as a database restart or a network partition does; `restore()`
    accepts again."""

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        pipes = [
            asyncio.create_task(_pipe(reader, upstream_writer)),
            asyncio.create_task(_pipe(upstream_reader, writer)),
        ]
        self._pipes.update(pipes)
        await asyncio.gather(*pipes, return_exceptions=True)
        self._pipes.difference_update(pipes)
        for end in (writer, upstream_writer):
            end.close()

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()
        for pipe in list(self._pipes):
            pipe.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    async def restore(self) -> None:
        await self.start()

    async def stop(self) -> None:
        await self.cut()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()


class ProxiedDatabases(Databases):
    """PostgreSQL databases the services reach through the proxy."""

    def __init__(self, directory: Path, admin_url: str, proxy: Proxy):
        super().__init__("postgres", directory, admin_url)
        self.proxy = proxy

    def url(self, name: str) -> str:
        direct = make_url(super().url(name))
        return direct.set(host="127.0.0.1", port=self.proxy.port).render_as_string(
            hide_password=False
        )


async def cut_database(proxy: Proxy, rng: random.Random, stop: asyncio.Event) -> str:
    """Break every service's database connections at a random moment mid-load and refuse new
    ones for a few seconds."""
    await pause(rng, 1.0, 3.0, stop)
    await proxy.cut()
    down = rng.uniform(3.0, 5.0)
    await asyncio.sleep(down)
    await proxy.restore()
    return f"cut {down:.1f} s"


# ----------------------------------------------------------------------------- backlog


async def publish_backlog(nats_url: str, number: int) -> set[str]:
    """`number` ProgressReported events published at once, as a producer's outbox does after
    an outage; returns their ids."""
    reported = datetime.now(UTC) - timedelta(hours=1)
    connection = await nats.connect(nats_servers(nats_url))
    ids: set[str] = set()
    try:
        js = connection.jetstream()
        for n in range(number):
            event = scoring_events.progress(UNITS[n % len(UNITS)], f"backlog-{n}", reported)
            subject = subjects.event(event.type, event.subject)
            await js.publish_async(subject, event.to_json(), headers={"Nats-Msg-Id": event.id})
            ids.add(event.id)
        await js.publish_async_completed()
    finally:
        await connection.close()
    return ids


# ----------------------------------------------------------------------------- poison


def poison_messages(number: int, max_bytes: int) -> list[tuple[str, bytes]]:
    """`number` messages of each kind of poison, on the intake subjects of measures and
    inspections and on an event subject scoring and notifications consume."""
    unit = UNITS[0]
    targets = [
        subjects.intake("ReportProgress", unit),
        subjects.intake("ReportPublicRequest", unit),
        subjects.event("ProgressReported", unit),
    ]
    poison: list[tuple[str, bytes]] = []
    for n in range(number):
        good = json.loads(
            intake_envelope(
                Input(Kind.PROGRESS_NATS, f"poison-{n}", unit),
                progress_report(unit, f"poison-{n}"),
            )
        )
        wrong_schema = {**good, "data": {**good["data"], "percent_complete": "lots"}}
        unknown_version = {**good, "schemaversion": 99}
        oversized = {**good, "data": {**good["data"], "summary": "x" * (max_bytes + 1)}}
        for subject in targets:
            poison += [
                (subject, b"{not json"),
                (subject, json.dumps({**wrong_schema, "id": f"{good['id']}-s"}).encode()),
                (subject, json.dumps({**unknown_version, "id": f"{good['id']}-v"}).encode()),
                (subject, json.dumps({**oversized, "id": f"{good['id']}-o"}).encode()),
            ]
    return poison


async def flood(nats_url: str, poison: list[tuple[str, bytes]]) -> str:
    """Publish the poison to JetStream: the streams store it, so consumers must deal with
    every one of them."""
    connection = await nats.connect(nats_servers(nats_url))
    try:
        js = connection.jetstream()
        for subject, payload in poison:
            await js.publish(subject, payload)
    finally:
        await connection.close()
    return f"{len(poison)} poison messages on {len({s for s, _ in poison})} subjects"
