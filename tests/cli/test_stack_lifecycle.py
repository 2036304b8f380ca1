"""`fivetype stack start` runs the embedded stack in the background and returns once it is ready;
`status` then finds it through the data folder; `stack stop` stops it. Run as separate processes,
as a script would (a stack started from inside the test process would be its child)."""

import json
import os
import subprocess
import sys
from pathlib import Path

from fivetype import state
from tests.conftest import scaled


def fivetype(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FIVETYPE_", "NATS_"))}
    return subprocess.run(
        [sys.executable, "-m", "fivetype", *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=scaled(180),
        env=env,
        check=False,
    )


def test_start_status_stop(tmp_path: Path) -> None:
    started = fivetype(tmp_path, "stack", "start", "--timeout", str(scaled(120)))
    assert started.returncode == 0, started.stdout + started.stderr
    running = state.read(tmp_path)
    assert running is not None and set(running.services) == {
        "measures",
        "inspections",
        "scoring",
        "notifications",
    }
    try:
        again = fivetype(tmp_path, "stack", "start")
        assert again.returncode == 0 and "already running" in again.stdout
        status = fivetype(tmp_path, "status", "--json")
        assert status.returncode == 0, status.stdout + status.stderr
        urls = {s["name"]: s["url"] for s in json.loads(status.stdout)["services"]}
        assert urls == running.services
    finally:
        stopped = fivetype(tmp_path, "stack", "stop")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert not state.alive(running.pid) and state.read(tmp_path) is None
    assert "no stack is running" in fivetype(tmp_path, "stack", "stop").stdout
