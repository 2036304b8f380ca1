"""A port another process binds between the stack's choice and the service's own bind: the
service says so by its exit status, nats-server by its log, and the stack chooses another port
instead of failing to start."""

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from fivetype.natsserver import NatsServer, PortTaken
from fivetype.stack import Stack
from services.runtime.settings import EXIT_PORT_TAKEN
from tests.conftest import Databases, platform_env, scaled


@pytest.fixture
def stranger() -> Iterator[socket.socket]:
    """A process that is not ours, listening on a port of its own."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        yield listener


def port_of(listener: socket.socket) -> int:
    return int(listener.getsockname()[1])


def test_a_service_whose_port_is_held_exits_saying_so(
    stranger: socket.socket, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIVETYPE_")}
    env |= {
        "FIVETYPE_MEASURES_HTTP_PORT": str(port_of(stranger)),
        "FIVETYPE_MEASURES_DATA_DIR": str(tmp_path),
    }
    service = subprocess.run(
        [sys.executable, "-m", "services.measures"],
        env=env,
        capture_output=True,
        text=True,
        timeout=scaled(60),
        check=False,
    )
    assert service.returncode == EXIT_PORT_TAKEN, service.stdout + service.stderr
    assert "http port taken" in service.stdout + service.stderr
    assert not (tmp_path / "measures.db").exists()  # it did nothing before it bound


def test_nats_server_whose_port_is_held_says_so(stranger: socket.socket, tmp_path: Path) -> None:
    server = NatsServer(tmp_path / "jetstream", port_of(stranger))
    with pytest.raises(PortTaken):
        server.start(timeout=scaled(10))
    server.stop()


def test_the_stack_moves_a_service_whose_port_a_stranger_took(
    nats: NatsServer, tmp_path: Path
) -> None:
    stack = Stack(
        tmp_path, nats_url=nats.url, env=platform_env(Databases("sqlite", tmp_path, None))
    )
    scoring = stack.service("scoring")
    chosen = scoring.port
    with socket.socket() as listener:  # bound after the stack chose, before the service binds
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", chosen))
        listener.listen(1)
        try:
            stack.start(timeout=scaled(90))
            assert scoring.port != chosen
            assert scoring.ready()
        finally:
            stack.stop(grace=5)
