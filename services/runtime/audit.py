"""The audit trail: every change a person or the system makes, journaled append-only and
hash-chained, in the same transaction as the change itself.

Who acts is set once per request (from the verified token) or per system job, in a context
variable. A transaction that wrote anything while an actor is set gets one entry just before it
commits: seq, time, actor, role, client address, action, target and a digest of the request
body, plus the previous entry's hash. Each entry's hash covers all of that, so editing, deleting
or reordering an entry breaks the chain at that point, which `verify` finds. Triggers refuse
UPDATE and DELETE on the table, so changing the past takes a deliberate act of a database owner,
and even that shows up.
"""

import contextlib
import hashlib
import json
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session

from services.runtime.db import UtcDateTime

GENESIS = "0" * 64
_WROTE = "fivetype.audit.wrote"
# One transaction appends at a time on PostgreSQL, so two never claim the same seq. (SQLite
# has one writer anyway, and a transaction that wrote already holds it.)
_PG_LOCK_KEY = 0x5F1E7A0D17

metadata = sa.MetaData()
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column(
        "seq",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        primary_key=True,
        autoincrement=False,
    ),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("action", sa.String(200), nullable=False),
    sa.Column("target", sa.String(1000), nullable=False),
    sa.Column("details", sa.JSON(), nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)


@dataclass(frozen=True)
class Act:
    """Who does what, from where: the part of an entry known before the change."""

    actor: str
    role: str
    source: str
    action: str
    target: str = ""
    details: dict[str, Any] = field(default_factory=dict)


CURRENT: ContextVar[Act | None] = ContextVar("fivetype_audit_act", default=None)


@contextlib.contextmanager
def acting(act: Act) -> Iterator[None]:
    """Attribute the changes committed inside this block to `act` (e.g. a system job)."""
    token = CURRENT.set(act)
    try:
        yield
    finally:
        CURRENT.reset(token)


def bookkeeping(session: AsyncSession) -> None:
    """What this transaction wrote so far (e.g. a job's lock) is no change to audit; later
    writes in it still are."""
    session.sync_session.info.pop(_WROTE, None)


def entry_hash(entry: dict[str, Any]) -> str:
    """sha256 over the canonical JSON of the entry (every column but the hash itself)."""
    content = {k: v for k, v in entry.items() if k != "hash"}
    content["at"] = _instant(content["at"])
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


@sa.event.listens_for(Session, "after_flush")
def _flushed(session: Session, _context: Any) -> None:
    session.info[_WROTE] = True


@sa.event.listens_for(Session, "do_orm_execute")
def _executed(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WROTE] = True


@sa.event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(_WROTE, None)


@sa.event.listens_for(Session, "before_commit")
def _append(session: Session) -> None:
    act = CURRENT.get()
    # Objects still pending are flushed after this hook, so they count as written already.
    wrote = session.info.pop(_WROTE, False) or session.new or session.dirty or session.deleted
    if not wrote or act is None:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
    head = session.execute(
        sa.select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)
    ).first()
    entry: dict[str, Any] = asdict(act) | {
        "seq": head.seq + 1 if head else 1,
        "at": datetime.now(UTC),
        "prev_hash": head.hash if head else GENESIS,
    }
    entry["hash"] = entry_hash(entry)
    session.execute(audit_log.insert().values(**entry))
    session.info.pop(_WROTE, None)  # our own insert is not a change to journal


@dataclass(frozen=True)
class Break:
    seq: int
    reason: str


def check(rows: Sequence[dict[str, Any]], expected_seq: int, prev: str) -> Break | None:
    """The first entry in `rows` (ordered by seq) that does not continue the chain."""
    for row in rows:
        if row["seq"] != expected_seq:
            return Break(expected_seq, f"entry {expected_seq} is missing (next is {row['seq']})")
        if row["prev_hash"] != prev:
            return Break(row["seq"], "does not follow the entry before it (deleted or reordered)")
        if entry_hash(row) != row["hash"]:
            return Break(row["seq"], "its content does not match its hash (modified)")
        expected_seq, prev = expected_seq + 1, row["hash"]
    return None


@dataclass(frozen=True)
class Verdict:
    entries: int
    head: str  # the last hash: kept elsewhere, it also reveals entries cut off the end
    broken: Break | None


async def verify(session: AsyncSession, batch: int = 1000) -> Verdict:
    """Walk the whole chain, oldest first, in batches."""
    expected, prev, count = 1, GENESIS, 0
    while True:
        result = await session.execute(
            sa.select(audit_log)
            .where(audit_log.c.seq >= expected)
            .order_by(audit_log.c.seq)
            .limit(batch)
        )
        rows = [dict(r._mapping) for r in result]
        if not rows:
            return Verdict(count, prev, None)
        broken = check(rows, expected, prev)
        if broken:
            return Verdict(count, prev, broken)
        count += len(rows)
        expected, prev = rows[-1]["seq"] + 1, rows[-1]["hash"]
