"""The demo's scenario is a pure function of its seed: the same seed plans the same year, every
step is a request the services' own models accept, and the habits it draws show in the steps."""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from contracts.measures import ReportProgress
from fivetype.demo import appeals
from fivetype.demo.plan import Habit, Plan, Step, Unit, plan
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
from services.notifications.entrypoints.bulletins import AdHocBulletin
from services.scoring.entrypoints.http import (
    AppealRequest,
    CloseRequest,
    DecisionRequest,
    FinaliseRequest,
)

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
    (r"/v1/units/[^/]+/appeals/[^/]+", AppealRequest),
    (r"/v1/units/[^/]+/appeals/[^/]+/decision", DecisionRequest),
    (r"/v1/bulletins", AdHocBulletin),
]


def line(rule: str, effect: str, points: str, full: str | None, *items: dict[str, Any]) -> Any:
    kind = "all" if effect == "deduction" else "service"
    return {
        "rule": rule,
        "type": kind,
        "name_zh": {"public_notice": "逾期事项被通报", "tasks_service": "服务型交办任务"}[rule],
        "effect": effect,
        "points": points,
        "full_marks": full,
        "items": list(items),
    }


def item(title: str, due: str, points: str | None = None, credit: str | None = None) -> Any:
    return {"id": title, "title": title, "due_date": due, "points": points, "credit": credit}


# A card as publicised (the shape of GET /v1/units/{unit}/cards/{period}): a 服务型 task missed
# (36.60 points short) and a 12345 request listed in two weekly 通报 (2 points each).
LISTED = line(
    "public_notice", "deduction", "-4.00", None, *[item("夜间施工噪音扰民", "2026-03-17", "2")] * 2
)
MISSED = line(
    "tasks_service",
    "earned",
    "0.00",
    "36.60",
    item("老旧小区改造：制定方案", "2026-02-28", credit="0.00"),
)
CARD = {"unit": "360103", "unit_name": "西湖区", "card": {"line_items": []}}
VIEW = {**CARD, "published": {"card": {"line_items": [MISSED, LISTED]}}}


def sent(step: Step) -> dict[str, Any]:
    """The body the player would send, a step that reads first finished from VIEW."""
    return step.reads.finish(VIEW, step.body) if step.reads else step.body


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
        model.model_validate(sent(step))
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


def test_the_first_quarter_is_publicised_appealed_and_finalised(year: Plan) -> None:
    steps = [s for s in year.steps if s.service == "scoring"]
    late, silent = (s.path.split("/")[3] for s in steps[1:3])
    card = "/v1/units/{}/cards/2026-Q1"
    assert [(s.at.date().isoformat(), s.path, s.actor) for s in steps] == [
        ("2026-04-03", "/v1/periods/2026-Q1/close", None),
        # Filed within the 公示 (5 working days after the Qingming holiday, to 13 April) by
        # each unit with its own token; answered by the office before 定档.
        ("2026-04-08", f"/v1/units/{late}/appeals/2026-Q1", late),
        ("2026-04-09", f"/v1/units/{silent}/appeals/2026-Q1", silent),
        ("2026-04-14", f"/v1/units/{late}/appeals/2026-Q1/decision", None),
        ("2026-04-15", f"/v1/units/{silent}/appeals/2026-Q1/decision", None),
        ("2026-04-20", "/v1/periods/2026-Q1/finalise", None),
    ]
    assert (year.habits[late], year.habits[silent]) == (Habit.LATE, Habit.SILENT)
    assert [s.reads.path for s in steps[1:5] if s.reads] == [
        card.format(late),
        card.format(silent),
        card.format(late),
        card.format(silent),
    ]
    assert [s.body["outcome"] for s in steps[3:5]] == ["corrected", "upheld"]


def test_an_appeal_contests_what_cost_points_and_the_answer_is_about_it(year: Plan) -> None:
    """The unit contests a deduction before a costlier task, names it and gives its evidence;
    the office corrects it by what it cost, or upholds it, in writing."""
    appeal_step, _silent, corrected, upheld = (s for s in year.steps if "/appeals/" in s.path)
    filed = sent(appeal_step)
    assert filed["line_items"] == ["public_notice:all"]
    said = "我单位对“逾期事项被通报”的计分有异议：“夜间施工噪音扰民”（限办日期2026年3月17日）"
    assert filed["reason"].startswith(said)
    assert filed["evidence"][0]["title"] and len(filed["evidence"][0]["sha256"]) == 64
    answer = sent(corrected)
    (adjustment,) = answer["adjustments"]
    assert (adjustment["line_item"], adjustment["points"]) == ("public_notice:all", 2.0)
    assert "夜间施工噪音扰民" in adjustment["reason"]
    assert answer["answer"].startswith("经复核，西湖区所附") and "调增2分" in answer["answer"]
    kept = sent(upheld)
    assert "adjustments" not in kept and "维持原结果" in kept["answer"]
    assert "{" not in filed["reason"] + answer["answer"] + kept["answer"]


def test_without_a_deduction_the_appeal_is_about_the_task_that_lost_most() -> None:
    late = line(
        "tasks_service",
        "earned",
        "36.60",
        "45.75",
        item("降低企业成本", "2026-02-28", credit="0.80"),
    )
    view = {**CARD, "published": None, "card": {"line_items": [late]}}
    found = appeals.contested(view)
    assert found is not None
    assert (found.key, found.item, str(found.cost)) == (
        "tasks_service:service",
        "降低企业成本",
        "9.15",
    )
    perfect = line(
        "tasks_service", "earned", "45.75", "45.75", item("全部按期", "2026-02-28", credit="1")
    )
    nothing = {**CARD, "published": None, "card": {"line_items": [perfect]}}
    assert appeals.contested(nothing) is None
    # Nothing to contest: the appeal names no line item, which the service refuses.
    body = appeals.appeal(nothing, {"reason": "理由", "evidence": []})
    with pytest.raises(ValueError):
        AppealRequest.model_validate(body)


def test_the_office_names_a_silent_unit_in_a_special_bulletin(year: Plan) -> None:
    """Every rung of the ladder in a year: 提醒, 催办, 督办 and the weekly 通报 come from the
    deadlines the plan lets pass; the on-demand 通报 is the office's step."""
    (bulletin,) = [s for s in year.steps if s.service == "notifications"]
    assert (bulletin.path, bulletin.at.date().isoformat()) == ("/v1/bulletins", "2026-03-18")
    assert year.habits[bulletin.body["unit"]] is Habit.SILENT
    assert "专项通报" in bulletin.body["note"] and "{" not in bulletin.body["note"]
