"""`fivetype nats`: credentials and the nats-server authorization config.

`unit` creates one unit's nkey and prints the entry to add to the server's users; `config`
writes the whole authorization block for the operator, the four services and the units named.
Seeds are created once and reused, so running either again changes no existing credentials.
"""

import re
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from contracts import permissions
from contracts.envelope import UNIT_CODE_PATTERN
from fivetype import natsauth
from fivetype.stack import CREDENTIALS
from services.measures.domain.catalogue import load_units

app = typer.Typer(help="NATS credentials and permissions.", no_args_is_help=True)
console = Console()

Directory = Annotated[
    Path, typer.Option("--dir", help="The credentials folder (seeds and auth.conf).")
]
DEFAULT_DIRECTORY = Path("data") / CREDENTIALS  # the embedded stack's


def _unit_code(code: str) -> str:
    if not re.fullmatch(UNIT_CODE_PATTERN, code):
        raise typer.BadParameter(f"{code!r} is not a unit code ({UNIT_CODE_PATTERN})")
    return code


@app.command()
def unit(
    code: Annotated[str, typer.Argument(help="The unit's code, e.g. 360102.")],
    directory: Directory = DEFAULT_DIRECTORY,
) -> None:
    """Create a unit's nkey seed (reused if it exists) and print its server user entry."""
    seed = natsauth.unit_seed(directory, _unit_code(code))
    entry = natsauth.user_entry(natsauth.ensure_seed(seed), f"unit {code}", permissions.unit(code))
    console.print(f"seed file (give it to the unit; keep it secret): {seed}", markup=False)
    console.print(f"inbox prefix the unit's client must use: {permissions.unit_inbox(code)}")
    console.print("add to authorization.users of nats-server:")
    print(entry)


@app.command()
def config(
    directory: Directory = DEFAULT_DIRECTORY,
    units: Annotated[
        list[str] | None, typer.Option("--unit", help="A unit to grant (repeatable).")
    ] = None,
    units_file: Annotated[
        Path | None, typer.Option(help="Grant every unit of this unit directory (units.yaml).")
    ] = None,
) -> None:
    """Write auth.conf: the operator, the four services and the units, each with its seed."""
    codes = [_unit_code(code) for code in units or []]
    if units_file is not None:
        codes += [u.code for u in load_units(units_file).units]
    path = natsauth.write_authorization(directory, codes)
    console.print(f"wrote {path} ({len(set(codes))} unit(s)); seeds are beside it", markup=False)
    console.print(
        f"nats-server: `include {natsauth.AUTH_CONF}` in its config and set "
        f"`max_payload: {natsauth.MAX_PAYLOAD}`"
    )
