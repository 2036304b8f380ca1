"""HTTP routes for the reference data: the catalogue and its versions, the unit directory and
the working-day calendars, with import and export as JSON, YAML, CSV and XLSX."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel

from contracts.common import Text
from services.measures.adapters import repository
from services.measures.domain.calendar import CalendarYear
from services.measures.domain.catalogue import Catalogue, UnitDirectory
from services.measures.domain.documents import (
    DocumentError,
    Format,
    read_catalogue,
    read_units,
    write_catalogue,
    write_units,
)
from services.measures.domain.errors import Code, Refused
from services.measures.entrypoints.http.problems import not_found, refused, transact
from services.measures.handlers import reference
from services.measures.handlers.common import Context
from services.runtime.auth import EVERYONE, Principal, allow
from services.runtime.service import ServiceRuntime
from services.runtime.workdays import local_date

Year = Annotated[int, Path(ge=2022, le=2100)]

MEDIA: dict[str, Format] = {
    "application/json": "json",
    "application/yaml": "yaml",
    "application/x-yaml": "yaml",
    "text/yaml": "yaml",
    "text/csv": "csv",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
}
MEDIA_OF: dict[Format, str] = {
    "json": "application/json",
    "yaml": "application/yaml",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
UPLOAD = {
    "requestBody": {
        "required": True,
        "description": "The file: JSON or YAML shaped like data/*.yaml, or the spreadsheet "
        "(CSV in UTF-8, or XLSX) as exported.",
        "content": {media: {"schema": {"type": "string", "format": "binary"}} for media in MEDIA},
    }
}


class VersionView(BaseModel):
    year: int
    version: str
    content_hash: str
    imported_at: datetime
    imported_by: str
    in_force: bool


class CatalogueImported(BaseModel):
    year: int
    version: str
    created: bool


class UnitsImportedView(BaseModel):
    created: list[str]
    changed: list[str]
    unchanged: list[str]


class CalendarChange(BaseModel):
    calendar: CalendarYear
    reason: Text = ""


async def upload(request: Request) -> tuple[bytes, Format]:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    fmt = MEDIA.get(media)
    if fmt is None:
        raise refused(
            Refused(
                Code.UNSUPPORTED_FORMAT,
                f"不支持{media or '未注明的'}格式，请使用：{'、'.join(MEDIA)}",
                f"{media or 'no content type'}; use one of {list(MEDIA)}",
            )
        )
    return await request.body(), fmt


def parsed(read: Any, content: bytes, fmt: Format) -> Any:
    try:
        return read(content, fmt)
    except DocumentError as exc:
        raise refused(Refused(Code.INVALID_FILE, exc.zh, exc.en)) from exc


def download(content: bytes, fmt: Format, name: str) -> Response:
    return Response(
        content,
        media_type=MEDIA_OF[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'},
    )


def router(runtime: ServiceRuntime, ctx: Context) -> APIRouter:
    api = APIRouter(tags=["reference data"])

    async def in_force(year: int | None) -> Catalogue:
        async with runtime.db.session() as session:
            ref = await ctx.store.current(session)
        chosen = year or local_date(ctx.clock()).year
        if chosen not in ref.catalogues and year is None and ref.catalogues:
            chosen = max(ref.catalogues)
        if chosen not in ref.catalogues:
            raise not_found(
                Code.CATALOGUE_NOT_FOUND,
                f"{chosen}年度没有举措清单",
                f"no catalogue is in force for {chosen}",
            )
        return ref.catalogues[chosen]

    @api.get(
        "/catalogue",
        summary="The catalogue in force (this year's, or the newest year's)",
        responses={404: {"description": "No catalogue for that year (`catalogue_not_found`)"}},
        dependencies=[allow(*EVERYONE)],
    )
    async def catalogue(
        year: Annotated[int | None, Query(ge=2022, le=2100)] = None,
    ) -> Catalogue:
        return await in_force(year)

    @api.get(
        "/catalogue/versions",
        summary="Every catalogue version, oldest first",
        dependencies=[allow(*EVERYONE)],
    )
    async def versions() -> list[VersionView]:
        async with runtime.db.session() as session:
            rows = await repository.catalogue_versions(session)
        newest = {row.year: row.id for row in rows}
        return [
            VersionView.model_validate(row.model_dump() | {"in_force": newest[row.year] == row.id})
            for row in rows
        ]

    @api.get(
        "/catalogue/{year}/export",
        summary="The catalogue in force as a file",
        dependencies=[allow(*EVERYONE)],
    )
    async def export_catalogue(year: Year, format: Format = "xlsx") -> Response:
        catalogue = await in_force(year)
        return download(
            write_catalogue(catalogue, format), format, f"catalogue-{catalogue.version}"
        )

    @api.post(
        "/catalogue/imports",
        status_code=201,
        summary="Import a catalogue version (201 new, 200 the same version again)",
        openapi_extra=UPLOAD,
        responses={
            409: {"description": "The version number exists with other content"},
            415: {"description": "Unsupported content type"},
            422: {"description": "Not a valid catalogue"},
        },
    )
    async def import_catalogue(
        request: Request, response: Response, who: Principal = allow()
    ) -> CatalogueImported:
        catalogue: Catalogue = parsed(read_catalogue, *await upload(request))
        row, created = await transact(
            runtime, lambda s: reference.import_catalogue(s, catalogue, ctx, who.subject)
        )
        response.status_code = 201 if created else 200
        return CatalogueImported(year=row.year, version=row.version, created=created)

    @api.get("/units", summary="Responsible units and peer groups", dependencies=[allow(*EVERYONE)])
    async def units() -> UnitDirectory:
        async with runtime.db.session() as session:
            return (await ctx.store.current(session)).units

    @api.get(
        "/units/export", summary="The unit directory as a file", dependencies=[allow(*EVERYONE)]
    )
    async def export_units(format: Format = "xlsx") -> Response:
        async with runtime.db.session() as session:
            directory = (await ctx.store.current(session)).units
        return download(write_units(directory, format), format, "units")

    @api.post(
        "/units/imports",
        summary="Add and update units (never removes one); publishes UnitRegistered per change",
        openapi_extra=UPLOAD,
        responses={415: {"description": "Unsupported type"}, 422: {"description": "Invalid"}},
    )
    async def import_units(
        request: Request,
        reason: Annotated[str, Query(max_length=2000)] = "",
        who: Principal = allow(),
    ) -> UnitsImportedView:
        directory: UnitDirectory = parsed(read_units, *await upload(request))
        outcome = await transact(
            runtime, lambda s: reference.import_units(s, directory, ctx, who.subject, reason)
        )
        return UnitsImportedView.model_validate(outcome, from_attributes=True)

    @api.get(
        "/calendar/{year}",
        summary="Holidays and make-up working days of a year",
        dependencies=[allow(*EVERYONE)],
    )
    async def calendar(year: Year) -> CalendarYear:
        async with runtime.db.session() as session:
            ref = await ctx.store.current(session)
        found = ref.calendar_years.get(year)
        if found is None:
            raise not_found(
                Code.CALENDAR_NOT_FOUND,
                f"{year}年度没有工作日历",
                f"no working-day calendar for {year}",
            )
        return found

    @api.put("/calendar/{year}", summary="Replace a year's holidays and make-up working days")
    async def put_calendar(
        year: Year, change: CalendarChange, who: Principal = allow()
    ) -> CalendarYear:
        if change.calendar.year != year:
            raise refused(
                Refused(
                    Code.INVALID_CALENDAR,
                    f"提交的是{change.calendar.year}年度的日历，不是{year}年度",
                    f"the body is for {change.calendar.year}, not {year}",
                )
            )
        await transact(
            runtime,
            lambda s: reference.put_calendar(s, change.calendar, ctx, who.subject, change.reason),
        )
        return change.calendar

    return api
