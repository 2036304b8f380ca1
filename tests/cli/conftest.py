"""One platform for the command-line tests: nats-server and the four services on SQLite, following
the demo's programme clock (as `fivetype run --demo` runs them), so the demo can play on it."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from fivetype.cli import app
from fivetype.demo.plan import programme_start
from fivetype.demo.player import stack_env
from fivetype.stack import Stack
from tests.conftest import Databases, start_nats, start_platform

runner = CliRunner()


@pytest.fixture(scope="package")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    directory: Path = tmp_path_factory.mktemp("cli-platform")
    nats = start_nats(directory)
    demo_clock = stack_env(directory, programme_start(2026).isoformat())
    stack = start_platform(directory, nats.url, Databases("sqlite", directory, None), demo_clock)
    yield stack
    stack.stop(grace=5)
    nats.stop()


def fivetype(stack: Stack, *args: str, **env: str) -> Result:
    """Run a command as a user would against this platform: its URLs in the environment, and a
    locale that is not English (so Chinese, as the office reads it) unless a test names one."""
    urls = {f"FIVETYPE_{s.name.upper()}_URL": s.url for s in stack.services}
    env = {**urls, "NATS_URL": stack.nats_url, "LC_ALL": "C.UTF-8", **env}
    return runner.invoke(app, list(args), env=env, catch_exceptions=False)
