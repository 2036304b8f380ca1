"""The reference data scoring keeps per database (adapters/repository.py): derived again as soon
as a registration or catalogue is added, also by another process, never shared between
databases, and as known at a moment when one asks about a moment before the latest."""

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from services.runtime.db import Database
from services.scoring.adapters import repository
from services.scoring.adapters.tables import metadata
from services.scoring.domain.facts import to_facts
from tests.unit.scoring.events import unit_registered

NOW = datetime(2026, 3, 1, tzinfo=UTC)


async def _database(path: Path) -> Database:
    db = Database(f"sqlite:///{path}")
    async with db.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    return db


async def _register(db: Database, unit: str, group: str, known: datetime = NOW) -> None:
    facts = [replace(f, known_at=known) for f in to_facts(unit_registered(unit, unit, group))]
    async with db.session() as session, session.begin():
        await repository.add_facts(session, facts, NOW)


async def _units(db: Database, as_of: datetime | None = None) -> dict[str, str | None]:
    async with db.session() as session:
        reference = await repository.reference(session, as_of)
    return {code: info.peer_group for code, info in reference.units.items()}


async def _check(tmp_path: Path) -> None:
    first = await _database(tmp_path / "first.db")
    second = await _database(tmp_path / "second.db")
    other_process = Database(f"sqlite:///{tmp_path / 'first.db'}")
    try:
        await _register(first, "360102", "county")
        assert await _units(first) == {"360102": "county"}
        await _register(second, "360103", "department")
        assert await _units(second) == {"360103": "department"}
        await _register(other_process, "360104", "county")  # another engine, the same file
        assert await _units(first) == {"360102": "county", "360104": "county"}
        later = datetime(2026, 6, 1, tzinfo=UTC)
        await _register(first, "360102", "devzone", known=later)  # moved to another group
        assert (await _units(first))["360102"] == "devzone"
        # As of a moment before the move: the group it was in then.
        assert (await _units(first, as_of=datetime(2026, 5, 1, tzinfo=UTC)))["360102"] == "county"
        assert (await _units(first, as_of=later))["360102"] == "devzone"
    finally:
        for db in (first, second, other_process):
            await db.dispose()


def test_the_reference_is_read_again_when_a_registration_is_added(tmp_path: Path) -> None:
    asyncio.run(_check(tmp_path))
