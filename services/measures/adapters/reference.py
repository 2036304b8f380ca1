"""The reference data in the service's database (units, peer groups, catalogue versions, working
calendars), read through an in-memory copy that is reloaded whenever any replica changed it."""

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.measures.adapters.tables import (
    CalendarRow,
    CatalogueVersion,
    PeerGroupRow,
    ReferenceRevision,
    UnitRow,
)
from services.measures.domain.calendar import CalendarYear, working_calendar
from services.measures.domain.catalogue import Catalogue, UnitDirectory
from services.runtime.workdays import WorkingCalendar


@dataclass(frozen=True)
class Reference:
    revision: int
    units: UnitDirectory
    catalogues: dict[int, Catalogue]  # the version in force, per programme year
    calendar_years: dict[int, CalendarYear]
    calendar: WorkingCalendar = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "calendar", working_calendar(self.calendar_years.values()))


class ReferenceStore:
    def __init__(self) -> None:
        self._cached: Reference | None = None

    async def current(self, session: AsyncSession) -> Reference:
        """The reference data as committed now (one indexed read when nothing changed)."""
        revision = await session.scalar(
            select(ReferenceRevision.revision).where(ReferenceRevision.id == 1)
        )
        if self._cached is None or self._cached.revision != revision:
            self._cached = await _load(session, revision or 0)
        return self._cached


async def _load(session: AsyncSession, revision: int) -> Reference:
    groups = (
        await session.execute(select(PeerGroupRow).order_by(col(PeerGroupRow.code)))
    ).scalars()
    units = (await session.execute(select(UnitRow).order_by(col(UnitRow.code)))).scalars()
    directory = UnitDirectory.model_validate(
        {
            "peer_groups": [g.model_dump() for g in groups],
            "units": [u.model_dump(exclude={"updated_at"}) for u in units],
        }
    )
    versions = (
        await session.execute(select(CatalogueVersion).order_by(col(CatalogueVersion.id)))
    ).scalars()
    catalogues = {v.year: v for v in versions}  # the newest of each year wins
    calendars = (await session.execute(select(CalendarRow))).scalars()
    return Reference(
        revision=revision,
        units=directory,
        catalogues={y: Catalogue.model_validate(v.document) for y, v in catalogues.items()},
        calendar_years={c.year: CalendarYear.model_validate(c.document) for c in calendars},
    )


async def changed(session: AsyncSession) -> None:
    """Tell every replica's store to reload; call in the transaction that changed the data."""
    await session.execute(
        sa.update(ReferenceRevision)
        .where(col(ReferenceRevision.id) == 1)
        .values(revision=ReferenceRevision.revision + 1)
    )
