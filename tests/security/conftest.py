"""One platform for the security tests: the four services on SQLite, authenticating to a
nats-server that runs the generated authorization config."""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from fivetype.stack import Stack
from tests.conftest import Databases, SecureNats, start_platform, start_secure_nats

UNIT_A, UNIT_B = "360102", "360103"
CHANNEL = "hotline_12345"


@dataclass
class SecurePlatform:
    stack: Stack
    nats: SecureNats


@pytest.fixture(scope="package")
def secure_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecurePlatform]:
    directory: Path = tmp_path_factory.mktemp("secure")
    nats = start_secure_nats(directory, [UNIT_A, UNIT_B], [CHANNEL])
    databases = Databases("sqlite", directory, None)
    stack = start_platform(directory, nats.url, databases, nats.service_env())
    yield SecurePlatform(stack, nats)
    stack.stop(grace=5)
    nats.server.stop()
