"""`fivetype assignments export|import`: the office's assignments as a spreadsheet (CSV or XLSX),
one row per milestone, the assignment's columns repeated on each (a recurring assignment is one
row with its rule and no milestone). Both go through the measures service's HTTP API, one
assignment per request: an import creates what is new, leaves what is identical, and lists what
the service refused (e.g. an id that exists with other content)."""

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import track

from fivetype import exits, state
from fivetype.apiclient import call, client, send
from fivetype.commands._options import DATA_DIR, DataDir, url_option
from services.measures.domain.documents import DocumentError, SheetFormat, read_rows, write_rows

app = typer.Typer(help="Assignments of measures to units (任务分解).", no_args_is_help=True)
console = Console()
COLUMNS = (
    "assignment_id",
    "year",
    "measure_code",
    "lead_unit",
    "co_units",  # separated by ";"
    "start_on",
    "target_code",
    "target_value",
    "title_zh",
    "recurrence_kind",
    "rule",
    "roll",
    "milestone_id",
    "milestone_title",
    "due_date",
    "expected_percent",
    "milestone_unit",
    "created_by",
)
ASSIGNMENT_FIELDS = (
    "assignment_id",
    "year",
    "measure_code",
    "lead_unit",
    "start_on",
    "target_code",
    "target_value",
    "title_zh",
    "rule",
    "roll",
    "created_by",
)
MeasuresUrl = Annotated[str | None, url_option("measures")]


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def rows_of(assignment: dict[str, Any]) -> list[dict[str, str]]:
    """One row per milestone (or one for a recurring assignment)."""
    common = {column: _text(assignment.get(column)) for column in ASSIGNMENT_FIELDS}
    common["co_units"] = ";".join(assignment.get("co_units") or [])
    common["recurrence_kind"] = _text(assignment.get("recurrence"))
    if common["rule"] or common["recurrence_kind"]:
        return [common]
    return [
        {
            **common,
            "milestone_id": m["milestone_id"],
            "milestone_title": m["title"],
            "due_date": m["due_date"],
            "expected_percent": _text(m.get("expected_percent")),
            "milestone_unit": _text(m.get("unit")),
        }
        for m in assignment.get("milestones") or []
    ]


def _optional(row: dict[str, str], column: str) -> str | None:
    return row.get(column) or None


def assignments_of(rows: list[dict[str, str]]) -> list[dict[str, Any]]:
    """The request bodies, in the order their first rows appear."""
    bodies: dict[str, dict[str, Any]] = {}
    for row in rows:
        body = bodies.get(row["assignment_id"])
        if body is None:
            body = bodies[row["assignment_id"]] = _assignment(row)
        if row.get("milestone_id"):
            body["milestones"].append(_milestone(row))
    return list(bodies.values())


def _assignment(row: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "assignment_id": row["assignment_id"],
        "year": int(row["year"]),
        "measure_code": row["measure_code"],
        "lead_unit": row["lead_unit"],
        "co_units": [u for u in row.get("co_units", "").split(";") if u],
        "start_on": _optional(row, "start_on"),
        "target_code": _optional(row, "target_code"),
        "target_value": float(row["target_value"]) if row.get("target_value") else None,
        "title_zh": _optional(row, "title_zh"),
        "created_by": row.get("created_by") or "office",
        "milestones": [],
    }
    if row.get("rule") or row.get("recurrence_kind"):
        body["recurrence"] = {
            "kind": _optional(row, "recurrence_kind"),
            "rule": _optional(row, "rule"),
            "roll": _optional(row, "roll"),
        }
    return body


def _milestone(row: dict[str, str]) -> dict[str, Any]:
    expected = row.get("expected_percent")
    return {
        "milestone_id": row["milestone_id"],
        "title": row["milestone_title"],
        "due_date": row["due_date"],
        "expected_percent": float(expected) if expected else None,
        "unit": _optional(row, "milestone_unit"),
    }


def _format(path: Path) -> SheetFormat:
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in ("csv", "xlsx"):
        console.print(f"[red]{path.name}: use a .csv or .xlsx file[/]")
        raise typer.Exit(exits.USAGE)
    return suffix  # type: ignore[return-value]


@app.command()
def export(
    output: Annotated[Path, typer.Argument(help="File to write: .csv or .xlsx.")],
    year: Annotated[int | None, typer.Option(help="Only this programme year.")] = None,
    unit: Annotated[str | None, typer.Option(help="Only this unit's assignments.")] = None,
    url: MeasuresUrl = None,
    data_dir: DataDir = DATA_DIR,
) -> None:
    """Write assignments and their milestones to a spreadsheet."""
    fmt = _format(output)
    params = {k: v for k, v in {"year": year, "unit": unit}.items() if v is not None}
    with client(url or state.service_url("measures", data_dir), data_dir) as http:
        listed = call(http, "GET", "/v1/status", params=params).json()["assignments"]
        ids = [a["assignment_id"] for a in listed]
        rows = [
            row
            for assignment_id in track(ids, description="reading assignments", console=console)
            for row in rows_of(call(http, "GET", f"/v1/assignments/{assignment_id}").json())
        ]
    output.write_bytes(write_rows(rows, COLUMNS, fmt, "assignments"))
    console.print(f"wrote {len(ids)} assignment(s), {len(rows)} row(s) to {output}")


@app.command("import")
def import_assignments(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    url: MeasuresUrl = None,
    data_dir: DataDir = DATA_DIR,
) -> None:
    """Create the assignments of a spreadsheet (as `export` writes it). Exit code 1 if the
    service refused any; the others are created all the same."""
    _format(path)
    try:
        bodies = assignments_of(read_rows(path.read_bytes(), COLUMNS))
    except (DocumentError, KeyError, ValueError) as exc:
        console.print(f"[red]{path.name}: {exc}[/]")
        raise typer.Exit(exits.FAILURE) from exc
    created, unchanged, refused = 0, 0, []
    with client(url or state.service_url("measures", data_dir), data_dir) as http:
        for body in track(bodies, description="importing", console=console):
            response = send(http, "POST", "/v1/assignments", json=body)
            if response.status_code == 201:
                created += 1
            elif response.status_code == 200:
                unchanged += 1
            else:
                problem = response.json() if response.content else {}
                refused.append(
                    f"{body['assignment_id']}: {problem.get('code')} {problem.get('detail', '')}"
                )
    console.print(f"assignments: {created} created, {unchanged} unchanged, {len(refused)} refused")
    for line in refused:
        console.print(f"  {line}", markup=False)
    if refused:
        raise typer.Exit(exits.FAILURE)
