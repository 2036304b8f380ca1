"""The running stack's state file (`<data dir>/stack.json`): written by `fivetype run` once every
service is ready and removed when it stops, so `stack stop`, `status` and the other commands find
the process and the ports it chose without being told."""

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from fivetype.stack import SERVICES, Stack

DEFAULT_DATA_DIR = Path("data")
# The demo plays in a folder of its own, so its programme clock never touches real data.
DEMO_DATA_DIR = DEFAULT_DATA_DIR / "demo"


@dataclass(frozen=True)
class StackState:
    pid: int
    nats_url: str
    services: dict[str, str]  # service name -> base URL

    @classmethod
    def of(cls, stack: Stack) -> "StackState":
        return cls(os.getpid(), stack.nats_url, {s.name: s.url for s in stack.services})


def path(data_dir: Path) -> Path:
    return data_dir / "stack.json"


def write(data_dir: Path, state: StackState) -> None:
    staging = path(data_dir).with_suffix(".tmp")
    staging.write_text(json.dumps(asdict(state), indent=2), encoding="utf-8")
    staging.replace(path(data_dir))  # whole or not at all: a reader never sees half a file


def remove(data_dir: Path) -> None:
    path(data_dir).unlink(missing_ok=True)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read(data_dir: Path) -> StackState | None:
    """The state of a stack still running from this data folder, if any."""
    try:
        state = StackState(**json.loads(path(data_dir).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None
    return state if alive(state.pid) else None


def running(data_dir: Path = DEFAULT_DATA_DIR) -> StackState | None:
    """The stack running from `data_dir`; for the default folder, else the demo's."""
    found = read(data_dir)
    if found is None and data_dir == DEFAULT_DATA_DIR:
        return read(DEMO_DATA_DIR)
    return found


def service_url(service: str, data_dir: Path = DEFAULT_DATA_DIR) -> str:
    """Where a service listens: FIVETYPE_<SERVICE>_URL, else the stack running from `data_dir`,
    else its default port on this machine."""
    if url := os.environ.get(f"FIVETYPE_{service.upper()}_URL"):
        return url
    state = running(data_dir)
    if state is not None and service in state.services:
        return state.services[service]
    return f"http://127.0.0.1:{SERVICES[service]}"


def nats_url(data_dir: Path = DEFAULT_DATA_DIR) -> str:
    if url := os.environ.get("NATS_URL"):
        return url
    state = running(data_dir)
    return state.nats_url if state is not None else "nats://127.0.0.1:4222"
