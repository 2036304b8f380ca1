"""The measures service's own tables (its own SQLModel registry, so no other service's tables
share its metadata)."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from services.runtime.db import UtcDateTime


class MeasuresTable(SQLModel, registry=registry()):
    pass


class ProgressReport(MeasuresTable, table=True):
    __tablename__ = "progress_reports"
    __table_args__ = (sa.UniqueConstraint("unit", "report_id", name="uq_progress_unit_report"),)

    id: int | None = Field(default=None, primary_key=True)
    unit: str = Field(max_length=40, index=True)
    report_id: str = Field(max_length=64)
    measure_code: str = Field(max_length=32, index=True)
    milestone_id: str | None = Field(default=None, max_length=64)
    percent_complete: float
    summary: str = Field(sa_type=sa.Text)
    reported_at: datetime = Field(sa_type=UtcDateTime)
    reporter: str = Field(max_length=200)
    evidence: list[dict[str, str | None]] = Field(sa_type=sa.JSON)
    fingerprint: str = Field(max_length=64)
    event_id: str = Field(max_length=128)
    received_via: str = Field(max_length=8)  # http | nats
    accepted_at: datetime = Field(sa_type=UtcDateTime)
