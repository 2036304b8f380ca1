"""`fivetype --help` (and any command that only reads an API) starts without loading FastAPI,
SQLAlchemy, nats-py, openpyxl or the services' runtime: what keeps it quick is what it does not
import (a timed assertion would measure the machine's other load, not the command)."""

import subprocess
import sys

import pytest

RUNTIME = ("fastapi", "sqlalchemy", "nats", "openpyxl", "alembic", "uvicorn", "httpx")


# A command's own parameters are built by typer with pydantic (its TypeAdapter), so pydantic is
# heavy only for the top-level help.
@pytest.mark.parametrize(
    ("command", "heavy"),
    [(["--help"], (*RUNTIME, "pydantic")), (["ranking", "--help"], RUNTIME)],
    ids=["fivetype", "ranking"],
)
def test_help_imports_none_of_the_heavy_libraries(
    command: list[str], heavy: tuple[str, ...]
) -> None:
    traced = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "fivetype", *command],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    imported = {line.split("|")[-1].strip() for line in traced.stderr.splitlines()}
    loaded = sorted(m for m in imported if m.split(".")[0] in heavy)
    assert not loaded, loaded
    assert not any(m.startswith("services.runtime.auth") for m in imported)
