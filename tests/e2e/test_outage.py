"""A service stays ready while NATS is down (the outbox holds the events), and a report accepted
then is published once NATS is back, exactly once."""

from pathlib import Path

import httpx

from contracts import streams, subjects
from tests import auth, busclient
from tests.conftest import Databases, eventually, start_nats, start_platform
from tests.e2e.test_progress_flow import assign_m07, progress, report


def test_report_accepted_during_nats_outage_is_published_once(
    databases: Databases, tmp_path: Path
) -> None:
    nats = start_nats(tmp_path)
    platform = start_platform(tmp_path, nats.url, databases)
    try:
        measures = httpx.Client(
            base_url=platform.service("measures").url, timeout=10, headers=auth.headers()
        )
        assign_m07(platform, "360124")
        nats.stop()
        eventually(lambda: measures.get("/readyz").json()["details"]["nats"] == "disconnected")
        readiness = measures.get("/readyz")
        assert readiness.status_code == 200, readiness.text

        accepted = measures.post(
            "/v1/units/360124/progress-reports", json=report("360124", "outage-1")
        )
        assert accepted.status_code == 201, accepted.text

        nats.start()
        eventually(lambda: progress(platform, "360124")["reports"] == 1, timeout=30)
        eventually(lambda: measures.get("/readyz").json()["details"]["nats"] == "connected")
        published = busclient.read(
            nats.url, subjects.event("ProgressReported", "360124"), streams.EVENTS.name
        )
        assert [m.headers["Nats-Msg-Id"] for m in published] == [accepted.json()["event_id"]]
    finally:
        platform.stop(grace=5)
        nats.stop()
