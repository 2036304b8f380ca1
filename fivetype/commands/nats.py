"""`fivetype nats`: credentials and the nats-server authorization config.

`unit` (or `channel`) creates one client's nkey and prints the entry to add to the server's
users; `config` writes the whole authorization block for the operator, the four services and
the units and channels named; `provision` creates or updates the streams with the operator's
identity (services may create a missing stream but never change one).
Seeds are created once and reused, so running either again changes no existing credentials.
"""

import asyncio
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from fivetype import exits
from fivetype.commands._nats import NatsUrl, NkeyFile, connection
from fivetype.state import CREDENTIALS

if TYPE_CHECKING:
    from contracts.permissions import Permissions

app = typer.Typer(help="NATS credentials and permissions.", no_args_is_help=True)
console = Console()

Directory = Annotated[
    Path, typer.Option("--dir", help="The credentials folder (seeds and auth.conf).")
]
DEFAULT_DIRECTORY = Path("data") / CREDENTIALS  # the embedded stack's


# Channel names are the `channel` values of public requests (e.g. hotline_12345).
CHANNEL_PATTERN = r"^[a-z0-9][a-z0-9_-]{1,39}$"


def _code(code: str, pattern: str | None = None) -> str:
    """Unit codes and channel names end up in subjects: nothing but safe token characters."""
    from contracts.envelope import UNIT_CODE_PATTERN

    pattern = pattern or UNIT_CODE_PATTERN
    if not re.fullmatch(pattern, code):
        raise typer.BadParameter(f"{code!r} does not match {pattern}")
    return code


def _grant(seed: Path, who: str, granted: "Permissions", inbox: str) -> None:
    from fivetype import natsauth

    entry = natsauth.user_entry(natsauth.ensure_seed(seed), who, granted)
    console.print(f"seed file (hand it over privately; keep it secret): {seed}", markup=False)
    console.print(f"inbox prefix its client must use: {inbox}", markup=False)
    console.print("add to authorization.users of nats-server, then reload it:")
    print(entry)


@app.command()
def unit(
    code: Annotated[str, typer.Argument(help="The unit's code, e.g. 360102.")],
    directory: Directory = DEFAULT_DIRECTORY,
) -> None:
    """Create a unit's nkey seed (reused if it exists) and print its server user entry."""
    from contracts import permissions
    from fivetype import natsauth

    seed = natsauth.unit_seed(directory, _code(code))
    _grant(seed, f"unit {code}", permissions.unit(code), permissions.unit_inbox(code))


@app.command()
def channel(
    name: Annotated[str, typer.Argument(help="The channel system's name, e.g. hotline_12345.")],
    directory: Directory = DEFAULT_DIRECTORY,
) -> None:
    """Create a public-request channel's nkey seed and print its server user entry."""
    from contracts import permissions
    from fivetype import natsauth

    seed = natsauth.channel_seed(directory, _code(name, CHANNEL_PATTERN))
    _grant(seed, f"channel {name}", permissions.channel(name), permissions.channel_inbox(name))


@app.command()
def config(
    directory: Directory = DEFAULT_DIRECTORY,
    units: Annotated[
        list[str] | None, typer.Option("--unit", help="A unit to grant (repeatable).")
    ] = None,
    units_file: Annotated[
        Path | None, typer.Option(help="Grant every unit of this unit directory (units.yaml).")
    ] = None,
    channels: Annotated[
        list[str] | None, typer.Option("--channel", help="A channel to grant (repeatable).")
    ] = None,
) -> None:
    """Write auth.conf: the operator, the four services, the units and the channels."""
    from fivetype import natsauth
    from services.measures.domain.catalogue import load_units

    codes = [_code(code) for code in units or []]
    if units_file is not None:
        codes += [u.code for u in load_units(units_file).units]
    names = [_code(name, CHANNEL_PATTERN) for name in channels or []]
    path = natsauth.write_authorization(directory, codes, names)
    console.print(
        f"wrote {path} ({len(set(codes))} unit(s), {len(set(names))} channel(s)); "
        "seeds are beside it",
        markup=False,
    )
    console.print(
        f"nats-server: `include {natsauth.AUTH_CONF}` in its config and set "
        f"`max_payload: {natsauth.MAX_PAYLOAD}`"
    )


@app.command()
def provision(
    nats_url: NatsUrl = None,
    nkey_file: NkeyFile = None,
    replicas: Annotated[int, typer.Option(help="Replicas of each stream (3 in a cluster).")] = 1,
) -> None:
    """Create or update every stream from the contracts (run after an upgrade)."""
    from services.runtime.bus import provision_streams  # the runtime: only when needed

    async def run() -> None:
        async with connection(nats_url, nkey_file) as nc:
            await provision_streams(nc.jetstream(), replicas)

    try:
        asyncio.run(run())
    except TimeoutError as exc:  # a refused request goes unanswered
        console.print("no answer: is this the operator's nkey? (services may not change streams)")
        raise typer.Exit(exits.FAILURE) from exc
    console.print("streams provisioned")
