"""Rebuild scoring's store from the retained event stream into a fresh database:

    python -m services.scoring.handlers.rebuild --database-url sqlite:///data/scoring-rebuilt.db

Replays FIVETYPE_EVENTS from its first message, in stream order, with an ephemeral pull consumer
(nothing is acked, memory stays flat, the server drops the consumer a minute after the replay),
records facts exactly as live processing does, restores the rubric versions (RubricActivated)
and published rankings (RankingPublished), the period workflow (ResultsPublicised, AppealFiled,
AppealDecided, ResultsFinalised), loads the rubric files, then scores every unit.
Messages that break the contract are skipped, as live consumers dead-letter them. ScoreUpdated
is not published for rebuilt cards.
"""

import argparse
import asyncio
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import nats
import structlog
from nats.aio.msg import Msg
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import subjects
from contracts.envelope import ContractError, Envelope, Message, decode, utcnow
from contracts.scoring import (
    AppealDecided,
    AppealFiled,
    RankingPublished,
    ResultsFinalised,
    ResultsPublicised,
    RubricActivated,
)
from services.runtime import logs
from services.runtime.db import Database, migrate
from services.runtime.settings import nats_auth, nats_servers
from services.scoring.adapters import repository, stream
from services.scoring.domain.facts import NORMALISERS, to_facts
from services.scoring.domain.rubric import RubricRefused, rubric_from_document
from services.scoring.handlers import periods, recompute
from services.scoring.handlers.rulebook import DEFAULT_RUBRIC_DIR, RuleBook
from services.scoring.settings import MIGRATIONS

log = structlog.get_logger()
_REPLAYED_MODELS: list[type[Message]] = [
    *NORMALISERS.keys(),
    RankingPublished,
    RubricActivated,
    ResultsPublicised,
    AppealFiled,
    AppealDecided,
    ResultsFinalised,
]
REPLAYED = {subjects.token(model.NAME): model for model in _REPLAYED_MODELS}


Progress = Callable[["Rebuilt"], None] | None


class NotEmpty(Exception):
    """The target database already holds facts: a rebuild needs a fresh store."""


@dataclass
class Rebuilt:
    events: int = 0
    skipped: int = 0
    facts: int = 0
    cards: int = 0
    replay_seconds: float = 0.0
    scoring_seconds: float = 0.0

    @property
    def seconds(self) -> float:
        return self.replay_seconds + self.scoring_seconds


def _decode(message: Msg, max_bytes: int) -> Envelope[Any] | None:
    model = REPLAYED[message.subject.split(".", 3)[2]]
    try:
        return decode(message.data, model, arrived_on=message.subject, max_bytes=max_bytes)
    except ContractError:
        return None


async def _restore_rubric(session: AsyncSession, envelope: Envelope[RubricActivated]) -> None:
    activated = envelope.data
    try:
        rubric = rubric_from_document(activated.document, activated.source)
    except RubricRefused as refused:
        log.error("replayed rubric no longer valid; skipped", errors=refused.errors)
        return
    await repository.add_rubric(
        session,
        rubric.document(),
        year=rubric.programme_year,
        version=rubric.version,
        number=rubric.number,
        sha256=rubric.sha256,
        source=activated.source,
        activated_at=activated.activated_at,
    )


async def _apply(session: AsyncSession, envelopes: list[Envelope[Any]], now: datetime) -> int:
    facts = [f for e in envelopes if type(e.data) in NORMALISERS for f in to_facts(e)]
    await repository.add_facts(session, facts, now)
    for envelope in envelopes:
        if isinstance(envelope.data, RubricActivated):
            await _restore_rubric(session, envelope)
        elif isinstance(envelope.data, RankingPublished):
            await periods.restore_ranking(session, envelope)
        elif isinstance(envelope.data, ResultsPublicised | ResultsFinalised):
            await periods.restore_stage(session, envelope)
        elif isinstance(envelope.data, AppealFiled):
            await periods.restore_appeal(session, envelope)
        elif isinstance(envelope.data, AppealDecided):
            await periods.restore_decision(session, envelope)
    return len(facts)


async def replay_into(
    db: Database,
    nats_url: str,
    result: Rebuilt,
    max_bytes: int = 256 * 1024,
    progress: Progress = None,
    connect_options: dict[str, Any] | None = None,
) -> None:
    connection = await nats.connect(nats_servers(nats_url), **(connect_options or {}))
    try:
        async for batch in stream.replay(connection, REPLAYED):
            envelopes = [e for m in batch if (e := _decode(m, max_bytes)) is not None]
            result.events += len(batch)
            result.skipped += len(batch) - len(envelopes)
            async with db.session() as session, session.begin():
                result.facts += await _apply(session, envelopes, utcnow())
            if progress is not None:
                progress(result)
    finally:
        await connection.close()


async def rebuild(
    database_url: str,
    nats_url: str,
    rubric_dir: Path = DEFAULT_RUBRIC_DIR,
    office: str = "office",
    clock: Callable[[], datetime] = utcnow,
    progress: Progress = None,
    connect_options: dict[str, Any] | None = None,
) -> Rebuilt:
    """`progress` is called after each replayed batch (the command line draws a bar with it);
    `connect_options` go to nats.connect (credentials, timeouts)."""
    await asyncio.to_thread(migrate, database_url, MIGRATIONS)
    db = Database(database_url)
    result = Rebuilt()
    try:
        async with db.session() as session:
            if await repository.fact_count(session):
                raise NotEmpty(f"{database_url} already holds facts; rebuild into a fresh store")
        started = time.perf_counter()
        await replay_into(db, nats_url, result, progress=progress, connect_options=connect_options)
        result.replay_seconds = time.perf_counter() - started
        started = time.perf_counter()
        book = RuleBook(office=office)
        await book.load_files(db, rubric_dir, clock)
        async with db.session() as session, session.begin():
            await repository.mark_dirty(session, await repository.scored_units(session))
        recomputer = recompute.Recomputer(db, book, clock, lambda: None, publish=False, memory=None)
        while True:
            units, changed = await recomputer.run_once()
            if not units:
                break
            result.cards += changed
        result.scoring_seconds = time.perf_counter() - started
    finally:
        await db.dispose()
    return result


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="a fresh database to rebuild into")
    parser.add_argument("--nats-url", default="nats://127.0.0.1:4222")
    parser.add_argument("--nkey-file", type=Path, help="the scoring service's NATS nkey seed")
    parser.add_argument("--rubric-dir", type=Path, default=DEFAULT_RUBRIC_DIR)
    parser.add_argument("--office", default="office", help="the office's unit code")
    args = parser.parse_args(argv)
    logs.configure("WARNING", "console", "scoring-rebuild")
    try:
        result = asyncio.run(
            rebuild(
                args.database_url,
                args.nats_url,
                args.rubric_dir,
                args.office,
                connect_options=dict(nats_auth("scoring", args.nkey_file)),
            )
        )
    except NotEmpty as exc:
        print(f"refused: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc
    rate = result.events / result.seconds if result.seconds else 0.0
    print(
        f"events={result.events} skipped={result.skipped} facts={result.facts} "
        f"cards={result.cards} replay_s={result.replay_seconds:.2f} "
        f"scoring_s={result.scoring_seconds:.2f} events_per_s={rate:.0f} "
        f"peak_rss_mb={_peak_rss_mb():.1f}"
    )


if __name__ == "__main__":
    main()
