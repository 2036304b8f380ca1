"""Facts of every kind, scorecards and their history, rubric versions, closures and rankings.

The progress facts recorded so far move into `facts`; their units are marked for scoring.
(Fields that ProgressReported did not carry then stay empty; replaying the stream with
`python -m services.scoring.handlers.rebuild` fills them in.)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

import json
from datetime import UTC, datetime, timedelta, timezone

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

CHINA = timezone(timedelta(hours=8))
MOMENT = sa.DateTime(timezone=True)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _create_tables() -> None:
    op.create_table(
        "facts",
        sa.Column("event_id", sa.String(128), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("unit", sa.String(40), nullable=False),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("known_at", MOMENT, nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("recorded_at", MOMENT, nullable=False),
    )
    op.create_index("ix_facts_unit", "facts", ["unit"])
    op.create_index("ix_facts_kind", "facts", ["kind"])
    op.create_table(
        "dirty_units",
        sa.Column("unit", sa.String(40), primary_key=True),
        sa.Column("marks", sa.Integer(), nullable=False),
    )
    op.create_table(
        "scorecards",
        sa.Column("unit", sa.String(40), primary_key=True),
        sa.Column("period", sa.String(8), primary_key=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("period_kind", sa.String(8), nullable=False),
        sa.Column("rubric_version", sa.String(16), nullable=False),
        sa.Column("total", sa.Numeric(8, 2), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("card", sa.JSON(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("updated_at", MOMENT, nullable=False),
    )
    op.create_index("ix_scorecards_period", "scorecards", ["period"])
    op.create_table(
        "card_history",
        sa.Column("unit", sa.String(40), primary_key=True),
        sa.Column("period", sa.String(8), primary_key=True),
        sa.Column("revision", sa.Integer(), primary_key=True),
        sa.Column("total", sa.Numeric(8, 2), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("rubric_version", sa.String(16), nullable=False),
        sa.Column("recorded_at", MOMENT, nullable=False),
    )
    op.create_table(
        "rubric_versions",
        sa.Column("year", sa.Integer(), primary_key=True),
        sa.Column("version", sa.String(16), primary_key=True),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(300), nullable=False),
        sa.Column("activated_at", MOMENT, nullable=False),
    )
    op.create_table(
        "closures",
        sa.Column("period", sa.String(8), primary_key=True),
        sa.Column("revision", sa.Integer(), primary_key=True),
        sa.Column("as_of", MOMENT, nullable=False),
        sa.Column("rubric_version", sa.String(16), nullable=False),
        sa.Column("closed_by", sa.String(200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("closed_at", MOMENT, nullable=False),
    )
    op.create_table(
        "published_rankings",
        sa.Column("period", sa.String(8), primary_key=True),
        sa.Column("revision", sa.Integer(), primary_key=True),
        sa.Column("peer_group", sa.String(40), primary_key=True),
        sa.Column("event_id", sa.String(128), nullable=False),
        sa.Column("ranking", sa.JSON(), nullable=False),
    )


_old = sa.table(
    "progress_facts",
    sa.column("event_id", sa.String),
    sa.column("unit", sa.String),
    sa.column("measure_code", sa.String),
    sa.column("report_id", sa.String),
    sa.column("percent_complete", sa.Float),
    sa.column("reported_at", MOMENT),
    sa.column("recorded_at", MOMENT),
)
_facts = sa.table(
    "facts",
    sa.column("event_id", sa.String),
    sa.column("kind", sa.String),
    sa.column("unit", sa.String),
    sa.column("day", sa.Date),
    sa.column("known_at", MOMENT),
    sa.column("data", sa.JSON),
    sa.column("recorded_at", MOMENT),
)


def _fact(row: sa.Row[tuple[object, ...]]) -> dict[str, object]:
    reported_at = _utc(row.reported_at)
    reported_on = reported_at.astimezone(CHINA).date()
    return {
        "event_id": row.event_id,
        "kind": "progress",
        "unit": row.unit,
        "day": reported_on,
        "known_at": _utc(row.recorded_at),
        "data": {
            "report_id": row.report_id,
            "measure_code": row.measure_code,
            "measure_type": None,
            "assignment_id": None,
            "milestone_id": None,
            "milestone_due_date": None,
            "reported_at": reported_at.isoformat(),
            "reported_on": reported_on.isoformat(),
            "percent_complete": row.percent_complete,
            "on_time": None,
            "milestone_completed": None,
            "empty": False,
        },
        "recorded_at": _utc(row.recorded_at),
    }


def upgrade() -> None:
    _create_tables()
    bind = op.get_bind()
    rows = [_fact(row) for row in bind.execute(sa.select(_old))]
    if rows:
        bind.execute(_facts.insert(), rows)
        units = sorted({str(r["unit"]) for r in rows})
        bind.execute(
            sa.table("dirty_units", sa.column("unit"), sa.column("marks")).insert(),
            [{"unit": unit, "marks": 1} for unit in units],
        )
    op.drop_table("progress_facts")


def downgrade() -> None:
    op.create_table(
        "progress_facts",
        sa.Column("event_id", sa.String(128), primary_key=True),
        sa.Column("unit", sa.String(40), nullable=False, index=True),
        sa.Column("measure_code", sa.String(32), nullable=False),
        sa.Column("report_id", sa.String(64), nullable=False),
        sa.Column("percent_complete", sa.Float(), nullable=False),
        sa.Column("reported_at", MOMENT, nullable=False),
        sa.Column("recorded_at", MOMENT, nullable=False),
    )
    bind = op.get_bind()
    progress = bind.execute(sa.select(_facts).where(_facts.c.kind == "progress"))
    rows = []
    for row in progress:
        data = row.data if isinstance(row.data, dict) else json.loads(row.data)
        rows.append(
            {
                "event_id": row.event_id,
                "unit": row.unit,
                "measure_code": data["measure_code"],
                "report_id": data["report_id"],
                "percent_complete": data["percent_complete"],
                "reported_at": datetime.fromisoformat(data["reported_at"]),
                "recorded_at": _utc(row.recorded_at),
            }
        )
    if rows:
        bind.execute(_old.insert(), rows)
    for table in (
        "published_rankings",
        "closures",
        "rubric_versions",
        "card_history",
        "scorecards",
        "dirty_units",
        "facts",
    ):
        op.drop_table(table)
