"""The demo's scenario is a pure function of its seed: the same seed plans the same year, every
step is a request the services' own models accept, and the habits it draws show in the steps."""

import re
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from contracts.measures import ReportProgress
from fivetype.demo.plan import Habit, Plan, Unit, plan
from services.inspections.domain.findings import (
    CloseRectification,
    FileRectificationPlan,
    RaiseFinding,
    SubmitRectification,
)
from services.inspections.domain.inspections import FileInspection
from services.inspections.domain.supervision import (
    AnswerSuggestion,
    EnterSupervisor,
    FileSuggestion,
    SuggestionFeedback,
)
from services.inspections.entrypoints.routes.public_requests import ReportStep
from services.measures.domain.assignments import CreateAssignment, CreateObligations
from services.measures.domain.requests import RecordAchievement, ReviewReport
from services.scoring.entrypoints.http import CloseRequest, FinaliseRequest

UNITS_FILE = Path("services/measures/data/units.yaml")
MODELS: list[tuple[str, type[BaseModel]]] = [
    (r"/v1/assignments", CreateAssignment),
    (r"/v1/units/[^/]+/progress-reports", ReportProgress),
    (r"/v1/inspections", FileInspection),
    (r"/v1/inspections/[^/]+/findings", RaiseFinding),
    (r"/v1/findings/[^/]+/plan", FileRectificationPlan),
    (r"/v1/findings/[^/]+/submissions", SubmitRectification),
    (r"/v1/findings/[^/]+/close", CloseRectification),
    (r"/v1/units/[^/]+/public-requests/[^/]+/steps", ReportStep),
    (r"/v1/obligations", CreateObligations),
    (r"/v1/units/[^/]+/progress-reports/[^/]+/review", ReviewReport),
    (r"/v1/achievements", RecordAchievement),
    (r"/v1/supervisors", EnterSupervisor),
    (r"/v1/suggestions", FileSuggestion),
    (r"/v1/suggestions/[^/]+/answer", AnswerSuggestion),
    (r"/v1/suggestions/[^/]+/feedback", SuggestionFeedback),
    (r"/v1/periods/[^/]+/close", CloseRequest),
    (r"/v1/periods/[^/]+/finalise", FinaliseRequest),
]


def nanchang() -> list[Unit]:
    directory = yaml.safe_load(UNITS_FILE.read_text(encoding="utf-8"))
    return [Unit(u["code"], u.get("peer_group") or "", u["name_zh"]) for u in directory["units"]]


@pytest.fixture(scope="module")
def year() -> Plan:
    return plan(7, 2026, nanchang())


def test_the_same_seed_plans_the_same_year_and_another_seed_another(year: Plan) -> None:
    assert plan(7, 2026, list(reversed(nanchang()))) == year
    other = plan(8, 2026, nanchang())
    assert other.steps != year.steps


def test_every_step_is_a_request_the_service_accepts(year: Plan) -> None:
    for step in year.steps:
        model = next(m for pattern, m in MODELS if re.fullmatch(pattern, step.path))
        model.model_validate(step.body)
    assert [s.at for s in year.steps] == sorted(s.at for s in year.steps)
    assert all(s.at.year == 2026 for s in year.steps)


def test_units_report_on_time_late_or_never_as_their_habits_say(year: Plan) -> None:
    assert set(year.habits.values()) == set(Habit)
    assert "office" not in year.habits
    completions: dict[str, list[bool]] = {}
    for step in year.steps:
        if (
            step.path.endswith("progress-reports")
            and step.body["percent_complete"] == 100
            and step.body["milestone_id"].startswith("m")
            and "重新报送" not in step.label
        ):
            on_time = "（按时）" in step.label
            completions.setdefault(step.body["unit"], []).append(on_time)
    punctual = [u for u, h in year.habits.items() if h is Habit.PUNCTUAL]
    silent = [u for u, h in year.habits.items() if h is Habit.SILENT]
    on_time_share = sum(sum(completions.get(u, [])) for u in punctual) / (12 * len(punctual))
    assert on_time_share > 0.7  # two measures, six milestones each
    assert sum(len(completions.get(u, [])) for u in silent) < 12 * len(silent) / 2


def test_the_progress_bar_reads_chinese_unless_asked_for_english(year: Plan) -> None:
    """Units by name in Chinese; the same steps, by code, in English."""
    labels = [s.label for s in year.steps]
    assert any(label.startswith("向东湖区交办M") for label in labels)
    assert not [label for label in labels if re.search(r"[A-Za-z]{2,}", label)]
    english = plan(7, 2026, nanchang(), "en")
    assert [s.body for s in english.steps] == [s.body for s in year.steps]
    assert any(s.label.startswith("assign M") for s in english.steps)


def test_the_year_reads_like_a_citys(year: Plan) -> None:
    """Words from the catalogue's measures and 督查 practice, not codes; varied by the seed."""
    bodies = [s.body for s in year.steps]
    milestones = [m["title"] for b in bodies for m in b.get("milestones", [])]
    assert all("：" in t and not t.startswith("M") for t in milestones)
    assert any("昌通码" in t or "减证便民" in t or "六多合一" in t for t in milestones)
    findings = {s.body["title"] for s in year.steps if s.path.endswith("/findings")}
    assert len(findings) >= 8 and "督查发现的问题需限期整改" not in findings
    reporters = {b["reporter"] for b in bodies if "reporter" in b}
    assert any(r.startswith("东湖区") for r in reporters) and not any(" " in r for r in reporters)
    summaries = [b["summary"] for b in bodies if "percent_complete" in b]
    assert not any(s.startswith("M") for s in summaries)
    other = plan(8, 2026, nanchang())
    assert {b.get("title") for b in bodies} != {s.body.get("title") for s in other.steps}


def test_the_year_has_returns_obligations_achievements_and_suggestions(year: Plan) -> None:
    paths = [s.path for s in year.steps]
    assert any(p.endswith("/review") for p in paths)
    returned = [s for s in year.steps if s.path.endswith("/review")]
    assert all(s.body["decision"] == "return" and s.body["reason"] for s in returned)
    assert paths.count("/v1/obligations") == 3
    outcomes = {s.label.rsplit("（", 1)[-1] for s in year.steps if "年度思路举措报备（" in s.label}
    assert outcomes == {"按时）", "逾期）"}  # and the silent ones never report
    assert 1 <= paths.count("/v1/achievements") <= 5
    suggestions = paths.count("/v1/suggestions")
    answered = sum(p.endswith("/answer") for p in paths)
    assert suggestions == 10 and 0 < answered < suggestions


def test_the_first_quarter_is_publicised_then_finalised(year: Plan) -> None:
    steps = [(s.at.date().isoformat(), s.path) for s in year.steps if s.service == "scoring"]
    assert steps == [
        ("2026-04-03", "/v1/periods/2026-Q1/close"),
        ("2026-04-20", "/v1/periods/2026-Q1/finalise"),
    ]
