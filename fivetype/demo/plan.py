"""The demo's scenario, decided from a seed alone: which unit reports on time, late or never,
what the inspectors find and whether it is rectified, which 12345 requests arrive, how fast they
are closed and how they are rated. Pure: the same seed and units give the same steps, each an
HTTP request the player sends when the programme clock reaches its time."""

import hashlib
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from services.runtime.workdays import PROGRAMME_TZ

# Measures the demo assigns (digital government, business environment, government services,
# urgent public needs, bottlenecks, work style): a mix of types, all in the 2026 catalogue.
MEASURES = ("M07", "M10", "M12", "M13", "M14", "M17")
MILESTONE_MONTHS = (2, 4, 6, 8, 10, 12)  # one milestone every two months, due at month end
SEVERITIES = {"minor": 3, "general": 4, "serious": 2, "critical": 1}
# Where the demo's findings come from (问题来源), and which need a 整改方案 first (限期整改).
SOURCES = ("supervision", "supervision", "audit", "inspection_tour", "media", "hotline_12345")
PLANNED_SEVERITIES = ("serious", "critical")
PUBLIC_PEER_GROUPS = ("county", "devzone")  # where the 12345 hotline's requests go
INSPECTOR = {"role": "inspector", "id": "insp-demo", "name": "市五型办督查组"}
CHANNEL = {"role": "channel", "id": "hotline-12345", "name": "12345热线"}


class Habit(StrEnum):
    """How a unit behaves all year; each deadline is then drawn from its odds."""

    PUNCTUAL = "punctual"
    LATE = "late"
    SILENT = "silent"


# Odds of (on time, late, never) for a deadline, and of a satisfied rating, per habit.
ODDS = {
    Habit.PUNCTUAL: ((0.9, 0.1, 0.0), 0.95),
    Habit.LATE: ((0.3, 0.5, 0.2), 0.75),
    Habit.SILENT: ((0.05, 0.25, 0.7), 0.5),
}
HABIT_WEIGHTS = {Habit.PUNCTUAL: 5, Habit.LATE: 3, Habit.SILENT: 2}


@dataclass(frozen=True)
class Unit:
    code: str
    peer_group: str


@dataclass(frozen=True)
class Step:
    at: datetime  # on the programme clock (China time)
    order: int  # keeps steps at the same instant in the order they were planned
    service: str
    path: str
    body: dict[str, Any]
    label: str


@dataclass(frozen=True)
class Plan:
    seed: int
    year: int
    habits: dict[str, Habit]
    steps: list[Step]

    @property
    def start(self) -> datetime:
        return programme_start(self.year)


def programme_start(year: int) -> datetime:
    """Where the demo's clock starts: the first morning of the programme year."""
    return datetime.combine(date(year, 1, 1), time(8), PROGRAMME_TZ)


def _evidence(uri: str) -> list[dict[str, str]]:
    return [{"uri": uri, "sha256": hashlib.sha256(uri.encode()).hexdigest()}]


def _month_end(year: int, month: int) -> date:
    first_of_next = date(year + month // 12, month % 12 + 1, 1)
    return first_of_next - timedelta(days=1)


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), PROGRAMME_TZ)


class _Planner:
    def __init__(self, seed: int, year: int, units: list[Unit]):
        self.rng = random.Random(seed)
        self.seed, self.year = seed, year
        self.units = sorted((u for u in units if u.peer_group), key=lambda u: u.code)
        self.habits = {
            u.code: self.rng.choices(list(HABIT_WEIGHTS), list(HABIT_WEIGHTS.values()))[0]
            for u in self.units
        }
        self.steps: list[Step] = []
        self.year_end = _at(date(year, 12, 31), 23, 59)

    def add(self, at: datetime, service: str, path: str, body: dict[str, Any], label: str) -> None:
        if at <= self.year_end:  # what would happen after the year is not played
            self.steps.append(Step(at, len(self.steps), service, path, body, label))

    def outcome(self, unit: str) -> str:
        odds, _satisfied = ODDS[self.habits[unit]]
        return self.rng.choices(("on_time", "late", "never"), odds)[0]

    def satisfied(self, unit: str) -> bool:
        return self.rng.random() < ODDS[self.habits[unit]][1]


def _assignments(p: _Planner) -> None:
    for unit in p.units:
        for measure in sorted(p.rng.sample(MEASURES, 2)):
            _assignment(p, unit.code, measure)


def _assignment(p: _Planner, unit: str, measure: str) -> None:
    assignment_id = f"demo{p.seed}-{p.year}-{measure}-{unit}"
    milestones = [
        {
            "milestone_id": f"m{n}",
            "title": f"{measure} 第{n}阶段任务",
            "due_date": _month_end(p.year, month).isoformat(),
        }
        for n, month in enumerate(MILESTONE_MONTHS, start=1)
    ]
    body = {
        "assignment_id": assignment_id,
        "year": p.year,
        "measure_code": measure,
        "lead_unit": unit,
        "start_on": date(p.year, 1, 1).isoformat(),
        "created_by": "office",
        "milestones": milestones,
    }
    p.add(_at(date(p.year, 1, 1), 8), "measures", "/v1/assignments", body, f"assign {measure}")
    for n, milestone in enumerate(milestones, start=1):
        due = date.fromisoformat(milestone["due_date"])
        _reports(p, unit, measure, assignment_id, n, due)


def _reports(p: _Planner, unit: str, measure: str, assignment: str, n: int, due: date) -> None:
    outcome = p.outcome(unit)
    if outcome == "never":
        return
    halfway = due - timedelta(days=25 + p.rng.randint(0, 10))
    done = due - timedelta(days=p.rng.randint(1, 10)) if outcome == "on_time" else due
    if outcome == "late":
        done = due + timedelta(days=p.rng.randint(3, 20))
    for percent, day in ((50.0, halfway), (100.0, done)):
        at = _at(day, 10, p.rng.randint(0, 59))
        report = {
            "report_id": f"{assignment}-m{n}-{int(percent)}",
            "unit": unit,
            "measure_code": measure,
            "assignment_id": assignment,
            "milestone_id": f"m{n}",
            "percent_complete": percent,
            "summary": f"{measure} 第{n}阶段完成{int(percent)}%",
            "reported_at": at.isoformat(),
            "reporter": f"{unit} 办公室",
            "evidence": _evidence(f"https://oa.example/{assignment}/m{n}/{int(percent)}"),
        }
        label = f"{unit} reports {measure} m{n} {int(percent)}% ({outcome})"
        p.add(at, "measures", f"/v1/units/{unit}/progress-reports", report, label)


def _inspections(p: _Planner) -> None:
    for month in range(1, 13):
        day = date(p.year, month, p.rng.randint(5, 20))
        targets = sorted(p.rng.sample([u.code for u in p.units], 3))
        inspection_id = f"demo{p.seed}-{p.year}-DC-{month:02d}"
        body = {
            "inspection_id": inspection_id,
            "actor": INSPECTOR,
            "kind": p.rng.choice(("comprehensive", "special", "routine")),
            "method": p.rng.choice(("scheduled", "unannounced")),
            "title": f"{p.year}年{month}月“五型”政府建设督查",
            "inspector": INSPECTOR["name"],
            "inspected_on": day.isoformat(),
            "target_units": targets,
        }
        p.add(_at(day, 9), "inspections", "/v1/inspections", body, f"inspection {month:02d}")
        for unit in targets:
            _finding(p, inspection_id, unit, day)


def _finding(p: _Planner, inspection_id: str, unit: str, day: date) -> None:
    finding_id = f"{inspection_id}-{unit}"
    due = day + timedelta(days=20)
    severity = p.rng.choices(list(SEVERITIES), list(SEVERITIES.values()))[0]
    planned = severity in PLANNED_SEVERITIES
    body = {
        "finding_id": finding_id,
        "actor": INSPECTOR,
        "unit": unit,
        "severity": severity,
        "category": {"measure_code": p.rng.choice(MEASURES)},
        "source": p.rng.choice(SOURCES),
        "rectification_category": "time_limited" if planned else "immediate",
        "title": "督查发现的问题需限期整改" if planned else "督查发现的问题需立行立改",
        "due_date": due.isoformat(),
    }
    label = f"finding {severity} for {unit}"
    p.add(_at(day, 11), "inspections", f"/v1/inspections/{inspection_id}/findings", body, label)
    outcome = p.outcome(unit)
    if outcome == "never":
        return
    staff = {"role": "unit", "id": f"{unit}-staff", "name": "整改经办人", "unit": unit}
    path = f"/v1/findings/{finding_id}"
    if planned:  # a late unit files its plan after the 5 working days it has
        filed = _at(day + timedelta(days=1 if outcome == "on_time" else 10), 10)
        plan_body = {
            "actor": staff,
            "measures": ["逐项制定整改措施", "建立长效机制"],
            "responsible_leader": "分管负责同志",
            "responsible_person": "整改牵头科室负责人",
        }
        p.add(filed, "inspections", f"{path}/plan", plan_body, f"{unit} plans")
    offset = p.rng.randint(2, 18) if outcome == "on_time" else p.rng.randint(22, 40)
    submitted = _at(day + timedelta(days=offset), 15)
    submission = {
        "actor": staff,
        "summary": "已完成整改并建立长效机制",
        "evidence": _evidence(f"https://oa.example/{finding_id}/rectification"),
    }
    p.add(submitted, "inspections", f"{path}/submissions", submission, f"{unit} rectifies")
    closed = submitted + timedelta(days=2)
    close_out = {
        "actor": INSPECTOR,
        "opinion": "经核查，整改措施落实到位，同意销号",
        "approved_by": "市“五型”办主任",
    }
    p.add(closed, "inspections", f"{path}/close", close_out, f"close {finding_id}")


def _public_requests(p: _Planner) -> None:
    for unit in (u.code for u in p.units if u.peer_group in PUBLIC_PEER_GROUPS):
        for month in range(1, 13):
            for n in range(1, 3):
                _public_request(p, unit, f"12345-demo{p.seed}-{unit}-{month:02d}{n}", month)


def _public_request(p: _Planner, unit: str, request_id: str, month: int) -> None:
    received = _at(date(p.year, month, p.rng.randint(1, 26)), p.rng.randint(8, 17))
    due = received + timedelta(days=3)
    path = f"/v1/units/{unit}/public-requests/{request_id}/steps"
    step = {
        "step": "received",
        "channel": "hotline_12345",
        "title": p.rng.choice(("小区路灯不亮", "道路破损", "噪音扰民", "办事排队时间长")),
        "received_at": received.isoformat(),
        "due_at": due.isoformat(),
    }
    p.add(received, "inspections", path, {"actor": CHANNEL, "step": step}, f"12345 to {unit}")
    outcome = p.outcome(unit)
    if outcome == "never":
        return
    closed = received + timedelta(hours=p.rng.randint(4, 60) if outcome == "on_time" else 100)
    step = {"step": "closed", "closed_at": closed.isoformat(), "result": "已办结"}
    p.add(closed, "inspections", path, {"actor": CHANNEL, "step": step}, f"{unit} closes 12345")
    rated = closed + timedelta(hours=20)
    rating = p.rng.choice((3, 4, 5)) if p.satisfied(unit) else p.rng.choice((1, 2))
    rating_step = {"step": "rated", "rated_at": rated.isoformat(), "rating": rating}
    body = {"actor": CHANNEL, "step": rating_step}
    p.add(rated, "inspections", path, body, f"12345 rated {rating}")


def plan(seed: int, year: int, units: list[Unit]) -> Plan:
    """Every step of the year, in the order of the programme clock."""
    planner = _Planner(seed, year, units)
    _assignments(planner)
    _inspections(planner)
    _public_requests(planner)
    return Plan(seed, year, planner.habits, sorted(planner.steps, key=lambda s: (s.at, s.order)))
