"""`fivetype demo`: play a programme year on a stack that follows the demo clock (`fivetype run
--demo` starts one and plays at once; this command plays again, e.g. another seed)."""

import threading
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from fivetype import exits, state
from fivetype.commands._options import DataDir

if TYPE_CHECKING:
    from fivetype.demo.player import Tally

Seed = Annotated[int, typer.Option(help="Same seed, same year: who is on time, late or silent.")]
Speed = Annotated[float, typer.Option(min=0.01, help="Programme days per real second.")]
Year = Annotated[int, typer.Option(help="The programme year (its catalogue must exist).")]
DEFAULT_SEED, DEFAULT_SPEED, DEFAULT_YEAR = 1, 2.0, 2026


def play_year(
    data_dir: Path,
    seed: int,
    speed: float,
    year: int,
    stop: threading.Event,
    until: date | None = None,
) -> "Tally | None":
    """Plan the year for the units the running stack knows, then play it with a progress bar;
    None if the services stopped answering."""
    import httpx
    from rich.console import Console

    try:
        return _play_year(data_dir, seed, speed, year, stop, until)
    except httpx.HTTPError as exc:
        Console().print(f"[red]the demo cannot reach the services: {exc}[/]")
        return None


def _play_year(
    data_dir: Path,
    seed: int,
    speed: float,
    year: int,
    stop: threading.Event,
    until: date | None,
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
    the_plan = plan(seed, year, units_of(urls["measures"], data_dir))
    if until is not None:
        the_plan.steps[:] = [s for s in the_plan.steps if s.at.date() <= until]
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=console) as progress:
        task = progress.add_task(f"demo {year}, seed {seed}", total=len(the_plan.steps))

        def on_step(step: Step, tally: Tally) -> None:
            description = f"{step.at:%Y-%m-%d} {step.label}"
            progress.update(task, completed=tally.sent, description=description)

        tally = play(the_plan, urls, data_dir, speed, stop, on_step)
    console.print(f"demo: {tally.sent} steps sent, {len(tally.refused)} refused")
    for refusal in tally.refused[:20]:
        console.print(f"  {refusal}", markup=False)
    ranking = f"{state.service_url('scoring', data_dir)}/v1/rankings/{year}"
    console.print(f"scores: `fivetype ranking --period {year}` or {ranking}")
    return tally


def demo(
    data_dir: DataDir = state.DEMO_DATA_DIR,
    seed: Seed = DEFAULT_SEED,
    speed: Speed = DEFAULT_SPEED,
    year: Year = DEFAULT_YEAR,
    until: Annotated[
        str | None, typer.Option(help="Stop after this programme date (YYYY-MM-DD).")
    ] = None,
) -> None:
    """Play a programme year on the running stack (started with `fivetype run --demo`)."""
    from fivetype.demo.player import clock_path

    if not clock_path(data_dir).exists():
        typer.echo(
            "the stack does not follow the demo clock: start it with "
            "`fivetype run --demo` or `fivetype stack start --demo`",
            err=True,
        )
        raise typer.Exit(exits.USAGE)
    last = date.fromisoformat(until) if until else None
    if play_year(data_dir, seed, speed, year, threading.Event(), last) is None:
        raise typer.Exit(exits.UNREACHABLE)
