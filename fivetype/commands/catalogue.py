"""`fivetype catalogue`: validate, import and export the measure catalogue and the unit
directory as JSON, YAML, CSV or XLSX files. Imports and exports go through the measures service's
HTTP API (the service owns the data and publishes the changes); `validate` works offline."""

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from fivetype import exits

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

ServiceUrl = Annotated[
    str,
    typer.Option(envvar="FIVETYPE_MEASURES_URL", help="Base URL of the measures service."),
]
File = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]
DEFAULT_URL = os.environ.get("FIVETYPE_MEASURES_URL", "http://127.0.0.1:8101")


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


def _call(method: str, url: str, path: str, **kwargs: Any) -> "httpx.Response":
    from fivetype.apiclient import call, client

    with client(url) as http:
        return call(http, method, path, **kwargs)


def _upload(url: str, route: str, path: Path, params: dict[str, str]) -> dict[str, Any]:
    fmt = _format_of(path)
    response = _call(
        "POST",
        url,
        route,
        params=params,
        content=path.read_bytes(),
        headers={"content-type": MEDIA[fmt], "accept-language": "zh"},
    )
    body: dict[str, Any] = response.json()
    return body


@app.command()
def validate(
    path: File, units: bool = typer.Option(False, help="The file is a unit directory.")
) -> None:
    """Check a catalogue (or unit directory) file without importing it."""
    from services.measures.domain.documents import DocumentError, read_catalogue, read_units

    fmt = _format_of(path)
    try:
        if units:
            directory = read_units(path.read_bytes(), fmt)
            console.print(
                f"valid: {len(directory.units)} units in {len(directory.peer_groups)} peer groups"
            )
            return
        catalogue = read_catalogue(path.read_bytes(), fmt)
    except DocumentError as exc:
        console.print(f"[red]invalid: {exc}[/]")
        raise typer.Exit(exits.FAILURE) from exc
    numbered = sum(m.kind == "measure" for m in catalogue.measures)
    console.print(
        f"valid: catalogue {catalogue.version} for {catalogue.year}: {len(catalogue.types)} types, "
        f"{numbered} measures, {len(catalogue.measures) - numbered} guarantee measures"
    )


@app.command("import")
def import_catalogue(path: File, url: ServiceUrl = DEFAULT_URL) -> None:
    """Import a catalogue version; it is in force for its year from now on. The journal
    records the token's subject as who imported."""
    body = _upload(url, "/v1/catalogue/imports", path, {})
    state = "imported" if body["created"] else "already there, unchanged"
    console.print(f"catalogue {body['version']} for {body['year']}: {state}")


@app.command()
def export(
    year: int,
    output: Annotated[
        Path | None, typer.Option(help="File to write; default catalogue-<version>.<format>.")
    ] = None,
    format: Annotated[str, typer.Option(help=f"One of {', '.join(FORMATS)}.")] = "xlsx",
    url: ServiceUrl = DEFAULT_URL,
) -> None:
    """Export the catalogue in force for a year."""
    fmt = _checked_format(format)
    response = _call("GET", url, f"/v1/catalogue/{year}/export", params={"format": fmt})
    name = response.headers.get("content-disposition", "").split('filename="')[-1].rstrip('"')
    target = output or Path(name or f"catalogue-{year}.{fmt}")
    target.write_bytes(response.content)
    console.print(f"wrote {target}")


@app.command("import-units")
def import_units(
    path: File,
    reason: Annotated[str, typer.Option(help="Why; recorded in the journal.")] = "",
    url: ServiceUrl = DEFAULT_URL,
) -> None:
    """Add and update units and peer groups (a unit is never removed)."""
    body = _upload(url, "/v1/units/imports", path, {"reason": reason})
    console.print(
        f"units: {len(body['created'])} new, {len(body['changed'])} changed, "
        f"{len(body['unchanged'])} unchanged"
    )


@app.command("export-units")
def export_units(
    output: Annotated[
        Path | None, typer.Option(help="File to write; default units.<format>.")
    ] = None,
    format: Annotated[str, typer.Option(help=f"One of {', '.join(FORMATS)}.")] = "xlsx",
    url: ServiceUrl = DEFAULT_URL,
) -> None:
    """Export the unit directory."""
    fmt = _checked_format(format)
    response = _call("GET", url, "/v1/units/export", params={"format": fmt})
    target = output or Path(f"units.{fmt}")
    target.write_bytes(response.content)
    console.print(f"wrote {target}")
