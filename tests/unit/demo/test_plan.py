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
from services.inspections.entrypoints.routes.public_requests import ReportStep
from services.measures.domain.assignments import CreateAssignment

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
]


def nanchang() -> list[Unit]:
    directory = yaml.safe_load(UNITS_FILE.read_text(encoding="utf-8"))
    return [Unit(u["code"], u.get("peer_group") or "") for u in directory["units"]]


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
        if step.path.endswith("progress-reports") and step.body["percent_complete"] == 100:
            on_time = "(on_time)" in step.label
            completions.setdefault(step.body["unit"], []).append(on_time)
    punctual = [u for u, h in year.habits.items() if h is Habit.PUNCTUAL]
    silent = [u for u, h in year.habits.items() if h is Habit.SILENT]
    on_time_share = sum(sum(completions.get(u, [])) for u in punctual) / (12 * len(punctual))
    assert on_time_share > 0.7  # two measures, six milestones each
    assert sum(len(completions.get(u, [])) for u in silent) < 12 * len(silent) / 2
