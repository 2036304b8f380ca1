"""`fivetype scorecard`, `fivetype ranking` and `fivetype rebuild`: read scores from the scoring
service, and rebuild its store from the event stream into a fresh database."""

import asyncio
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from contracts import streams, subjects
from contracts.envelope import utcnow
from fivetype import exits, state
from fivetype.apiclient import call, client
from fivetype.commands._nats import NatsUrl, NkeyFile, connect_options, connection
from fivetype.commands._options import DATA_DIR, DataDir, url_option
from services.runtime.workdays import local_date
from services.scoring.handlers.rebuild import REPLAYED, NotEmpty, Rebuilt, rebuild

console = Console()
PERIOD = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])|-Q[1-4])?$")
Period = Annotated[
    str | None,
    typer.Option(help="2026 (the year), 2026-Q1 or 2026-03; default: this programme year."),
]
Lang = Annotated[str, typer.Option(help="zh (中文) or en.")]
AsJson = Annotated[bool, typer.Option("--json", help="The service's JSON document.")]
HONOURS = {"red": "[red]红榜 red[/]", "black": "[bold]黑榜 black[/]"}
ScoringUrl = Annotated[str | None, url_option("scoring")]


def _period(period: str | None) -> str:
    chosen = period or str(local_date(utcnow()).year)
    if not PERIOD.match(chosen):
        console.print(f"[red]period {chosen!r}: use 2026, 2026-Q1 or 2026-03[/]")
        raise typer.Exit(exits.USAGE)
    return chosen


def _get(url: str | None, data_dir: Path, path: str, **params: Any) -> dict[str, Any]:
    with client(url or state.service_url("scoring", data_dir), data_dir) as http:
        document: dict[str, Any] = call(http, "GET", path, params=params).json()
    return document


def _name(item: dict[str, Any], lang: str) -> str:
    return str(item.get(f"name_{lang}") or item.get("name_en") or item.get("rule", ""))


def scorecard(
    unit: Annotated[str, typer.Argument(help="Unit code, e.g. 360102 or dept-fgw.")],
    period: Period = None,
    lang: Lang = "zh",
    as_json: AsJson = False,
    url: ScoringUrl = None,
    data_dir: DataDir = DATA_DIR,
) -> None:
    """A unit's scorecard: the total, each type, and every line with its explanation."""
    document = _get(url, data_dir, f"/v1/units/{unit}/cards/{_period(period)}")
    if as_json:
        print(json.dumps(document, ensure_ascii=False, indent=2))
        return
    card = document["card"]
    console.print(
        f"[bold]{document['unit_name']} ({unit})[/]  {card['period']}  total [bold]"
        f"{card['total']}[/]  bonus {card['bonus']}  rubric {card['rubric_version']}  "
        f"{document['status']}"
    )
    types = Table(title="types")
    for column in ("type", "full marks", "deductions", "score"):
        types.add_column(column)
    for t in card["types"]:
        types.add_row(_name(t, lang), t["full_marks"], t["deductions"], t["score"])
    console.print(types)
    lines = Table(title="line items")
    for column in ("rule", "type", "points", "explanation"):
        lines.add_column(column)
    type_names = {t["type"]: _name(t, lang) for t in card["types"]}
    for item in card["line_items"]:
        explanation = item.get(f"explanation_{lang}") or item["explanation_en"]
        kind = type_names.get(item["type"], item["type"])
        lines.add_row(_name(item, lang), kind, item["points"], explanation)
    console.print(lines)


def ranking(
    period: Period = None,
    group: Annotated[
        str | None, typer.Option(help="Peer group: county, devzone or department.")
    ] = None,
    as_json: AsJson = False,
    url: ScoringUrl = None,
    data_dir: DataDir = DATA_DIR,
) -> None:
    """Units ranked within their peer groups: published once the period is closed, else
    provisional."""
    params = {"peer_group": group} if group else {}
    document = _get(url, data_dir, f"/v1/rankings/{_period(period)}", **params)
    if as_json:
        print(json.dumps(document, ensure_ascii=False, indent=2))
        return
    for ranked in document["published"] or document["provisional"]:
        table = Table(
            title=f"{ranked['peer_group_name_zh']} {document['period']} ({document['status']})"
        )
        for column in ("rank", "unit", "name", "total", "list"):
            table.add_column(column)
        for entry in ranked["entries"]:
            honour = {"red": "[red]红榜[/]", "black": "[bold]黑榜[/]"}.get(
                entry["honour"] or "", ""
            )
            rank = f"{entry['rank']}{'=' if entry['tied'] else ''}"
            table.add_row(rank, entry["unit"], entry["unit_name"], entry["total"], honour)
        console.print(table)


async def _events_to_replay(nats_url: str | None, nkey_file: Path | None) -> int:
    """How many events the rebuild will read: those of the types scoring consumes."""
    async with connection(nats_url, nkey_file) as nc:
        info = await nc.jetstream().stream_info(
            streams.EVENTS.name, subjects_filter=f"{subjects.EVENTS}.>"
        )
    counts = info.state.subjects or {}
    return sum(n for subject, n in counts.items() if subject.split(".")[2] in REPLAYED)


def _rebuild_with_bar(
    database_url: str, nats_url: str, nkey_file: Path | None, total: int
) -> Rebuilt:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=console) as progress:
        task = progress.add_task("replaying events", total=total)

        def advance(result: Rebuilt) -> None:
            progress.update(task, completed=result.events)

        return asyncio.run(
            rebuild(
                database_url, nats_url, progress=advance, connect_options=connect_options(nkey_file)
            )
        )


def rebuild_command(
    database_url: Annotated[
        str | None,
        typer.Option(help="A fresh database; default a new SQLite file in the data folder."),
    ] = None,
    nats_url: NatsUrl = None,
    nkey_file: NkeyFile = None,
    data_dir: DataDir = DATA_DIR,
) -> None:
    """Rebuild the scoring store from every event on the stream, into a fresh database."""
    nats_url = nats_url or state.nats_url(data_dir)
    nkey_file = nkey_file or state.operator_seed(data_dir)
    if database_url is None:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        database_url = f"sqlite:///{data_dir.resolve() / f'scoring-rebuilt-{stamp}.db'}"
    total = asyncio.run(_events_to_replay(nats_url, nkey_file))
    try:
        result = _rebuild_with_bar(database_url, nats_url, nkey_file, total)
    except NotEmpty as exc:
        console.print(f"[red]refused: {exc}[/]")
        raise typer.Exit(exits.FAILURE) from exc
    console.print(
        f"rebuilt {database_url}: {result.events} events ({result.skipped} skipped), "
        f"{result.facts} facts, {result.cards} cards in {result.seconds:.1f}s"
    )
    console.print(
        "to serve it: stop the stack and set FIVETYPE_SCORING_DATABASE_URL to it "
        "(or put the SQLite file in place of scoring.db)"
    )
