"""The README's run command: `fivetype run` brings the platform up on an embedded nats-server
and SQLite files, Ctrl-C stops everything cleanly, and a second start reuses the same data."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from fivetype.ports import free_port
from fivetype.stack import SERVICES
from tests.conftest import eventually, scaled
from tests.e2e.test_progress_flow import m07_assignment, report

FIVETYPE = str(Path(sys.executable).parent / "fivetype")


def start(data_dir: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [FIVETYPE, "run", "--data-dir", str(data_dir), "--nats-port", env["NATS_PORT"]],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        stdin=subprocess.DEVNULL,
    )


def wait_running(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    output = []
    for line in process.stdout:
        output.append(line)
        if "数据：" in line:  # after the endpoint table and the token's path
            return "".join(output)
    raise AssertionError("fivetype run exited early:\n" + "".join(output))


def interrupt(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGINT)
    remaining, _ = process.communicate(timeout=scaled(60))
    assert process.returncode == 0, remaining
    return remaining


def test_run_starts_everything_and_restarts_on_the_same_data(tmp_path: Path) -> None:
    ports = {name: free_port() for name in SERVICES}
    # No secret given: the stack makes its own and hands the operator an admin token.
    env = {k: v for k, v in os.environ.items() if k not in {"NATS_URL", "FIVETYPE_AUTH_SECRET"}}
    env |= {f"FIVETYPE_{name.upper()}_HTTP_PORT": str(port) for name, port in ports.items()}
    env |= {"NATS_PORT": str(free_port()), "COLUMNS": "200", "LC_ALL": "C.UTF-8"}  # Chinese
    data_dir = tmp_path / "data"
    measures = f"http://127.0.0.1:{ports['measures']}"
    scoring = f"http://127.0.0.1:{ports['scoring']}"

    first = start(data_dir, env)
    try:
        table = wait_running(first)
        token_file = data_dir / "office-admin.token"
        assert str(token_file) in table.replace("\n", "")
        assert (data_dir / "auth-secret").stat().st_mode & 0o777 == 0o600
        http = httpx.Client(headers={"Authorization": f"Bearer {token_file.read_text().strip()}"})
        assert httpx.get(f"{measures}/v1/catalogue").status_code == 401
        for name, port in ports.items():
            assert f"{name}" in table and f"http://127.0.0.1:{port}" in table
        assert "nats://127.0.0.1:" + env["NATS_PORT"] in table
        assigned = http.post(f"{measures}/v1/assignments", json=m07_assignment("360102"))
        assert assigned.status_code == 201, assigned.text
        posted = http.post(
            f"{measures}/v1/units/360102/progress-reports", json=report("360102", "demo-1")
        )
        assert posted.status_code == 201
        eventually(lambda: http.get(f"{scoring}/v1/units/360102/progress").json()["reports"])
        catalogue = http.get(f"{measures}/v1/catalogue").json()
        assert len(catalogue["measures"]) == 22
    finally:
        assert "已停止。" in interrupt(first)

    assert {p.name for p in data_dir.glob("*.db")} == {f"{name}.db" for name in SERVICES}
    second = start(data_dir, env)
    try:
        wait_running(second)
        http = httpx.Client(headers={"Authorization": f"Bearer {token_file.read_text().strip()}"})
        again = http.get(f"{scoring}/v1/units/360102/progress").json()
        assert again["reports"] == 1
        stored = http.get(f"{measures}/v1/units/360102/progress-reports/demo-1")
        assert stored.status_code == 200
    finally:
        interrupt(second)
