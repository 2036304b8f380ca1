"""Plays a demo plan on the running stack: moves the programme clock (the file the services read
"now" from) to each step's time and sends the step
to the service's real HTTP API, with the office's token or, for a step a unit takes (its appeal),
the unit's own. A step that reads first (`Reading`) is sent with the body its answer finishes.
Programme time runs at `speed` days per real second, but never passes a step not yet sent, so a
watcher cannot call a deadline missed that the plan meets on time; and it rests at the start of
every day for at least `DAY_AT_LEAST`, so the services' jobs see each day: `speed` above two days
a second plays no faster."""

import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as time_of_day
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fivetype.apiclient import client, unit_headers
from fivetype.demo.plan import Plan, Step, Unit
from services.runtime.clock import FileClock

if TYPE_CHECKING:
    import httpx

DAY = 86_400.0
# Where the services read the programme clock from, under the data folder.
CLOCK_FILE = Path("demo") / "clock"
# After the last step the clock moves on two days, so December's deadlines are called missed
# and December's 12345 indicators are published (24 hours after the month ends).
EPILOGUE = timedelta(days=2)
# Real seconds a programme day lasts at the least (at the default speed, two days a second), and
# how often the demo stack's jobs look at the clock (`stack_env`), so each of them sees every
# day. Faster, the jobs and the events between the services fell behind the clock: a year at
# 40 days a second had fewer 通报 and 督办 than at 2, and other totals.
DAY_AT_LEAST = 0.5
JOB_SECONDS = "0.25"


def clock_path(data_dir: Path) -> Path:
    return data_dir.resolve() / CLOCK_FILE


def stack_env(data_dir: Path, plan_start_iso: str) -> dict[str, str]:
    """The settings a stack needs to follow the demo's clock, with its watchers, the indicator
    publisher and the ladder's jobs (督办, the weekly 通报, the daily digest) looking every quarter
    second of real time (the indicators, monthly, every two) rather than every few minutes."""
    path = clock_path(data_dir)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(plan_start_iso, encoding="utf-8")
    return {
        "FIVETYPE_MEASURES_CLOCK_FILE": str(path),
        "FIVETYPE_MEASURES_DEADLINE_SWEEP_SECONDS": JOB_SECONDS,
        "FIVETYPE_INSPECTIONS_CLOCK_FILE": str(path),
        "FIVETYPE_INSPECTIONS_DEADLINE_SWEEP_SECONDS": JOB_SECONDS,
        "FIVETYPE_INSPECTIONS_INDICATORS_PUBLISH_SECONDS": "2",
        "FIVETYPE_NOTIFICATIONS_CLOCK_FILE": str(path),
        "FIVETYPE_SCORING_CLOCK_FILE": str(path),
        "FIVETYPE_NOTIFICATIONS_ESCALATION_SWEEP_SECONDS": JOB_SECONDS,
        "FIVETYPE_NOTIFICATIONS_BULLETIN_CHECK_SECONDS": JOB_SECONDS,
        "FIVETYPE_NOTIFICATIONS_DIGEST_CHECK_SECONDS": JOB_SECONDS,
    }


def units_of(measures_url: str, data_dir: Path) -> list[Unit]:
    with client(measures_url, data_dir) as http:
        response = http.get("/v1/units")
        response.raise_for_status()
    return [
        Unit(u["code"], u["peer_group"] or "", u.get("name_zh") or "")
        for u in response.json()["units"]
    ]


@dataclass
class Tally:
    sent: int = 0
    refused: list[str] = field(default_factory=list)  # "<label>: <status> <code>"

    def count(self, step: Step, response: "httpx.Response") -> bool:
        """Whether the service accepted; a refusal is noted with its problem code."""
        if response.status_code < 400:
            return True
        code = response.json().get("code", "") if response.content else ""
        self.refused.append(f"{step.label}: {response.status_code} {code}")
        return False


OnStep = Callable[[Step, Tally], None]


def play(
    plan: Plan,
    urls: dict[str, str],
    data_dir: Path,
    speed: float,
    stop: threading.Event,
    on_step: OnStep,
    day_at_least: float = DAY_AT_LEAST,
) -> Tally:
    """Send every step in time order; returns early when `stop` is set. A refusal is counted,
    not fatal: a second run of the same seed on the same data is answered as before where a
    step only creates or reports (ids and fingerprints make it idempotent), and refused where it
    would move an item past where it already is (a closed rectification, a rated suggestion, an
    appeal after 定档)."""
    clock, tally = FileClock(clock_path(data_dir)), Tally()
    started = time.monotonic()
    with ExitStack() as clients:
        services = {
            name: clients.enter_context(client(url, data_dir)) for name, url in urls.items()
        }
        for at, step in _timeline(plan):
            days = (at.date() - plan.start.date()).days
            due = started + max(
                (at - plan.start).total_seconds() / DAY / speed, days * day_at_least
            )
            if stop.wait(max(0.0, due - time.monotonic())):
                return tally
            clock.set(at)
            if step is None:  # a day begins: the clock rests there for the jobs to see it
                continue
            _send(services[step.service], step, data_dir, tally, stop)
            tally.sent += 1
            on_step(step, tally)
    clock.set(plan.steps[-1].at + EPILOGUE if plan.steps else plan.start)
    return tally


def _timeline(plan: Plan) -> list[tuple[datetime, Step | None]]:
    """The steps in time order, with the first moment of every day the year reaches as a stop
    of its own (None), before any step at that moment."""
    if not plan.steps:
        return []
    day = datetime.combine(plan.start.date() + timedelta(days=1), time_of_day(0), plan.start.tzinfo)
    stops: list[tuple[datetime, int, Step | None]] = []
    while day <= plan.steps[-1].at:
        stops.append((day, -1, None))
        day += timedelta(days=1)
    stops += [(step.at, step.order, step) for step in plan.steps]
    return [(at, step) for at, _order, step in sorted(stops, key=lambda s: (s[0], s[1]))]


def _send(
    http: "httpx.Client", step: Step, data_dir: Path, tally: Tally, stop: threading.Event
) -> None:
    """Read what the step needs, if anything, then send it as its actor."""
    headers = unit_headers(data_dir, step.actor) if step.actor else {}
    body: dict[str, Any] = step.body
    if (reads := step.reads) is not None:
        answer = _within_limit(lambda: http.get(reads.path, headers=headers), stop)
        if not tally.count(step, answer):
            return
        body = reads.finish(answer.json(), body)
    tally.count(step, _within_limit(lambda: http.post(step.path, json=body, headers=headers), stop))


def _within_limit(send: Callable[[], "httpx.Response"], stop: threading.Event) -> "httpx.Response":
    """The service's answer once its rate limit lets the request through: a fast demo sends a
    year's steps in minutes, more than a client may per minute, so a 429 is waited out (its
    Retry-After) and the step sent again, as any client should, rather than lost."""
    while True:
        response = send()
        if response.status_code != 429 or stop.is_set():
            return response
        stop.wait(float(response.headers.get("Retry-After", "1")))
