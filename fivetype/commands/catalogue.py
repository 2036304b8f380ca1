"""`fivetype catalogue`: validate, import and export the measure catalogue and the unit
directory as JSON, YAML, CSV or XLSX files. Imports and exports go through the measures service's
HTTP API (the service owns the data and publishes the changes); `validate` works offline."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from fivetype import exits, state
from fivetype.commands._options import DATA_DIR, DataDir, MeasuresUrl
from fivetype.lang import Lang, say

if TYPE_CHECKING:
    import httpx

    from services.measures.domain.documents import Format

app = typer.Typer(
    help="The measure catalogue and the unit directory (举措清单与责任单位).",
    no_args_is_help=True,
)
console = Console()

MEDIA = {
    "json": "application/json",
    "yaml": "application/yaml",
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FORMATS: tuple[str, ...] = tuple(MEDIA)  # the documents module's Format, without loading it
SUFFIXES = {".json": "json", ".yaml": "yaml", ".yml": "yaml", ".csv": "csv", ".xlsx": "xlsx"}

File = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]


def _format_of(path: Path) -> "Format":
    fmt = SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        console.print(f"[red]{path.name}: use one of {', '.join(SUFFIXES)}[/]")
        raise typer.Exit(exits.USAGE)
    return fmt  # type: ignore[return-value]


def _checked_format(fmt: str) -> "Format":
    if fmt not in FORMATS:
        console.print(f"[red]format {fmt!r}: use one of {', '.join(FORMATS)}[/]")
        raise typer.Exit(exits.USAGE)
    return fmt  # type: ignore[return-value]


def _call(
    method: str, url: str | None, data_dir: Path, lang: str, path: str, **kwargs: Any
) -> "httpx.Response":
    from fivetype.apiclient import call, client

    with client(url or state.service_url("measures", data_dir), data_dir, lang) as http:
        return call(http, method, path, **kwargs)


def _upload(
    url: str | None, data_dir: Path, lang: str, route: str, path: Path, params: dict[str, str]
) -> dict[str, Any]:
    fmt = _format_of(path)
    content = path.read_bytes()
    headers = {"content-type": MEDIA[fmt]}
    response = _call(
        "POST", url, data_dir, lang, route, params=params, content=content, headers=headers
    )
    body: dict[str, Any] = response.json()
    return body


@app.command()
def validate(
    path: File,
    units: bool = typer.Option(False, help="The file is a unit directory."),
    lang: Lang = None,
) -> None:
    """Check a catalogue (or unit directory) file without importing it."""
    from services.measures.domain.documents import DocumentError, read_catalogue, read_units

    assert lang is not None

    fmt = _format_of(path)
    try:
        if units:
            directory = read_units(path.read_bytes(), fmt)
            units_n, groups_n = len(directory.units), len(directory.peer_groups)
            console.print(
                say(
                    lang,
                    f"格式正确：{units_n} 个单位，{groups_n} 个比较组",
                    f"valid: {units_n} units in {groups_n} peer groups",
                )
            )
            return
        catalogue = read_catalogue(path.read_bytes(), fmt)
    except DocumentError as exc:
        said = say(lang, f"格式有误：{exc.zh}", f"invalid: {exc.en}")
        console.print(said, style="red", markup=False)
        raise typer.Exit(exits.FAILURE) from exc
    numbered = sum(m.kind == "measure" for m in catalogue.measures)
    guarantees, types = len(catalogue.measures) - numbered, len(catalogue.types)
    console.print(
        say(
            lang,
            f"格式正确：{catalogue.year}年度举措清单 {catalogue.version}，{types} 个类型、"
            f"{numbered} 项举措、{guarantees} 项保障措施",
            f"valid: catalogue {catalogue.version} for {catalogue.year}: {types} types, "
            f"{numbered} measures, {guarantees} guarantee measures",
        )
    )


@app.command("import")
def import_catalogue(
    path: File, lang: Lang = None, url: MeasuresUrl = None, data_dir: DataDir = DATA_DIR
) -> None:
    """Import a catalogue version; it is in force for its year from now on. The journal
    records the token's subject as who imported."""
    assert lang is not None  # the option's callback chose one
    body = _upload(url, data_dir, lang, "/v1/catalogue/imports", path, {})
    if body["created"]:
        outcome = say(lang, "已导入", "imported")
    else:
        outcome = say(lang, "已存在，未变更", "already there, unchanged")
    console.print(
        say(
            lang,
            f"{body['year']}年度举措清单 {body['version']}：{outcome}",
            f"catalogue {body['version']} for {body['year']}: {outcome}",
        )
    )


@app.command()
def export(
    year: int,
    output: Annotated[
        Path | None, typer.Option(help="File to write; default catalogue-<version>.<format>.")
    ] = None,
    format: Annotated[str, typer.Option(help=f"One of {', '.join(FORMATS)}.")] = "xlsx",
    lang: Lang = None,
    url: MeasuresUrl = None,
    data_dir: DataDir = DATA_DIR,
) -> None:
    """Export the catalogue in force for a year."""
    assert lang is not None
    fmt = _checked_format(format)
    route = f"/v1/catalogue/{year}/export"
    response = _call("GET", url, data_dir, lang, route, params={"format": fmt})
    name = response.headers.get("content-disposition", "").split('filename="')[-1].rstrip('"')
    target = output or Path(name or f"catalogue-{year}.{fmt}")
    target.write_bytes(response.content)
    console.print(say(lang, f"已写入 {target}", f"wrote {target}"))


@app.command("import-units")
def import_units(
    path: File,
    reason: Annotated[str, typer.Option(help="Why; recorded in the journal.")] = "",
    lang: Lang = None,
    url: MeasuresUrl = None,
    data_dir: DataDir = DATA_DIR,
) -> None:
    """Add and update units and peer groups (a unit is never removed)."""
    assert lang is not None
    body = _upload(url, data_dir, lang, "/v1/units/imports", path, {"reason": reason})
    new, changed, same = (len(body[k]) for k in ("created", "changed", "unchanged"))
    console.print(
        say(
            lang,
            f"单位名录：新增 {new} 个，变更 {changed} 个，未变 {same} 个",
            f"units: {new} new, {changed} changed, {same} unchanged",
        )
    )


@app.command("export-units")
def export_units(
    output: Annotated[
        Path | None, typer.Option(help="File to write; default units.<format>.")
    ] = None,
    format: Annotated[str, typer.Option(help=f"One of {', '.join(FORMATS)}.")] = "xlsx",
    lang: Lang = None,
    url: MeasuresUrl = None,
    data_dir: DataDir = DATA_DIR,
) -> None:
    """Export the unit directory."""
    assert lang is not None
    fmt = _checked_format(format)
    response = _call("GET", url, data_dir, lang, "/v1/units/export", params={"format": fmt})
    target = output or Path(f"units.{fmt}")
    target.write_bytes(response.content)
    console.print(say(lang, f"已写入 {target}", f"wrote {target}"))
