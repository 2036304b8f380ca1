"""`fivetype results`: a period's results as publicised (公示) or final (定档), and the documents
the office issues (the results workbook, the draft 通报, a unit's result sheet), downloaded from
the scoring service. Imports nothing heavy: the service makes the documents."""

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from fivetype import exits, state
from fivetype.apiclient import call, client
from fivetype.commands._options import DATA_DIR, DataDir, PeerGroup, ScoringUrl
from fivetype.commands._tables import UNIT_WIDTH, Column, add_row, period_name
from fivetype.commands._tables import table as make_table
from fivetype.commands.scores import STAGES, grade_name
from fivetype.lang import Lang, Wide, named, say

app = typer.Typer(
    help="Period results (公示, 定档) and the documents the office issues.", no_args_is_help=True
)
console = Console()
PeriodArg = Annotated[str, typer.Argument(help="2026 (the year), 2026-Q1 or 2026-03.")]
Output = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Where to write (default: the current folder)."),
]


def _get(url: str | None, data_dir: Path, path: str, lang: str | None = None) -> Any:
    with client(url or state.service_url("scoring", data_dir), data_dir, lang) as http:
        return call(http, "GET", path)


@app.command()
def show(
    period: PeriodArg,
    group: PeerGroup = None,
    lang: Lang = None,
    wide: Wide = False,
    as_json: Annotated[bool, typer.Option("--json", help="The service's JSON document.")] = False,
    url: ScoringUrl = None,
    data_dir: DataDir = DATA_DIR,
) -> None:
    """The results as they stand: final once finalised, else publicised with the corrections
    decided on appeal so far."""
    assert lang is not None  # the option's callback chose one
    document = _get(url, data_dir, f"/v1/periods/{period}/results", lang).json()
    if group:
        known = document.get("peer_groups") or {}
        if known and group not in known:
            listed = ", ".join(sorted(known))
            console.print(
                say(
                    lang,
                    f"没有考核类别 {group}（现有：{listed}）",
                    f"no peer group {group} ({listed})",
                )
            )
            raise typer.Exit(exits.USAGE)
        document["current"] = [r for r in document["current"] if r["peer_group"] == group]
    if as_json:
        print(json.dumps(document, ensure_ascii=False, indent=2))
        return
    shown = results_tables(document, lang, wide)
    for table in shown:
        console.print(table)
    if not shown:
        stage = say(lang, *STAGES[document["stage"]])
        name = period_name(document["period"], lang)
        console.print(say(lang, f"{name}：{stage}，尚无结果", f"{name}: {stage}, no results yet"))


def results_tables(document: dict[str, Any], lang: str, wide: bool) -> list[Table]:
    """One table per peer group, in rank order, headed by the group's name, the period and the
    stage; the adjustment column shows where an appeal changed a total (always with --wide), and
    综合考核得分 ("overall pts") the points the result carries into the comprehensive assessment."""
    stage = say(lang, *STAGES[document["stage"]])
    names = document.get("peer_groups") or {}
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in document["current"]:
        groups.setdefault(row["peer_group"], []).append(row)
    tables = []
    for group, rows in groups.items():
        name = (names.get(group) or {}).get(lang) or group
        adjusted = any(row["adjustments"] for row in rows)
        columns = [
            Column("排名", "rank", justify="right"),
            Column("单位", "unit", max_width=UNIT_WIDTH),
            Column("总分", "total", justify="right"),
            Column("复核调整", "adjustment", wide_only=not adjusted, justify="right"),
            Column("等次", "grade"),
            Column("综合考核得分", "overall pts", justify="right"),
        ]
        title = f"{name}  {period_name(document['period'], lang)}  {stage}"
        table, shown = make_table(title, columns, lang, wide)
        for row in rows:
            add_row(table, shown, *_cells(row, lang))
        tables.append(table)
    return tables


def _cells(row: dict[str, Any], lang: str) -> tuple[str, ...]:
    rank = f"{row['rank']}{'=' if row.get('tied') else ''}" if row.get("rank") else "—"
    total = row.get("total")
    points = row.get("comprehensive_points")
    return (
        rank,
        named(row["unit"], row.get("unit_name"), lang),
        say(lang, "暂无考核数据", "none yet") if total is None else f"{total:.2f}",
        f"{row['adjustments']:+.2f}" if row["adjustments"] else "",
        grade_name(row.get("grade"), lang) or "—",
        "" if points is None else f"{points:.2f}",
    )


def _download(url: str | None, data_dir: Path, path: str, output: Path | None, name: str) -> None:
    target = output or Path(name)
    target.write_bytes(_get(url, data_dir, path).content)
    console.print(f"wrote {target}")


@app.command()
def workbook(
    period: PeriodArg, output: Output = None, url: ScoringUrl = None, data_dir: DataDir = DATA_DIR
) -> None:
    """The results workbook (XLSX): per peer group, and every unit's line items."""
    path = f"/v1/periods/{period}/documents/results.xlsx"
    _download(url, data_dir, path, output, f"results-{period}.xlsx")


@app.command()
def notice(
    period: PeriodArg, output: Output = None, url: ScoringUrl = None, data_dir: DataDir = DATA_DIR
) -> None:
    """The draft 通报 of the results (DOCX), for the office to edit and issue."""
    path = f"/v1/periods/{period}/documents/notice.docx"
    _download(url, data_dir, path, output, f"notice-{period}.docx")


@app.command()
def sheet(
    unit: Annotated[str, typer.Argument(help="Unit code, e.g. 360102.")],
    period: PeriodArg,
    output: Output = None,
    url: ScoringUrl = None,
    data_dir: DataDir = DATA_DIR,
) -> None:
    """A unit's result sheet (DOCX) to attach to its 述职."""
    path = f"/v1/units/{unit}/documents/{period}/result-sheet.docx"
    _download(url, data_dir, path, output, f"result-sheet-{unit}-{period}.docx")
