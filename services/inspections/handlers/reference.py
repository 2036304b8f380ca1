"""The replica of the measures service's reference data: every UnitRegistered and
CataloguePublished is kept (the newest per unit and per year wins, so a redelivered older event
changes nothing), and each process rebuilds its ReferenceData from the replica periodically."""

from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from contracts.envelope import Envelope
from contracts.measures import CataloguePublished, UnitRegistered
from services.inspections.adapters.tables import ReferenceCatalogue, ReferenceUnit
from services.inspections.domain.reference import CatalogueInfo, ReferenceData, UnitInfo
from services.runtime.db import Database


async def record_units(session: AsyncSession, batch: list[Envelope[UnitRegistered]]) -> None:
    for envelope in batch:
        data = envelope.data
        values: dict[str, Any] = {
            "name_zh": data.name_zh,
            "name_en": data.name_en,
            "peer_group": data.peer_group,
            "is_office": data.is_office,
            "published_at": envelope.time,
        }
        row = await session.get(ReferenceUnit, data.unit)
        if row is None:
            session.add(ReferenceUnit(code=data.unit, **values))
        elif row.published_at <= envelope.time:
            row.sqlmodel_update(values)
        await session.flush()


async def record_catalogues(
    session: AsyncSession, batch: list[Envelope[CataloguePublished]]
) -> None:
    for envelope in batch:
        data = envelope.data
        values: dict[str, Any] = {
            "version": data.version,
            "types": [t.model_dump(mode="json") for t in data.types],
            "measures": [m.model_dump(mode="json") for m in data.measures],
            "published_at": envelope.time,
        }
        row = await session.get(ReferenceCatalogue, data.year)
        if row is None:
            session.add(ReferenceCatalogue(year=data.year, **values))
        elif row.published_at <= envelope.time:
            row.sqlmodel_update(values)
        await session.flush()


async def replicated(db: Database, seed: ReferenceData, today: date) -> ReferenceData:
    """The seed with the replicated units, and the replicated catalogue of the latest programme
    year up to this one (the seed's when none was published)."""
    async with db.session() as session:
        units = (await session.execute(select(ReferenceUnit))).scalars().all()
        catalogue = (
            await session.execute(
                select(ReferenceCatalogue)
                .where(col(ReferenceCatalogue.year) <= today.year)
                .order_by(col(ReferenceCatalogue.year).desc())
                .limit(1)
            )
        ).scalar_one_or_none()
    return seed.merged(
        (UnitInfo.model_validate(row, from_attributes=True) for row in units),
        None
        if catalogue is None
        else CatalogueInfo.model_validate(catalogue, from_attributes=True),
    )
