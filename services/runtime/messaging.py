"""Transactional outbox and inbox.

Outbox: a service writes the events it emits into `outbox` in the same transaction as its state
change; the relay publishes them with `Nats-Msg-Id` = event id (JetStream drops duplicates inside
its window) and marks a row sent only after the PubAck. Rows that fail stay unsent and are retried.

Inbox: a consumer records each message id it processed in the same transaction as its writes, so a
redelivered message changes nothing. In that transaction it also advances its position: the
highest stream sequence it has processed, which tells a store restored from a backup (or rolled
back) that it is behind what its durable consumer acknowledged (catchup.py).
"""

import asyncio
import contextlib
import functools
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
import structlog
from nats.js import JetStreamContext
from opentelemetry.trace import SpanKind
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from contracts import subjects
from contracts.envelope import Envelope
from services.runtime import metrics, tracing
from services.runtime.db import Database, UtcDateTime, dialect_insert

log = structlog.get_logger()

metadata = sa.MetaData()  # the runtime tables every service database has
outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column(
        "seq",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("message_id", sa.String(128), nullable=False, unique=True),
    sa.Column("subject", sa.String(256), nullable=False),
    sa.Column("message_type", sa.String(64), nullable=False),
    sa.Column("payload", sa.LargeBinary(), nullable=False),
    sa.Column("headers", sa.JSON(), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("sent_at", UtcDateTime, nullable=True),
    sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text(), nullable=True),
    sa.Index("ix_outbox_unsent", "sent_at", "seq"),
)
processed = sa.Table(
    "processed_messages",
    metadata,
    sa.Column("consumer", sa.String(64), primary_key=True),
    sa.Column("message_id", sa.String(128), primary_key=True),
    sa.Column("processed_at", UtcDateTime, nullable=False),
)


# Per consumer: how far along its stream this store has got. `processed_seq` moves in the same
# transaction as the work; `floor_seq` is the durable consumer's ack floor as last sampled, a
# sequence below which this store holds everything (what a catch-up replays from);
# `behind_since` is set when the store is found (or restored) behind its durable consumer and
# cleared once the consumer has caught up.
positions = sa.Table(
    "consumer_positions",
    metadata,
    sa.Column("consumer", sa.String(64), primary_key=True),
    sa.Column("processed_seq", sa.BigInteger(), nullable=False),
    sa.Column("floor_seq", sa.BigInteger(), nullable=False, server_default="0"),
    sa.Column("behind_since", UtcDateTime, nullable=True),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)


def _now() -> datetime:
    return datetime.now(UTC)


async def add_to_outbox(session: AsyncSession, envelope: Envelope[Any], subject: str) -> None:
    """Stage an event in the caller's transaction. Staged events are written together, in order,
    just before the transaction commits (one insert per transaction rather than per event); an id
    already in the outbox (a re-derived fact) is ignored."""
    staged: dict[str, dict[str, Any]] = session.sync_session.info.setdefault(_STAGED, {})
    staged.setdefault(
        envelope.id,
        {
            "message_id": envelope.id,
            "subject": subject,
            "message_type": envelope.type,
            "payload": envelope.to_json(),
            "headers": tracing.headers_for_current_span(),
            "created_at": _now(),
        },
    )


_STAGED = "fivetype.outbox"
_WROTE = "fivetype.outbox.written"


@sa.event.listens_for(Session, "before_commit")
def _write_staged(session: Session) -> None:
    staged: dict[str, dict[str, Any]] | None = session.info.pop(_STAGED, None)
    if staged:
        dialect = session.get_bind().dialect.name
        session.execute(_outbox_statement(dialect), list(staged.values()))
        session.info[_WROTE] = True


def wrote_outbox(session: AsyncSession) -> bool:
    """Whether a transaction of `session` wrote outbox rows: only then is the relay woken (a
    wake-up costs it a pass over the outbox, a purge and a count, each a transaction)."""
    return bool(session.sync_session.info.get(_WROTE))


@sa.event.listens_for(Session, "after_rollback")
def _drop_staged(session: Session) -> None:
    session.info.pop(_STAGED, None)


async def claim(session: AsyncSession, consumer: str, message_ids: Iterable[str]) -> set[str]:
    """Record `message_ids` as processed by `consumer`; returns the ones not seen before.

    One INSERT … ON CONFLICT DO NOTHING RETURNING: the primary key decides, so there is no
    separate lookup (on a young PostgreSQL table without statistics that lookup's plan scanned
    every id of the consumer). A replica racing on the same id waits for the other transaction
    and, once it commits, gets nothing back for that id: the message counts as a duplicate.
    """
    ids = set(message_ids)
    if not ids:
        return ids
    now = _now()
    rows = [{"consumer": consumer, "message_id": i, "processed_at": now} for i in ids]
    return set(await session.scalars(_claim_statement(_dialect(session)), rows))


async def advance(session: AsyncSession, consumer: str, sequence: int) -> None:
    """Record in the caller's transaction that `consumer` has processed stream sequence
    `sequence` (its position only ever moves forward)."""
    await session.execute(
        _advance_statement(_dialect(session)),
        {"consumer": consumer, "processed_seq": sequence, "updated_at": _now()},
    )


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


# Built once per dialect: every consumed batch claims and advances, most also stage events.
@functools.cache
def _outbox_statement(dialect: str) -> Any:
    # The unique message id turns a re-derived fact into a no-op within the one insert.
    return dialect_insert(dialect, outbox).on_conflict_do_nothing(
        index_elements=[outbox.c.message_id]
    )


@functools.cache
def _claim_statement(dialect: str) -> Any:
    return (
        dialect_insert(dialect, processed)
        .on_conflict_do_nothing(index_elements=[processed.c.consumer, processed.c.message_id])
        .returning(processed.c.message_id)
    )


@functools.cache
def _advance_statement(dialect: str) -> Any:
    insert = dialect_insert(dialect, positions)
    current, new = positions.c.processed_seq, insert.excluded.processed_seq
    return insert.on_conflict_do_update(
        index_elements=[positions.c.consumer],
        set_={
            "processed_seq": sa.case((new > current, new), else_=current),
            "updated_at": insert.excluded.updated_at,
        },
    )


async def _acks(futures: list[asyncio.Future[Any]], wait_seconds: float) -> list[object]:
    """PubAcks or errors, in order; an ack lost with the connection counts as a timeout."""
    if futures:
        _done, pending = await asyncio.wait(futures, timeout=wait_seconds)
        for future in pending:
            future.cancel()
    return [
        TimeoutError("no PubAck") if f.cancelled() else (f.exception() or f.result())
        for f in futures
    ]


_MARK_SENT = (
    outbox.update()
    .where(outbox.c.seq.in_(sa.bindparam("sent", expanding=True)))
    .values(sent_at=sa.bindparam("now"))
)

# Sent rows are kept for hours (the retention); deleting the expired ones once a minute is
# enough, where every idle pass did it (a transaction each, also after every wake-up that found
# nothing, which under a steady trickle of events was most of them).
_PURGE_EVERY_SECONDS = 60.0


class OutboxRelay:
    """Publishes unsent outbox rows in order, in batches with async PubAcks."""

    def __init__(
        self,
        db: Database,
        jetstream: Callable[[], JetStreamContext | None],
        *,
        service: str,
        batch_size: int,
        poll_seconds: float,
        retention: timedelta,
    ):
        self._db = db
        self._jetstream = jetstream
        self._service = service
        self._batch_size = batch_size
        self._poll_seconds = poll_seconds
        self.backlog = 0  # unpublished messages, as last counted
        self._retention = retention
        self._ack_timeout = 10.0
        metrics.OUTBOX_PUBLISHED.labels(service)  # a zero series from start
        self._wake = asyncio.Event()
        self._stopping = False
        self._purged_at = -_PURGE_EVERY_SECONDS  # monotonic time of the last purge
        # Built once: building a statement costs about as much as running it (docs/performance.md).
        self._unsent = (
            sa.select(
                outbox.c.seq,
                outbox.c.message_id,
                outbox.c.subject,
                outbox.c.payload,
                outbox.c.headers,
            )
            .where(outbox.c.sent_at.is_(None))
            .order_by(outbox.c.seq)
            .limit(batch_size)
            .with_for_update(skip_locked=True)
        )

    def notify(self) -> None:
        """Called after a commit that staged events, so they go out without waiting for a poll."""
        self._wake.set()

    async def run(self) -> None:
        failures = 0
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_seconds)
            self._wake.clear()
            if self._stopping:
                return  # drain() makes the last passes
            emptied = False
            try:
                published, full = await self.publish_pending()
                failures = 0
                # Everything unsent was taken and went out: no backlog to count (a query each
                # pass); what was committed meanwhile woke the relay for the next pass.
                emptied = published > 0 and not full
                if full:
                    self._wake.set()
                elif published == 0 and time.monotonic() - self._purged_at >= _PURGE_EVERY_SECONDS:
                    await self._purge_sent()
                    self._purged_at = time.monotonic()
            except Exception as exc:
                failures += 1
                log.warning("outbox relay pass failed", error=str(exc), failures=failures)
            # Also when NATS is away: that is when the backlog's age must show, for its alert.
            with contextlib.suppress(Exception):  # the database may be away too
                await self._observe_backlog(emptied)
            if failures:
                await asyncio.sleep(min(30.0, self._poll_seconds * 2 ** min(failures, 5)))

    async def drain(self, within_seconds: float) -> None:
        """Publish what is pending before shutdown, within `within_seconds`."""
        self._stopping = True
        self._wake.set()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(within_seconds):
                while (await self.publish_pending())[1]:
                    pass

    async def publish_pending(self) -> tuple[int, bool]:
        """One pass: returns (rows published, whether the batch was full)."""
        js = self._jetstream()
        if js is None:
            return 0, False
        async with self._db.session() as session, session.begin():
            rows = (await session.execute(self._unsent)).all()
            if not rows:
                return 0, False
            futures = [await self._publish(js, row) for row in rows]
            results = await _acks(futures, self._ack_timeout)
            sent = [
                row.seq
                for row, r in zip(rows, results, strict=True)
                if not isinstance(r, BaseException)
            ]
            failed = [
                (row.seq, r)
                for row, r in zip(rows, results, strict=True)
                if isinstance(r, BaseException)
            ]
            if sent:
                await session.execute(_MARK_SENT, {"sent": sent, "now": _now()})
            for seq, error in failed:
                await session.execute(
                    outbox.update()
                    .where(outbox.c.seq == seq)
                    .values(attempts=outbox.c.attempts + 1, last_error=repr(error)[:500])
                )
        metrics.OUTBOX_PUBLISHED.labels(self._service).inc(len(sent))
        if failed:
            raise RuntimeError(
                f"{len(failed)} of {len(rows)} outbox messages were not acknowledged"
            )
        return len(sent), len(rows) == self._batch_size

    async def _publish(self, js: JetStreamContext, row: Any) -> asyncio.Future[Any]:
        """Send one row in a producer span that continues the trace it was staged in (when spans
        are recorded; else the staging span's context goes on as it is)."""
        if not tracing.exporting():
            headers = {**(row.headers or {}), "Nats-Msg-Id": row.message_id}
            return await js.publish_async(row.subject, row.payload, headers=headers)
        with tracing.tracer.start_as_current_span(
            f"send {subjects.template(row.subject)}",
            context=tracing.context_from(row.headers),
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.system": "nats",
                "messaging.operation.type": "send",
                "messaging.destination.name": row.subject,
                "messaging.message.id": row.message_id,
            },
        ):
            headers = {**tracing.headers_for_current_span(), "Nats-Msg-Id": row.message_id}
            return await js.publish_async(row.subject, row.payload, headers=headers)

    async def _purge_sent(self) -> None:
        async with self._db.session() as session, session.begin():
            await session.execute(
                outbox.delete().where(outbox.c.sent_at < _now() - self._retention)
            )

    async def _observe_backlog(self, emptied: bool) -> None:
        count, oldest = 0, None
        if not emptied:
            async with self._db.session() as session:
                count, oldest = (
                    await session.execute(
                        sa.select(sa.func.count(), sa.func.min(outbox.c.created_at)).where(
                            outbox.c.sent_at.is_(None)
                        )
                    )
                ).one()
        self.backlog = count
        metrics.OUTBOX_BACKLOG.labels(self._service).set(count)
        age = (_now() - oldest).total_seconds() if oldest is not None else 0.0
        metrics.OUTBOX_OLDEST_AGE.labels(self._service).set(age)
