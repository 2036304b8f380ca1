"""`fivetype --help` (and any command that only reads an API) starts without loading FastAPI,
SQLAlchemy, nats-py, openpyxl or the services' runtime, and within half a second of a bare
Python start on the same machine in the same run. Measured in CPU time (user + system) of the
child, since wall time on a shared CI machine says more about the neighbours than about us; and
as a loaded machine slows every process alike, the budget grows with the bare start's own cost
over its quiet-machine figure."""

import resource
import subprocess
import sys
from pathlib import Path

FIVETYPE = str(Path(sys.executable).parent / "fivetype")
HEAVY = ("fastapi", "sqlalchemy", "nats", "openpyxl", "alembic", "uvicorn", "httpx", "pydantic")
BUDGET_SECONDS = 0.5
QUIET_BARE_SECONDS = 0.03  # `python -c pass` on an idle machine


def _cpu_seconds(command: list[str], runs: int = 3) -> float:
    """The least CPU time of a few runs: the machine's other load only ever adds to it."""
    best = float("inf")
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(command, check=True, capture_output=True, timeout=60)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        used = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        best = min(best, used)
    return best


def test_help_imports_none_of_the_heavy_libraries() -> None:
    traced = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "fivetype", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    imported = {line.split("|")[-1].strip() for line in traced.stderr.splitlines()}
    loaded = sorted(m for m in imported if m.split(".")[0] in HEAVY)
    assert not loaded, loaded
    assert not any(m.startswith("services.runtime.auth") for m in imported)


def test_help_starts_within_budget_of_a_bare_python() -> None:
    bare = _cpu_seconds([sys.executable, "-c", "pass"])
    budget = BUDGET_SECONDS * max(1.0, bare / QUIET_BARE_SECONDS)
    for command in ([FIVETYPE, "--help"], [FIVETYPE, "ranking", "--help"]):
        used = _cpu_seconds(command)
        assert used - bare < budget, f"{command[1:]}: {used:.2f}s, python {bare:.2f}s"
