"""One platform for the security tests: the four services on SQLite, authenticating to a
nats-server that runs the generated authorization config, with the HTTP rate limit lifted so
that the role matrix and Schemathesis are never throttled."""

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from fivetype.stack import SERVICES, Stack
from tests.conftest import Databases, SecureNats, start_platform, start_secure_nats

UNIT_A, UNIT_B = "360102", "360103"
CHANNEL = "hotline_12345"
# The fuzzers' size: 1 in make test; `make fuzz` raises it (FUZZ_SCALE).
FUZZ_SCALE = float(os.environ.get("FIVETYPE_FUZZ_SCALE", "1"))


@dataclass
class SecurePlatform:
    stack: Stack
    nats: SecureNats


@pytest.fixture(scope="package")
def secure_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecurePlatform]:
    directory: Path = tmp_path_factory.mktemp("secure")
    nats = start_secure_nats(directory, [UNIT_A, UNIT_B], [CHANNEL])
    databases = Databases("sqlite", directory, None)
    unlimited = {f"FIVETYPE_{name.upper()}_RATE_LIMIT": "" for name in SERVICES}
    stack = start_platform(directory, nats.url, databases, {**nats.service_env(), **unlimited})
    yield SecurePlatform(stack, nats)
    stack.stop(grace=5)
    nats.server.stop()


@pytest.fixture(scope="package")
def platform(secure_platform: SecurePlatform) -> Stack:
    return secure_platform.stack
