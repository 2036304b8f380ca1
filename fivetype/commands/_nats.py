"""The one way the command line, the demo and `status` connect to NATS: the URL and an optional
credentials file come from options or the environment (NATS_URL, NATS_CREDS), a user and
password from NATS_USER and NATS_PASSWORD, so an authenticated NATS needs no code change."""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import nats
import typer
from nats.aio.client import Client
from rich.console import Console

from fivetype import exits, state

NatsUrl = Annotated[
    str | None,
    typer.Option(
        "--nats-url", envvar="NATS_URL", help="NATS server (default: the running stack's)."
    ),
]
NatsCreds = Annotated[
    Path | None,
    typer.Option("--creds", envvar="NATS_CREDS", help="NATS credentials file, if NATS asks."),
]
console = Console(stderr=True)


async def _quiet(_error: Exception) -> None:
    """nats-py would log every failed attempt with a traceback; we report the outcome once."""


def connect_options(creds: Path | None) -> dict[str, Any]:
    options: dict[str, Any] = {
        # nats-py retries a first connection forever unless attempts are bounded (0 = forever).
        "connect_timeout": 3,
        "max_reconnect_attempts": 1,
        "reconnect_time_wait": 0.5,
        "error_cb": _quiet,
    }
    if creds is not None:
        options["user_credentials"] = str(creds)
    if user := os.environ.get("NATS_USER"):
        options["user"] = user
        options["password"] = os.environ.get("NATS_PASSWORD", "")
    return options


async def connect(url: str | None, creds: Path | None = None) -> Client:
    """A connection, by default to the stack running from ./data; raises if NATS does not
    answer within a few seconds."""
    return await nats.connect(url or state.nats_url(), **connect_options(creds))


@asynccontextmanager
async def connection(url: str | None, creds: Path | None = None) -> AsyncIterator[Client]:
    """A connection, or the command ends with exit code 3 when NATS does not answer."""
    try:
        connected = await connect(url, creds)
    except Exception as exc:
        console.print(f"[red]cannot reach NATS at {url}: {exc}[/]")
        raise typer.Exit(exits.UNREACHABLE) from exc
    try:
        yield connected
    finally:
        await connected.close()
