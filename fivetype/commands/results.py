"""`fivetype results`: a period's results as publicised (公示) or final (定档), and the documents
the office issues (the results workbook, the draft 通报, a unit's result sheet), downloaded from
the scoring service. Imports nothing heavy: the service makes the documents."""

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from fivetype import state
from fivetype.apiclient import call, client
from fivetype.commands._options import DATA_DIR, DataDir, url_option

app = typer.Typer(
    help="Period results (公示, 定档) and the documents the office issues.", no_args_is_help=True
)
console = Console()
PeriodArg = Annotated[str, typer.Argument(help="2026 (the year), 2026-Q1 or 2026-03.")]
Output = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Where to write (default: the current folder)."),
]
ScoringUrl = Annotated[str | None, url_option("scoring")]
STAGES = {"open": "未发布", "publicised": "公示中", "finalised": "已定档"}
GRADES = {"excellent": "优秀", "good": "良好", "fair": "一般", "poor": "较差"}


def _get(url: str | None, data_dir: Path, path: str) -> Any:
    with client(url or state.service_url("scoring", data_dir), data_dir) as http:
        return call(http, "GET", path)


@app.command()
def show(
    period: PeriodArg,
    as_json: Annotated[bool, typer.Option("--json", help="The service's JSON document.")] = False,
    url: ScoringUrl = None,
    data_dir: DataDir = DATA_DIR,
) -> None:
    """The results as they stand: final once finalised, else publicised with the corrections
    decided on appeal so far."""
    document = _get(url, data_dir, f"/v1/periods/{period}/results").json()
    if as_json:
        print(json.dumps(document, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"{document['period']} {STAGES[document['stage']]}")
    for column in ("group", "rank", "unit", "name", "total", "adjusted", "等次", "综合考核"):
        table.add_column(column)
    for row in document["current"]:
        table.add_row(
            row["peer_group"],
            str(row.get("rank") or "—"),
            row["unit"],
            row["unit_name"],
            "暂无考核数据" if row.get("total") is None else f"{row['total']:.2f}",
            f"{row['adjustments']:+.2f}" if row["adjustments"] else "",
            GRADES.get(row.get("grade") or "", "—"),
            "" if row.get("comprehensive_points") is None else f"{row['comprehensive_points']:.2f}",
        )
    console.print(table)


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
