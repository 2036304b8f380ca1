"""The one way the command line, the demo and `status` connect to NATS: the URL and the
operator's nkey seed file come from options or the environment (NATS_URL, NATS_NKEY_FILE), by
default those of the embedded stack running from ./data."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from fivetype import exits, state

if TYPE_CHECKING:
    from nats.aio.client import Client

NatsUrl = Annotated[
    str | None,
    typer.Option(
        "--nats-url", envvar="NATS_URL", help="NATS server (default: the running stack's)."
    ),
]
NkeyFile = Annotated[
    Path | None,
    typer.Option(
        "--nkey-file",
        envvar="NATS_NKEY_FILE",
        help="The operator's nkey seed (default: the running embedded stack's).",
    ),
]


async def _quiet(_error: Exception) -> None:
    """nats-py would log every failed attempt with a traceback; we report the outcome once."""


def connect_options(nkey_file: Path | None) -> dict[str, Any]:
    options: dict[str, Any] = {
        # nats-py retries a first connection forever unless attempts are bounded (0 = forever).
        "connect_timeout": 3,
        "max_reconnect_attempts": 1,
        "reconnect_time_wait": 0.5,
        "error_cb": _quiet,
    }
    if seed := nkey_file or state.operator_seed():
        options["nkeys_seed"] = str(seed)
    return options


async def connect(url: str | None, nkey_file: Path | None = None) -> "Client":
    """A connection, by default to the stack running from ./data; raises if NATS does not
    answer within a few seconds."""
    import nats

    from services.runtime.settings import nats_servers

    return await nats.connect(nats_servers(url or state.nats_url()), **connect_options(nkey_file))


@asynccontextmanager
async def connection(url: str | None, nkey_file: Path | None = None) -> AsyncIterator["Client"]:
    """A connection, or the command ends with exit code 3 when NATS does not answer."""
    try:
        connected = await connect(url, nkey_file)
    except Exception as exc:
        typer.echo(f"cannot reach NATS at {url or state.nats_url()}: {exc}", err=True)
        raise typer.Exit(exits.UNREACHABLE) from exc
    try:
        yield connected
    finally:
        await connected.close()
