"""The audit trail: a change made over HTTP is journaled with who, from where and what, and
`fivetype audit verify` finds an entry that was modified, deleted or moved."""

import asyncio
from datetime import UTC, datetime

import httpx
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from fivetype.cli import app as cli
from fivetype.stack import Stack
from services.measures.bootstrap import MIGRATIONS
from services.runtime import audit, messaging
from services.runtime.db import Database, migrate, sync_url
from tests import auth
from tests.conftest import Databases
from tests.e2e.test_progress_flow import m07_assignment


def entries(url: str) -> list[dict[str, object]]:
    engine = sa.create_engine(sync_url(url))
    with engine.connect() as connection:
        rows = connection.execute(sa.select(audit.audit_log).order_by(audit.audit_log.c.seq))
        found = [dict(row._mapping) for row in rows]
    engine.dispose()
    return found


def verify(url: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli, ["audit", "verify", "--service", "measures", "--database-url", url]
    )
    return result.exit_code, result.output


def test_a_change_over_http_is_journaled_with_who_and_from_where(platform: Stack) -> None:
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
    assert verify(url)[0] == 0


async def _journal_five(url: str) -> None:
    database = Database(url)
    for n in range(1, 6):
        act = audit.Act(actor=f"user-{n}", role="viewer", source="10.0.0.1", action="test")
        with audit.acting(act):
            async with database.session() as session, session.begin():
                await session.execute(
                    messaging.processed.insert().values(
                        consumer="audit-test", message_id=str(n), processed_at=datetime.now(UTC)
                    )
                )
    await database.dispose()


DROP_TRIGGERS = {
    "sqlite": ["DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete"],
    "postgresql": ["DROP TRIGGER audit_log_append_only ON audit_log"],
}
TAMPERING = {
    "modified": (["UPDATE audit_log SET actor = 'someone-else' WHERE seq = 3"], 3, "modified"),
    "deleted": (["DELETE FROM audit_log WHERE seq = 3"], 3, "missing"),
    "reordered": (
        [
            "UPDATE audit_log SET seq = -2 WHERE seq = 2",
            "UPDATE audit_log SET seq = 2 WHERE seq = 3",
            "UPDATE audit_log SET seq = 3 WHERE seq = -2",
        ],
        2,
        "reordered",
    ),
}


@pytest.fixture
def journaled(databases: Databases) -> str:
    url = databases.url("measures")
    migrate(url, MIGRATIONS)
    asyncio.run(_journal_five(url))  # sync: `audit verify` runs its own event loop too
    return url


def test_the_trail_is_append_only(journaled: str) -> None:
    engine = sa.create_engine(sync_url(journaled))
    for statement in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(sa.text(statement))
    engine.dispose()
    assert [e["actor"] for e in entries(journaled)] == [f"user-{n}" for n in range(1, 6)]
    code, output = verify(journaled)
    assert (code, "5 entries intact" in output) == (0, True)


@pytest.mark.parametrize("tampering", list(TAMPERING))
def test_verification_finds_the_first_tampered_entry(journaled: str, tampering: str) -> None:
    statements, seq, word = TAMPERING[tampering]
    engine = sa.create_engine(sync_url(journaled))
    with engine.begin() as connection:
        for statement in [*DROP_TRIGGERS[engine.dialect.name], *statements]:
            connection.execute(sa.text(statement))
    engine.dispose()
    code, output = verify(journaled)
    assert code == 1
    assert f"broken at entry {seq}" in output and word in output, output
