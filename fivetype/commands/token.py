"""`fivetype token issue`: mint a signed bearer token for a person or a unit's system."""

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from fivetype.lang import Lang, say
from fivetype.state import DEFAULT_DATA_DIR

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
    role: Annotated[
        str,
        typer.Option(
            help="What the holder may do: office_admin, unit_reporter, inspector, supervisor, "
            "viewer or operator."
        ),
    ],
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
        Path,
        typer.Option(
            envvar="FIVETYPE_DATA_DIR",
            help="The embedded stack's data folder, if the secret is there.",
        ),
    ] = DEFAULT_DATA_DIR,
    lang: Lang = None,
) -> None:
    """Print a token signed with FIVETYPE_AUTH_SECRET(_FILE), or the embedded stack's secret
    (the running demo's when no stack runs from ./data)."""
    assert lang is not None  # the option's callback chose one
    from fivetype.apiclient import deployment_secret
    from services.runtime.tokens import Role, issue

    if role not in {r.value for r in Role}:
        raise typer.BadParameter(f"{role!r}: one of {', '.join(Role)}", param_hint="--role")
    secret = deployment_secret(data_dir)
    if secret is None:
        looked = data_dir.resolve()
        no_secret = say(
            lang,
            "找不到签名密钥：请设置 FIVETYPE_AUTH_SECRET 或 FIVETYPE_AUTH_SECRET_FILE，"
            f"或用 --data-dir 指明平台的数据文件夹（已查找 {looked}）",
            "no secret: set FIVETYPE_AUTH_SECRET or FIVETYPE_AUTH_SECRET_FILE, or name the "
            f"stack's folder with --data-dir (looked in {looked})",
        )
        typer.echo(no_secret, err=True)
        raise typer.Exit(2)
    try:
        token = issue(
            secret,
            subject=subject or "-".join(filter(None, [role, unit])),
            role=Role(role),
            unit=unit,
            ttl=parse_ttl(ttl),
        )
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    print(token)
