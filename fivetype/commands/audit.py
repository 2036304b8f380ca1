"""`fivetype audit verify`: walk a service's hash-chained audit trail and report the first entry
that was modified, deleted or moved."""

import asyncio
import importlib
from typing import TYPE_CHECKING, Annotated

import typer

from fivetype.state import SERVICES

if TYPE_CHECKING:
    from services.runtime import audit

app = typer.Typer(help="The audit trail (审计日志).", no_args_is_help=True)


def _database_url(service: str) -> str:
    from services.runtime.settings import ServiceSettings

    module = importlib.import_module(f"services.{service}.settings")
    settings_class = getattr(module, f"{service.capitalize()}Settings")
    settings: ServiceSettings = settings_class()
    return settings.resolved_database_url


async def _verify(url: str) -> "audit.Verdict":
    from services.runtime import audit
    from services.runtime.db import Database

    database = Database(url)
    try:
        async with database.session() as session:
            return await audit.verify(session)
    finally:
        await database.dispose()


@app.command()
def verify(
    service: Annotated[str, typer.Option(help=f"One of: {', '.join(SERVICES)}")],
    database_url: Annotated[
        str | None, typer.Option(help="Default: the service's own setting (its env variables).")
    ] = None,
) -> None:
    """Exit 0 when the chain is whole, 1 at the first broken entry."""
    if service not in SERVICES:
        typer.echo(f"unknown service {service!r}; choose one of {', '.join(SERVICES)}", err=True)
        raise typer.Exit(2)
    verdict = asyncio.run(_verify(database_url or _database_url(service)))
    if verdict.broken is not None:
        typer.echo(
            f"{service}: audit trail broken at entry {verdict.broken.seq}: "
            f"{verdict.broken.reason} ({verdict.entries} entries before it are intact)",
            err=True,
        )
        raise typer.Exit(1)
    # The head hash, noted elsewhere, also reveals entries later cut off the end of the chain.
    print(f"{service}: {verdict.entries} entries intact; head {verdict.head}")
