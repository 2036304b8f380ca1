"""The period workflow's events become notifications: every unit of the 公示 hears its own
result, and a unit hears the answer to its appeal."""

from datetime import UTC, date, datetime

from contracts.envelope import wrap
from contracts.scoring import AppealDecided, LineAdjustment, ResultsPublicised, UnitResult
from services.notifications.domain import occurrences
from services.notifications.domain.templates import load_templates
from services.notifications.domain.topics import Topic

AT = datetime(2026, 4, 2, 2, tzinfo=UTC)


def _row(unit: str, name: str, total: float | None, rank: int | None) -> UnitResult:
    return UnitResult(
        unit=unit,
        unit_name=name,
        peer_group="county",
        rank=rank,
        tied=False,
        total=total,
        full_marks=100,
        types=[],
        bonus=0,
        deductions=0,
        adjustments=0,
    )


def test_the_publicity_tells_each_unit_its_own_result_and_the_appeal_deadline() -> None:
    event = ResultsPublicised(
        period="2026-03",
        period_kind="month",
        revision=1,
        rubric_version="2026.1",
        as_of=AT,
        comprehensive_share=20,
        results=[_row("360102", "东湖区", 88.5, 2), _row("360104", "青云谱区", None, None)],
        publicised_at=AT,
        publicised_by="office",
        publicity_working_days=5,
        publicity_ends_on=date(2026, 4, 10),
        appeal_deadline=date(2026, 4, 10),
    )
    found = occurrences.results_publicised(wrap(event, subject="office", source="t"))
    assert [(o.unit, o.topic) for o in found] == [
        ("360102", Topic.RESULTS_PUBLICISED),
        ("360104", Topic.RESULTS_PUBLICISED),
    ]
    assert len({o.notification_id for o in found}) == 2
    rendered = load_templates().render(found[0].topic, found[0].fields)
    assert rendered.title_zh == "【考核结果公示】2026年3月考核结果公示"
    assert "您单位得分88.50，组内排名第2名" in rendered.body_zh
    assert "请于2026年4月10日（含）前" in rendered.body_zh
    assert found[1].fields["total"] == "—"


def test_the_unit_hears_the_answer_to_its_appeal() -> None:
    event = AppealDecided(
        appeal_id="a-1",
        period="2026-03",
        unit="360102",
        unit_name="东湖区",
        outcome="corrected",
        answer="经核实整改已按期完成，退还扣分。",
        adjustments=[LineAdjustment(line_item="finding:disciplined", points=1.5, reason="已整改")],
        total_before=87.0,
        total_after=88.5,
        decided_by="office",
        decided_at=AT,
    )
    found = occurrences.appeal_decided(wrap(event, subject="360102", source="t"), "东湖区")
    rendered = load_templates().render(found.topic, found.fields)
    assert found.unit == "360102"
    assert rendered.body_zh == (
        "东湖区：经复核，予以更正（原得分87.00，复核后得分88.50）。"
        "复核意见：经核实整改已按期完成，退还扣分。"
    )
