"""The earned model (rubric 2026.2): worked examples of each rule (the ones docs/scoring.md
shows) and property tests of its fairness over generated workloads."""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.envelope import Envelope, fact_id, wrap
from contracts.inspections import Severity
from contracts.measures import (
    AchievementKind,
    CatalogueMeasure,
    CataloguePublished,
    CatalogueTarget,
    CatalogueType,
    DeadlineItem,
)
from contracts.notifications import EscalationLevel, EscalationRaised
from contracts.scoring import VerdictRecorded
from services.scoring.domain.cards import Scorecard
from services.scoring.domain.earned import apportioned
from services.scoring.domain.facts import REFERENCE_KINDS, Fact, FactKind, to_facts
from services.scoring.domain.periods import Period
from services.scoring.domain.ranking import Standing, rank_earned
from services.scoring.domain.reference import reference_from
from services.scoring.domain.rubric import EarnedRubric, RubricRefused, parse_rubric
from services.scoring.domain.scoring import Context, context_for, score
from tests.unit.scoring.events import (
    EARNED_2026,
    achievement,
    assignment,
    at,
    finding,
    missed,
    progress,
    public_service,
    rectification_closed,
    unit_registered,
)

RUBRIC = parse_rubric(EARNED_2026, "2026.yaml")
assert isinstance(RUBRIC, EarnedRubric)
UNIT = "360102"
YEAR, MARCH = Period.parse("2026"), Period.parse("2026-03")
END = Context(today=date(2026, 12, 31))
TYPES = ["loyal", "innovative", "responsible", "service", "disciplined"]


def catalogue() -> Envelope[CataloguePublished]:
    measures = [
        CatalogueMeasure(
            code="M07", kind="measure", type="innovative", title_zh="数字政府建设", title_en="x"
        ),
        CatalogueMeasure(
            code="M14", kind="measure", type="service", title_zh="急难愁盼", title_en="x"
        ),
        CatalogueMeasure(
            code="M12",
            kind="measure",
            type="service",
            title_zh="优化营商环境",
            title_en="x",
            targets=[
                CatalogueTarget(
                    code="M12-T1",
                    description_zh="落实172项具体举措",
                    metric="count",
                    comparator=">=",
                    value=172,
                )
            ],
        ),
        CatalogueMeasure(code="G4", kind="guarantee", title_zh="严格督查考核", title_en="x"),
    ]
    data = CataloguePublished(
        year=2026,
        version="2026.1",
        types=[CatalogueType(code=t, name_zh=t, name_en=t) for t in TYPES],
        measures=measures,
    )
    return wrap(
        data, subject="office", source="t", id=fact_id("Catalogue", 1), time=at(date(2026, 1, 2))
    )


def facts(*envelopes: Envelope[Any]) -> list[Fact]:
    base = [catalogue(), unit_registered(UNIT, "东湖区", "county")]
    return [f for e in (*base, *envelopes) for f in to_facts(e)]


def card(*envelopes: Envelope[Any], period: Period = YEAR, context: Context = END) -> Scorecard:
    return score(UNIT, facts(*envelopes), RUBRIC, period, context=context)


def plan(*dues: date, measure_type: str = "innovative", assignment_id: str = "A1") -> Any:
    return assignment(
        UNIT, assignment_id, measure_type, {f"m{i}": d for i, d in enumerate(dues, 1)}
    )


def done(milestone: str, due: date, on: date, assignment_id: str = "A1") -> Any:
    return progress(
        UNIT,
        f"r-{assignment_id}-{milestone}",
        at(on),
        assignment_id=assignment_id,
        milestone_id=milestone,
        due=due,
        completed=True,
        percent=100,
    )


def miss(milestone: str, due: date, assignment_id: str = "A1", **measure: Any) -> Any:
    return missed(
        UNIT,
        f"{assignment_id}/{milestone}",
        due,
        milestone_id=milestone,
        assignment_id=assignment_id,
        **measure,
    )


D1, D2 = date(2026, 3, 10), date(2026, 3, 20)


# ----------------------------------------------------------------------------- worked examples


def test_nothing_assessable_means_no_score_not_full_marks() -> None:
    empty = card()
    assert (empty.total, empty.grade, empty.note_zh) == (None, None, "暂无考核数据")
    # findings and 12345 figures alone are not a basis for a score either
    other = card(finding(UNIT, "F-1", Severity.SERIOUS, at(date(2026, 3, 3))))
    assert other.total is None


def test_a_type_without_tasks_gives_its_weight_to_the_types_with_tasks() -> None:
    one = card(plan(D1), done("m1", D1, D1))
    innovative = next(t for t in one.types if t.type == "innovative")
    # tasks (70) and report quality (5) are what the unit can earn: 70 / 75 × 100 = 93.33
    assert innovative.full_marks == Decimal("93.33") and innovative.score == Decimal("93.33")
    assert [t.assessed for t in one.types] == [False, True, False, False, False]
    assert one.total == Decimal("100.00")


def test_late_beats_never_and_on_time_beats_late() -> None:
    on_time = card(plan(D1, D2), done("m1", D1, D1), done("m2", D2, D2))
    late = card(plan(D1, D2), done("m1", D1, D1), miss("m2", D2), done("m2", D2, D2 + timedelta(3)))
    never = card(plan(D1, D2), done("m1", D1, D1), miss("m2", D2))
    assert on_time.total == Decimal(100)
    # tasks 70 and report quality 5 rescaled to 100: tasks 93.33, reports 6.67; three days
    # late earns 0.9 − 2 × 0.02 = 0.86 on an item of weight 2 of 4
    assert late.total == Decimal("93.47")  # 93.33 × (2 + 2 × 0.86) / 4 + 6.67
    assert never.total == Decimal("53.34")  # 93.33 × 2 / 4 + 6.67, each line rounded
    line = next(li for li in late.line_items if li.rule == "tasks_innovative")
    late_item = next(i for i in line.items if i.outcome == "late")
    assert (late_item.days_late, late_item.credit, late_item.due_date) == (3, Decimal("0.86"), D2)
    assert (late_item.measure_code, late_item.measure_name, late_item.title) == (
        "M07",
        "数字政府建设",
        "第m2阶段",
    )


def test_a_completion_after_the_period_counts_in_the_year_not_in_the_month() -> None:
    finished_in_april = [plan(D2), miss("m1", D2), done("m1", D2, date(2026, 4, 2))]

    def credit(period: Period) -> Decimal | None:
        line = next(li for li in card(*finished_in_april, period=period).line_items)
        return line.items[0].credit

    assert credit(MARCH) == Decimal(0)
    assert credit(YEAR) == Decimal("0.66")  # 13 days late: 0.9 − 12 × 0.02


def test_obligations_count_like_milestones() -> None:
    weekly = assignment(UNIT, "W1", "innovative", {"w1": D1, "w2": D2}, recurrence="weekly")
    reported_late = card(
        weekly,
        done("w1", D1, D1, "W1"),
        miss("w2", D2, "W1"),
        done("w2", D2, D2 + timedelta(1), "W1"),
    )
    never = card(weekly, done("w1", D1, D1, "W1"), miss("w2", D2, "W1"))
    assert reported_late.total is not None and never.total is not None
    assert reported_late.total > never.total
    line = next(li for li in never.line_items if li.rule == "tasks_innovative")
    assert {i.kind for i in line.items} == {"obligation"}


def test_guarantee_measure_duties_are_a_common_indicator() -> None:
    annual_report = assignment(UNIT, "G", None, {"g1": D1}, measure_code="G4", recurrence="annual")
    typed = card(
        plan(D2),
        done("m1", D2, D2),
        annual_report,
        miss("g1", D1, "G", measure_type=None, measure_code="G4"),
    )
    guarantee = next(li for li in typed.line_items if li.rule == "guarantee_duties")
    # tasks 70 + guarantee duties 10 (+ reports 5) are what this unit can earn, rescaled to 100:
    # 82.35 + 11.77 + 5.88, the cent left by rounding down going to the largest remainder
    assert (guarantee.full_marks, guarantee.points) == (Decimal("11.77"), Decimal(0))
    assert sum(li.full_marks or 0 for li in typed.line_items) == Decimal(100)
    assert typed.total == Decimal("88.23")  # 82.35 + 0 + 5.88


def test_a_quantified_target_scores_by_degree() -> None:
    target = assignment(
        UNIT, "T", "service", {"t1": date(2026, 11, 30)}, measure_code="M12", target_code="M12-T1"
    )

    def reported(value: float) -> Scorecard:
        report = progress(
            UNIT,
            "rt",
            at(date(2026, 11, 20)),
            assignment_id="T",
            measure_code="M12",
            target_code="M12-T1",
            target_value=value,
            measure_type="service",
        )
        return card(target, report)

    half = reported(86)
    line = next(li for li in half.line_items if li.rule == "tasks_service")
    item = next(i for i in line.items if i.kind == "target")
    assert (item.outcome, item.credit, item.note_zh) == (
        "partly",
        Decimal("0.50"),
        "报送值 86，目标值 172",
    )
    assert reported(172).total is not None and half.total is not None
    assert reported(172).total > half.total


def test_an_open_serious_finding_costs_every_month_it_stays_open() -> None:
    raised = finding(UNIT, "F-1", Severity.SERIOUS, at(date(2026, 3, 3)))  # due 30 April
    work = [plan(D1), done("m1", D1, D1)]
    at_may = card(*work, raised, context=Context(today=date(2026, 5, 20)))
    at_july = card(*work, raised, context=Context(today=date(2026, 7, 20)))
    line = next(li for li in at_july.line_items if li.rule == "open_finding")
    assert [i.note_zh for i in line.items] == [
        "逾期未整改（2026年5月）",
        "逾期未整改（2026年6月）",
        "逾期未整改（2026年7月）",
    ]
    assert at_may.deductions == Decimal("-3.00") and at_july.deductions == Decimal("-9.00")
    closed = rectification_closed(UNIT, "F-1", at(date(2026, 5, 10)), days_late=10)
    assert card(*work, raised, closed, context=Context(today=date(2026, 7, 20))).deductions == (
        Decimal("-1.00")  # general severity on the closing event: the latest says
    )


def test_a_serious_finding_left_open_costs_more_than_a_missed_milestone() -> None:
    dues = [date(2026, m, 15) for m in range(1, 13)]
    year = [plan(*dues), *(done(f"m{i}", d, d) for i, d in enumerate(dues[:-1], 1))]
    missed_one = card(*year, miss("m12", dues[-1]))
    with_finding = card(
        *year,
        done("m12", dues[-1], dues[-1]),
        finding(UNIT, "F-1", Severity.SERIOUS, at(date(2026, 3, 3))),
    )
    assert missed_one.total is not None and with_finding.total is not None
    assert with_finding.total < missed_one.total


def test_escalations_cost_points() -> None:
    order = EscalationRaised(
        case_id="c1",
        level=EscalationLevel.SUPERVISION_ORDER,
        item_type=DeadlineItem.MILESTONE,
        item_id="A1/m1",
        unit=UNIT,
        title="第m1阶段",
        measure_code="M07",
        due_date=D1,
        working_days_overdue=5,
        recipients=["office"],
        raised_at=at(D1 + timedelta(8)),
    )
    escalated = wrap(order, subject=UNIT, source="n", id="e1", time=at(D1 + timedelta(8)))
    work = [plan(D1, D2), miss("m1", D1), done("m2", D2, D2)]
    plain = card(*work)
    with_order = card(*work, escalated)
    assert plain.total is not None and with_order.total is not None
    assert with_order.total == plain.total - 1
    line = next(li for li in with_order.line_items if li.rule == "supervision_order")
    assert line.items[0].title == "第m1阶段"


def test_bonuses_are_capped_and_never_penalise_the_rest() -> None:
    work = [plan(D1), miss("m1", D1)]
    three = [
        achievement(UNIT, f"N-{i}", AchievementKind.NATIONAL_RECOGNITION, D1) for i in range(3)
    ]
    assert card(*work).bonus == 0
    assert card(*work, *three).bonus == Decimal(5)  # 9 earned, capped at 5 a year


def verdict(kind: str, steps: int = 1) -> Envelope[VerdictRecorded]:
    data = VerdictRecorded(
        verdict_id=f"v-{kind}-{steps}",
        unit=UNIT,
        period="2026",
        kind=kind,
        steps=steps,
        reason="发生重大安全生产责任事故",
        document="洪五型办〔2026〕9号",
        decided_by="office",
        decided_on=date(2026, 12, 1),
        recorded_at=at(date(2026, 12, 1)),
    )
    return wrap(
        data, subject=UNIT, source="s", id=fact_id("Verdict", kind, steps), time=data.recorded_at
    )


def test_a_veto_makes_the_grade_poor_and_a_downgrade_lowers_it() -> None:
    work = [plan(D1), done("m1", D1, D1)]
    assert card(*work).grade == "excellent"
    assert card(*work, verdict("veto")).grade == "poor"
    lowered = card(*work, verdict("downgrade", 2))
    assert (lowered.band_grade, lowered.grade, lowered.total) == ("excellent", "fair", Decimal(100))
    assert lowered.verdicts[0].document == "洪五型办〔2026〕9号"


def test_the_hotline_is_scored_against_the_peer_average_with_a_minimum_of_cases() -> None:
    others = {"360103": (100, 80), "360104": (100, 100)}
    registered = [unit_registered(u, u, "county") for u in others]
    figures = [
        public_service(u, 3, 1, due=d, on_time=o, ratings=0, satisfied=0)
        for u, (d, o) in others.items()
    ]
    mine = public_service(UNIT, 3, 1, due=100, on_time=72, ratings=4, satisfied=1)
    everything = facts(*registered, *figures, mine, plan(D1), done("m1", D1, D1))
    reference = reference_from([f for f in everything if f.kind in REFERENCE_KINDS])
    every_units_figures = [f for f in everything if f.kind is FactKind.PUBLIC_SERVICE]
    context = context_for([RUBRIC], every_units_figures, reference, date(2026, 12, 31))
    own = [f for f in everything if f.unit == UNIT or f.kind in REFERENCE_KINDS]
    result = score(UNIT, own, RUBRIC, MARCH, context=context)
    on_time = next(li for li in result.line_items if li.rule == "hotline_on_time")
    # the group's average: (72 + 80 + 100) / 3 = 84 %; 72 / 84 of the line
    assert on_time.detail["peer_average_percent"] == "84.00"
    assert on_time.detail["credit"] == "0.86"
    satisfaction = next(li for li in result.line_items if li.rule == "hotline_satisfaction")
    assert satisfaction.points == 0 and "样本不足" in satisfaction.explanation_zh


# ----------------------------------------------------------------------------- rubric refusals


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("    loyal: 15 ", "    clean: 5\n    loyal: 15 "),
            "tasks.weights: unknown type(s) ['clean']",
        ),
        (("    loyal: 15 ", "    # loyal: 15 "), "tasks.weights: no weight for ['loyal']"),
        (("  good: 80 ", "  good: 95 "), "grades: bands overlap"),
        (
            ("excellent_quota_percent: 30", "excellent_quota_percent: 130"),
            "grades.excellent_quota_percent: Input should be less than or equal to 100",
        ),
        (("    first_day: 0.9", "    first_day: 1"), "late_credit: need floor ≤ first_day < 1"),
    ],
)
def test_a_bad_earned_rubric_is_refused_with_its_reason(
    change: tuple[str, str], message: str
) -> None:
    old, new = change
    assert old in EARNED_2026
    with pytest.raises(RubricRefused) as refused:
        parse_rubric(EARNED_2026.replace(old, new, 1), "2026.yaml")
    assert any(message in error for error in refused.value.errors), refused.value.errors


# ----------------------------------------------------------------------------- properties

# An item: (type, month, outcome) with outcome on_time, late by n days, or missed.
item = st.tuples(
    st.sampled_from(TYPES),
    st.integers(1, 12),
    st.one_of(st.just("on_time"), st.just("missed"), st.integers(1, 40)),
)
workloads = st.lists(item, min_size=1, max_size=8)
PERIODS = [Period.parse(p) for p in ("2026-03", "2026-Q2", "2026")]


def events_of(workload: list[tuple[str, int, Any]]) -> list[Any]:
    found: list[Any] = []
    for index, (type_code, month, outcome) in enumerate(workload):
        assignment_id, due = f"A{index}", date(2026, month, 10)
        found.append(plan(due, measure_type=type_code, assignment_id=assignment_id))
        if outcome == "on_time":
            found.append(done("m1", due, due, assignment_id))
        else:
            found.append(miss("m1", due, assignment_id))
            if outcome != "missed":
                found.append(done("m1", due, due + timedelta(days=outcome), assignment_id))
    return found


def totals(envelopes: list[Any]) -> list[Decimal | None]:
    every = facts(*envelopes)
    return [score(UNIT, every, RUBRIC, p, context=END).total for p in PERIODS]


def at_least(after: list[Decimal | None], before: list[Decimal | None]) -> bool:
    return all(b is None or (a is not None and a >= b) for a, b in zip(after, before, strict=True))


@given(workloads, st.integers(0, 7), st.integers(1, 60))
@settings(max_examples=40, deadline=None)
def test_completing_an_item_never_lowers_a_card_and_late_lies_between(
    workload: list[tuple[str, int, Any]], pick: int, days_late: int
) -> None:
    index = pick % len(workload)
    never = [
        *workload[:index],
        (workload[index][0], workload[index][1], "missed"),
        *workload[index + 1 :],
    ]
    late = [*never[:index], (never[index][0], never[index][1], days_late), *never[index + 1 :]]
    on_time = [*never[:index], (never[index][0], never[index][1], "on_time"), *never[index + 1 :]]
    never_t, late_t, on_time_t = (totals(events_of(w)) for w in (never, late, on_time))
    assert at_least(late_t, never_t)
    assert at_least(on_time_t, late_t)


@given(workloads)
@settings(max_examples=40, deadline=None)
def test_every_item_on_time_is_exactly_full_marks(workload: list[tuple[str, int, Any]]) -> None:
    """However the parts a unit has rescale, doing all of it on time is 100.00, never 99.99 or
    100.01: units that did everything rank together."""
    on_time = [(type_code, month, "on_time") for type_code, month, _ in workload]
    every = facts(*events_of(on_time))
    for period in PERIODS:
        card = score(UNIT, every, RUBRIC, period, context=END)
        assert card.total in (None, Decimal(100)), (period, card.total)
        if card.total is not None:
            assert sum(li.full_marks or 0 for li in card.line_items) == Decimal(100)


@given(st.lists(st.decimals(0, 1000, places=3), min_size=1, max_size=12))
def test_apportioned_cents_add_up_and_stay_within_a_cent(shares: list[Decimal]) -> None:
    split = apportioned(shares, Decimal(100))
    if not any(shares):
        assert split == [Decimal("0.00")] * len(shares)
        return
    assert sum(split) == Decimal(100)
    for share, part in zip(shares, split, strict=True):
        assert abs(part - Decimal(100) * share / sum(shares)) < Decimal("0.01")


severity = st.sampled_from(list(Severity))
ORDER = list(Severity)


@given(workloads, st.lists(st.tuples(st.integers(1, 11), severity), max_size=4), severity)
@settings(max_examples=40, deadline=None)
def test_more_or_more_severe_open_findings_never_raise_a_card(
    workload: list[tuple[str, int, Any]], open_findings: list[tuple[int, Severity]], extra: Severity
) -> None:
    def with_findings(found: list[tuple[int, Severity]]) -> list[Decimal | None]:
        raised = [
            finding(UNIT, f"F-{i}", s, at(date(2026, m, 3))) for i, (m, s) in enumerate(found)
        ]
        return totals([*events_of(workload), *raised])

    base = with_findings(open_findings)
    assert at_least(base, with_findings([*open_findings, (2, extra)]))
    if open_findings:
        month, current = open_findings[0]
        worse = ORDER[min(ORDER.index(current) + 1, len(ORDER) - 1)]
        assert at_least(base, with_findings([(month, worse), *open_findings[1:]]))


@given(workloads, st.sampled_from(["veto", "downgrade"]))
@settings(max_examples=25, deadline=None)
def test_a_verdict_never_raises_a_grade(workload: list[tuple[str, int, Any]], kind: str) -> None:
    before = card(*events_of(workload))
    after = card(*events_of(workload), verdict(kind))
    order = ["excellent", "good", "fair", "poor"]
    assert before.grade is not None and after.grade is not None
    assert order.index(after.grade) >= order.index(before.grade)


standings = st.lists(
    st.builds(
        Standing,
        unit=st.text("0123456789", min_size=6, max_size=6),
        total=st.decimals(0, 105, places=0),
        deductions=st.decimals(0, 10, places=0),
        on_time_rate=st.decimals(0, 1, places=1),
        grade=st.sampled_from(["excellent", "good", "fair", "poor"]),
    ),
    min_size=1,
    max_size=12,
    unique_by=lambda s: s.unit,
)


@given(standings)
@settings(max_examples=80, deadline=None)
def test_lists_never_hold_a_whole_group_and_the_quota_holds(group: list[Standing]) -> None:
    ranked = rank_earned(group, RUBRIC)
    for honour in ("red", "black"):
        assert len([r for r in ranked if r.honour == honour]) < max(len(group), 2)
    if len(group) >= 5:
        assert any(r.honour == "red" for r in ranked) or all(r.tied for r in ranked)
    best = [r for r in ranked if r.grade == "excellent"]
    tied_at_quota = sum(1 for r in ranked if r.tied)
    assert len(best) <= len(group) * 30 // 100 + tied_at_quota


def test_listings_interviews_and_accountability_cost_points() -> None:
    from contracts.inspections import AccountabilityForm, AccountabilityRecorded, InterviewRecorded

    held = date(2026, 5, 6)
    interview = InterviewRecorded(
        interview_id="Y-1",
        unit=UNIT,
        held_on=held,
        interviewer="市“五型”办主任",
        interviewees=["区长"],
        reason="任务逾期未完成",
        outcome="限期整改",
        recorded_by="office",
    )
    decision = AccountabilityRecorded(
        decision_id="W-1",
        unit=UNIT,
        persons=["张某"],
        form=AccountabilityForm.ADMONISHMENT,
        reason="整改不力",
        document="洪纪〔2026〕3号",
        decided_on=held,
        recorded_by="office",
    )
    work = [plan(D1, date(2026, 5, 20)), done("m1", D1, D1), done("m2", date(2026, 5, 20), D1)]
    plain = card(*work)
    held_to_account = card(
        *work,
        wrap(interview, subject=UNIT, source="i", id="y1", time=at(held)),
        wrap(decision, subject=UNIT, source="i", id="w1", time=at(held)),
    )
    assert plain.total is not None and held_to_account.total is not None
    assert held_to_account.total == plain.total - 5  # 约谈 2 + 诫勉谈话 3
    rules = {
        li.rule: li.items[0].title for li in held_to_account.line_items if li.effect == "deduction"
    }
    assert rules == {"interview": "任务逾期未完成", "accountability": "整改不力"}
