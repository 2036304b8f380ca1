"""The `fivetype` command: run the embedded stack, serve or migrate one service."""

import importlib
import os
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from fivetype.commands import audit, catalogue, deadletters, token
from fivetype.stack import NATS_PORT, SERVICES, Stack

app = typer.Typer(
    help="fivetype: supervision and assessment for the Five-Type Government "
    "programme (五型政府建设).",
    no_args_is_help=True,
)
app.add_typer(catalogue.app, name="catalogue")
app.add_typer(deadletters.app, name="dead-letters")
app.add_typer(token.app, name="token")
app.add_typer(audit.app, name="audit")
console = Console()

ServiceName = Annotated[str, typer.Argument(help=f"One of: {', '.join(SERVICES)}")]


def _bootstrap(service: str) -> object:
    if service not in SERVICES:
        console.print(f"[red]unknown service {service!r}[/]; choose one of {', '.join(SERVICES)}")
        raise typer.Exit(2)
    return importlib.import_module(f"services.{service}.bootstrap")


@app.command()
def run(
    data_dir: Annotated[
        Path, typer.Option(help="Where SQLite files, JetStream and logs live.")
    ] = Path("data"),
    nats_port: Annotated[int, typer.Option(help="Port of the embedded nats-server.")] = NATS_PORT,
) -> None:
    """Run the whole platform on this machine; Ctrl-C stops it. Uses NATS_URL if set."""
    stack = Stack(data_dir, os.environ.get("NATS_URL") or None, nats_port)
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        with console.status("starting nats-server and the four services…"):
            stack.start()
        _print_endpoints(stack)
        stack.supervise(stop)
    except (RuntimeError, TimeoutError) as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from exc
    finally:
        with console.status("stopping…"):
            stack.stop()
        console.print("stopped.")


def _print_endpoints(stack: Stack) -> None:
    table = Table(title="fivetype is running (Ctrl-C to stop)")
    table.add_column("service")
    table.add_column("HTTP API")
    table.add_column("API docs")
    for service in stack.services:
        table.add_row(service.name, service.url, f"{service.url}/docs")
    table.add_row("nats", stack.nats_url, "")
    console.print(table)
    console.print(f"office admin token (Authorization: Bearer …): {stack.admin_token_file}")
    console.print(f"data: {stack.data_dir}   logs: {stack.data_dir / 'logs'}")


@app.command()
def serve(service: ServiceName) -> None:
    """Run one service in this process (what the container image does)."""
    _bootstrap(service).main()  # type: ignore[attr-defined]


@app.command()
def migrate(service: ServiceName) -> None:
    """Apply a service's database migrations and exit."""
    runtime, _app = _bootstrap(service).build()  # type: ignore[attr-defined]
    runtime.migrate()
    console.print(f"{service}: database is at the latest migration")
