"""`fivetype demo`: play a programme year on a stack that follows the demo clock (`fivetype run
--demo` starts one and plays at once; this command plays again, e.g. another seed)."""

import threading
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from fivetype import exits, state
from fivetype.commands._options import DataDir
from fivetype.lang import Lang, say

if TYPE_CHECKING:
    from fivetype.demo.player import Tally

Seed = Annotated[int, typer.Option(help="Same seed, same year: who is on time, late or silent.")]
Speed = Annotated[
    float,
    typer.Option(
        min=0.01,
        help="Programme days per real second; at most 2 (a day lasts half a second or more).",
    ),
]
Year = Annotated[int, typer.Option(help="The programme year (its catalogue must exist).")]
DEFAULT_SEED, DEFAULT_SPEED, DEFAULT_YEAR = 1, 2.0, 2026


def play_year(
    data_dir: Path,
    seed: int,
    speed: float,
    year: int,
    stop: threading.Event,
    until: date | None = None,
    lang: str = "zh",
) -> "Tally | None":
    """Plan the year for the units the running stack knows, then play it with a progress bar;
    None if the services stopped answering."""
    import httpx
    from rich.console import Console

    try:
        return _play_year(data_dir, seed, speed, year, stop, until, lang)
    except httpx.HTTPError as exc:
        said = say(lang, f"演示无法连接服务：{exc}", f"the demo cannot reach the services: {exc}")
        Console().print(said, style="red", markup=False)
        return None


def _play_year(
    data_dir: Path,
    seed: int,
    speed: float,
    year: int,
    stop: threading.Event,
    until: date | None,
    lang: str,
) -> "Tally":
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from fivetype.demo.plan import Step, plan
    from fivetype.demo.player import Tally, play, units_of

    console = Console()
    services = ("measures", "inspections", "scoring", "notifications")
    urls = {name: state.service_url(name, data_dir) for name in services}
    the_plan = plan(seed, year, units_of(urls["measures"], data_dir), lang)
    if until is not None:
        the_plan.steps[:] = [s for s in the_plan.steps if s.at.date() <= until]
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=console) as progress:
        title = say(lang, f"{year}年演示（种子 {seed}）", f"demo {year}, seed {seed}")
        task = progress.add_task(title, total=len(the_plan.steps))

        def on_step(step: Step, tally: Tally) -> None:
            day = say(lang, f"{step.at.month}月{step.at.day}日", f"{step.at:%Y-%m-%d}")
            progress.update(task, completed=tally.sent, description=f"{day} {step.label}")

        tally = play(the_plan, urls, data_dir, speed, stop, on_step)
    sent, refused = tally.sent, len(tally.refused)
    console.print(
        say(
            lang,
            f"演示：已发送 {sent} 步，被拒 {refused} 步",
            f"demo: {sent} steps sent, {refused} refused",
        )
    )
    for refusal in tally.refused[:20]:
        console.print(f"  {refusal}", markup=False)
    ranking = f"{state.service_url('scoring', data_dir)}/v1/rankings/{year}"
    command = f"`fivetype ranking --period {year}`"
    console.print(
        say(lang, f"得分：{command} 或 {ranking}", f"scores: {command} or {ranking}"), markup=False
    )
    return tally


def demo(
    data_dir: DataDir = state.DEMO_DATA_DIR,
    seed: Seed = DEFAULT_SEED,
    speed: Speed = DEFAULT_SPEED,
    year: Year = DEFAULT_YEAR,
    until: Annotated[
        str | None, typer.Option(help="Stop after this programme date (YYYY-MM-DD).")
    ] = None,
    lang: Lang = None,
) -> None:
    """Play a programme year on the running stack (started with `fivetype run --demo`)."""
    from fivetype.demo.player import clock_path

    assert lang is not None  # the option's callback chose one
    if not clock_path(data_dir).exists():
        run, start = "`fivetype run --demo`", "`fivetype stack start --demo`"
        said = say(
            lang,
            f"该平台未按演示时钟运行：请用 {run} 或 {start} 启动",
            f"the stack does not follow the demo clock: start it with {run} or {start}",
        )
        typer.echo(said, err=True)
        raise typer.Exit(exits.USAGE)
    last = date.fromisoformat(until) if until else None
    if play_year(data_dir, seed, speed, year, threading.Event(), last, lang) is None:
        raise typer.Exit(exits.UNREACHABLE)
