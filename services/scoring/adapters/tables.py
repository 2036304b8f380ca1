"""The scoring service's own tables (SQLAlchemy Core: facts are written and read in bulk).

`facts` is the source of truth, one row per event; everything else is derived from it and from
the rubrics, and can be rebuilt: scorecards are a cache of score(facts, rubric, period).
"""

import sqlalchemy as sa
from sqlalchemy.orm import registry
from sqlmodel import SQLModel

from services.runtime.db import UtcDateTime


class ScoringTable(SQLModel, registry=registry()):
    """The service's own registry, as every service has; its tables are declared with Core."""


metadata = ScoringTable.metadata

facts = sa.Table(
    "facts",
    metadata,
    sa.Column("event_id", sa.String(128), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("unit", sa.String(40), nullable=False),
    sa.Column("day", sa.Date(), nullable=True),
    sa.Column("known_at", UtcDateTime, nullable=False),
    sa.Column("data", sa.JSON(), nullable=False),
    sa.Column("recorded_at", UtcDateTime, nullable=False),
    sa.Index("ix_facts_unit", "unit"),
    sa.Index("ix_facts_kind", "kind"),
)

# Units whose cards must be recomputed; `marks` grows with every mark, so the job clears a row
# only when nothing marked it again while it was computing.
dirty_units = sa.Table(
    "dirty_units",
    metadata,
    sa.Column("unit", sa.String(40), primary_key=True),
    sa.Column("marks", sa.Integer(), nullable=False),
)

scorecards = sa.Table(
    "scorecards",
    metadata,
    sa.Column("unit", sa.String(40), primary_key=True),
    sa.Column("period", sa.String(8), primary_key=True),
    sa.Column("year", sa.Integer(), nullable=False),
    sa.Column("period_kind", sa.String(8), nullable=False),
    sa.Column("rubric_version", sa.String(16), nullable=False),
    sa.Column("total", sa.Numeric(8, 2), nullable=True),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("card", sa.JSON(), nullable=False),
    sa.Column("revision", sa.Integer(), nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Index("ix_scorecards_period", "period"),
)

# Every version a card has had, for a unit's score history and to answer "what did it say then".
card_history = sa.Table(
    "card_history",
    metadata,
    sa.Column("unit", sa.String(40), primary_key=True),
    sa.Column("period", sa.String(8), primary_key=True),
    sa.Column("revision", sa.Integer(), primary_key=True),
    sa.Column("total", sa.Numeric(8, 2), nullable=True),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("rubric_version", sa.String(16), nullable=False),
    sa.Column("recorded_at", UtcDateTime, nullable=False),
)

rubric_versions = sa.Table(
    "rubric_versions",
    metadata,
    sa.Column("year", sa.Integer(), primary_key=True),
    sa.Column("version", sa.String(16), primary_key=True),
    sa.Column("number", sa.Integer(), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("document", sa.JSON(), nullable=False),
    sa.Column("source", sa.String(300), nullable=False),
    sa.Column("activated_at", UtcDateTime, nullable=False),
)

closures = sa.Table(
    "closures",
    metadata,
    sa.Column("period", sa.String(8), primary_key=True),
    sa.Column("revision", sa.Integer(), primary_key=True),
    sa.Column("as_of", UtcDateTime, nullable=False),
    sa.Column("rubric_version", sa.String(16), nullable=False),
    sa.Column("closed_by", sa.String(200), nullable=False),
    sa.Column("note", sa.Text(), nullable=False),
    sa.Column("closed_at", UtcDateTime, nullable=False),
)

# The RankingPublished events as published: what a closed period's ranking is, for good.
published_rankings = sa.Table(
    "published_rankings",
    metadata,
    sa.Column("period", sa.String(8), primary_key=True),
    sa.Column("revision", sa.Integer(), primary_key=True),
    sa.Column("peer_group", sa.String(40), primary_key=True),
    sa.Column("event_id", sa.String(128), nullable=False),
    sa.Column("ranking", sa.JSON(), nullable=False),
)

# The period workflow (公示 → 申诉 → 复核 → 定档): ResultsPublicised and ResultsFinalised as
# issued, one row per stage and revision; restored from the stream on a replay.
result_stages = sa.Table(
    "result_stages",
    metadata,
    sa.Column("period", sa.String(8), primary_key=True),
    sa.Column("stage", sa.String(16), primary_key=True),
    sa.Column("revision", sa.Integer(), primary_key=True),
    sa.Column("event_id", sa.String(128), nullable=False),
    sa.Column("recorded_at", UtcDateTime, nullable=False),
    sa.Column("data", sa.JSON(), nullable=False),
)

# One appeal per unit and period: the AppealFiled and, once answered, the AppealDecided payload.
appeals = sa.Table(
    "appeals",
    metadata,
    sa.Column("period", sa.String(8), primary_key=True),
    sa.Column("unit", sa.String(40), primary_key=True),
    sa.Column("appeal_id", sa.String(128), nullable=False),
    sa.Column("filed_at", UtcDateTime, nullable=False),
    sa.Column("filed", sa.JSON(), nullable=False),
    sa.Column("decided_at", UtcDateTime, nullable=True),
    sa.Column("decision", sa.JSON(), nullable=True),
)
