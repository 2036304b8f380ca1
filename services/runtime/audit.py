"""The audit trail: every change a person or the system makes, journaled append-only and
hash-chained, in the same transaction as the change itself.

Who acts is set once per request (from the verified token) or per system job, in a context
variable. A transaction that wrote anything while an actor is set gets one entry just before it
commits: seq, time, actor, role, client address, action, target and a digest of the request
body, plus the previous entry's hash. Each entry's hash covers all of that, so editing, deleting
or reordering an entry breaks the chain at that point, which `verify` finds. Triggers refuse
UPDATE and DELETE on the table, so changing the past takes a deliberate act of a database owner.

A database owner could still rewrite entries and recompute every hash, so two things the
database does not hold make that show up too: each entry carries an HMAC of its hash under a key
derived from the service's secret (with the key's id, so keys can rotate), and the service
anchors the head of its journal in a JetStream stream it may append to but nobody may delete
from (audit_checkpoints.py): entries cut off the end, or a database rolled back to an older
copy, then contradict the last checkpoint.
"""

import contextlib
import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping, Sequence
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
    # Empty only on entries written before entries were keyed (migration of version 2).
    sa.Column("key_id", sa.String(16), nullable=True),
    sa.Column("mac", sa.String(64), nullable=True),
)
_AUTHENTICATION = ("hash", "key_id", "mac")  # what the hash does not cover
# Restores of this store from a backup (or a point in time), as `fivetype restore` records them
# in the restored database; the service journals each one and anchors the journal anew, saying
# which checkpoint the restore superseded (audit_checkpoints.py).
restores = sa.Table(
    "restores",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("backup", sa.String(64), nullable=False),  # the backup's id, or what was done
    sa.Column("taken_at", UtcDateTime(), nullable=True),  # the moment the store is back at
    sa.Column("restored_at", UtcDateTime(), nullable=False),
    sa.Column("journaled_at", UtcDateTime(), nullable=True),
)
RESTORE_ACTION = "RESTORE"  # the action of the entry a restore is journaled as


@dataclass(frozen=True)
class Key:
    """The key that authenticates entries, derived from a secret the database never holds."""

    id: str
    material: bytes = field(repr=False)

    @classmethod
    def derive(cls, secret: str, service: str) -> "Key":
        """One key per service from one secret, so a leaked key does not sign for another
        service; its id names it without revealing it."""
        material = hmac.digest(secret.encode(), f"fivetype audit {service}".encode(), "sha256")
        return cls(hmac.new(material, b"key id", "sha256").hexdigest()[:16], material)

    def sign(self, entry_hash: str) -> str:
        return hmac.new(self.material, entry_hash.encode(), "sha256").hexdigest()


_KEY = "fivetype.audit.key"


def session_info(key: Key | None) -> dict[str, Any]:
    """What a session factory passes on so that its transactions' entries are keyed."""
    return {_KEY: key} if key is not None else {}


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
    """sha256 over the canonical JSON of the entry (every column but the hash, and the key id
    and MAC that authenticate the hash)."""
    content = {k: v for k, v in entry.items() if k not in _AUTHENTICATION}
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
    key: Key | None = session.info.get(_KEY)
    if key is not None:
        entry |= {"key_id": key.id, "mac": key.sign(entry["hash"])}
    session.execute(audit_log.insert().values(**entry))
    session.info.pop(_WROTE, None)  # our own insert is not a change to journal


@dataclass(frozen=True)
class Break:
    """The first entry that does not continue the chain, and why, in English and Chinese."""

    seq: int
    reason: str
    reason_zh: str


@dataclass
class Walk:
    """Where a walk along the chain is: the next seq, the last hash, and what it has seen."""

    keys: Mapping[str, Key]
    expected_seq: int = 1
    prev: str = GENESIS
    unkeyed: int = 0  # entries from before keys (a prefix of the chain, never after a keyed one)
    hashes: dict[int, str] = field(default_factory=dict)  # of the seqs asked for in `remember`
    remember: frozenset[int] = frozenset()

    def check(self, rows: Sequence[dict[str, Any]]) -> Break | None:
        """The first entry in `rows` (ordered by seq) that does not continue the chain."""
        for row in rows:
            seq = row["seq"]
            if seq != self.expected_seq:
                return Break(
                    self.expected_seq,
                    f"entry {self.expected_seq} is missing (next is {seq})",
                    f"第 {self.expected_seq} 条缺失（下一条为第 {seq} 条）",
                )
            if row["prev_hash"] != self.prev:
                return Break(
                    seq,
                    "does not follow the entry before it (deleted or reordered)",
                    "与前一条不衔接（有条目被删除或调换了顺序）",
                )
            if entry_hash(row) != row["hash"]:
                return Break(
                    seq,
                    "its content does not match its hash (modified)",
                    "内容与其哈希不符（被修改）",
                )
            if broken := self._authentic(row):
                return Break(seq, *broken)
            if seq in self.remember:
                self.hashes[seq] = row["hash"]
            self.expected_seq, self.prev = seq + 1, row["hash"]
        return None

    def _authentic(self, row: dict[str, Any]) -> tuple[str, str] | None:
        """Why the entry is not authentic, in English and Chinese, if it is not."""
        if row.get("key_id") is None:
            if self.unkeyed != self.expected_seq - 1:
                return (
                    "has no authentication code though entries before it do (rewritten)",
                    "没有认证码，而此前的条目都有（被改写）",
                )
            self.unkeyed += 1
            return None
        key = self.keys.get(row["key_id"])
        if key is None:
            return (
                f"is signed with key {row['key_id']}, which was not given to verify",
                f"由密钥 {row['key_id']} 签名，校验时未提供该密钥",
            )
        if not hmac.compare_digest(key.sign(row["hash"]), row.get("mac") or ""):
            return (
                "its authentication code does not match (rewritten without the key)",
                "认证码不符（在没有密钥的情况下被改写）",
            )
        return None


@dataclass(frozen=True)
class Verdict:
    entries: int
    head: str  # the last hash
    broken: Break | None
    unkeyed: int = 0
    hashes: Mapping[int, str] = field(default_factory=dict)


async def verify(
    session: AsyncSession,
    keys: Mapping[str, Key] | None = None,
    remember: frozenset[int] = frozenset(),
    batch: int = 1000,
) -> Verdict:
    """Walk the whole chain, oldest first, in batches, checking every hash and, with `keys` by
    id, every authentication code; the hashes of the seqs in `remember` are kept (to compare
    with checkpoints)."""
    walk = Walk(dict(keys or {}), remember=remember)
    while True:
        result = await session.execute(
            sa.select(audit_log)
            .where(audit_log.c.seq >= walk.expected_seq)
            .order_by(audit_log.c.seq)
            .limit(batch)
        )
        rows = [dict(r._mapping) for r in result]
        broken = walk.check(rows) if rows else None
        if broken or not rows:
            entries = walk.expected_seq - 1
            return Verdict(entries, walk.prev, broken, walk.unkeyed, walk.hashes)


async def head(session: AsyncSession) -> tuple[int, str] | None:
    """The newest entry's seq and hash."""
    row = (
        await session.execute(
            sa.select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)
        )
    ).first()
    return (row.seq, row.hash) if row else None


async def hash_at(session: AsyncSession, seq: int) -> str | None:
    return (
        await session.execute(sa.select(audit_log.c.hash).where(audit_log.c.seq == seq))
    ).scalar()


@dataclass(frozen=True)
class RestoreEntry:
    seq: int
    at: datetime
    target: str
    details: dict[str, Any]


async def restore_entries(session: AsyncSession) -> list[RestoreEntry]:
    """The journal's entries that record a restore of the store, oldest first."""
    rows = await session.execute(
        sa.select(audit_log.c.seq, audit_log.c.at, audit_log.c.target, audit_log.c.details)
        .where(audit_log.c.action == RESTORE_ACTION, audit_log.c.source == "restore")
        .order_by(audit_log.c.seq)
    )
    return [RestoreEntry(row.seq, row.at, row.target, row.details) for row in rows]
