"""HTTP routes of the scoring service."""

from typing import Annotated

from fastapi import APIRouter, Path
from sqlmodel import select

from contracts.envelope import UNIT_CODE_PATTERN
from services.runtime.service import ServiceRuntime
from services.scoring.adapters.tables import ProgressFact
from services.scoring.domain.progress import Fact, UnitProgress, summarise

UnitPath = Annotated[str, Path(pattern=UNIT_CODE_PATTERN)]


def router(runtime: ServiceRuntime) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["progress"])

    @api.get("/units/{unit}/progress", summary="Progress facts recorded for a unit")
    async def unit_progress(unit: UnitPath) -> UnitProgress:
        async with runtime.db.session() as session:
            rows = await session.execute(select(ProgressFact).where(ProgressFact.unit == unit))
            facts = [Fact.model_validate(row, from_attributes=True) for row in rows.scalars()]
        return summarise(unit, facts)

    return api
