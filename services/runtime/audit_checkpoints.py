"""Checkpoints: the head of a service's audit journal (seq and hash), anchored outside its
database, in the JetStream stream FIVETYPE_AUDIT.

The stream denies deletes and purges, only the operator may change its configuration, and each
service may publish only on its own subject (contracts/permissions.py). A database owner who
cuts entries off the end of the journal, deletes it all or restores an older copy of the
database is then contradicted by the last checkpoint, which `fivetype audit verify` compares.

The service publishes a checkpoint only if the journal still continues the previous one (the
entry at its seq has its hash): after a rollback it stops anchoring and logs an error, so the
last checkpoint keeps pointing at the truth rather than at the rolled-back journal.

A restore is the one rollback that is meant: `fivetype restore` records it in the restored
database (`audit.restores`), and the service, once started, journals it (an entry with action
RESTORE that names the backup and the checkpoint the restored journal no longer continues) and
anchors the journal anew with a checkpoint that says which one it supersedes. The journal then
continues from the backup's head and says so, in the journal and in the undeletable stream.
"""

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
import structlog
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import streams, subjects
from services.runtime import audit
from services.runtime.db import Database

log = structlog.get_logger()
# The bus's JetStream context while connected (Bus.jetstream), else None.
JetStreamGetter = Callable[[], JetStreamContext | None]


@dataclass(frozen=True)
class Checkpoint:
    service: str
    seq: int
    hash: str
    at: str  # when it was anchored, ISO 8601 UTC
    # After a restore: the checkpoint (service, seq, hash, at) the restored journal replaced.
    supersedes: dict[str, Any] | None = None

    def encode(self) -> bytes:
        document = asdict(self)
        if self.supersedes is None:
            del document["supersedes"]
        return json.dumps(document, sort_keys=True).encode()

    @classmethod
    def decode(cls, data: bytes) -> "Checkpoint":
        document = json.loads(data)
        return cls(
            document["service"],
            int(document["seq"]),
            document["hash"],
            document["at"],
            document.get("supersedes"),
        )

    def identity(self) -> dict[str, Any]:
        """What a restore entry and a superseding checkpoint name this checkpoint by."""
        return {"seq": self.seq, "hash": self.hash, "at": self.at}


async def last(js: JetStreamContext, service: str) -> Checkpoint | None:
    """The newest checkpoint the service published, if any."""
    try:
        message = await js.get_last_msg(streams.AUDIT.name, subjects.audit_checkpoint(service))
    except NotFoundError:
        return None
    return Checkpoint.decode(message.data or b"{}")


class Rollback(Exception):
    """The journal no longer continues its last checkpoint."""


class Contradiction(NamedTuple):
    en: str
    zh: str


def contradiction(
    checkpoint: Checkpoint, hash_at_seq: str | None, head_seq: int
) -> Contradiction | None:
    """How the journal contradicts `checkpoint`, if it does: the same words for the service's
    log and for `fivetype audit verify`, which also says them in Chinese."""
    if head_seq < checkpoint.seq:
        return Contradiction(
            f"the journal ends at entry {head_seq}, but checkpoint {checkpoint.seq} of "
            f"{checkpoint.at} recorded entry {checkpoint.seq} (entries cut off or rolled back)",
            f"日志止于第 {head_seq} 条，而 {checkpoint.at} 的检查点 {checkpoint.seq} 记录了第 "
            f"{checkpoint.seq} 条（条目被截去或回滚）",
        )
    if hash_at_seq != checkpoint.hash:
        return Contradiction(
            f"entry {checkpoint.seq} is not the one checkpoint {checkpoint.seq} of "
            f"{checkpoint.at} recorded (rewritten or rolled back)",
            f"第 {checkpoint.seq} 条已不是 {checkpoint.at} 的检查点 {checkpoint.seq} "
            "所记录的那一条（被改写或回滚）",
        )
    return None


class Anchor:
    """Publishes the journal's head whenever it moved, if it continues the last checkpoint."""

    def __init__(self, service: str, db: Database, jetstream: JetStreamGetter) -> None:
        self.service = service
        self.db = db
        self.jetstream = jetstream
        self._last: Checkpoint | None = None
        self._known = False  # whether _last is the stream's (read once per process)
        self._restores_journaled = False  # once per process, before anchoring

    async def run_once(self) -> Checkpoint | None:
        """Anchor the head if it moved; None when there was nothing to do (or no NATS yet)."""
        js = self.jetstream()
        if js is None:
            return None
        if not self._known:
            self._last, self._known = await last(js, self.service), True
        if not self._restores_journaled:  # a restore happens while the service is stopped
            await self._journal_restores()
            self._restores_journaled = True
        supersedes = None
        async with self.db.session() as session:
            head = await audit.head(session)
            if head is None and self._last is None:
                return None
            try:
                await self._check_continues(session, head)
            except Rollback:
                if not await self._restored_from(session, self._last):
                    raise
                assert self._last is not None
                supersedes = self._last.identity()
        assert head is not None  # a checkpoint and no entry is a contradiction, raised above
        seq, hash_ = head
        if self._last is not None and (self._last.seq, self._last.hash) == (seq, hash_):
            return None
        now = datetime.now(UTC).isoformat()
        checkpoint = Checkpoint(self.service, seq, hash_, now, supersedes)
        await js.publish(
            subjects.audit_checkpoint(self.service),
            checkpoint.encode(),
            stream=streams.AUDIT.name,
            headers={"Nats-Msg-Id": f"audit:{self.service}:{seq}:{hash_}"},
        )
        self._last = checkpoint
        return checkpoint

    async def _journal_restores(self) -> None:
        """Journal the restores recorded in the database and not journaled yet, naming the
        checkpoint the restored journal replaces (the last one anchored)."""
        async with self.db.session() as session:
            pending = (
                await session.execute(
                    sa.select(audit.restores)
                    .where(audit.restores.c.journaled_at.is_(None))
                    .order_by(audit.restores.c.id)
                )
            ).all()
        if not pending:
            return
        backups = [
            {
                "backup": row.backup,
                "taken_at": row.taken_at.isoformat() if row.taken_at else None,
                "restored_at": row.restored_at.isoformat(),
            }
            for row in pending
        ]
        superseded = self._last.identity() if self._last is not None else None
        act = audit.Act(
            actor="fivetype restore",
            role="operator",
            source="restore",
            action=audit.RESTORE_ACTION,
            target=", ".join(b["backup"] for b in backups)[:1000],
            details={"restores": backups, "supersedes": superseded},
        )
        with audit.acting(act):
            async with self.db.session() as session, session.begin():
                await session.execute(
                    audit.restores.update()
                    .where(audit.restores.c.id.in_([row.id for row in pending]))
                    .values(journaled_at=datetime.now(UTC))
                )
        log.warning(
            "store restored: journaled, and the journal is anchored anew",
            backups=[b["backup"] for b in backups],
            supersedes=superseded,
        )

    async def _restored_from(self, session: AsyncSession, checkpoint: Checkpoint | None) -> bool:
        """Whether the journal records a restore that replaced `checkpoint`."""
        if checkpoint is None:
            return False
        return any(
            entry.details.get("supersedes") == checkpoint.identity()
            for entry in await audit.restore_entries(session)
        )

    async def _check_continues(self, session: AsyncSession, head: tuple[int, str] | None) -> None:
        if self._last is None:
            return
        head_seq = head[0] if head else 0
        at_seq = (
            await audit.hash_at(session, self._last.seq) if head_seq >= self._last.seq else None
        )
        problem = contradiction(self._last, at_seq, head_seq)
        if problem is not None:
            log.error("audit journal contradicts its checkpoint; not anchoring", problem=problem.en)
            raise Rollback(problem.en)
