"""`fivetype stack start` runs the embedded stack in the background and returns once it is ready;
`status` then finds it through the data folder; the README's integration walk-through runs on
it as written; `stack stop` stops it. Run as separate processes, as a script would (a stack
started from inside the test process would be its child). The tests share one data folder: each
first puts the stack in the state it needs (stopped for `start`, running for the others), so a
run in the natural order starts it once."""

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from fivetype import state
from fivetype.ports import free_port
from fivetype.state import SERVICES
from tests.conftest import scaled

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = "## Integrating a unit's system"
BLOCK = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Background:
    folder: Path  # where a user would stand: the stack's data is ./data
    env: dict[str, str]
    ports: dict[str, int]

    @property
    def data_dir(self) -> Path:
        return self.folder / "data"

    def fivetype(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "fivetype", *args, "--data-dir", str(self.data_dir)],
            cwd=self.folder,
            capture_output=True,
            text=True,
            timeout=scaled(180),
            env=self.env,
            check=False,
        )


@pytest.fixture(scope="module")
def background(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Background]:
    # Free ports of our own, so parallel runs do not collide; a locale that is not English.
    ports = {name: free_port() for name in SERVICES}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FIVETYPE_", "NATS_"))}
    env |= {f"FIVETYPE_{name.upper()}_HTTP_PORT": str(port) for name, port in ports.items()}
    env |= {"PATH": f"{Path(sys.executable).parent}:{env['PATH']}", "COLUMNS": "100"}
    env |= {"LC_ALL": "C.UTF-8"}
    stack = Background(tmp_path_factory.mktemp("background"), env, ports)
    yield stack
    if (running := state.read(stack.data_dir)) is not None:  # a failed test left it running
        stack.fivetype("stack", "stop")
        assert not state.alive(running.pid)


def _running(stack: Background) -> state.StackState:
    """The background stack, started first if it is not running (an earlier test stopped it,
    or none started it yet)."""
    if (running := state.read(stack.data_dir)) is None:
        started = stack.fivetype("stack", "start")
        assert started.returncode == 0, started.stdout + started.stderr
        running = state.read(stack.data_dir)
    assert running is not None
    return running


def _stopped(stack: Background) -> None:
    """The background stack, stopped first if it is running (an earlier test started it)."""
    if (running := state.read(stack.data_dir)) is not None:
        stopped = stack.fivetype("stack", "stop")
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
        assert not state.alive(running.pid)


def test_start_and_status(background: Background) -> None:
    _stopped(background)
    started = background.fivetype("stack", "start")
    assert started.returncode == 0, started.stdout + started.stderr
    running = state.read(background.data_dir)
    assert running is not None and set(running.services) == set(SERVICES)
    again = background.fivetype("stack", "start")
    assert again.returncode == 0 and "已在运行" in again.stdout and "接口地址" in again.stdout
    status = background.fivetype("status", "--json")
    assert status.returncode == 0, status.stdout + status.stderr
    urls = {s["name"]: s["url"] for s in json.loads(status.stdout)["services"]}
    assert urls == running.services


def walkthrough() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text[text.index(SECTION) :]
    section = section[: section.index("\n## ", len(SECTION))]
    return BLOCK.findall(section)


def test_the_readme_walkthrough_works_pasted_in_order(background: Background) -> None:
    """Its shell blocks, in order, in one shell, in the folder holding ./data. The one change
    made to the text is the services' ports, chosen free by the fixture."""
    _running(background)
    blocks = walkthrough()
    assert len(blocks) >= 4 and "UNIT_TOKEN=$(" in blocks[0] and "sha256sum" in "".join(blocks)
    script = ["set -euo pipefail"]
    for number, block in enumerate(blocks, start=1):
        for name, default in SERVICES.items():
            block = block.replace(f"127.0.0.1:{default}", f"127.0.0.1:{background.ports[name]}")
        script += [f"echo '--- step {number}'", block]
    ran = subprocess.run(
        ["bash", "-c", "\n".join(script)],
        cwd=background.folder,
        env=background.env,
        capture_output=True,
        text=True,
        timeout=scaled(180),
    )
    output = ran.stdout + ran.stderr
    assert ran.returncode == 0, output
    assert f"--- step {len(blocks)}" in output
    assert '"assignment_id":"2026-M07-360102"' in output.replace(" ", "")
    assert output.count('"report_id":"2026-W48-M07"') == 2  # stored, then read back
    assert "东湖区（360102）" in output and "计分明细" in output  # the scorecard, in Chinese


def test_stop(background: Background) -> None:
    running = _running(background)
    stopped = background.fivetype("stack", "stop")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert not state.alive(running.pid) and state.read(background.data_dir) is None
    assert "没有正在运行的平台" in background.fivetype("stack", "stop").stdout
    english = background.fivetype("stack", "stop", "--lang", "en").stdout
    assert "no stack is running" in english
