"""The integrator example runs as a unit's system would: a separate Python process with only the
contract files, against a real nats-server and the measures service. Its valid report is
accepted and its invalid one comes back as an IntakeRejected."""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from fivetype.natsserver import NatsServer
from fivetype.ports import free_port
from fivetype.stack import ServiceProcess, Stack
from tests import auth
from tests.conftest import scaled, start_nats

EXAMPLE = Path("examples/integrator/report_progress.py")
UNIT, MEASURE = "360102", "M07"


@pytest.fixture(scope="module")
def measures(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[NatsServer, str]]:
    directory = tmp_path_factory.mktemp("integrator")
    nats = start_nats(directory)
    env = {**os.environ, "FIVETYPE_MEASURES_HTTP_PORT": str(free_port())}
    service: ServiceProcess = Stack(directory, nats.url, env=env).service("measures")
    service.start()
    try:
        Stack.wait_ready([service], timeout=scaled(60))
        yield nats, service.url
    finally:
        service.terminate()
        service.wait(10)
        nats.stop()


def test_a_valid_report_is_accepted_and_an_invalid_one_rejected(
    measures: tuple[NatsServer, str],
) -> None:
    nats, url = measures
    assignment = {
        "assignment_id": f"2026-{MEASURE}-{UNIT}",
        "year": 2026,
        "measure_code": MEASURE,
        "lead_unit": UNIT,
        "start_on": "2026-01-01",
        "created_by": "office",
        "milestones": [
            {"milestone_id": "m1", "title": "网上可办率达到98%", "due_date": "2026-12-31"}
        ],
    }
    assert (
        httpx.post(
            f"{url}/v1/assignments", json=assignment, timeout=10, headers=auth.headers()
        ).status_code
        == 201
    )
    # Run with an interpreter of its own, from the repository root, as an integrator would.
    finished = subprocess.run(
        [
            sys.executable,
            str(EXAMPLE),
            "--nats-url",
            nats.url,
            "--unit",
            UNIT,
            "--measure",
            MEASURE,
        ],
        capture_output=True,
        text=True,
        timeout=scaled(60),
        check=False,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert "valid report example-" in finished.stdout and ": accepted" in finished.stdout
    assert "rejected: schema_violation" in finished.stdout
    assert "data.percent_complete" in finished.stdout
