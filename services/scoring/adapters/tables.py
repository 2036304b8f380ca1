"""The scoring service's own tables: the facts it has recorded, one row per event."""

from datetime import datetime

from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from services.runtime.db import UtcDateTime


class ScoringTable(SQLModel, registry=registry()):
    pass


class ProgressFact(ScoringTable, table=True):
    """A ProgressReported event as scoring saw it; `event_id` is unique, so a fact counts once."""

    __tablename__ = "progress_facts"

    event_id: str = Field(primary_key=True, max_length=128)
    unit: str = Field(max_length=40, index=True)
    measure_code: str = Field(max_length=32)
    report_id: str = Field(max_length=64)
    percent_complete: float
    reported_at: datetime = Field(sa_type=UtcDateTime)
    recorded_at: datetime = Field(sa_type=UtcDateTime)
