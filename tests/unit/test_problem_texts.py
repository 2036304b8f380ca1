"""Every Chinese problem title a client can be shown (the reason codes of the bus, each
service's refusal table, every `Problem(...)` the services raise) and the Chinese details the
measures service builds read as Chinese: no ASCII word inside them but codes (M07, 360102,
nc-hitech) and names."""

import ast
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from contracts.measures import ReportProgress
from contracts.reasons import REASON_TEXT
from services.inspections.domain.refusals import REFUSAL_TEXT
from services.measures.domain import progress
from services.measures.domain.catalogue import load_catalogue, load_units
from services.measures.domain.errors import TEXT
from services.runtime.workdays import chinese_date

ROOT = Path(__file__).resolve().parents[2]
# A word of letters only: an English word. Codes carry digits or hyphens (M07, nc-hitech) and
# are allowed; so are the few names written in Latin letters.
WORD = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z]{2,}(?![A-Za-z0-9_-])")
NAMES = {"VR", "JSON", "YAML", "CSV", "XLSX"}  # names of things, as written in Chinese too


def english_words(text: str) -> list[str]:
    return [w for w in WORD.findall(text) if w not in NAMES]


def raised_problem_titles() -> list[tuple[str, str]]:
    """The Chinese title of every `Problem(status, code, title_zh, ...)` in the services."""
    found = []
    for path in sorted((ROOT / "services").rglob("*.py")):
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
