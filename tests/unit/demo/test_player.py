"""The demo's player against a real HTTP server that limits its clients as the services do:
a 429 is waited out (its Retry-After) and the step sent again, so a fast demo loses none."""

import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from fivetype.demo.plan import Plan, Reading, Step, programme_start
from fivetype.demo.player import play, stack_env


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
