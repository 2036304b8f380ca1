"""The `fivetype` command: run the embedded stack, serve or migrate one service.

Every command module imports what its work needs when the command runs, not at start: `--help`
and a command that only reads an API must not pay for FastAPI, SQLAlchemy, nats-py or openpyxl
(a test holds `fivetype --help` to a budget)."""

import importlib
import os
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from fivetype import exits, state
from fivetype.commands import (
    assignments,
    audit,
    backup,
    catalogue,
    deadletters,
    emit,
    nats,
    results,
    scores,
    status,
    token,
)
from fivetype.commands import stack as stack_commands
from fivetype.commands.demo import (
    DEFAULT_SEED,
    DEFAULT_SPEED,
    DEFAULT_YEAR,
    Seed,
    Speed,
    Year,
    play_year,
)
from fivetype.commands.demo import demo as demo_command
from fivetype.state import NATS_PORT, SERVICES

app = typer.Typer(
    help="fivetype: supervision and assessment for the Five-Type Government "
    "programme (五型政府建设).",
    no_args_is_help=True,
)
app.add_typer(catalogue.app, name="catalogue")
app.add_typer(deadletters.app, name="dead-letters")
app.add_typer(nats.app, name="nats")
app.add_typer(stack_commands.app, name="stack")
app.add_typer(emit.app, name="emit")
app.add_typer(assignments.app, name="assignments")
app.command("demo")(demo_command)
app.command("status")(status.status)
app.command("scorecard")(scores.scorecard)
app.command("ranking")(scores.ranking)
app.command("rebuild")(scores.rebuild_command)
app.add_typer(results.app, name="results")
app.add_typer(token.app, name="token")
app.add_typer(audit.app, name="audit")
app.command("backup")(backup.backup)
app.command("restore")(backup.restore)
app.command("restored")(backup.restored)

ServiceName = Annotated[str, typer.Argument(help=f"One of: {', '.join(SERVICES)}")]


def _bootstrap(service: str) -> object:
    if service not in SERVICES:
        typer.echo(f"unknown service {service!r}; choose one of {', '.join(SERVICES)}", err=True)
        raise typer.Exit(exits.USAGE)
    return importlib.import_module(f"services.{service}.bootstrap")


@app.command()
def run(
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Where SQLite files, JetStream and logs live; default data, data/demo."),
    ] = None,
    nats_port: Annotated[int, typer.Option(help="Port of the embedded nats-server.")] = NATS_PORT,
    demo: Annotated[
        bool, typer.Option(help="Follow the demo's programme clock and play a year.")
    ] = False,
    seed: Seed = DEFAULT_SEED,
    speed: Speed = DEFAULT_SPEED,
    year: Year = DEFAULT_YEAR,
    start_timeout: Annotated[
        float, typer.Option(help="Seconds to wait for every service to become ready.")
    ] = 180.0,
) -> None:
    """Run the whole platform on this machine; Ctrl-C stops it. Uses NATS_URL if set."""
    from rich.console import Console

    from fivetype.demo.plan import programme_start
    from fivetype.demo.player import stack_env
    from fivetype.stack import Stack

    console = Console()
    data_dir = data_dir or (state.DEMO_DATA_DIR if demo else state.DEFAULT_DATA_DIR)
    if (other := state.read(data_dir)) is not None:
        console.print(f"[red]already running from {data_dir} (pid {other.pid})[/]")
        raise typer.Exit(exits.FAILURE)
    env = None
    if demo:
        env = {**os.environ, **stack_env(data_dir, programme_start(year).isoformat())}
    stack = Stack(data_dir, os.environ.get("NATS_URL") or None, nats_port, env)
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        with console.status("starting nats-server and the four services…"):
            stack.start(timeout=start_timeout)
        running = state.StackState.of(stack)
        state.write(stack.data_dir, running)
        stack_commands.print_endpoints(running, "fivetype is running (Ctrl-C to stop)")
        console.print(f"office admin token (Authorization: Bearer …): {stack.admin_token_file}")
        console.print(f"data: {stack.data_dir}   logs: {stack.data_dir / 'logs'}")
        if stack.credentials is not None:
            console.print(f"NATS credentials (operator, services, units): {stack.credentials}")
        if demo:
            player = threading.Thread(
                target=play_year, args=(data_dir, seed, speed, year, stop), daemon=True
            )
            player.start()
        stack.supervise(stop)
    except (RuntimeError, TimeoutError) as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(exits.FAILURE) from exc
    finally:
        state.remove(stack.data_dir)
        with console.status("stopping…"):
            stack.stop()
        console.print("stopped.")


@app.command()
def serve(service: ServiceName) -> None:
    """Run one service in this process (what the container image does)."""
    _bootstrap(service).main()  # type: ignore[attr-defined]


@app.command()
def migrate(service: ServiceName) -> None:
    """Apply a service's database migrations and exit."""
    runtime, _app = _bootstrap(service).build()  # type: ignore[attr-defined]
    runtime.migrate()
    typer.echo(f"{service}: database is at the latest migration")
