"""The audit trail: a change made over HTTP is journaled with who, from where and what, keyed
and anchored in NATS; `fivetype audit verify` finds an entry that was modified, deleted, moved or
rewritten with recomputed hashes, and a journal cut short, emptied or rolled back."""

import asyncio
import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import nats
import nats.js.errors
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from contracts import streams
from fivetype.backup import mark_restored
from fivetype.cli import app as cli
from fivetype.natsauth import operator_seed
from fivetype.natsserver import NatsServer
from services.measures.bootstrap import MIGRATIONS
from services.runtime import audit, messaging
from services.runtime.audit_checkpoints import Anchor, Checkpoint, Rollback
from services.runtime.bus import provision_streams
from services.runtime.db import Database, migrate, sync_url
from tests import auth
from tests.conftest import Databases, eventually, start_nats
from tests.e2e.test_progress_flow import m07_assignment
from tests.security.conftest import SecurePlatform

KEY = audit.Key.derive(auth.TEST_SECRET, "measures")  # what the service derives from its secret


def entries(url: str) -> list[dict[str, object]]:
    engine = sa.create_engine(sync_url(url))
    with engine.connect() as connection:
        rows = connection.execute(sa.select(audit.audit_log).order_by(audit.audit_log.c.seq))
        found = [dict(row._mapping) for row in rows]
    engine.dispose()
    return found


def verify(url: str, *nats: str, lang: str = "en") -> tuple[int, str]:
    """`fivetype audit verify` on measures' journal at `url`, against the NATS options given."""
    result = CliRunner().invoke(
        cli,
        [
            "audit",
            "verify",
            "--service",
            "measures",
            "--database-url",
            url,
            "--lang",
            lang,
            *(nats or ["--offline"]),
        ],
    )
    return result.exit_code, result.output


def test_a_change_over_http_is_journaled_with_who_and_from_where(
    secure_platform: SecurePlatform,
) -> None:
    platform, secure = secure_platform.stack, secure_platform.nats
    measures = platform.service("measures")
    url = measures.env["FIVETYPE_MEASURES_DATABASE_URL"]
    before = len(entries(url))
    with httpx.Client(base_url=measures.url, headers=auth.headers(subject="office-li")) as http:
        assert http.post("/v1/assignments", json=m07_assignment("360111")).status_code == 201
        assert http.get("/v1/assignments/m07-360111").status_code == 200  # a read: no entry
        again = http.post("/v1/assignments", json=m07_assignment("360111"))
        assert again.status_code == 200  # the same request again changes nothing
    new = entries(url)[before:]
    assert len(new) == 1
    (entry,) = new
    assert (entry["actor"], entry["role"], entry["source"]) == (
        "office-li",
        "office_admin",
        "127.0.0.1",
    )
    assert (entry["action"], entry["target"]) == ("POST /v1/assignments", "/v1/assignments")
    assert len(entry["details"]["body_sha256"]) == 64  # type: ignore[index]
    # The journal of the domain names the token's subject too, whatever the body said.
    journal = httpx.get(
        f"{measures.url}/v1/journal", params={"unit": "360111"}, headers=auth.headers()
    ).json()
    assert {e["actor"] for e in journal} == {"office-li"}
    assert entry["key_id"] == KEY.id and entry["mac"] == KEY.sign(str(entry["hash"]))
    # The service anchors its head in NATS with its own identity; verify compares with it.
    operator = ["--nats-url", secure.url, "--nkey-file", str(operator_seed(secure.credentials))]
    head = len(entries(url))
    eventually(lambda: f"checkpoint {head} matches" in verify(url, *operator)[1], timeout=15)
    code, output = verify(url, *operator)
    assert code == 0, output


async def _journal(url: str, numbers: range, key: audit.Key | None = KEY) -> None:
    database = Database(url, audit.session_info(key))
    for n in numbers:
        act = audit.Act(actor=f"user-{n}", role="viewer", source="10.0.0.1", action="test")
        with audit.acting(act):
            async with database.session() as session, session.begin():
                await session.execute(
                    messaging.processed.insert().values(
                        consumer="audit-test", message_id=str(n), processed_at=datetime.now(UTC)
                    )
                )
    await database.dispose()


async def _anchor(url: str, nats_url: str) -> None:
    """One run of the service's checkpoint job."""
    connection = await nats.connect(nats_url)
    database = Database(url)
    try:
        await Anchor("measures", database, connection.jetstream).run_once()
    finally:
        await database.dispose()
        await connection.close()


async def _fresh_checkpoints(nats_url: str) -> None:
    """A new, empty checkpoint stream (only an operator may delete it)."""
    connection = await nats.connect(nats_url)
    js = connection.jetstream()
    with contextlib.suppress(nats.js.errors.NotFoundError):
        await js.delete_stream(streams.AUDIT.name)
    await provision_streams(js, 1)
    await connection.close()


@pytest.fixture(scope="module")
def anchor_nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    server = start_nats(tmp_path_factory.mktemp("anchor"))
    yield server
    server.stop()


def _five_anchored(databases: Databases, nats_url: str) -> str:
    """Five keyed entries in measures' journal, the fifth anchored in NATS."""
    url = databases.url("measures")
    migrate(url, MIGRATIONS)
    asyncio.run(_fresh_checkpoints(nats_url))
    asyncio.run(_journal(url, range(1, 6)))  # sync: `audit verify` runs its own event loop too
    asyncio.run(_anchor(url, nats_url))
    return url


@pytest.fixture
def journaled(tmp_path: Path, anchor_nats: NatsServer) -> str:
    """On SQLite: every tampering case; the triggers and SQL that differ get both backends."""
    return _five_anchored(Databases("sqlite", tmp_path, None), anchor_nats.url)


@pytest.fixture
def journaled_on_each_backend(databases: Databases, anchor_nats: NatsServer) -> str:
    return _five_anchored(databases, anchor_nats.url)


DROP_TRIGGERS = {
    "sqlite": [
        "DROP TRIGGER IF EXISTS audit_log_no_update",
        "DROP TRIGGER IF EXISTS audit_log_no_delete",
    ],
    "postgresql": ["DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log"],
}


def sql(url: str, *statements: str) -> None:
    """Statements a database owner runs, after dropping the append-only triggers."""
    engine = sa.create_engine(sync_url(url))
    with engine.begin() as connection:
        for statement in [*DROP_TRIGGERS[engine.dialect.name], *statements]:
            connection.execute(sa.text(statement))
    engine.dispose()


def rewrite(url: str, start: int, **changes: object) -> None:
    """Change entries from `start` on and recompute every hash with the project's own
    `entry_hash`, keeping the chain whole: what a database owner with the code can do."""
    rows = entries(url)
    sql(url)  # no triggers
    engine = sa.create_engine(sync_url(url))
    with engine.begin() as connection:
        prev = rows[start - 2]["hash"] if start > 1 else audit.GENESIS
        for row in rows[start - 1 :]:
            row = {**row, **changes, "prev_hash": prev}
            row["hash"] = audit.entry_hash(row)
            connection.execute(
                audit.audit_log.update().where(audit.audit_log.c.seq == row["seq"]).values(**row)
            )
            prev = row["hash"]
    engine.dispose()


def test_the_trail_is_append_only(journaled_on_each_backend: str, anchor_nats: NatsServer) -> None:
    journaled = journaled_on_each_backend
    engine = sa.create_engine(sync_url(journaled))
    for statement in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(sa.text(statement))
    engine.dispose()
    assert [e["actor"] for e in entries(journaled)] == [f"user-{n}" for n in range(1, 6)]
    code, output = verify(journaled, "--nats-url", anchor_nats.url)
    assert code == 0, output
    assert "5 entries intact; checkpoint 5 matches" in output


def tampered(url: str, case: str) -> None:
    if case == "modified":
        sql(url, "UPDATE audit_log SET actor = 'someone-else' WHERE seq = 3")
    elif case == "deleted":
        sql(url, "DELETE FROM audit_log WHERE seq = 3")
    elif case == "reordered":
        sql(
            url,
            "UPDATE audit_log SET seq = -2 WHERE seq = 2",
            "UPDATE audit_log SET seq = 2 WHERE seq = 3",
            "UPDATE audit_log SET seq = 3 WHERE seq = -2",
        )
    elif case == "rewritten":
        rewrite(url, 3, actor="someone-else")
    elif case == "rewritten without keys":
        rewrite(url, 3, actor="someone-else", key_id=None, mac=None)
    elif case == "tail cut off":
        sql(url, "DELETE FROM audit_log WHERE seq > 3")
    elif case == "everything deleted":
        sql(url, "DELETE FROM audit_log")
    elif case == "rolled back":  # an older copy restored (entries 1-3), then in use again
        sql(url, "DELETE FROM audit_log WHERE seq > 3")
        asyncio.run(_journal(url, range(6, 9)))


TAMPERING = {
    "modified": "broken at entry 3: its content does not match its hash (modified) "
    "(entries 1-2 intact)",
    "deleted": "broken at entry 3: entry 3 is missing (next is 4) (entries 1-2 intact)",
    "reordered": "broken at entry 2: does not follow the entry before it (deleted or reordered)"
    " (entries 1-1 intact)",
    "rewritten": "broken at entry 3: its authentication code does not match",
    "rewritten without keys": "broken at entry 3: has no authentication code",
    "tail cut off": "contradicts its checkpoint: the journal ends at entry 3, but checkpoint 5",
    "everything deleted": "contradicts its checkpoint: the journal ends at entry 0, but "
    "checkpoint 5",
    "rolled back": "contradicts its checkpoint: entry 5 is not the one checkpoint 5",
}


TAMPERING_ZH = {
    "modified": "审计日志在第3条处断裂：内容与其哈希不符（被修改）（第1-2条完好）",
    "deleted": "审计日志在第3条处断裂：第3条缺失（下一条为第4条）",
    "reordered": "审计日志在第2条处断裂：与前一条不衔接",
    "rewritten": "审计日志在第3条处断裂：认证码不符",
    "rewritten without keys": "审计日志在第3条处断裂：没有认证码",
    "tail cut off": "审计日志与其检查点矛盾：日志止于第3条",
    "everything deleted": "审计日志与其检查点矛盾：日志止于第0条",
    "rolled back": "审计日志与其检查点矛盾：第5条已不是",
}


@pytest.mark.parametrize("case", list(TAMPERING))
def test_verification_finds_the_first_tampered_entry(
    journaled: str, anchor_nats: NatsServer, case: str
) -> None:
    tampered(journaled, case)
    code, output = verify(journaled, "--nats-url", anchor_nats.url)
    assert code == 1
    assert TAMPERING[case] in " ".join(output.split()), output
    code, chinese = verify(journaled, "--nats-url", anchor_nats.url, lang="zh")
    assert code == 1 and TAMPERING_ZH[case] in "".join(chinese.split()), chinese


@pytest.mark.parametrize("case", ["rewritten", "rolled back"])
def test_a_rewrite_and_a_rollback_are_found_on_each_backend(
    journaled_on_each_backend: str, anchor_nats: NatsServer, case: str
) -> None:
    tampered(journaled_on_each_backend, case)
    code, output = verify(journaled_on_each_backend, "--nats-url", anchor_nats.url)
    assert code == 1
    assert TAMPERING[case] in " ".join(output.split()), output


def test_the_service_stops_anchoring_a_rolled_back_journal(
    journaled: str, anchor_nats: NatsServer
) -> None:
    tampered(journaled, "rolled back")
    with pytest.raises(Rollback, match="entry 5 is not the one"):
        asyncio.run(_anchor(journaled, anchor_nats.url))


async def _anchor_keyed(url: str, nats_url: str) -> Checkpoint | None:
    """One run of the checkpoint job of a service that holds its key (it journals)."""
    connection = await nats.connect(nats_url)
    database = Database(url, audit.session_info(KEY))
    try:
        return await Anchor("measures", database, connection.jetstream).run_once()
    finally:
        await database.dispose()
        await connection.close()


def test_a_recorded_restore_is_journaled_and_the_journal_anchored_anew(
    journaled: str, anchor_nats: NatsServer
) -> None:
    """An older copy put back by `fivetype restore` (entries 1-3 of 5 anchored): the service
    journals the restore, anchors anew naming the checkpoint it supersedes, and verify passes
    and says so."""
    sql(journaled, "DELETE FROM audit_log WHERE seq > 3")  # the backup's journal
    mark_restored(journaled, "20261203T020000Z", datetime(2026, 12, 3, 2, tzinfo=UTC))
    checkpoint = asyncio.run(_anchor_keyed(journaled, anchor_nats.url))
    assert checkpoint is not None and checkpoint.seq == 4
    assert checkpoint.supersedes is not None and checkpoint.supersedes["seq"] == 5
    (restore,) = entries(journaled)[3:]
    assert (restore["action"], restore["target"]) == ("RESTORE", "20261203T020000Z")
    asyncio.run(_journal(journaled, range(6, 8)))  # in use again
    asyncio.run(_anchor_keyed(journaled, anchor_nats.url))
    code, output = verify(journaled, "--nats-url", anchor_nats.url)
    assert code == 0, output
    said = " ".join(output.split())
    assert "6 entries intact; checkpoint 6 matches" in said
    assert "restored from backup 20261203T020000Z" in said
    assert "continues from entry 3 with entry 4; it superseded checkpoint 5" in said


def test_a_rotated_key_verifies_with_the_retired_secret(
    journaled: str, anchor_nats: NatsServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FIVETYPE_MEASURES_AUDIT_SECRET", "the-new-secret")
    new = audit.Key.derive("the-new-secret", "measures")
    asyncio.run(_journal(journaled, range(6, 8), key=new))
    online = ("--nats-url", anchor_nats.url)
    code, output = verify(journaled, *online)
    assert code == 1 and f"entry 1: is signed with key {KEY.id}" in output, output
    retired = tmp_path / "retired"
    retired.write_text(auth.TEST_SECRET)
    code, output = verify(journaled, *online, "--retired-secret-file", str(retired))
    assert code == 0 and "7 entries intact" in output, output
