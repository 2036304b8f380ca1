"""`fivetype status`: is every service ready, and is anything piling up? Reads each service's
`/readyz` (its checks, and its outbox backlog among the details), and from JetStream every
durable consumer's lag and unacknowledged messages and the dead letters kept for it. For a stack
running from the data folder it also checks that the process answering on each port is the one
the stack started (its `/healthz` instance id), and shows how often the stack restarted each
process. Exit code 0 when everything answers and is ready, 1 when a service is not ready, 3 when
a service or NATS does not answer (a stranger answering on a service's port counts as the
service not answering)."""

import asyncio
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from fivetype import exits, state
from fivetype.commands._nats import NatsUrl, NkeyFile, connect
from fivetype.commands._options import DATA_DIR, DataDir
from fivetype.commands._tables import Column, add_row, table
from fivetype.lang import Lang, Wide, say
from fivetype.state import SERVICES

console = Console()


@dataclass
class ConsumerStatus:
    stream: str
    lag: int = 0
    unacked: int = 0
    dead_letters: int = 0


@dataclass
class ServiceStatus:
    name: str
    url: str
    reachable: bool = False
    ready: bool = False
    failing: list[str] = field(default_factory=list)
    outbox_backlog: int = 0
    consumers: dict[str, ConsumerStatus] = field(default_factory=dict)
    instance: str | None = None  # the instance id that answered /healthz
    expected_instance: str | None = None  # the one the stack started, when a stack is running
    stranger: bool = False  # another process than the stack's answers on the service's port
    restarts: int = 0  # times the running stack started the service again


def probe(
    name: str, url: str, data_dir: Path = DATA_DIR, expected_instance: str | None = None
) -> ServiceStatus:
    """`expected_instance`: the instance id the service should answer with; another one means
    a stranger holds the port, and its other answers are not this service's."""
    import httpx

    from fivetype.apiclient import client

    status = ServiceStatus(name, url, expected_instance=expected_instance)
    try:
        with client(url, data_dir) as http:
            health = http.get("/healthz", timeout=3)
            status.reachable = True
            answer = health.json() if health.content else {}
            status.instance = answer.get("instance") if isinstance(answer, dict) else None
            if expected_instance is not None and status.instance != expected_instance:
                status.reachable, status.stranger = False, True
                return status
            ready = http.get("/readyz", timeout=3)
            status.reachable = True
            status.ready = ready.status_code == 200
            answer = ready.json() if ready.content else {}
            checks = answer.get("checks", {})
            status.failing = sorted(check for check, ok in checks.items() if not ok)
            status.outbox_backlog = int(answer.get("details", {}).get("outbox_backlog", 0))
    except (httpx.HTTPError, ValueError):
        pass  # unreachable (or not our service): reported as such
    return status


async def _consumers(url: str, nkey_file: Path | None) -> dict[str, ConsumerStatus]:
    """Every durable consumer on the platform's streams, by name."""
    from contracts import streams, subjects

    nc = await connect(url, nkey_file)
    try:
        js = nc.jetstream()
        found: dict[str, ConsumerStatus] = {}
        for stream in (streams.INTAKE, streams.EVENTS):
            for info in await js.consumers_info(stream.name):
                if info.name and info.config.durable_name:
                    found[info.name] = ConsumerStatus(
                        stream.name, info.num_pending or 0, info.num_ack_pending or 0
                    )
        dlq = await js.stream_info(
            streams.DEAD_LETTERS.name, subjects_filter=subjects.dead_letter(">")
        )
        for subject, count in (dlq.state.subjects or {}).items():
            consumer = subject.removeprefix(subjects.dead_letter(""))
            found.setdefault(
                consumer, ConsumerStatus(streams.DEAD_LETTERS.name)
            ).dead_letters = count
        return found
    finally:
        await nc.close()


def _attach(statuses: list[ServiceStatus], consumers: dict[str, ConsumerStatus]) -> None:
    """Durable consumers are named after their service (scoring-progress, measures-intake)."""
    by_name = {s.name: s for s in statuses}
    for name, consumer in consumers.items():
        owner = by_name.get(name.split("-", 1)[0])
        if owner is not None:
            owner.consumers[name] = consumer


SERVICE_COLUMNS = [
    Column("服务", "service", whole=True),
    Column("地址", "URL", whole=True),
    Column("状态", "state", max_width=24),
    Column("待发", "outbox", justify="right"),
    Column("积压", "lag", justify="right"),
    Column("死信", "dead", justify="right"),
]


def _health(s: ServiceStatus, lang: str) -> str:
    restarted = (
        say(lang, f"（重启{s.restarts}次）", f" (restarted {s.restarts}×)") if s.restarts else ""
    )
    if s.stranger:
        other = s.instance or say(lang, "无标识", "no id")
        text = say(lang, f"端口被其他进程占用（{other}）", f"not ours: another process ({other})")
        return f"[red]{text}[/]"
    if not s.reachable:
        return f"[red]{say(lang, '无法连接', 'unreachable')}[/]{restarted}"
    if s.ready:
        return f"[green]{say(lang, '就绪', 'ready')}[/]{restarted}"
    failing = ",".join(s.failing)
    return f"[red]{say(lang, f'未就绪：{failing}', f'not ready: {failing}')}[/]{restarted}"


def service_table(statuses: list[ServiceStatus], lang: str, wide: bool) -> Table:
    result, shown = table(say(lang, "服务", "services"), SERVICE_COLUMNS, lang, wide)
    for s in statuses:
        lag = sum(c.lag for c in s.consumers.values())
        dead = sum(c.dead_letters for c in s.consumers.values())
        url = s.url if wide else s.url.removeprefix("http://")  # room for the state at 80
        cells = (s.name, url, _health(s, lang), str(s.outbox_backlog), str(lag), str(dead))
        add_row(result, shown, *cells)
    return result


CONSUMER_COLUMNS = [
    Column("服务", "service"),
    Column("消费者", "consumer"),
    Column("流", "stream", wide_only=True),
    Column("积压", "lag", justify="right"),
    Column("未确认", "unacked", justify="right"),
    Column("死信", "dead", justify="right"),
]


def consumer_table(statuses: list[ServiceStatus], lang: str, wide: bool) -> Table:
    result, shown = table(say(lang, "消费者", "consumers"), CONSUMER_COLUMNS, lang, wide)
    for s in statuses:
        for name, c in sorted(s.consumers.items()):
            dead = f"[red]{c.dead_letters}[/]" if c.dead_letters else "0"
            add_row(result, shown, s.name, name, c.stream, str(c.lag), str(c.unacked), dead)
    return result


def _probe_own(name: str, data_dir: Path, stack: "state.StackState | None") -> ServiceStatus:
    """Probe a service where the commands find it; if that is the stack running from
    `data_dir`, expect the process the stack started there."""
    url = state.service_url(name, data_dir)
    ours = stack is not None and stack.services.get(name) == url
    expected = stack.instances.get(name) if stack is not None and ours else None
    status = probe(name, url, data_dir, expected)
    status.restarts = stack.restarts.get(name, 0) if stack is not None and ours else 0
    return status


def status(
    data_dir: DataDir = DATA_DIR,
    consumers: Annotated[bool, typer.Option(help="List every consumer too.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document.")] = False,
    nats_url: NatsUrl = None,
    nkey_file: NkeyFile = None,
    lang: Lang = None,
    wide: Wide = False,
) -> None:
    """Readiness of every service, consumer lag, dead letters and outbox backlog."""
    assert lang is not None  # the option's callback chose one
    stack = state.running(data_dir)
    statuses = [_probe_own(name, data_dir, stack) for name in SERVICES]
    nats_url = nats_url or state.nats_url(data_dir)
    nats_restarts = 0 if stack is None else stack.restarts.get("nats", 0)
    nats_problem = ""
    try:
        _attach(
            statuses, asyncio.run(_consumers(nats_url, nkey_file or state.operator_seed(data_dir)))
        )
    except Exception as exc:  # any failure to reach or read JetStream is reported, not raised
        nats_problem = f"{type(exc).__name__}: {exc}"
    nats_reachable = not nats_problem
    if as_json:
        nats = {"url": nats_url, "reachable": nats_reachable, "problem": nats_problem}
        document = {"nats": {**nats, "restarts": nats_restarts}}
        print(json.dumps({**document, "services": [asdict(s) for s in statuses]}))
    else:
        console.print(service_table(statuses, lang, wide))
        if consumers:
            console.print(consumer_table(statuses, lang, wide))
        if not nats_reachable:
            where = say(lang, "无法读取", "cannot read")
            console.print(f"[red]{where} JetStream {nats_url}: {nats_problem}[/]", markup=True)
        if nats_restarts:
            console.print(
                say(
                    lang,
                    f"nats-server 已重启 {nats_restarts} 次",
                    f"nats-server restarted {nats_restarts}×",
                )
            )
    if not nats_reachable or not all(s.reachable for s in statuses):
        raise typer.Exit(exits.UNREACHABLE)
    raise typer.Exit(exits.OK if all(s.ready for s in statuses) else exits.FAILURE)
