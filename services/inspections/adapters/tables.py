"""The inspections service's own tables (its own SQLModel registry, so no other service's tables
share its metadata)."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from services.runtime.db import UtcDateTime


class InspectionsTable(SQLModel, registry=registry()):
    pass


class Inspection(InspectionsTable, table=True):
    __tablename__ = "inspections"

    id: int | None = Field(default=None, primary_key=True)
    inspection_id: str = Field(max_length=64, unique=True)
    kind: str = Field(max_length=32)
    method: str = Field(max_length=32)
    title: str = Field(max_length=200)
    inspector: str = Field(max_length=200)
    inspected_on: date = Field(index=True)
    target_units: list[str] = Field(sa_type=sa.JSON)
    measure_codes: list[str] = Field(sa_type=sa.JSON)
    evidence: list[dict[str, str | None]] = Field(sa_type=sa.JSON)
    fingerprint: str = Field(max_length=64)
    filed_at: datetime = Field(sa_type=UtcDateTime)


class InspectionTarget(InspectionsTable, table=True):
    """One row per target unit, so listing a unit's inspections is an indexed join on every
    backend instead of a JSON query that SQLite and PostgreSQL spell differently."""

    __tablename__ = "inspection_targets"

    inspection_pk: int = Field(foreign_key="inspections.id", primary_key=True)
    unit: str = Field(max_length=40, primary_key=True, index=True)
