"""The running stack's state file (`<data dir>/stack.json`): written by `fivetype run` once every
service is ready, again whenever its supervisor starts a process again, and removed when it
stops, so `stack stop`, `status` and the other commands find the process, the ports it chose and
who should answer on them without being told."""

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the stack pulls in the services' runtime: not for every command's start
    from fivetype.stack import Stack

SERVICES: dict[str, int] = {  # each service's default HTTP port
    "measures": 8101,
    "inspections": 8102,
    "scoring": 8103,
    "notifications": 8104,
}
NATS_PORT = 4222
CREDENTIALS = "nats-auth"  # the embedded nats-server's credentials, under the data folder
DEFAULT_DATA_DIR = Path("data")
# The demo plays in a folder of its own, so its programme clock never touches real data.
DEMO_DATA_DIR = DEFAULT_DATA_DIR / "demo"


@dataclass(frozen=True)
class StackState:
    pid: int
    nats_url: str
    services: dict[str, str]  # service name -> base URL
    operator_seed: str | None = None  # the embedded nats-server's operator nkey, if it has one
    # Who answers for each process the stack owns (a service's /healthz instance id, the
    # nats-server's name): what tells the stack's own service from a stranger on its port.
    instances: dict[str, str] = field(default_factory=dict)
    restarts: dict[str, int] = field(default_factory=dict)  # by the supervisor, per process

    @classmethod
    def of(cls, stack: "Stack") -> "StackState":
        from fivetype import natsauth

        seed = None if stack.credentials is None else natsauth.operator_seed(stack.credentials)
        return cls(
            pid=os.getpid(),
            nats_url=stack.nats_url,
            services={s.name: s.url for s in stack.services},
            operator_seed=None if seed is None else str(seed),
            instances=stack.instances,
            restarts=stack.restarts,
        )


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


def resolve(data_dir: Path = DEFAULT_DATA_DIR) -> Path:
    """The folder a command works with: the one named, except that the default folder stands
    for the demo's while a demo runs and no stack runs from ./data (so `fivetype ranking` during
    `make demo` reads the demo's services with the demo's secret, whatever an earlier `make run`
    left in ./data)."""
    if data_dir == DEFAULT_DATA_DIR and read(data_dir) is None and read(DEMO_DATA_DIR):
        return DEMO_DATA_DIR
    return data_dir


def running(data_dir: Path = DEFAULT_DATA_DIR) -> StackState | None:
    """The stack running from `data_dir`; for the default folder, else the demo's."""
    return read(resolve(data_dir))


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


def operator_seed(data_dir: Path = DEFAULT_DATA_DIR) -> Path | None:
    """The operator's nkey seed of the stack running from `data_dir`, if its NATS asks for one."""
    state = running(data_dir)
    return None if state is None or state.operator_seed is None else Path(state.operator_seed)
