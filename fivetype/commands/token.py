"""`fivetype token issue`: mint a signed bearer token for a person or a unit's system."""

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from fivetype.apiclient import DATA_DIR, console, deployment_secret
from services.runtime.auth import Role, issue

app = typer.Typer(help="Bearer tokens for the HTTP APIs (访问令牌).", no_args_is_help=True)
_TTL = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_ttl(text: str) -> timedelta:
    """ "30d", "12h", "15m" or "90s"."""
    match = _TTL.match(text)
    if match is None:
        raise typer.BadParameter("use a number and s, m, h or d, e.g. 30d")
    return timedelta(**{_UNITS[match[2]]: int(match[1])})


@app.command("issue")
def issue_token(
    role: Annotated[Role, typer.Option(help="What the holder may do.")],
    unit: Annotated[
        str | None, typer.Option(help="The unit a unit_reporter speaks for (its data scope).")
    ] = None,
    subject: Annotated[
        str | None,
        typer.Option(help="Who holds it (staff number, system name); default <role>[-<unit>]."),
    ] = None,
    ttl: Annotated[
        str, typer.Option(help="Lifetime: short for people (8h), long for unit systems (365d).")
    ] = "30d",
    data_dir: Annotated[
        Path, typer.Option(help="The embedded stack's data folder, if the secret is there.")
    ] = DATA_DIR,
) -> None:
    """Print a token signed with FIVETYPE_AUTH_SECRET(_FILE), or the embedded stack's secret."""
    secret = deployment_secret(data_dir)
    if secret is None:
        console.print("[red]no secret: set FIVETYPE_AUTH_SECRET or FIVETYPE_AUTH_SECRET_FILE[/]")
        raise typer.Exit(2)
    try:
        token = issue(
            secret,
            subject=subject or "-".join(filter(None, [role.value, unit])),
            role=role,
            unit=unit,
            ttl=parse_ttl(ttl),
        )
    except ValueError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    print(token)
