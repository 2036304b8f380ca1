"""`fivetype stack start|stop`: the embedded stack in the background, for scripts and tests.
`start` runs `fivetype run` detached, with its output in `<data dir>/logs/stack.log`, and returns
once every service is ready (the run writes `<data dir>/stack.json` then); `stop` sends it
SIGTERM and waits until it has stopped the services and nats-server."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from fivetype import exits, state
from fivetype.commands._options import DATA_DIR, DataDir
from fivetype.commands.demo import DEFAULT_SEED, DEFAULT_SPEED, Seed, Speed

app = typer.Typer(help="The embedded stack in the background.", no_args_is_help=True)
console = Console()
Timeout = Annotated[float, typer.Option(help="Seconds to wait.")]


def _spawn(data_dir: Path, run_args: list[str]) -> subprocess.Popen[bytes]:
    log_file = data_dir / "logs" / "stack.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        # A session of its own, so the shell's Ctrl-C or hang-up does not reach the stack.
        return subprocess.Popen(
            [sys.executable, "-m", "fivetype", "run", "--data-dir", str(data_dir), *run_args],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def _wait_started(child: subprocess.Popen[bytes], data_dir: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while (running := state.read(data_dir)) is None or running.pid != child.pid:
        if child.poll() is not None:
            console.print(f"[red]the stack exited; see {data_dir / 'logs'}[/]")
            raise typer.Exit(exits.FAILURE)
        if time.monotonic() > deadline:
            child.terminate()
            console.print(f"[red]not ready after {timeout:.0f}s; see {data_dir / 'logs'}[/]")
            raise typer.Exit(exits.FAILURE)
        time.sleep(0.2)


def print_endpoints(running: state.StackState, title: str) -> None:
    table = Table(title=title)
    for column in ("service", "HTTP API", "API docs"):
        table.add_column(column)
    for name, url in running.services.items():
        table.add_row(name, url, f"{url}/docs")
    table.add_row("nats", running.nats_url, "")
    console.print(table)


@app.command()
def start(
    data_dir: Annotated[
        Path | None,
        typer.Option(envvar="FIVETYPE_DATA_DIR", help="Data folder; default data, data/demo."),
    ] = None,
    demo: Annotated[bool, typer.Option(help="Play the demo programme year too.")] = False,
    seed: Seed = DEFAULT_SEED,
    speed: Speed = DEFAULT_SPEED,
    timeout: Timeout = 240.0,
) -> None:
    """Start the embedded stack in the background and wait until every service is ready."""
    data_dir = data_dir or (state.DEMO_DATA_DIR if demo else state.DEFAULT_DATA_DIR)
    running = state.read(data_dir)
    if running is None:
        args = ["--demo", "--seed", str(seed), "--speed", str(speed)] if demo else []
        # The run gives up on a service that is not ready within the same deadline.
        child = _spawn(data_dir.resolve(), [*args, "--start-timeout", str(timeout)])
        with console.status("starting nats-server and the four services…"):
            _wait_started(child, data_dir, timeout)
        running = state.read(data_dir)
        assert running is not None
    else:
        console.print("already running")
    print_endpoints(running, f"fivetype is running (pid {running.pid})")


@app.command()
def stop(data_dir: DataDir = DATA_DIR, timeout: Timeout = 60.0) -> None:
    """Stop the stack started from this data folder, or the demo's (nothing to do if none
    runs)."""
    running = state.running(data_dir)
    if running is None:
        console.print(f"no stack is running from {data_dir}")
        return
    os.kill(running.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    with console.status("stopping…"):
        while state.alive(running.pid):
            if time.monotonic() > deadline:
                console.print(f"[red]pid {running.pid} still running after {timeout:.0f}s[/]")
                raise typer.Exit(exits.FAILURE)
            time.sleep(0.2)
    console.print("stopped.")
