"""One platform for the security tests: the four services on SQLite and a real nats-server,
with the rate limit raised so that the role matrix and Schemathesis are never throttled."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from fivetype.stack import SERVICES, Stack
from tests.conftest import Databases, start_nats, start_platform


@pytest.fixture(scope="package")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    directory: Path = tmp_path_factory.mktemp("security")
    nats = start_nats(directory)
    unlimited = {f"FIVETYPE_{name.upper()}_RATE_LIMIT": "" for name in SERVICES}
    stack = start_platform(
        directory, nats.url, Databases("sqlite", directory, None), extra_env=unlimited
    )
    yield stack
    stack.stop(grace=5)
    nats.stop()
