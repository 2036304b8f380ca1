"""The embedded stack on one machine, as `fivetype stack start` runs it: two stacks started at
the same moment from two data folders each print and hold addresses of their own, and `status`
of each reports only its own services; a killed nats-server comes back on its port and nothing
reported around its death is lost; a stack started again listens where it did."""

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from nats.js.api import DeliverPolicy

from contracts import subjects
from contracts.envelope import fact_id
from contracts.measures import ProgressReported
from fivetype import state
from fivetype.apiclient import ADMIN_TOKEN_FILE
from fivetype.commands._nats import connect
from fivetype.commands.status import probe
from fivetype.natsserver import announced_name
from tests.conftest import eventually, scaled

UNIT = "360102"
ADDRESS = re.compile(r"(?:http|nats)://127\.0\.0\.1:\d+")


def fivetype(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The command line as a user runs it, on the stack of `data_dir`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FIVETYPE_", "NATS_"))}
    return subprocess.run(
        [sys.executable, "-m", "fivetype", *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=scaled(180),
        env=env,
        check=False,
    )


@dataclass
class Started:
    data_dir: Path
    printed: set[str]  # the addresses `stack start` printed

    @property
    def state(self) -> state.StackState:
        found = state.read(self.data_dir)
        assert found is not None, f"no stack runs from {self.data_dir}"
        return found

    def held(self) -> set[str]:
        return {*self.state.services.values(), self.state.nats_url}


def _command(data_dir: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "fivetype", *args, "--data-dir", str(data_dir)]


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("FIVETYPE_", "NATS_"))}


def start_together(*data_dirs: Path) -> list[Started]:
    """`fivetype stack start` for each folder at the same moment."""
    children = [
        subprocess.Popen(
            _command(d, "stack", "start"), stdout=subprocess.PIPE, text=True, env=_env()
        )
        for d in data_dirs
    ]
    started = []
    for data_dir, child in zip(data_dirs, children, strict=True):
        out, _ = child.communicate(timeout=300)
        assert child.returncode == 0, out + (data_dir / "logs" / "stack.log").read_text()
        started.append(Started(data_dir, set(ADDRESS.findall(out))))
    return started


@pytest.fixture(scope="module")
def stacks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Started]]:
    data_dirs = [tmp_path_factory.mktemp("stack-a"), tmp_path_factory.mktemp("stack-b")]
    try:
        yield start_together(*data_dirs)
    finally:  # also when only one of them started
        stopping = [subprocess.Popen(_command(d, "stack", "stop"), env=_env()) for d in data_dirs]
        for child in stopping:
            child.wait(120)


def answers_as_itself(running: state.StackState) -> bool:
    """Every address of the stack is answered by the process the stack started there."""
    for name, url in running.services.items():
        if httpx.get(f"{url}/healthz", timeout=3).json()["instance"] != running.instances[name]:
            return False
    port = int(running.nats_url.rsplit(":", 1)[1])
    return announced_name(port) == running.instances["nats"]


def all_ready(running: state.StackState) -> bool:
    return all(
        httpx.get(f"{url}/readyz", timeout=3).status_code == 200
        for url in running.services.values()
    )


def status_of(data_dir: Path) -> tuple[int, dict[str, object]]:
    shown = fivetype(data_dir, "status", "--json")
    return shown.returncode, json.loads(shown.stdout)


def test_two_stacks_started_at_once_hold_what_they_print(stacks: list[Started]) -> None:
    first, second = stacks
    assert first.printed == first.held() and second.printed == second.held()
    assert not first.printed & second.printed
    for stack in stacks:
        assert answers_as_itself(stack.state)
        code, shown = status_of(stack.data_dir)
        assert code == 0, shown
        services = shown["services"]
        assert isinstance(services, list)
        assert {s["name"]: s["url"] for s in services} == stack.state.services
        assert all(s["instance"] == s["expected_instance"] and not s["stranger"] for s in services)
    # The second stack's measures service, seen from the first stack's records: a stranger.
    strange = probe(
        "measures",
        second.state.services["measures"],
        expected_instance=first.state.instances["measures"],
    )
    assert strange.stranger and not strange.reachable and not strange.ready


def _children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _cmdline(pid: int) -> bytes:
    return Path(f"/proc/{pid}/cmdline").read_bytes()


def _report(report_id: str) -> dict[str, object]:
    return {
        "report_id": report_id,
        "unit": UNIT,
        "measure_code": "M07",
        "percent_complete": 50,
        "summary": "网上可办率达到95%",
        "reported_at": "2026-06-01T09:00:00+08:00",
        "reporter": "东湖区政务服务中心",
    }


async def _facts(running: state.StackState) -> set[str]:
    """The ids of every ProgressReported of the unit stored in JetStream."""
    seed = None if running.operator_seed is None else Path(running.operator_seed)
    nc = await connect(running.nats_url, seed)
    try:
        subscription = await nc.jetstream().subscribe(
            subjects.event(ProgressReported.NAME, UNIT),
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.ALL,
        )
        found = set()
        while True:
            try:
                found.add(json.loads((await subscription.next_msg(timeout=1)).data)["id"])
            except TimeoutError:
                return found
    finally:
        await nc.close()


def test_a_killed_nats_server_comes_back_on_its_port_and_loses_no_report(
    stacks: list[Started],
) -> None:
    stack = stacks[0]
    before = stack.state
    measures = before.services["measures"]
    token = (stack.data_dir / ADMIN_TOKEN_FILE).read_text().strip()
    headers = {"Authorization": f"Bearer {token}"}
    assignment = {
        "assignment_id": f"2026-M07-{UNIT}",
        "year": 2026,
        "measure_code": "M07",
        "lead_unit": UNIT,
        "start_on": "2026-01-01",
        "created_by": "office",
        "milestones": [{"milestone_id": "m1", "title": "网上可办率98%", "due_date": "2026-12-31"}],
    }
    created = httpx.post(f"{measures}/v1/assignments", json=assignment, headers=headers)
    assert created.status_code == 201, created.text
    emit = ("emit", "progress", UNIT, "--measure", "M07", "--percent", "40", "--wait", "30")
    assert fivetype(stack.data_dir, *emit, "--report-id", "before").returncode == 0

    nats_pid = next(p for p in _children(before.pid) if b"nats-server" in _cmdline(p))
    os.kill(nats_pid, signal.SIGKILL)
    # Reported over HTTP while the broker is down or coming back: stored, its event waits.
    during = httpx.post(
        f"{measures}/v1/units/{UNIT}/progress-reports",
        json=_report("during"),
        headers=headers,
    )
    assert during.status_code == 201, during.text

    eventually(lambda: stack.state.restarts.get("nats") == 1, timeout=30)
    assert stack.state.nats_url == before.nats_url
    eventually(lambda: all_ready(stack.state) and answers_as_itself(stack.state), timeout=60)
    assert fivetype(stack.data_dir, *emit, "--report-id", "after").returncode == 0
    expected = {fact_id(ProgressReported.NAME, UNIT, r) for r in ("before", "during", "after")}
    assert eventually(lambda: expected <= asyncio.run(_facts(stack.state)), timeout=30)


def test_a_stack_started_again_listens_where_it_did(stacks: list[Started]) -> None:
    stack = stacks[1]
    before = stack.held()
    assert fivetype(stack.data_dir, "stack", "stop").returncode == 0
    (again,) = start_together(stack.data_dir)
    assert again.printed == again.held() == before
