"""Every Chinese problem title a client can be shown (the reason codes of the bus, each
service's refusal table, every `Problem(...)` the services raise) and every Chinese detail the
services build read as Chinese: no ASCII word inside them but codes (M07, 360102, nc-hitech) and
names. Details are checked twice: each template as written in the code (with the values it
formats left out), and a sample of refusals as the services build them, values included."""

import ast
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from contracts.inspections import RequestClosed
from contracts.measures import ReportProgress
from contracts.reasons import REASON_TEXT
from services.inspections.domain.accountability import OpenItem, listing_refusal, record_refusal
from services.inspections.domain.findings import (
    Action,
    FileRectificationPlan,
    raise_refusal,
    transition_refusal,
)
from services.inspections.domain.inspections import refusal_for
from services.inspections.domain.public_requests import (
    RequestState,
    later_step_refusal,
    permission_refusal,
    receipt_refusal,
)
from services.inspections.domain.refusals import REFUSAL_TEXT, Refusal
from services.inspections.domain.supervision import (
    Term,
    exit_refusal,
    filing_refusal,
    term_refusal,
)
from services.measures.domain import progress
from services.measures.domain.catalogue import load_catalogue, load_units
from services.measures.domain.errors import TEXT
from services.runtime.workdays import chinese_date
from services.scoring.domain import workflow
from services.scoring.domain.periods import Period
from services.scoring.domain.scoring import score
from services.scoring.domain.workflow import PeriodState, Refused, Stage
from services.scoring.handlers.periods import AlreadyClosed, NoRubric
from tests.unit.inspections.support import INSPECTOR, REFERENCE, supervisor_actor, unit_actor
from tests.unit.inspections.test_accountability import interview, listing
from tests.unit.inspections.test_domain import request as inspection
from tests.unit.inspections.test_findings import PLAN, S, finding, request_for
from tests.unit.inspections.test_public_requests import RATED, received, snapshot
from tests.unit.inspections.test_supervision import DUE, FIRST, suggestion
from tests.unit.scoring.events import history
from tests.unit.scoring.test_scoring import facts_of
from tests.unit.scoring.test_workflow import CLOSED, RUBRIC, WINDOW

ROOT = Path(__file__).resolve().parents[2]
# A word of letters only: an English word. Codes carry digits or hyphens (M07, nc-hitech) and
# are allowed; so are the few names written in Latin letters.
WORD = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z]{2,}(?![A-Za-z0-9_-])")
NAMES = {"VR", "JSON", "YAML", "CSV", "XLSX"}  # names of things, as written in Chinese too
CJK = re.compile(r"[\u4e00-\u9fff]")


QUOTED = re.compile(r"“[^”]*”")  # a field or value named as written: “unit”, “true”


def english_words(text: str) -> list[str]:
    return [w for w in WORD.findall(QUOTED.sub("〇", text)) if w not in NAMES]


def _python_files() -> list[Path]:
    return sorted(p for p in (ROOT / "services").rglob("*.py") if "migrations" not in p.parts)


def raised_problem_titles() -> list[tuple[str, str]]:
    """The Chinese title of every `Problem(status, code, title_zh, ...)` in the services."""
    found = []
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "Problem"
                and len(node.args) >= 3
                and isinstance(node.args[2], ast.Constant)
            ):
                found.append((f"{path.relative_to(ROOT)}:{node.lineno}", node.args[2].value))
    return found


TABLES = {
    **{f"reason {k}": zh for k, (zh, _en) in REASON_TEXT.items()},
    **{f"measures {k}": zh for k, (zh, _en) in TEXT.items()},
    **{f"inspections {k}": zh for k, (zh, _en) in REFUSAL_TEXT.items()},
    **dict(raised_problem_titles()),
}


@pytest.mark.parametrize("where", sorted(TABLES))
def test_chinese_titles_have_no_english_words(where: str) -> None:
    assert not english_words(TABLES[where]), f"{where}: {TABLES[where]}"


def test_the_titles_use_official_terms() -> None:
    for where, text in TABLES.items():
        for wrong, right in (("任务分解", "交办任务"), ("诉求件", "诉求工单"), ("逾期0天", "")):
            assert wrong not in text, f"{where}: {text} ({right})"


# Where a refusal takes its Chinese detail, per service folder: the callable's name -> the
# position and keyword of that argument. `Problem`'s detail is Chinese in every service.
# A validator's refusal (invalid_value) and a FieldProblem are Chinese in every service.
DETAIL_ARGUMENT: dict[str, dict[str, tuple[int, str]]] = {
    "measures": {
        "Refused": (1, "detail_zh"),
        "Refusal": (2, "detail_zh"),
        "not_found": (1, "detail_zh"),
        "DocumentError": (0, "zh"),
    },
    "inspections": {
        "Refusal": (1, "detail_zh"),
        "id_conflict": (2, "what"),
        "due_date_passed": (2, "deadline"),
        "clues_refusal": (2, "zh"),
    },
    "scoring": {"Refused": (4, "detail")},  # and every Explained: see _explained
}


def _template(node: ast.expr) -> str | None:
    """A string's text as written, each value it formats shown as 〇 (codes and names go
    there); None for anything but a string."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "〇" for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _template(node.left), _template(node.right)
        return None if left is right is None else f"{left or '〇'}{right or '〇'}"
    return None


def _explained(trees: list[ast.Module]) -> set[str]:
    """Scoring's exceptions with a detail in both languages: Explained and its subclasses."""
    names, grown = {"Explained"}, True
    while grown:
        before = len(names)
        for tree in trees:
            names |= {
                node.name
                for node in ast.walk(tree)
                if isinstance(node, ast.ClassDef)
                and any(getattr(base, "id", None) in names for base in node.bases)
            }
        grown = len(names) > before
    return names


def _argument(call: ast.Call, position: int, keyword: str) -> ast.expr | None:
    if any(isinstance(a, ast.Starred) for a in call.args[: position + 1]):
        return None
    if len(call.args) > position:
        return call.args[position]
    return next((k.value for k in call.keywords if k.arg == keyword), None)


def built_details() -> dict[str, str]:
    """The Chinese detail of every refusal and problem the services build, by where."""
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for path in _python_files()}
    scoring = [t for p, t in trees.items() if "scoring" in p.parts]
    arguments = {**DETAIL_ARGUMENT, "scoring": dict(DETAIL_ARGUMENT["scoring"])}
    arguments["scoring"] |= {name: (0, "detail_zh") for name in _explained(scoring)}
    found = {}
    for path, tree in trees.items():
        table = {
            "Problem": (4, "detail"),
            "invalid_value": (0, "zh"),
            "FieldProblem": (1, "zh"),
            **arguments.get(path.parts[len(ROOT.parts) + 1], {}),
        }
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            argument = _argument(node, *table[name]) if name in table else None
            text = None if argument is None else _template(argument)
            if text is not None:
                found[f"{path.relative_to(ROOT)}:{node.lineno}"] = text
    return found


def chinese_halves() -> dict[str, str]:
    """The Chinese half of every (Chinese, English) pair written in the services: refusal
    tables, the actions a refusal names, the names of states, kinds and steps."""
    found = {}
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Tuple) and len(node.elts) >= 2:
                zh, en = _template(node.elts[0]), _template(node.elts[1])
                if zh and en is not None and CJK.search(zh) and not CJK.search(en):
                    found[f"{path.relative_to(ROOT)}:{node.lineno}"] = zh
    return found


DETAILS = built_details()
HALVES = chinese_halves()


def test_the_services_build_their_details_in_chinese() -> None:
    """The scan finds the details it is meant to (a renamed helper would hide them)."""
    per_service = {
        service: sum(f"services/{service}/" in where for where in DETAILS)
        for service in ("measures", "inspections", "scoring", "notifications")
    }
    assert per_service["measures"] >= 50 and per_service["inspections"] >= 50, per_service
    assert per_service["scoring"] >= 12 and per_service["notifications"] >= 3, per_service
    assert len(HALVES) >= 150


@pytest.mark.parametrize("where", sorted(DETAILS))
def test_chinese_details_have_no_english_words(where: str) -> None:
    assert not english_words(DETAILS[where]), f"{where}: {DETAILS[where]}"


@pytest.mark.parametrize("where", sorted(HALVES))
def test_the_chinese_half_of_each_pair_has_no_english_words(where: str) -> None:
    assert not english_words(HALVES[where]), f"{where}: {HALVES[where]}"


def _report(**changes: object) -> ReportProgress:
    body = {
        "report_id": "r-1",
        "unit": "360102",
        "measure_code": "M07",
        "percent_complete": 50,
        "summary": "进展",
        "reported_at": datetime(2026, 4, 11, 9, tzinfo=UTC).isoformat(),
        "reporter": "东湖区政务服务中心",
    } | changes
    return ReportProgress.model_validate(body)


def test_an_intake_refusal_names_the_unit_and_the_measure_in_chinese() -> None:
    units = load_units()
    catalogue = load_catalogue()
    facts = progress.Facts(units.unit("360102"), {2026: catalogue}, candidates=())
    now = datetime(2026, 5, 1, tzinfo=UTC)
    refusal = progress.check(_report(), facts, now, timedelta(minutes=5))
    assert isinstance(refusal, progress.Refusal)
    assert refusal.detail_zh == "东湖区没有2026年度M07（扎实推动数字政府建设大跨越）的交办任务"
    assert refusal.detail == "360102 has no assignment of M07 in 2026"
    future = progress.check(_report(), facts, now - timedelta(days=30), timedelta(minutes=5))
    assert isinstance(future, progress.Refusal) and future.detail_zh
    assert not english_words(future.detail_zh), future.detail_zh
    assert "2026年4月11日" in future.detail_zh
    unknown = progress.check(_report(measure_code="M99"), facts, now, timedelta(minutes=5))
    assert isinstance(unknown, progress.Refusal) and unknown.detail_zh
    assert not english_words(unknown.detail_zh)


def test_a_date_reads_as_an_office_writes_it() -> None:
    assert chinese_date(date(2026, 4, 1)) == "2026年4月1日"


def inspection_refusals() -> list[Refusal | None]:
    """Refusals of the inspections service as it builds them, one of each kind of value it
    formats (units, measures and types by name, dates and times, states, steps, roles)."""
    today, now = date(2026, 6, 15), datetime.fromisoformat("2026-03-10T12:00:00+08:00")
    skew, targets = timedelta(minutes=5), ["360102", "dept-fgw"]
    closed = RequestClosed(closed_at=datetime.fromisoformat("2026-03-10T08:00+08:00"))
    late_due = received(due_at="2026-03-10T08:00:00+08:00")
    return [
        refusal_for(inspection(inspected_on="2026-06-16"), today, REFERENCE),
        refusal_for(inspection(target_units=["360102", "360102"]), today, REFERENCE),
        refusal_for(inspection(actor=unit_actor()), today, REFERENCE),
        raise_refusal(finding(unit="360103"), targets, today, REFERENCE),
        raise_refusal(
            finding(category={"measure_code": "M12", "type": "loyal"}), targets, today, REFERENCE
        ),
        raise_refusal(
            finding(clues=[{"kind": "public_request", "ref": "R-1"}] * 2), targets, today, REFERENCE
        ),
        raise_refusal(finding(due_date="2026-06-14"), targets, today, REFERENCE),
        transition_refusal(
            request_for(Action.SUBMIT, unit_actor("360103")), S.OPEN, "360102", today, False
        ),
        transition_refusal(request_for(Action.CLOSE, INSPECTOR), S.OPEN, "360102", today, False),
        transition_refusal(
            FileRectificationPlan(actor=unit_actor(), **(PLAN | {"measures": []})),
            S.OPEN,
            "360102",
            today,
            True,
        ),
        listing_refusal(
            listing(), OpenItem("360102", "窗口排队超过一小时", completed=True), False, today
        ),
        listing_refusal(listing(), None, False, today),
        record_refusal(interview(unit="office"), date(2026, 6, 12), today, REFERENCE),
        record_refusal(interview(), date(2026, 6, 20), today, REFERENCE),
        receipt_refusal("360102", late_due, REFERENCE, True, now, skew),
        receipt_refusal(
            "360102", received(received_at="2026-03-11T09:00:00+08:00"), REFERENCE, True, now, skew
        ),
        later_step_refusal(closed, snapshot(RequestState.OPEN), now, skew),
        later_step_refusal(RATED, snapshot(RequestState.CLOSED, rated=True), now, skew),
        permission_refusal(INSPECTOR, RATED, "360102"),
        term_refusal(date(2026, 12, 31), date(2028, 12, 31), [FIRST]),
        exit_refusal(date(2027, 3, 1), [FIRST]),
        filing_refusal(
            suggestion(actor=supervisor_actor("SV-002")), [FIRST], DUE, today, REFERENCE
        ),
        filing_refusal(
            suggestion(), [Term(date(2024, 1, 1), date(2025, 12, 31))], DUE, today, REFERENCE
        ),
    ]


def test_inspection_refusals_read_as_chinese_with_names_and_dates() -> None:
    refusals = inspection_refusals()
    assert all(r is not None and r.detail_zh and r.detail_en for r in refusals)
    details = [r.detail_zh for r in refusals if r is not None and r.detail_zh]
    for detail in details:
        assert not english_words(detail), detail
    assert "该次督查的对象为东湖区、市发展改革委，不含西湖区" in details
    assert any("M12（" in d and "服务型" in d and "忠诚型" in d for d in details)
    assert "督查日期为2026年6月16日，今天是2026年6月15日" in details


def test_scoring_refusals_read_as_chinese_with_names_and_dates() -> None:
    card = score("360102", facts_of(history("360102")), RUBRIC, Period.parse("2026-03"), CLOSED)
    refused = []
    window = PeriodState(Stage.PUBLICISED, WINDOW)
    for attempt in (
        lambda: window.check_appeal_window(date(2026, 4, 30)),
        lambda: window.check_can_finalise(date(2026, 4, 10), {}),
        lambda: window.check_can_finalise(date(2026, 4, 11), {"360103": "西湖区"}),
        lambda: workflow.check_line_items(["finding:loyal"], card),
    ):
        with pytest.raises(Refused) as caught:
            attempt()
        refused.append(caught.value)
    details = [r.detail for r in refused if r.detail]
    assert len(details) == len(refused) and all(r.detail_en for r in refused)
    explained = [NoRubric.of_year(2030), NoRubric.of_version("2026.9"), AlreadyClosed(2)]
    details += [e.detail_zh for e in explained]
    for detail in details:
        # line items are named by their keys (finding:loyal), a code
        assert not english_words(re.sub(r"[a-z0-9_]+:[a-z]+", "", detail)), detail
    assert "未答复的申诉单位：西湖区" in details and "2030年度没有考核评分细则" in details
    assert any(d.startswith("公示期至2026年4月10日") for d in details)
