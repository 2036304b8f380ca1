"""Checkpoints: the head of a service's audit journal (seq and hash), anchored outside its
database, in the JetStream stream FIVETYPE_AUDIT.

The stream denies deletes and purges, only the operator may change its configuration, and each
service may publish only on its own subject (contracts/permissions.py). A database owner who
cuts entries off the end of the journal, deletes it all or restores an older copy of the
database is then contradicted by the last checkpoint, which `fivetype audit verify` compares.

The service publishes a checkpoint only if the journal still continues the previous one (the
entry at its seq has its hash): after a rollback it stops anchoring and logs an error, so the
last checkpoint keeps pointing at the truth rather than at the rolled-back journal.
"""

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

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

    def encode(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def decode(cls, data: bytes) -> "Checkpoint":
        document = json.loads(data)
        return cls(document["service"], int(document["seq"]), document["hash"], document["at"])


async def last(js: JetStreamContext, service: str) -> Checkpoint | None:
    """The newest checkpoint the service published, if any."""
    try:
        message = await js.get_last_msg(streams.AUDIT.name, subjects.audit_checkpoint(service))
    except NotFoundError:
        return None
    return Checkpoint.decode(message.data or b"{}")


class Rollback(Exception):
    """The journal no longer continues its last checkpoint."""


def contradiction(checkpoint: Checkpoint, hash_at_seq: str | None, head_seq: int) -> str | None:
    """How the journal contradicts `checkpoint`, if it does: the same words for the service's
    log and for `fivetype audit verify`."""
    if head_seq < checkpoint.seq:
        return (
            f"the journal ends at entry {head_seq}, but checkpoint {checkpoint.seq} of "
            f"{checkpoint.at} recorded entry {checkpoint.seq} (entries cut off or rolled back)"
        )
    if hash_at_seq != checkpoint.hash:
        return (
            f"entry {checkpoint.seq} is not the one checkpoint {checkpoint.seq} of "
            f"{checkpoint.at} recorded (rewritten or rolled back)"
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

    async def run_once(self) -> Checkpoint | None:
        """Anchor the head if it moved; None when there was nothing to do (or no NATS yet)."""
        js = self.jetstream()
        if js is None:
            return None
        if not self._known:
            self._last, self._known = await last(js, self.service), True
        async with self.db.session() as session:
            head = await audit.head(session)
            if head is None and self._last is None:
                return None
            await self._check_continues(session, head)
        assert head is not None  # a checkpoint and no entry is a contradiction, raised above
        seq, hash_ = head
        if self._last is not None and (self._last.seq, self._last.hash) == (seq, hash_):
            return None
        checkpoint = Checkpoint(self.service, seq, hash_, datetime.now(UTC).isoformat())
        await js.publish(
            subjects.audit_checkpoint(self.service),
            checkpoint.encode(),
            stream=streams.AUDIT.name,
            headers={"Nats-Msg-Id": f"audit:{self.service}:{seq}:{hash_}"},
        )
        self._last = checkpoint
        return checkpoint

    async def _check_continues(self, session: AsyncSession, head: tuple[int, str] | None) -> None:
        if self._last is None:
            return
        head_seq = head[0] if head else 0
        at_seq = (
            await audit.hash_at(session, self._last.seq) if head_seq >= self._last.seq else None
        )
        problem = contradiction(self._last, at_seq, head_seq)
        if problem is not None:
            log.error("audit journal contradicts its checkpoint; not anchoring", problem=problem)
            raise Rollback(problem)
