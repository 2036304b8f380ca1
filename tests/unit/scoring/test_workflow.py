"""The period workflow's rules (公示 → 申诉 → 复核 → 定档) and the documents it issues, on cards
scored from the worked example's events."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from io import BytesIO

import pytest
from docx import Document
from openpyxl import load_workbook

from contracts.scoring import (
    AppealDecided,
    LineAdjustment,
    ResultsPublicised,
    UnitResult,
    period_name_zh,
)
from services.runtime.workdays import chinese_date, load_calendar
from services.scoring.adapters import documents
from services.scoring.domain import workflow
from services.scoring.domain.periods import Period
from services.scoring.domain.policy import DEFAULT_POLICY, ResultsPolicy
from services.scoring.domain.rubric import parse_rubric
from services.scoring.domain.rubric_deduction import HonourRoll
from services.scoring.domain.scoring import Scorecard, score
from services.scoring.domain.workflow import PeriodState, Publicity, Refused, Stage, UnitInfo
from tests.unit.scoring.events import EARNED_2026, RUBRIC_2026, history
from tests.unit.scoring.test_scoring import facts_of

UNIT = "360102"
RUBRIC = parse_rubric(RUBRIC_2026, "2026.yaml")
EARNED = parse_rubric(EARNED_2026, "2026.yaml")
# the deduction model with one unit on each list, as the tests below read
ONE_EACH = RUBRIC.model_copy(update={"honour_roll": HonourRoll(red_top=1, black_bottom=1)})
CLOSED = datetime(2026, 4, 2, 2, tzinfo=UTC)  # Thursday 2 April 2026, 10:00 China time


@pytest.fixture(scope="module")
def card() -> Scorecard:
    scored = score(UNIT, facts_of(history(UNIT)), RUBRIC, Period.parse("2026-03"), CLOSED)
    assert scored.line_items, "the worked example has line items to appeal"
    return scored


@contextmanager
def refused(code: str) -> Iterator[None]:
    with pytest.raises(Refused) as caught:
        yield
    assert caught.value.code == code


def test_the_publicity_counts_working_days_on_the_programme_calendar() -> None:
    # 2 April 2026 (Thursday); 清明 (4-6 April) is a holiday on the calendar.
    window = workflow.publicity(load_calendar(), 1, date(2026, 4, 2), DEFAULT_POLICY)
    assert (window.ends_on, window.appeal_deadline) == (date(2026, 4, 10), date(2026, 4, 10))
    short = ResultsPolicy(publicity_working_days=5, appeal_working_days=2)
    assert workflow.publicity(load_calendar(), 1, date(2026, 4, 2), short).appeal_deadline == date(
        2026, 4, 7
    )


WINDOW = Publicity(1, date(2026, 4, 2), date(2026, 4, 10), date(2026, 4, 8))


def test_appeals_are_accepted_only_within_the_window_and_before_finalisation() -> None:
    publicised = PeriodState(Stage.PUBLICISED, WINDOW)
    assert publicised.check_appeal_window(date(2026, 4, 8)) == WINDOW
    with refused("appeal_window_closed"):
        publicised.check_appeal_window(date(2026, 4, 9))
    with refused("period_not_publicised"):
        PeriodState(Stage.OPEN).check_appeal_window(date(2026, 4, 3))
    with refused("period_finalised"):
        PeriodState(Stage.FINALISED, WINDOW).check_appeal_window(date(2026, 4, 3))
    with refused("period_finalised"):
        PeriodState(Stage.FINALISED, WINDOW).check_can_publish()
    PeriodState(Stage.PUBLICISED, WINDOW).check_can_publish()  # a revision, before 定档


def test_finalising_waits_for_the_end_of_the_publicity_and_every_answer() -> None:
    publicised = PeriodState(Stage.PUBLICISED, WINDOW)
    with refused("publicity_not_over"):
        publicised.check_can_finalise(date(2026, 4, 10), {})
    with refused("appeals_pending"):
        publicised.check_can_finalise(date(2026, 4, 11), {"360103": "西湖区"})
    assert publicised.check_can_finalise(date(2026, 4, 11), {}) == WINDOW
    with refused("period_not_publicised"):
        PeriodState(Stage.OPEN).check_can_finalise(date(2026, 4, 11), {})


def test_an_appeal_needs_a_reason_and_line_items_of_the_card(card: Scorecard) -> None:
    key = workflow.line_item_key(card.line_items[0])
    workflow.check_appeal("扣分依据的整改已按期完成", [key], card)
    with refused("appeal_reason_missing"):
        workflow.check_appeal("  ", [key], card)
    with refused("unknown_line_item"):
        workflow.check_appeal("理由", [key, "bonus_national:loyal"], card)


def test_a_decision_needs_an_answer_and_corrections_only_when_correcting(card: Scorecard) -> None:
    key = workflow.line_item_key(card.line_items[0])
    fix = [LineAdjustment(line_item=key, points=1.5, reason="整改已按期完成，扣分有误")]
    workflow.check_decision("corrected", "经复核，予以更正。", fix, card)
    workflow.check_decision("upheld", "经复核，维持原结果。", [], card)
    for outcome, answer, adjustments, code in [
        ("upheld", " ", [], "answer_missing"),
        ("corrected", "予以更正", [], "correction_missing"),
        ("upheld", "维持", fix, "adjustment_not_allowed"),
        ("corrected", "予以更正", [fix[0].model_copy(update={"points": 0})], "adjustment_zero"),
        (
            "corrected",
            "予以更正",
            [fix[0].model_copy(update={"line_item": "nothing:loyal"})],
            "unknown_line_item",
        ),
    ]:
        with refused(code):
            workflow.check_decision(outcome, answer, adjustments, card)


def test_a_correction_moves_the_type_the_total_and_the_comprehensive_share(
    card: Scorecard,
) -> None:
    policy = ResultsPolicy(comprehensive_points=Decimal(20))
    row = workflow.result_row(card, UnitInfo(UNIT, "东湖区", "county"), policy)
    assert row.total == float(card.total) and row.grade is None and row.verdict is None
    assert row.comprehensive_points == float(
        (card.total * 20 / card.base).quantize(Decimal("0.01"))
    )
    item = card.line_items[0]
    key = workflow.line_item_key(item)
    fixed = workflow.corrected(
        row, [LineAdjustment(line_item=key, points=1.5, reason="r")], policy, RUBRIC
    )
    assert fixed.total == pytest.approx(row.total + 1.5) and fixed.adjustments == 1.5
    before = {t.type: t.score for t in row.types}
    after = {t.type: t.score for t in fixed.types}
    assert after[item.type] == pytest.approx(before[item.type] + 1.5)
    assert {t: s for t, s in after.items() if t != item.type} == {
        t: s for t, s in before.items() if t != item.type
    }
    assert fixed.comprehensive_points == round(fixed.total * 20 / 100, 2)  # type: ignore[operator]


def _row(unit: str, name: str, total: float | None, group: str = "county") -> UnitResult:
    return UnitResult(
        unit=unit,
        unit_name=name,
        peer_group=group,
        rank=None,
        tied=False,
        honour=None,
        total=total,
        full_marks=100.0,
        types=[],
        bonus=0.0,
        deductions=0.0 if total is None else total - 100,
        adjustments=0.0,
        grade=None,
        verdict=None,
        comprehensive_points=None if total is None else total / 5,
    )


def test_a_group_is_ranked_and_a_unit_without_a_score_is_listed_last_unranked() -> None:
    rows = [
        _row("360103", "西湖区", 90),
        _row("360104", "青云谱区", None),
        _row("360102", "东湖区", 95),
    ]
    ranked = workflow.rank_group(rows, ONE_EACH)
    assert [(r.unit, r.rank, r.honour) for r in ranked] == [
        ("360102", 1, "red"),
        ("360103", 2, "black"),
        ("360104", None, None),
    ]


def test_a_correction_moves_the_grade_and_keeps_the_verdicts_effect() -> None:
    downgraded = _row("360102", "东湖区", 92).model_copy(
        update={"band_grade": "excellent", "grade": "good"}
    )
    lowered = LineAdjustment(line_item="tasks_service:service", points=-5, reason="复核更正")
    fixed = workflow.corrected(downgraded, [lowered], DEFAULT_POLICY, EARNED)
    assert (fixed.total, fixed.band_grade, fixed.grade) == (87, "good", "fair")


def test_the_diff_of_two_cards_lists_the_lines_that_changed(card: Scorecard) -> None:
    march_10 = datetime(2026, 3, 10, tzinfo=UTC)
    earlier = score(UNIT, facts_of(history(UNIT)), RUBRIC, Period.parse("2026-03"), march_10)
    diff = workflow.card_diff(earlier, card)
    assert (diff.total_before, diff.total_after) == (earlier.total, card.total)
    assert diff.lines, "facts learnt between 10 and 31 March change the card"
    for line in diff.lines:
        assert line.change == (line.after or 0) - (line.before or 0)
        assert line.change or line.events_added or line.events_removed
    assert workflow.card_diff(card, card).lines == []


# ----------------------------------------------------------------------------- documents


def _document(card: Scorecard) -> documents.ResultsDocument:
    county = [
        _row("360102", "东湖区", 88.5),
        _row("360103", "西湖区", 92.25),
        _row("360104", "青云谱区", None),
    ]
    devzone = _row("nc-gaoxin", "南昌高新技术产业开发区", 97, "devzone")
    rows = [
        *workflow.rank_group(county, ONE_EACH),
        devzone.model_copy(update={"rank": 1}),
    ]
    publicised = ResultsPublicised(
        period="2026-03",
        period_kind="month",
        revision=1,
        rubric_version="2026.1",
        as_of=CLOSED,
        comprehensive_share=20,
        results=rows,
        publicised_at=CLOSED,
        publicised_by="市“五型”办",
        publicity_working_days=5,
        publicity_ends_on=date(2026, 4, 10),
        appeal_deadline=date(2026, 4, 10),
    )
    key = workflow.line_item_key(card.line_items[0])
    decision = AppealDecided(
        appeal_id="a1",
        period="2026-03",
        unit=UNIT,
        unit_name="东湖区",
        outcome="corrected",
        answer="经复核，予以更正。",
        adjustments=[LineAdjustment(line_item=key, points=1.5, reason="整改已按期完成")],
        total_before=87.0,
        total_after=88.5,
        decided_by="office",
        decided_at=CLOSED,
    )
    return documents.ResultsDocument(
        results=publicised,
        group_names={"county": "县区", "devzone": "开发区"},
        issued_on=date(2026, 12, 2),
        line_items={UNIT: card.line_items},
        decisions={UNIT: decision},
    )


def test_the_workbook_holds_each_group_and_every_line_item(card: Scorecard) -> None:
    book = load_workbook(BytesIO(documents.results_workbook(_document(card))))
    assert book.sheetnames == ["县区", "开发区", "分项明细"]
    county = book["县区"]
    assert "公示稿" in county["A1"].value and "2026年3月" in county["A1"].value
    assert "2026年12月2日" in county["A2"].value
    header = [c.value for c in county[3]]
    assert header[:4] == ["名次", "单位代码", "单位名称", "总分"]
    assert header[-1] == "综合考核折算分（满分20）"
    rows = [[c.value for c in r] for r in county.iter_rows(min_row=4)]
    assert [(r[0], r[1], r[3], r[-2]) for r in rows] == [
        (1, "360103", 92.25, "红榜"),
        (2, "360102", 88.5, "黑榜"),
        (None, "360104", "暂无考核数据", None),
    ]
    details = [[c.value for c in r] for r in book["分项明细"].iter_rows(min_row=2)]
    assert len(details) == len(card.line_items) + 1
    assert details[-1][3:5] == ["复核更正", 1.5]
    points = float(sum(i.points for i in card.line_items))
    assert sum(d[4] for d in details[:-1]) == pytest.approx(points)


def _text(content: bytes) -> str:
    made = Document(BytesIO(content))
    cells = [c.text for t in made.tables for r in t.rows for c in r.cells]
    return "\n".join([p.text for p in made.paragraphs] + cells)


def test_the_notice_draft_has_the_layout_of_an_official_notice(card: Scorecard) -> None:
    text = _text(documents.notice_draft(_document(card)))
    paragraphs = text.splitlines()
    assert paragraphs[0] == "【公示稿】"
    assert paragraphs[1] == "关于2026年3月“五型”政府建设考核结果的通报"
    assert paragraphs[2].startswith("各县（区）人民政府") and paragraphs[2].endswith("：")
    assert "公示期至2026年4月10日" in text and "按20分折算" in text
    assert "红榜（通报表扬）：西湖区。" in text and "黑榜（通报批评）：东湖区。" in text
    assert "南昌市“五型”政府建设领导小组办公室\n2026年12月2日" in text
    assert "92.25" in text and "暂无考核数据" in text


def test_a_units_result_sheet_shows_its_result_and_the_answer_to_its_appeal(
    card: Scorecard,
) -> None:
    text = _text(documents.unit_sheet(_document(card), UNIT))
    assert "【公示稿】" in text and "东湖区（360102）" in text
    assert "总分\n88.50" in text and "组内名次\n2" in text and "红黑榜\n黑榜" in text
    assert "申诉复核：予以更正。经复核，予以更正。" in text
    assert card.line_items[0].name_zh in text


def test_periods_and_dates_are_written_as_chinese_documents_write_them() -> None:
    names = [period_name_zh(p) for p in ("2026-03", "2026-Q4", "2026")]
    assert names == ["2026年3月", "2026年第四季度", "2026年度"]
    assert chinese_date(date(2026, 12, 2)) == "2026年12月2日"
