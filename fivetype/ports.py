"""Ports for the embedded stack: claimed so that two stacks starting at the same moment never
choose the same one, and remembered in the data folder so the next start of that folder listens
where the last one did.

A claim is an exclusive lock on a file named after the port, in a folder of the user's under the
system's temporary directory, held from the moment the port is chosen for as long as the stack
runs (its processes may be restarted on it). The kernel drops the lock when the holder exits, so
a killed stack leaves nothing behind. Processes that are not fivetype stacks do not take these
locks: the stack therefore also checks that its own process is the one that bound the port, and
chooses again if not (see stack.py)."""

import contextlib
import fcntl
import itertools
import json
import os
import random
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

from services.runtime.settings import METRICS_OFFSET

ADDRESS_BOOK = "ports.json"  # under the data folder: what each process listened on last time
ATTEMPTS = 20
LOWEST_FREE_PORT = 10000  # below: ports that well-known servers are configured to
CONNECTIONS_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def bindable(port: int) -> bool:
    """Whether a server could listen on 127.0.0.1:`port` now. SO_REUSEADDR as uvicorn and
    nats-server set it, so connections of a previous run still in TIME_WAIT do not count."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
            probe.listen(1)
        except OSError:
            return False
    return True


def _listening_ports() -> range:
    """Ports below the range the kernel takes outgoing connections' ports from (a port chosen
    there may be taken by any process's connection between the choice and the server's bind),
    with room for a service's metrics port, its HTTP port + 1000, below that range too."""
    try:
        low = int(CONNECTIONS_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768  # elsewhere: the lowest start systems use
    return range(LOWEST_FREE_PORT, low - METRICS_OFFSET)


def _next_ports() -> Iterator[int]:
    """This process's walk over the listening ports from a random start: it never chooses a
    port twice before it has gone round, and two processes rarely walk the same stretch."""
    candidates = _listening_ports()
    if not candidates:
        return iter(())
    start = random.randrange(len(candidates))
    return itertools.cycle([*candidates[start:], *candidates[:start]])


_walk = _next_ports()


def free_port() -> int:
    """A port free now for a server about to listen on 127.0.0.1: the next free one of this
    process's walk, else one the system chooses."""
    for port in itertools.islice(_walk, 200):
        if bindable(port):
            return port
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _lock_dir() -> Path:
    directory = Path(tempfile.gettempdir()) / f"fivetype-ports-{os.getuid()}"
    directory.mkdir(mode=0o700, exist_ok=True)
    return directory


class Claim:
    """One port held against every other fivetype stack of this user on this machine."""

    def __init__(self, port: int, lock_fd: int):
        self.port = port
        self._fd: int | None = lock_fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the lock
            self._fd = None

    def __del__(self) -> None:
        self.release()


def _lock(port: int) -> int | None:
    fd = os.open(_lock_dir() / f"{port}.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def _candidates(preferred: int | None) -> Iterator[int]:
    if preferred is not None:
        yield preferred
    for _ in range(ATTEMPTS):
        yield free_port()


def claim(preferred: int | None, avoid: frozenset[int] = frozenset()) -> Claim:
    """`preferred` if no other stack holds it and it is free, else a free port the system
    offers; never one in `avoid` (ports found taken by a stranger)."""
    for port in _candidates(preferred):
        if port in avoid or (fd := _lock(port)) is None:
            continue
        if bindable(port):
            return Claim(port, fd)
        os.close(fd)
    raise OSError(f"no free port found after {ATTEMPTS} attempts")


class AddressBook:
    """The port each process of the stack chose, kept in `<data dir>/ports.json`."""

    def __init__(self, data_dir: Path):
        self.path = data_dir / ADDRESS_BOOK
        self.ports: dict[str, int] = {}
        with contextlib.suppress(OSError, ValueError, TypeError):
            self.ports = {k: int(v) for k, v in json.loads(self.path.read_text()).items()}

    def get(self, name: str) -> int | None:
        return self.ports.get(name)

    def save(self, ports: dict[str, int]) -> None:
        self.ports = dict(ports)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        staging = self.path.with_suffix(".tmp")
        staging.write_text(json.dumps(self.ports, indent=2) + "\n", encoding="utf-8")
        staging.replace(self.path)
