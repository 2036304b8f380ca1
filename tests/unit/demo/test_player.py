"""The demo's player against a real HTTP server that limits its clients as the services do:
a 429 is waited out (its Retry-After) and the step sent again, so a fast demo loses none."""

import itertools
import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from fivetype.demo import player
from fivetype.demo.plan import Plan, Reading, Step, programme_start
from fivetype.demo.player import play, stack_env
from services.runtime.clock import FileClock


class LimitedServer(ThreadingHTTPServer):
    """Two requests a second, as a service's `RATE_LIMIT` of "2/second" would allow; keeps the
    bodies of the steps it accepted."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.lock = threading.Lock()
        self.window: list[float] = []
        self.accepted: list[str] = []
        self.limited = 0

    def admit(self) -> bool:
        with self.lock:
            now = time.monotonic()
            self.window = [t for t in self.window if now - t < 1.0]
            if len(self.window) >= 2:
                self.limited += 1
                return False
            self.window.append(now)
            return True


class Handler(BaseHTTPRequestHandler):
    server: LimitedServer

    def do_GET(self) -> None:
        self._answer({"seen": len(self.server.accepted)})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        if self._answer({}):
            self.server.accepted.append(body["n"])

    def _answer(self, document: dict[str, Any]) -> bool:
        admitted = self.server.admit()
        content = json.dumps(document if admitted else {"code": "rate_limited"}).encode()
        self.send_response(200 if admitted else 429)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(content)))
        if not admitted:
            self.send_header("retry-after", "1")
        self.end_headers()
        self.wfile.write(content)
        return admitted

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def service() -> Iterator[LimitedServer]:
    server = LimitedServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    thread.join()


def test_a_rate_limited_step_is_sent_again_once_the_limit_allows(
    service: LimitedServer, tmp_path: Path
) -> None:
    start = programme_start(2026)
    stack_env(tmp_path, start.isoformat())  # the programme clock's file, as a demo stack has
    reading = Reading("/seen", lambda answer, body: body | {"read": answer["seen"]})
    steps = [
        Step(
            at=start + timedelta(minutes=n),
            order=n,
            service="measures",
            path="/steps",
            body={"n": f"s{n}"},
            label=f"step {n}",
            reads=reading if n % 3 == 0 else None,
        )
        for n in range(7)
    ]
    plan = Plan(seed=1, year=2026, habits={}, steps=steps)
    url = f"http://127.0.0.1:{service.server_address[1]}"
    # Programme time a million times real time: every step is due at once.
    tally = play(plan, {"measures": url}, tmp_path, 1e6, threading.Event(), lambda *_: None)
    assert service.limited > 0  # the limit was met, and waited out
    assert tally.refused == []
    assert service.accepted == [f"s{n}" for n in range(7)]


def test_every_day_lasts_long_enough_for_the_jobs_to_see_it(
    service: LimitedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """However fast the demo plays, the programme clock rests in every day it passes through,
    a day without a step included, for at least `day_at_least` real seconds."""
    start = programme_start(2026)
    stack_env(tmp_path, start.isoformat())
    first, last = start + timedelta(hours=2), start + timedelta(days=4, hours=2)
    steps = [
        Step(at=at, order=n, service="measures", path="/steps", body={"n": f"s{n}"}, label="")
        for n, at in enumerate((first, last))
    ]
    began: dict[str, float] = {}  # each day the clock was set to → when

    class Watched(FileClock):
        def set(self, moment: datetime) -> None:
            began.setdefault(moment.date().isoformat(), time.monotonic())
            super().set(moment)

    monkeypatch.setattr(player, "FileClock", Watched)
    url = f"http://127.0.0.1:{service.server_address[1]}"
    plan = Plan(seed=1, year=2026, habits={}, steps=steps)
    tally = player.play(
        plan, {"measures": url}, tmp_path, 1e6, threading.Event(), lambda *_: None, 0.2
    )
    assert tally.refused == [] and service.accepted == ["s0", "s1"]
    # Days 1-2 to 1-4 hold no step; each day rests 0.2 s before the next begins (the timer
    # wakes within a millisecond).
    days = ["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04", "2026-01-05"]
    assert list(began) == [*days, "2026-01-07"]  # and the epilogue, two days on
    dwelt = [b - a for a, b in itertools.pairwise(began[day] for day in days)]
    assert min(dwelt[1:]) >= 0.19, dwelt  # (the first day is timed from the play's start)
