"""`fivetype stack start|stop`: the embedded stack in the background, for scripts and tests.
`start` runs `fivetype run` detached, with its output in `<data dir>/logs/stack.log`, and returns
once every service is ready (the run writes `<data dir>/stack.json` then); `stop` sends it
SIGTERM and waits until it has stopped the services and nats-server. Both speak Chinese unless
`--lang en` or an English locale asks for English."""

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
from fivetype.commands._tables import Column, add_row, table
from fivetype.commands.demo import DEFAULT_SEED, DEFAULT_SPEED, Seed, Speed
from fivetype.lang import Lang, say

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


def _wait_started(
    child: subprocess.Popen[bytes], data_dir: Path, timeout: float, lang: str
) -> None:
    deadline = time.monotonic() + timeout
    logs = data_dir / "logs"
    while (running := state.read(data_dir)) is None or running.pid != child.pid:
        if child.poll() is not None:
            said = say(lang, f"平台已退出，详见 {logs}", f"the stack exited; see {logs}")
            console.print(f"[red]{said}[/]")
            raise typer.Exit(exits.FAILURE)
        if time.monotonic() > deadline:
            child.terminate()
            said = say(
                lang,
                f"{timeout:.0f} 秒后仍未就绪，详见 {logs}",
                f"not ready after {timeout:.0f}s; see {logs}",
            )
            console.print(f"[red]{said}[/]")
            raise typer.Exit(exits.FAILURE)
        time.sleep(0.2)


ENDPOINT_COLUMNS = [
    Column("服务", "service", whole=True),
    Column("接口地址", "HTTP API", whole=True),
    Column("接口文档", "API docs", whole=True),
]


def endpoints_table(running: state.StackState, title: str, lang: str) -> Table:
    result, shown = table(title, ENDPOINT_COLUMNS, lang, wide=False)
    for name, url in running.services.items():
        add_row(result, shown, name, url, f"{url}/docs")
    add_row(result, shown, "nats", running.nats_url, "")
    return result


def running_title(lang: str, pid: int | None = None) -> str:
    """The endpoints table's title: the stack in the background (its pid), or in the terminal."""
    if pid is None:
        return say(
            lang, "fivetype 正在运行（按 Ctrl-C 停止）", "fivetype is running (Ctrl-C to stop)"
        )
    return say(lang, f"fivetype 正在运行（进程号 {pid}）", f"fivetype is running (pid {pid})")


def starting(lang: str) -> str:
    return say(
        lang, "正在启动 nats-server 和四个服务…", "starting nats-server and the four services…"
    )


def stopping(lang: str) -> tuple[str, str]:
    """What the terminal shows while the stack stops, and once it has."""
    return say(lang, "正在停止…", "stopping…"), say(lang, "已停止。", "stopped.")


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
    lang: Lang = None,
) -> None:
    """Start the embedded stack in the background and wait until every service is ready."""
    assert lang is not None  # the option's callback chose one
    data_dir = data_dir or (state.DEMO_DATA_DIR if demo else state.DEFAULT_DATA_DIR)
    running = state.read(data_dir)
    if running is None:
        args = ["--demo", "--seed", str(seed), "--speed", str(speed)] if demo else []
        # The run gives up on a service that is not ready within the same deadline; it speaks
        # the same language in its log.
        args += ["--start-timeout", str(timeout), "--lang", lang]
        child = _spawn(data_dir.resolve(), args)
        with console.status(starting(lang)):
            _wait_started(child, data_dir, timeout, lang)
        running = state.read(data_dir)
        assert running is not None
    else:
        console.print(say(lang, "已在运行", "already running"))
    console.print(endpoints_table(running, running_title(lang, running.pid), lang))


@app.command()
def stop(data_dir: DataDir = DATA_DIR, timeout: Timeout = 60.0, lang: Lang = None) -> None:
    """Stop the stack started from this data folder, or the demo's (nothing to do if none
    runs)."""
    assert lang is not None
    running = state.running(data_dir)
    if running is None:
        console.print(
            say(lang, f"{data_dir} 没有正在运行的平台", f"no stack is running from {data_dir}")
        )
        return
    os.kill(running.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    waiting, stopped = stopping(lang)
    with console.status(waiting):
        while state.alive(running.pid):
            if time.monotonic() > deadline:
                late = say(
                    lang,
                    f"{timeout:.0f} 秒后进程 {running.pid} 仍在运行",
                    f"pid {running.pid} still running after {timeout:.0f}s",
                )
                console.print(f"[red]{late}[/]")
                raise typer.Exit(exits.FAILURE)
            time.sleep(0.2)
    console.print(stopped)
