"""Handlers for the reference data: seeding from the shipped files, imports of the unit directory
and of catalogue versions, and working-day calendars. Each change publishes what other services
replicate (UnitRegistered, CataloguePublished) in the same transaction."""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from contracts.envelope import fact_id
from contracts.measures import CataloguePublished, UnitRegistered
from services.measures.adapters import reference, repository
from services.measures.adapters.tables import CalendarRow, CatalogueVersion, PeerGroupRow, UnitRow
from services.measures.domain.calendar import CalendarYear
from services.measures.domain.catalogue import Catalogue, Unit, UnitDirectory
from services.measures.domain.errors import Code, Refused
from services.measures.domain.reference import (
    catalogue_published,
    content_hash,
    unit_registered,
)
from services.measures.handlers.common import OFFICE, Context, journal, publish

SEED_ACTOR = "system/seed"


@dataclass(frozen=True)
class Shipped:
    """The data files shipped with the service, which seed an empty database."""

    units: UnitDirectory
    catalogues: tuple[Catalogue, ...]
    calendars: tuple[CalendarYear, ...]


@dataclass
class UnitsImported:
    created: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


async def seed(session: AsyncSession, ctx: Context, shipped: Shipped) -> None:
    """Load what the database lacks: the directory when it has no unit, a year's catalogue and
    calendar when it has none for that year. Never overwrites what the office changed."""
    await repository.lock_job(session, "reference-seed", ctx.clock())
    if await session.scalar(select(UnitRow.code).limit(1)) is None:
        await import_units(session, shipped.units, ctx, SEED_ACTOR, "units.yaml")
    years = set(await session.scalars(select(CatalogueVersion.year).distinct()))
    for catalogue in shipped.catalogues:
        if catalogue.year not in years:
            await import_catalogue(session, catalogue, ctx, SEED_ACTOR)
    calendar_years = set(await session.scalars(select(CalendarRow.year)))
    for calendar in shipped.calendars:
        if calendar.year not in calendar_years:
            await put_calendar(session, calendar, ctx, SEED_ACTOR, "holidays-cn.yaml")


async def import_units(
    session: AsyncSession, directory: UnitDirectory, ctx: Context, actor: str, reason: str
) -> UnitsImported:
    """Add new units and update changed ones; a unit is never removed (assignments and scores
    refer to it). Every new or changed unit is published as UnitRegistered."""
    now = ctx.clock()
    renamed_groups = await _merge_peer_groups(session, directory)
    rows = {u.code: u for u in (await session.execute(select(UnitRow))).scalars()}
    outcome = UnitsImported()
    for unit in directory.units:
        row = rows.get(unit.code)
        before = _as_unit(row) if row is not None else None
        if before == unit and unit.peer_group not in renamed_groups:
            outcome.unchanged.append(unit.code)
            continue
        if row is None:
            outcome.created.append(unit.code)
            session.add(UnitRow(**unit.model_dump(), updated_at=now))
        else:
            outcome.changed.append(unit.code)
            row.sqlmodel_update(unit.model_dump() | {"updated_at": now})
        await _publish_unit(session, unit, directory, before, now)
    if outcome.created or outcome.changed or renamed_groups:
        await reference.changed(session)
        journal(
            session,
            at=now,
            actor=actor,
            action="units_imported",
            entity=("directory", "units"),
            reason=reason,
            details={"created": outcome.created, "changed": outcome.changed},
        )
    return outcome


async def _merge_peer_groups(session: AsyncSession, directory: UnitDirectory) -> set[str]:
    """Upsert the peer groups; returns the codes of groups whose names changed."""
    rows = {g.code: g for g in (await session.execute(select(PeerGroupRow))).scalars()}
    renamed = set()
    for group in directory.peer_groups:
        row = rows.get(group.code)
        if row is None:
            session.add(PeerGroupRow(**group.model_dump()))
        elif (row.name_zh, row.name_en) != (group.name_zh, group.name_en):
            row.name_zh, row.name_en = group.name_zh, group.name_en
            renamed.add(group.code)
    return renamed


def _as_unit(row: UnitRow) -> Unit:
    return Unit.model_validate(row.model_dump(exclude={"updated_at"}))


async def _publish_unit(
    session: AsyncSession,
    unit: Unit,
    directory: UnitDirectory,
    before: Unit | None,
    now: datetime,
) -> None:
    event = unit_registered(unit, directory)
    # The content makes a re-publication of the same state collapse; the previous content keeps
    # a change back to an earlier state (A, then B, then A) from collapsing into the first A.
    previous = content_hash(before) if before is not None else "new"
    await publish(
        session,
        event,
        unit=unit.code,
        event_id=fact_id(UnitRegistered.NAME, content_hash(event), previous),
        time=now,
    )


async def import_catalogue(
    session: AsyncSession, catalogue: Catalogue, ctx: Context, actor: str
) -> tuple[CatalogueVersion, bool]:
    """Store a new catalogue version, which becomes the one in force for its year; returns the
    version and whether it is new. Versions are immutable: the same version number with other
    content is refused, the same content again changes nothing."""
    digest = content_hash(catalogue)
    existing = (
        await session.execute(
            select(CatalogueVersion).where(
                CatalogueVersion.year == catalogue.year,
                CatalogueVersion.version == catalogue.version,
            )
        )
    ).scalar_one_or_none()
    if existing is not None:
        if existing.content_hash != digest:
            raise Refused(
                Code.VERSION_CONFLICT,
                f"版本号 {catalogue.version} 已用于内容不同的清单，请使用新的版本号",
                f"version {catalogue.version} exists with other content; number the new one",
            )
        return existing, False
    now = ctx.clock()
    row = CatalogueVersion(
        year=catalogue.year,
        version=catalogue.version,
        document=catalogue.model_dump(mode="json"),
        content_hash=digest,
        imported_at=now,
        imported_by=actor,
    )
    session.add(row)
    await reference.changed(session)
    await publish(
        session,
        catalogue_published(catalogue),
        unit=OFFICE,
        event_id=fact_id(CataloguePublished.NAME, catalogue.year, catalogue.version, digest),
        time=now,
    )
    journal(
        session,
        at=now,
        actor=actor,
        action="catalogue_imported",
        entity=("catalogue", f"{catalogue.year}/{catalogue.version}"),
        details={"measures": len(catalogue.measures), "content_hash": digest},
    )
    return row, True


async def put_calendar(
    session: AsyncSession, calendar: CalendarYear, ctx: Context, actor: str, reason: str
) -> bool:
    """Replace a year's holidays and make-up working days; returns whether anything changed.
    Deadlines already generated keep their dates (see docs/measures.md)."""
    row = await session.get(CalendarRow, calendar.year)
    document = calendar.model_dump(mode="json")
    if row is not None and row.document == document:
        return False
    now = ctx.clock()
    if row is None:
        session.add(
            CalendarRow(year=calendar.year, document=document, updated_at=now, updated_by=actor)
        )
    else:
        row.sqlmodel_update({"document": document, "updated_at": now, "updated_by": actor})
    await reference.changed(session)
    journal(
        session,
        at=now,
        actor=actor,
        action="calendar_set",
        entity=("calendar", str(calendar.year)),
        reason=reason,
        details={"holidays": len(calendar.holidays), "workdays": len(calendar.workdays)},
    )
    return True
