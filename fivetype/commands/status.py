"""`fivetype status`: is every service ready, and is anything piling up? Reads each service's
`/readyz` and `/metrics` (consumer lag and unacknowledged messages as last sampled from
JetStream, dead letters kept per consumer, the outbox backlog). Exit code 0 when every service
is ready, 1 when one is not ready, 3 when one does not answer."""

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated

import httpx
import typer
from prometheus_client.parser import text_string_to_metric_families
from rich.console import Console
from rich.table import Table

from fivetype import exits, state
from fivetype.commands._http import client
from fivetype.commands._options import DATA_DIR, DataDir
from fivetype.stack import SERVICES

console = Console()
CONSUMER_GAUGES = {
    "fivetype_consumer_pending_messages": "lag",
    "fivetype_consumer_ack_pending_messages": "unacked",
    "fivetype_dead_letter_messages": "dead_letters",
}


@dataclass
class ConsumerStatus:
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


def _read_metrics(status: ServiceStatus, text: str) -> None:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "fivetype_outbox_backlog":
                status.outbox_backlog = int(sample.value)
            elif (attribute := CONSUMER_GAUGES.get(sample.name)) is not None:
                consumer = status.consumers.setdefault(sample.labels["consumer"], ConsumerStatus())
                setattr(consumer, attribute, int(sample.value))


def probe(name: str, url: str) -> ServiceStatus:
    status = ServiceStatus(name, url)
    try:
        with client(url) as http:
            ready = http.get("/readyz", timeout=3)
            status.reachable = True
            status.ready = ready.status_code == 200
            checks = ready.json().get("checks", {}) if ready.content else {}
            status.failing = sorted(check for check, ok in checks.items() if not ok)
            _read_metrics(status, http.get("/metrics", timeout=3).text)
    except (httpx.HTTPError, ValueError):
        pass  # unreachable (or not our service): reported as such
    return status


def _service_table(statuses: list[ServiceStatus]) -> Table:
    table = Table(title="services")
    for column in ("service", "URL", "state", "outbox", "lag", "dead letters"):
        table.add_column(column)
    for s in statuses:
        if not s.reachable:
            health = "[red]unreachable[/]"
        elif s.ready:
            health = "[green]ready[/]"
        else:
            health = f"[red]not ready: {', '.join(s.failing)}[/]"
        lag = sum(c.lag for c in s.consumers.values())
        dead = sum(c.dead_letters for c in s.consumers.values())
        table.add_row(s.name, s.url, health, str(s.outbox_backlog), str(lag), str(dead))
    return table


def _consumer_table(statuses: list[ServiceStatus]) -> Table:
    table = Table(title="consumers")
    for column in ("service", "consumer", "lag", "unacked", "dead letters"):
        table.add_column(column)
    for s in statuses:
        for name, c in sorted(s.consumers.items()):
            dead = f"[red]{c.dead_letters}[/]" if c.dead_letters else "0"
            table.add_row(s.name, name, str(c.lag), str(c.unacked), dead)
    return table


def _exit_code(statuses: list[ServiceStatus]) -> int:
    if not all(s.reachable for s in statuses):
        return exits.UNREACHABLE
    return exits.OK if all(s.ready for s in statuses) else exits.FAILURE


def status(
    data_dir: DataDir = DATA_DIR,
    consumers: Annotated[bool, typer.Option(help="List every consumer too.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document.")] = False,
) -> None:
    """Readiness of every service, consumer lag, dead letters and outbox backlog."""
    statuses = [probe(name, state.service_url(name, Path(data_dir))) for name in SERVICES]
    if as_json:
        print(json.dumps([asdict(s) for s in statuses], ensure_ascii=False))
    else:
        console.print(_service_table(statuses))
        if consumers:
            console.print(_consumer_table(statuses))
    raise typer.Exit(_exit_code(statuses))
