"""The demo's scenario, decided from a seed alone: which unit reports on time, late or never,
what the inspectors find and whether it is rectified, which reports the office returns, which
units earn national recognition or a demonstration title, what the supervisors suggest and who
answers, which 12345 requests arrive, how fast they are closed and how they are rated, which unit
the office names in a 专项通报, and which units appeal against their first-quarter results. The
words come from the 2026 catalogue's measures and the way a city's offices write (`content`).
Pure: the same seed and units give the same steps, each an HTTP request the player sends when the
programme clock reaches its time, with a label the progress bar shows in the reader's language. An
appeal's body depends on the unit's card, so such a step says what to read first (`Reading`), and
the player finishes its body from the answer."""

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from contracts.inspections import SEVERITY_NAMES, Severity
from fivetype.demo import appeals, content
from fivetype.lang import say
from services.measures.domain.recurrence import TEMPLATES, ObligationKind
from services.runtime.workdays import PROGRAMME_TZ, load_calendar

# Measures the demo assigns (digital government, business environment, government services,
# urgent public needs, bottlenecks, work style): a mix of types, all in the 2026 catalogue.
MEASURES = ("M07", "M10", "M12", "M13", "M14", "M17")
MEASURE_NAMES = {
    "M07": "数字政府建设",
    "M10": "破解瓶颈问题",
    "M12": "优化营商环境",
    "M13": "政务服务",
    "M14": "群众急难愁盼问题",
    "M17": "务实重干作风",
}
MILESTONE_MONTHS = (2, 4, 6, 8, 10, 12)  # one milestone every two months, due at month end
SEVERITIES = {"minor": 3, "general": 4, "serious": 2, "critical": 1}
# Where the demo's findings come from (问题来源), and which need a 整改方案 first (限期整改).
SOURCES = ("supervision", "supervision", "audit", "inspection_tour", "media", "hotline_12345")
PLANNED_SEVERITIES = ("serious", "critical")
PUBLIC_PEER_GROUPS = ("county", "devzone")  # where the 12345 hotline's requests go
# The standard obligations every ranked unit carries, with the measure code a report names.
OBLIGATIONS = {
    "annual_plan": "G1-T1",
    "half_yearly_bottleneck_round": "M10-T1",
    "annual_report": "G4-T7",
}
OFFICE = {"role": "office", "id": "office-demo", "name": "市“五型”办"}
CHANNEL = {"role": "channel", "id": "hotline-12345", "name": "12345热线"}
# How the progress bar says a deadline's outcome and an achievement's kind.
OUTCOME_NAMES = {"on_time": "按时", "late": "逾期"}
ACHIEVEMENT_NAMES = {
    "national_recognition": "获国家层面认可",
    "national_pilot": "入选全国试点",
    "state_council_incentive": "获国务院督查激励",
    "demonstration_title": "获评示范",
}
RETURN_SHARE = 0.12  # of completed milestones the office returns for more evidence
ACHIEVEMENTS_PER_YEAR = 5
SUGGESTIONS_PER_YEAR = 10


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
    name: str = ""  # 东湖区; the code when the directory gives none

    @property
    def called(self) -> str:
        """What people call it: its name, else its code."""
        return self.name or self.code


@dataclass(frozen=True)
class Reading:
    """What the player reads (GET `path` on the step's service, as the step's actor) before it
    sends a step, and how the answer and the planned body make the body it sends."""

    path: str
    finish: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Step:
    at: datetime  # on the programme clock (China time)
    order: int  # keeps steps at the same instant in the order they were planned
    service: str
    path: str
    body: dict[str, Any]
    label: str
    actor: str | None = None  # the unit whose own token sends it; None: the office's
    reads: Reading | None = None


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
    def __init__(self, seed: int, year: int, units: list[Unit], lang: str):
        self.rng = random.Random(seed)
        self.seed, self.year, self.lang = seed, year, lang
        self.units = sorted((u for u in units if u.peer_group), key=lambda u: u.code)
        self.habits = {
            u.code: self.rng.choices(list(HABIT_WEIGHTS), list(HABIT_WEIGHTS.values()))[0]
            for u in self.units
        }
        self.steps: list[Step] = []
        self.leads: dict[str, set[str]] = {}  # measure -> the units leading its assignments
        self.year_end = _at(date(year, 12, 31), 23, 59)

    def add(
        self,
        at: datetime,
        service: str,
        path: str,
        body: dict[str, Any],
        zh: str,
        en: str,
        actor: str | None = None,
        reads: Reading | None = None,
    ) -> None:
        """A step labelled `zh` or `en`, as the reader reads; sent as `actor` (a unit) when
        given, its body finished from `reads` when given."""
        if at <= self.year_end:  # what would happen after the year is not played
            label = say(self.lang, zh, en)
            step = Step(at, len(self.steps), service, path, body, label, actor, reads)
            self.steps.append(step)

    def outcome(self, unit: str) -> str:
        odds, _satisfied = ODDS[self.habits[unit]]
        return self.rng.choices(("on_time", "late", "never"), odds)[0]

    def satisfied(self, unit: str) -> bool:
        return self.rng.random() < ODDS[self.habits[unit]][1]

    def reporter(self, unit: Unit) -> str:
        return f"{unit.called}{self.rng.choice(content.REPORTERS[unit.peer_group])}"

    def staff(self, unit: Unit) -> dict[str, str]:
        name = f"{unit.called}整改经办人"
        return {"role": "unit", "id": f"{unit.code}-staff", "name": name, "unit": unit.code}

    def one_of(self, habits: tuple[Habit, ...], taken: tuple[Unit, ...] = ()) -> Unit | None:
        """A unit of the first of `habits` that has one (and not `taken`), drawn by the seed."""
        for habit in habits:
            units = [u for u in self.units if self.habits[u.code] is habit and u not in taken]
            if units:
                return self.rng.choice(units)
        return None


def _assignments(p: _Planner) -> None:
    for unit in p.units:
        for measure in sorted(p.rng.sample(MEASURES, 2)):
            p.leads.setdefault(measure, set()).add(unit.code)
            _assignment(p, unit, measure)


def _assignment(p: _Planner, unit: Unit, measure: str) -> None:
    assignment_id = f"demo{p.seed}-{p.year}-{measure}-{unit.code}"
    work = p.rng.choice(content.WORK[measure])
    milestones = [
        {
            "milestone_id": f"m{n}",
            "title": f"{work}：{stage}",
            "due_date": _month_end(p.year, month).isoformat(),
        }
        for n, (month, stage) in enumerate(zip(MILESTONE_MONTHS, content.STAGES, strict=True), 1)
    ]
    body = {
        "assignment_id": assignment_id,
        "year": p.year,
        "measure_code": measure,
        "lead_unit": unit.code,
        "start_on": date(p.year, 1, 1).isoformat(),
        "title_zh": f"{unit.called}{work}",
        "created_by": "office",
        "milestones": milestones,
    }
    zh, en = f"向{unit.called}交办{measure}", f"assign {measure} to {unit.code}"
    p.add(_at(date(p.year, 1, 1), 8), "measures", "/v1/assignments", body, zh, en)
    for n, milestone in enumerate(milestones, start=1):
        due = date.fromisoformat(milestone["due_date"])
        _reports(p, unit, measure, assignment_id, n, milestone["title"], due)


def _reports(
    p: _Planner, unit: Unit, measure: str, assignment: str, n: int, title: str, due: date
) -> None:
    outcome = p.outcome(unit.code)
    if outcome == "never":
        return
    halfway = due - timedelta(days=25 + p.rng.randint(0, 10))
    done = due - timedelta(days=p.rng.randint(1, 10)) if outcome == "on_time" else due
    if outcome == "late":
        done = due + timedelta(days=p.rng.randint(3, 20))
    reporter = p.reporter(unit)
    for percent, day in ((50.0, halfway), (100.0, done)):
        said = p.rng.choice(content.HALFWAY if percent < 100 else content.DONE)
        at = _at(day, 10, p.rng.randint(0, 59))
        report = _report(unit, measure, assignment, n, percent, f"{title}：{said}", at, reporter)
        zh = f"{unit.called}报送{measure}第{n}节点进展{int(percent)}%（{OUTCOME_NAMES[outcome]}）"
        en = f"{unit.code} reports {measure} m{n} {int(percent)}% ({outcome})"
        p.add(at, "measures", f"/v1/units/{unit.code}/progress-reports", report, zh, en)
    if p.habits[unit.code] is not Habit.PUNCTUAL and p.rng.random() < RETURN_SHARE * 2:
        _returned(p, unit, measure, assignment, n, title, _at(done, 10, 59), reporter)


def _report(
    unit: Unit,
    measure: str,
    assignment: str,
    n: int,
    percent: float,
    summary: str,
    at: datetime,
    reporter: str,
    suffix: str = "",
) -> dict[str, Any]:
    report_id = f"{assignment}-m{n}-{int(percent)}{suffix}"
    return {
        "report_id": report_id,
        "unit": unit.code,
        "measure_code": measure,
        "assignment_id": assignment,
        "milestone_id": f"m{n}",
        "percent_complete": percent,
        "summary": summary,
        "reported_at": at.isoformat(),
        "reporter": reporter,
        "evidence": _evidence(f"https://oa.example/{report_id}"),
    }


def _returned(
    p: _Planner,
    unit: Unit,
    measure: str,
    assignment: str,
    n: int,
    title: str,
    reported: datetime,
    reporter: str,
) -> None:
    """The office returns a completion report for more evidence; the unit reports again."""
    path = f"/v1/units/{unit.code}/progress-reports/{assignment}-m{n}-100/review"
    review = {"decision": "return", "reason": p.rng.choice(content.RETURNED), "reviewer": "office"}
    returned = reported + timedelta(days=2)
    zh = f"市“五型”办退回{unit.called}{measure}第{n}节点报告"
    p.add(returned, "measures", path, review, zh, f"office returns {unit.code} {measure} m{n}")
    again = returned + timedelta(days=p.rng.randint(2, 6))
    summary = f"{title}：已按退回意见补充佐证材料"
    report = _report(unit, measure, assignment, n, 100.0, summary, again, reporter, "-r")
    zh, en = (
        f"{unit.called}重新报送{measure}第{n}节点进展",
        f"{unit.code} reports {measure} m{n} again",
    )
    p.add(again, "measures", f"/v1/units/{unit.code}/progress-reports", report, zh, en)


def _obligations(p: _Planner) -> None:
    """The standard obligations of every ranked unit: the annual plan (G1), the half-yearly
    bottleneck round (M10) and the annual written report (G4), reported on time, late or never
    as the unit's habit has it."""
    created = _at(date(p.year, 1, 1), 8, 30)
    for kind, measure in OBLIGATIONS.items():
        body = {"year": p.year, "kind": kind, "created_by": "office"}
        zh = f"部署周期性工作任务：{TEMPLATES[ObligationKind(kind)].title_zh}"
        p.add(created, "measures", "/v1/obligations", body, zh, f"obligation {kind}")
        for unit in _carriers(p, kind):
            for due in _obligation_dues(p.year, kind):
                _obligation_report(p, unit, kind, measure, due)


def _obligation_dues(year: int, kind: str) -> list[date]:
    if kind == "annual_plan":
        return [date(year, 3, 31)]
    if kind == "half_yearly_bottleneck_round":
        return [date(year, 6, 30), date(year, 12, 31)]
    return [date(year, 12, 31)]


def _carriers(p: _Planner, kind: str) -> list[Unit]:
    """Every unit carries the annual plan and report; the bottleneck round falls on the units
    leading M10 that year (as the catalogue says)."""
    if kind != "half_yearly_bottleneck_round":
        return p.units
    return [u for u in p.units if u.code in p.leads.get("M10", set())]


def _obligation_report(p: _Planner, unit: Unit, kind: str, measure: str, due: date) -> None:
    outcome = p.outcome(unit.code)
    if outcome == "never":
        return
    offset = -p.rng.randint(1, 12) if outcome == "on_time" else p.rng.randint(2, 25)
    day = min(due + timedelta(days=offset), date(p.year, 12, 31))
    at = _at(day, 16, p.rng.randint(0, 59))
    assignment = f"{kind}.{p.year}.{unit.code}"
    report = {
        "report_id": f"demo{p.seed}-{assignment}-{due:%m%d}",
        "unit": unit.code,
        "measure_code": measure,
        "assignment_id": assignment,
        "milestone_id": due.isoformat(),  # an occurrence's id is its nominal due date
        "percent_complete": 100.0,
        "summary": content.OBLIGATION_REPORTS[kind],
        "reported_at": at.isoformat(),
        "reporter": p.reporter(unit),
        "evidence": _evidence(f"https://oa.example/{assignment}/{due:%m%d}"),
    }
    title = TEMPLATES[ObligationKind(kind)].title_zh
    zh = f"{unit.called}报送{title}（{OUTCOME_NAMES[outcome]}）"
    en = f"{unit.code} reports {kind} ({outcome})"
    p.add(at, "measures", f"/v1/units/{unit.code}/progress-reports", report, zh, en)


def _inspections(p: _Planner) -> None:
    for month in range(1, 13):
        day = date(p.year, month, p.rng.randint(5, 20))
        targets = sorted(p.rng.sample(p.units, 3), key=lambda u: u.code)
        inspection_id = f"demo{p.seed}-{p.year}-DC-{month:02d}"
        kind = "comprehensive" if month % 3 == 0 else p.rng.choice(("special", "routine"))
        measure = p.rng.choice(MEASURES)
        title = content.INSPECTIONS[kind].format(
            year=p.year, quarter=month // 3, month=month, measure=MEASURE_NAMES[measure]
        )
        inspector = p.rng.choice(content.INSPECTORS)
        actor = {"role": "inspector", "id": "insp-demo", "name": inspector}
        body = {
            "inspection_id": inspection_id,
            "actor": actor,
            "kind": kind,
            "method": p.rng.choice(("scheduled", "unannounced")),
            "title": title,
            "inspector": inspector,
            "inspected_on": day.isoformat(),
            "target_units": [u.code for u in targets],
        }
        zh, en = f"{month}月督查", f"inspection {month:02d}"
        p.add(_at(day, 9), "inspections", "/v1/inspections", body, zh, en)
        for unit in targets:
            found = measure if kind == "special" else p.rng.choice(MEASURES)
            _finding(p, inspection_id, unit, day, found, actor)


def _finding(
    p: _Planner,
    inspection_id: str,
    unit: Unit,
    day: date,
    measure: str,
    inspector: dict[str, str],
) -> None:
    finding_id = f"{inspection_id}-{unit.code}"
    due = day + timedelta(days=20)
    severity = p.rng.choices(list(SEVERITIES), list(SEVERITIES.values()))[0]
    planned = severity in PLANNED_SEVERITIES
    body = {
        "finding_id": finding_id,
        "actor": inspector,
        "unit": unit.code,
        "severity": severity,
        "category": {"measure_code": measure},
        "source": p.rng.choice(SOURCES),
        "rectification_category": "time_limited" if planned else "immediate",
        "title": p.rng.choice(content.FINDINGS[measure]),
        "due_date": due.isoformat(),
    }
    zh = f"督查发现{unit.called}{SEVERITY_NAMES[Severity(severity)][0]}问题"
    en = f"finding {severity} for {unit.code}"
    p.add(_at(day, 11), "inspections", f"/v1/inspections/{inspection_id}/findings", body, zh, en)
    outcome = p.outcome(unit.code)
    if outcome == "never":
        return
    staff = p.staff(unit)
    path = f"/v1/findings/{finding_id}"
    if planned:  # a late unit files its plan after the 5 working days it has
        filed = _at(day + timedelta(days=1 if outcome == "on_time" else 10), 10)
        plan_body = {
            "actor": staff,
            "measures": ["逐项制定整改措施", "建立长效机制"],
            "responsible_leader": "分管负责同志",
            "responsible_person": "整改牵头科室负责人",
        }
        zh, en = f"{unit.called}报送整改方案", f"{unit.code} plans"
        p.add(filed, "inspections", f"{path}/plan", plan_body, zh, en)
    offset = p.rng.randint(2, 18) if outcome == "on_time" else p.rng.randint(22, 40)
    submitted = _at(day + timedelta(days=offset), 15)
    submission = {
        "actor": p.staff(unit),
        "summary": p.rng.choice(content.RECTIFIED),
        "evidence": _evidence(f"https://oa.example/{finding_id}/rectification"),
    }
    zh, en = f"{unit.called}报送整改情况", f"{unit.code} rectifies"
    p.add(submitted, "inspections", f"{path}/submissions", submission, zh, en)
    closed = submitted + timedelta(days=2)
    close_out = {
        "actor": inspector,
        "opinion": "经核查，整改措施落实到位，同意销号",
        "approved_by": "市“五型”办主任",
    }
    zh, en = f"{unit.called}整改事项验收销号", f"close {finding_id}"
    p.add(closed, "inspections", f"{path}/close", close_out, zh, en)


def _achievements(p: _Planner) -> None:
    """A few units earn national recognition, a pilot, a State Council incentive or a
    demonstration title; the office records each with its evidence."""
    for number in range(1, ACHIEVEMENTS_PER_YEAR + 1):
        unit = p.rng.choice(p.units)
        kind = p.rng.choice(sorted(content.ACHIEVEMENTS))
        day = date(p.year, p.rng.randint(3, 11), p.rng.randint(1, 28))
        achievement_id = f"demo{p.seed}-{p.year}-ACH-{number}"
        body = {
            "achievement_id": achievement_id,
            "unit": unit.code,
            "kind": kind,
            "title": f"{unit.called}{p.rng.choice(content.ACHIEVEMENTS[kind])}",
            "recognised_on": day.isoformat(),
            "evidence": _evidence(f"https://oa.example/{achievement_id}"),
            "recorded_by": "office",
        }
        zh, en = f"{unit.called}{ACHIEVEMENT_NAMES[kind]}", f"{unit.code} {kind}"
        p.add(_at(day, 14), "measures", "/v1/achievements", body, zh, en)


def _supervision(p: _Planner) -> None:
    """The office enters the year's supervisors; they file suggestions to units, which answer
    them (or not, as their habit has it), and the supervisor says whether the answer satisfies."""
    supervisors = []
    for number, (category, name, affiliation) in enumerate(content.SUPERVISORS, start=1):
        supervisor_id = f"demo{p.seed}-sup-{number}"
        body = {
            "supervisor_id": supervisor_id,
            "actor": OFFICE,
            "name": name,
            "category": category,
            "affiliation": affiliation,
            "term_starts_on": date(p.year, 1, 1).isoformat(),
            "term_ends_on": date(p.year, 12, 31).isoformat(),
        }
        zh, en = f"{name}受聘为监督员", f"{name} enters"
        p.add(_at(date(p.year, 1, 5), 9), "inspections", "/v1/supervisors", body, zh, en)
        supervisors.append({"role": "supervisor", "id": supervisor_id, "name": name})
    for number in range(1, SUGGESTIONS_PER_YEAR + 1):
        _suggestion(p, f"demo{p.seed}-{p.year}-JY-{number:02d}", p.rng.choice(supervisors))


def _suggestion(p: _Planner, suggestion_id: str, supervisor: dict[str, str]) -> None:
    unit = p.rng.choice(p.units)
    title, text = p.rng.choice(content.SUGGESTIONS)
    filed = date(p.year, p.rng.randint(1, 11), p.rng.randint(6, 28))
    body = {
        "suggestion_id": suggestion_id,
        "actor": supervisor,
        "supervisor_id": supervisor["id"],
        "unit": unit.code,
        "title": title,
        "content": text,
    }
    zh, en = f"监督员向{unit.called}提出建议", f"suggestion to {unit.code}"
    p.add(_at(filed, 10), "inspections", "/v1/suggestions", body, zh, en)
    if p.outcome(unit.code) == "never":
        return
    answered = filed + timedelta(days=p.rng.randint(5, 25))
    answer = {
        "actor": p.staff(unit),
        "answer": p.rng.choice(content.ANSWERS),
        "evidence": _evidence(f"https://oa.example/{suggestion_id}/answer"),
    }
    path = f"/v1/suggestions/{suggestion_id}"
    zh, en = f"{unit.called}答复监督员建议", f"{unit.code} answers"
    p.add(_at(answered, 15), "inspections", f"{path}/answer", answer, zh, en)
    feedback = {"actor": supervisor, "satisfied": True, "comment": "答复及时，措施具体"}
    said = _at(answered + timedelta(days=3), 11)
    zh, en = f"{supervisor['name']}对答复表示满意", f"{supervisor['name']} satisfied"
    p.add(said, "inspections", f"{path}/feedback", feedback, zh, en)


def _public_requests(p: _Planner) -> None:
    for unit in (u for u in p.units if u.peer_group in PUBLIC_PEER_GROUPS):
        for month in range(1, 13):
            for n in range(1, 3):
                _public_request(p, unit, f"12345-demo{p.seed}-{unit.code}-{month:02d}{n}", month)


def _public_request(p: _Planner, unit: Unit, request_id: str, month: int) -> None:
    received = _at(date(p.year, month, p.rng.randint(1, 26)), p.rng.randint(8, 17))
    due = received + timedelta(days=3)
    path = f"/v1/units/{unit.code}/public-requests/{request_id}/steps"
    step = {
        "step": "received",
        "channel": "hotline_12345",
        "title": p.rng.choice(content.HOTLINE),
        "received_at": received.isoformat(),
        "due_at": due.isoformat(),
    }
    body: dict[str, Any] = {"actor": CHANNEL, "step": step}
    zh, en = f"12345热线工单转{unit.called}", f"12345 to {unit.code}"
    p.add(received, "inspections", path, body, zh, en)
    outcome = p.outcome(unit.code)
    if outcome == "never":
        return
    closed = received + timedelta(hours=p.rng.randint(4, 60) if outcome == "on_time" else 100)
    result = p.rng.choice(content.CLOSED)
    step = {"step": "closed", "closed_at": closed.isoformat(), "result": result}
    body = {"actor": CHANNEL, "step": step}
    zh, en = f"{unit.called}办结12345热线工单", f"{unit.code} closes 12345"
    p.add(closed, "inspections", path, body, zh, en)
    rated = closed + timedelta(hours=20)
    rating = p.rng.choice((3, 4, 5)) if p.satisfied(unit.code) else p.rng.choice((1, 2))
    rating_step = {"step": "rated", "rated_at": rated.isoformat(), "rating": rating}
    body = {"actor": CHANNEL, "step": rating_step}
    p.add(rated, "inspections", path, body, f"12345热线工单评价{rating}分", f"12345 rated {rating}")


def _bulletin(p: _Planner) -> None:
    """In March the office issues a 专项通报 about one silent unit (the weekly 通报 comes from the
    notifications service by itself)."""
    unit = p.one_of((Habit.SILENT, Habit.LATE))
    if unit is None:
        return
    note = p.rng.choice(content.BULLETIN_NOTES).format(unit=unit.called)
    body = {"unit": unit.code, "note": note}
    zh, en = f"专项通报{unit.called}", f"专项通报 about {unit.code}"
    p.add(_at(date(p.year, 3, 18), 15), "notifications", "/v1/bulletins", body, zh, en)


def _results(p: _Planner) -> None:
    """Once the first quarter has ended the office publicises its results (公示); during the
    公示's 5 working days two units appeal (申诉), the office reviews both (复核: a late unit's
    is corrected, a silent unit's upheld), and then it finalises the results (定档)."""
    quarter = f"{p.year}-Q1"
    closed = date(p.year, 4, 3)
    working_day = load_calendar().add_working_days
    body = {"closed_by": "市“五型”办", "note": f"{p.year}年第一季度考核结果公示"}
    p.add(
        _at(closed, 9),
        "scoring",
        f"/v1/periods/{quarter}/close",
        body,
        "第一季度结果公示",
        "publicise Q1",
    )
    late = p.one_of((Habit.LATE, Habit.SILENT))
    silent = p.one_of((Habit.SILENT, Habit.LATE), taken=(late,) if late else ())
    for n, (unit, outcome) in enumerate(((late, "corrected"), (silent, "upheld"))):
        if unit is not None:  # filed on the 公示's 2nd and 3rd working days, answered after it
            filed = _at(working_day(closed, 2 + n), 10, p.rng.randint(0, 59))
            _appeal(p, unit, quarter, filed, _at(working_day(closed, 6 + n), 15), outcome)
    finalised = working_day(closed, 10)
    p.add(
        _at(finalised, 9),
        "scoring",
        f"/v1/periods/{quarter}/finalise",
        {},
        "第一季度结果定档",
        "finalise Q1",
    )


def _appeal(
    p: _Planner, unit: Unit, quarter: str, filed: datetime, decided: datetime, outcome: str
) -> None:
    """The unit reads its card and appeals against what cost it most, with its evidence; the
    office reads the same card and answers. Both bodies are finished when played."""
    path = f"/v1/units/{unit.code}/appeals/{quarter}"
    card = f"/v1/units/{unit.code}/cards/{quarter}"
    evidence = _evidence(f"https://oa.example/demo{p.seed}-{quarter}-{unit.code}/appeal")
    body = {
        "reason": p.rng.choice(content.APPEAL_REASONS),
        "evidence": [{**e, "title": content.APPEAL_EVIDENCE} for e in evidence],
    }
    zh, en = f"{unit.called}对第一季度结果提出申诉", f"{unit.code} appeals its {quarter} result"
    p.add(
        filed, "scoring", path, body, zh, en, actor=unit.code, reads=Reading(card, appeals.appeal)
    )
    answer = {"outcome": outcome, "answer": content.APPEAL_ANSWERS[outcome]}
    verdict = "维持原结果" if outcome == "upheld" else "予以更正"
    zh, en = f"复核{unit.called}的申诉：{verdict}", f"office answers {unit.code}: {outcome}"
    reads = Reading(card, appeals.decision)
    p.add(decided, "scoring", f"{path}/decision", answer, zh, en, reads=reads)


def plan(seed: int, year: int, units: list[Unit], lang: str = "zh") -> Plan:
    """Every step of the year, in the order of the programme clock; labels in `lang`."""
    planner = _Planner(seed, year, units, lang)
    _assignments(planner)
    _obligations(planner)
    _inspections(planner)
    _achievements(planner)
    _supervision(planner)
    _public_requests(planner)
    _bulletin(planner)
    _results(planner)
    return Plan(seed, year, planner.habits, sorted(planner.steps, key=lambda s: (s.at, s.order)))
