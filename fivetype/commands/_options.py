"""Options several commands share."""

from pathlib import Path
from typing import Annotated

import typer

from fivetype.state import DEFAULT_DATA_DIR

DataDir = Annotated[
    Path,
    typer.Option(
        envvar="FIVETYPE_DATA_DIR", help="The embedded stack's data folder (state, logs, SQLite)."
    ),
]
DATA_DIR = DEFAULT_DATA_DIR


def url_option(service: str) -> object:
    """`--url` for one service: FIVETYPE_<SERVICE>_URL, else the running stack's, else default."""
    return typer.Option(
        "--url",
        envvar=f"FIVETYPE_{service.upper()}_URL",
        help=f"Base URL of the {service} service (default: the running stack's).",
    )


MeasuresUrl = Annotated[str | None, url_option("measures")]
ScoringUrl = Annotated[str | None, url_option("scoring")]
PeerGroup = Annotated[
    str | None, typer.Option("--group", help="Peer group: county, devzone or department.")
]
