"""`fivetype assignments export|import`: the office's assignments as a spreadsheet (CSV or XLSX),
one row per milestone, the assignment's columns repeated on each (a recurring assignment is one
row with its rule and no milestone). Both go through the measures service's HTTP API, one
assignment per request: an import creates what is new, leaves what is identical, and lists what
the service refused (e.g. an id that exists with other content)."""

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from fivetype import exits, state
from fivetype.commands._options import DATA_DIR, DataDir, MeasuresUrl
from fivetype.lang import Lang, say

if TYPE_CHECKING:
    from services.measures.domain.documents import SheetFormat

app = typer.Typer(help="Assignments of measures to units (交办任务).", no_args_is_help=True)
console = Console()
# column: (Chinese header, English header). An import reads either, or the column keys.
HEADERS: dict[str, tuple[str, str]] = {
    "assignment_id": ("交办任务编号", "Assignment"),
    "year": ("年度", "Year"),
    "measure_code": ("举措编号", "Measure"),
    "measure_title": ("举措名称", "Measure title"),  # written for people, not read back
    "lead_unit": ("牵头单位代码", "Lead unit code"),
    "lead_unit_name": ("牵头单位", "Lead unit"),  # written for people, not read back
    "co_units": ("协办单位代码", "Co-operating unit codes"),  # separated by ";"
    "start_on": ("开始日期", "Start date"),
    "target_code": ("量化目标编号", "Target"),
    "target_value": ("目标值", "Target value"),
    "title_zh": ("交办任务名称", "Title (Chinese)"),
    "recurrence_kind": ("周期类型", "Recurrence"),
    "rule": ("周期规则", "Rule"),
    "roll": ("顺延规则", "Roll"),
    "milestone_id": ("节点编号", "Milestone"),
    "milestone_title": ("节点任务", "Milestone title"),
    "due_date": ("限办日期", "Due date"),
    "expected_percent": ("应完成进度（%）", "Expected percent"),
    "milestone_unit": ("节点责任单位代码", "Milestone unit code"),
    "created_by": ("交办人", "Created by"),
}
COLUMNS = tuple(HEADERS)
READ_COLUMNS = tuple(c for c in COLUMNS if c not in ("measure_title", "lead_unit_name"))
ALIASES = {header: column for column, texts in HEADERS.items() for header in texts}
DATE_COLUMNS = ("start_on", "due_date")
CHINESE_DATE = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$")
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


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _chinese_date(iso: str) -> str:
    year, month, day = (int(part) for part in iso.split("-"))
    return f"{year}年{month}月{day}日"


def _iso_date(text: str) -> str:
    """2026年4月11日 (as exported in Chinese) or 2026-04-11, as ISO."""
    found = CHINESE_DATE.match(text)
    return f"{found[1]}-{int(found[2]):02d}-{int(found[3]):02d}" if found else text


def rows_of(
    assignment: dict[str, Any], names: dict[str, str] | None = None, lang: str = "zh"
) -> list[dict[str, str]]:
    """One row per milestone (or one for a recurring assignment); `names` gives the measure's
    and the lead unit's names beside their codes, dates are 2026年4月11日 in Chinese."""
    names = names or {}
    common = {column: _text(assignment.get(column)) for column in ASSIGNMENT_FIELDS}
    common["measure_title"] = names.get(assignment["measure_code"], "")
    common["lead_unit_name"] = names.get(assignment["lead_unit"], "")
    common["co_units"] = ";".join(assignment.get("co_units") or [])
    common["recurrence_kind"] = _text(assignment.get("recurrence"))
    written = _chinese_date if lang == "zh" else str
    if common["start_on"]:
        common["start_on"] = written(common["start_on"])
    if common["rule"] or common["recurrence_kind"]:
        return [common]
    return [
        {
            **common,
            "milestone_id": m["milestone_id"],
            "milestone_title": m["title"],
            "due_date": written(m["due_date"]),
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
    for read in rows:
        row = {k: _iso_date(v) if k in DATE_COLUMNS else v for k, v in read.items()}
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


def _format(path: Path) -> "SheetFormat":
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in ("csv", "xlsx"):
        console.print(f"[red]{path.name}: use a .csv or .xlsx file[/]")
        raise typer.Exit(exits.USAGE)
    return suffix  # type: ignore[return-value]


def _names(http: Any, year: int | None, lang: str) -> dict[str, str]:
    """Measure and unit names by code, in the reader's language."""
    from fivetype.apiclient import call

    units = call(http, "GET", "/v1/units").json()["units"]
    catalogue = call(http, "GET", "/v1/catalogue", params={"year": year} if year else {}).json()
    names = {u["code"]: u[f"name_{lang}"] for u in units}
    return names | {m["code"]: m[f"title_{lang}"] for m in catalogue["measures"]}


@app.command()
def export(
    output: Annotated[Path, typer.Argument(help="File to write: .csv or .xlsx.")],
    year: Annotated[int | None, typer.Option(help="Only this programme year.")] = None,
    unit: Annotated[str | None, typer.Option(help="Only this unit's assignments.")] = None,
    lang: Lang = None,
    url: MeasuresUrl = None,
    data_dir: DataDir = DATA_DIR,
) -> None:
    """Write assignments and their milestones to a spreadsheet (Chinese headers and dates
    unless --lang en; `import` reads either)."""
    from rich.progress import track

    from fivetype.apiclient import call, client
    from services.measures.domain.documents import write_rows

    assert lang is not None  # the option's callback chose one
    fmt = _format(output)
    params = {k: v for k, v in {"year": year, "unit": unit}.items() if v is not None}
    with client(url or state.service_url("measures", data_dir), data_dir, lang) as http:
        names = _names(http, year, lang)
        listed = call(http, "GET", "/v1/status", params=params).json()["assignments"]
        ids = [a["assignment_id"] for a in listed]
        reading = say(lang, "读取交办任务", "reading assignments")
        rows = []
        for assignment_id in track(ids, description=reading, console=console):
            assignment = call(http, "GET", f"/v1/assignments/{assignment_id}").json()
            rows += rows_of(assignment, names, lang)
    headers = {column: say(lang, *texts) for column, texts in HEADERS.items()}
    title = say(lang, "交办任务", "assignments")
    output.write_bytes(write_rows(rows, COLUMNS, fmt, title, headers))
    console.print(
        say(
            lang,
            f"已写入 {output}：交办任务 {len(ids)} 项，{len(rows)} 行",
            f"wrote {len(ids)} assignment(s), {len(rows)} row(s) to {output}",
        )
    )


@app.command("import")
def import_assignments(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    lang: Lang = None,
    url: MeasuresUrl = None,
    data_dir: DataDir = DATA_DIR,
) -> None:
    """Create the assignments of a spreadsheet (as `export` writes it). Exit code 1 if the
    service refused any; the others are created all the same."""
    from rich.progress import track

    from fivetype.apiclient import client, field_errors, send
    from services.measures.domain.documents import DocumentError, read_rows

    assert lang is not None
    _format(path)
    try:
        bodies = assignments_of(read_rows(path.read_bytes(), READ_COLUMNS, ALIASES))
    except (DocumentError, KeyError, ValueError) as exc:
        said = exc.said(lang) if isinstance(exc, DocumentError) else str(exc)
        console.print(f"{path.name}: {said}", style="red", markup=False)
        raise typer.Exit(exits.FAILURE) from exc
    created, unchanged, refused = 0, 0, list[list[str]]()
    with client(url or state.service_url("measures", data_dir), data_dir, lang) as http:
        importing = say(lang, "导入", "importing")
        for body in track(bodies, description=importing, console=console):
            response = send(http, "POST", "/v1/assignments", json=body)
            if response.status_code == 201:
                created += 1
            elif response.status_code == 200:
                unchanged += 1
            else:
                problem = response.json() if response.content else {}
                title, detail = problem.get("title", ""), problem.get("detail", "")
                said = f"{body['assignment_id']}: {problem.get('code')} {title} {detail}"
                refused.append([said, *(f"  {line}" for line in field_errors(problem))])
    console.print(
        say(
            lang,
            f"交办任务：新建 {created} 项，未变 {unchanged} 项，被拒 {len(refused)} 项",
            f"assignments: {created} created, {unchanged} unchanged, {len(refused)} refused",
        )
    )
    for line in (line for lines in refused for line in lines):
        console.print(f"  {line}", markup=False)
    if refused:
        raise typer.Exit(exits.FAILURE)
