"""The `fivetype` command: run the embedded stack, serve or migrate one service.

Every command module imports what its work needs when the command runs, not at start: `--help`
and a command that only reads an API must not pay for FastAPI, SQLAlchemy, nats-py or openpyxl
(a test holds `fivetype --help` to a budget). What a person reads is Chinese unless `--lang en`
or an English locale asks for English (fivetype/lang.py)."""

import importlib
import os
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated

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
from fivetype.lang import Lang, say
from fivetype.state import NATS_PORT, SERVICES

if TYPE_CHECKING:
    from fivetype.stack import Stack

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


def _bootstrap(service: str, lang: str) -> object:
    if service not in SERVICES:
        choices = ", ".join(SERVICES)
        said = say(
            lang,
            f"没有名为 {service} 的服务，可选：{choices}",
            f"unknown service {service!r}; choose one of {choices}",
        )
        typer.echo(said, err=True)
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
    lang: Lang = None,
) -> None:
    """Run the whole platform on this machine; Ctrl-C stops it. Uses NATS_URL if set."""
    from rich.console import Console

    from fivetype.demo.plan import programme_start
    from fivetype.demo.player import stack_env
    from fivetype.stack import Stack

    assert lang is not None  # the option's callback chose one
    console = Console()
    data_dir = data_dir or (state.DEMO_DATA_DIR if demo else state.DEFAULT_DATA_DIR)
    if (other := state.read(data_dir)) is not None:
        said = say(
            lang,
            f"{data_dir} 已有平台在运行（进程号 {other.pid}）",
            f"already running from {data_dir} (pid {other.pid})",
        )
        console.print(f"[red]{said}[/]")
        raise typer.Exit(exits.FAILURE)
    env = None
    if demo:
        env = {**os.environ, **stack_env(data_dir, programme_start(year).isoformat())}
    stack = Stack(data_dir, os.environ.get("NATS_URL") or None, nats_port, env, lang)
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        with console.status(stack_commands.starting(lang)):
            stack.start(timeout=start_timeout)
        running = state.StackState.of(stack)
        state.write(stack.data_dir, running)
        title = stack_commands.running_title(lang)
        console.print(stack_commands.endpoints_table(running, title, lang))
        for line in _where(stack, lang):
            console.print(line, markup=False)
        if demo:
            player = threading.Thread(
                target=play_year,
                args=(data_dir, seed, speed, year, stop),
                kwargs={"lang": lang},
                daemon=True,
            )
            player.start()
        stack.supervise(stop)
    except (RuntimeError, OSError) as exc:  # OSError: a timeout, nats-server missing, no port
        console.print(str(exc), style="red", markup=False)
        raise typer.Exit(exits.FAILURE) from exc
    finally:
        state.remove(stack.data_dir)
        waiting, stopped = stack_commands.stopping(lang)
        with console.status(waiting):
            stack.stop()
        console.print(stopped)


def _where(stack: "Stack", lang: str) -> list[str]:
    """Where the running stack keeps what the operator needs: token, data, logs, credentials."""
    token, data, logs = stack.admin_token_file, stack.data_dir, stack.data_dir / "logs"
    lines = [
        say(
            lang,
            f"市“五型”办管理员令牌（Authorization: Bearer …）：{token}",
            f"office admin token (Authorization: Bearer …): {token}",
        ),
        say(lang, f"数据：{data}   日志：{logs}", f"data: {data}   logs: {logs}"),
    ]
    if stack.credentials is not None:
        lines.append(
            say(
                lang,
                f"NATS 凭据（管理员、各服务、各单位）：{stack.credentials}",
                f"NATS credentials (operator, services, units): {stack.credentials}",
            )
        )
    return lines


@app.command()
def serve(service: ServiceName, lang: Lang = None) -> None:
    """Run one service in this process (what the container image does)."""
    assert lang is not None
    _bootstrap(service, lang).main()  # type: ignore[attr-defined]


@app.command()
def migrate(service: ServiceName, lang: Lang = None) -> None:
    """Apply a service's database migrations and exit."""
    assert lang is not None
    runtime, _app = _bootstrap(service, lang).build()  # type: ignore[attr-defined]
    runtime.migrate()
    typer.echo(
        say(
            lang,
            f"{service}：数据库已迁移至最新版本",
            f"{service}: database is at the latest migration",
        )
    )
