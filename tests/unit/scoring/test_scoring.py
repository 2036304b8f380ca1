"""The scoring rules on worked examples (the same as in docs/scoring.md)."""

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from contracts.envelope import Envelope
from contracts.inspections import Severity
from contracts.measures import AchievementKind, DeadlineItem
from services.scoring.domain.facts import Fact, to_facts
from services.scoring.domain.periods import Period
from services.scoring.domain.rubric import Rubric, parse_rubric
from services.scoring.domain.scoring import Scorecard, score, score_all
from tests.unit.scoring.events import (
    RUBRIC_2026,
    achievement,
    at,
    catalogue,
    finding,
    history,
    missed,
    progress,
    returned,
)

UNIT = "360102"
RUBRIC = parse_rubric(RUBRIC_2026, "2026.yaml")


def facts_of(envelopes: list[Envelope[Any]]) -> list[Fact]:
    return [f for e in envelopes for f in to_facts(e)]


def card(
    envelopes: list[Envelope[Any]], period: str, rubric: Rubric = RUBRIC, **kw: Any
) -> Scorecard:
    return score(UNIT, facts_of(envelopes), rubric, Period.parse(period), **kw)


def lines(scorecard: Scorecard) -> dict[tuple[str, str], Decimal]:
    return {(li.rule, li.type): li.points for li in scorecard.line_items}


def types(scorecard: Scorecard) -> dict[str, Decimal]:
    return {t.type: t.score for t in scorecard.types}


def test_a_unit_without_facts_has_full_marks() -> None:
    empty = card([], "2026-03")
    assert (empty.total, empty.bonus, empty.line_items) == (Decimal("100.00"), 0, [])
    assert types(empty) == {
        "loyal": 15,
        "innovative": 20,
        "responsible": 25,
        "service": 25,
        "disciplined": 15,
    }


def test_worked_example_march() -> None:
    march = card(history(UNIT), "2026-03")
    assert lines(march) == {
        ("milestone_on_time", "innovative"): Decimal("-5.33"),  # 1 of 3 settled on time
        ("deadline_missed", "innovative"): Decimal("-2.00"),  # m2, m3; m4's was waived
        ("deadline_missed", "responsible"): Decimal("-1.00"),  # G4 has no type: default
        ("report_late", "innovative"): Decimal("-0.50"),
        ("report_empty", "innovative"): Decimal("-0.50"),
        ("report_returned", "innovative"): Decimal("-0.50"),
        ("finding", "disciplined"): Decimal("-3.00"),  # 2 + 1 + 0.5, capped at 3 a month
        ("rectification_overdue", "service"): Decimal("-1.00"),  # M14 is service (catalogue)
        ("hotline_on_time", "service"): Decimal("-1.00"),  # revision 2: 90% < 95%
        ("hotline_satisfaction", "service"): Decimal("-0.40"),  # 88% < 90%
        ("hotline_repeat", "service"): Decimal("0.00"),
        ("hotline_reopen", "service"): Decimal("0.00"),
        ("state_council_incentive", "innovative"): Decimal("2.00"),
    }
    assert types(march) == {
        "loyal": Decimal("15.00"),
        "innovative": Decimal("11.17"),
        "responsible": Decimal("24.00"),
        "service": Decimal("22.60"),
        "disciplined": Decimal("12.00"),
    }
    assert (march.bonus, march.total) == (Decimal("2.00"), Decimal("86.77"))


def test_line_items_name_their_events_and_explain_themselves() -> None:
    events = history(UNIT)
    march = card(events, "2026-03")
    finding_line = next(li for li in march.line_items if li.rule == "finding")
    finding_ids = sorted(e.id for e in events if e.type == "FindingRaised")
    assert finding_line.events == finding_ids
    assert (finding_line.uncapped, finding_line.points) == (Decimal("-3.50"), Decimal("-3.00"))
    assert finding_line.explanation_zh == "3 项，共扣 3.50 分，封顶 3 分"
    rate = next(li for li in march.line_items if li.rule == "milestone_on_time")
    assert rate.detail == {
        "numerator": "1",
        "denominator": "3",
        "rate_percent": "33.33",
        "points": "8.00",
    }


def test_caps_grow_with_the_period_and_rates_sum_the_months() -> None:
    quarter = card(history(UNIT), "2026-Q1")
    assert lines(quarter)[("finding", "disciplined")] == Decimal("-3.50")  # quarter cap is 5
    year = card(history(UNIT), "2026")
    hotline = next(li for li in year.line_items if li.rule == "hotline_on_time")
    assert hotline.detail["numerator"] == "140" and hotline.detail["denominator"] == "150"
    assert year.total == Decimal("87.34")


def test_a_returned_completion_does_not_complete_the_milestone() -> None:
    due = date(2026, 5, 10)
    done = progress(UNIT, "r-9", at(date(2026, 5, 8)), milestone_id="m9", due=due, completed=True)
    assert lines(card([done], "2026-05"))[("milestone_on_time", "innovative")] == 0
    undone = [done, returned(UNIT, "r-9", at(date(2026, 5, 9)))]
    assert ("milestone_on_time", "innovative") not in lines(card(undone, "2026-05"))  # open
    overdue = [*undone, missed(UNIT, "A1/m9", due, milestone_id="m9")]
    assert lines(card(overdue, "2026-05"))[("milestone_on_time", "innovative")] == -8


def test_the_type_comes_from_the_event_then_the_catalogue_then_the_default() -> None:
    untyped = missed(
        UNIT,
        "X-1",
        date(2026, 6, 3),
        item_type=DeadlineItem.OBLIGATION,
        measure_type=None,
        measure_code="M14",
    )
    assert ("deadline_missed", "responsible") in lines(card([untyped], "2026-06"))
    typed = [untyped, catalogue("2026.1", {"M14": "service"})]
    assert ("deadline_missed", "service") in lines(card(typed, "2026-06"))
    newer = [*typed, catalogue("2026.2", {"M14": "loyal"})]  # the latest version wins
    assert ("deadline_missed", "loyal") in lines(card(newer, "2026-06"))


def test_bonuses_are_capped_and_types_stop_at_zero() -> None:
    incentives = [
        achievement(UNIT, f"N-{n}", AchievementKind.STATE_COUNCIL_INCENTIVE, date(2026, 7, n))
        for n in range(1, 4)
    ]
    july = card(incentives, "2026-07")
    assert (july.bonus_uncapped, july.bonus, july.total) == (6, 3, Decimal("103.00"))
    harsh = parse_rubric(
        RUBRIC_2026.replace("critical: 2}", "critical: 20}").replace(
            "fallback_type: disciplined\n    cap: {month: 3, quarter: 5, year: 8}\n\n  - id: rect",
            "fallback_type: disciplined\n\n  - id: rect",
        ),
        "harsh",
    )
    criticals = [finding(UNIT, f"F-{n}", Severity.CRITICAL, at(date(2026, 7, n))) for n in (1, 2)]
    scored = card(criticals, "2026-07", rubric=harsh)
    assert lines(scored)[("finding", "disciplined")] == -40
    assert types(scored)["disciplined"] == 0 and scored.total == 85


def test_as_of_counts_only_what_was_known_then() -> None:
    events = history(UNIT)
    early = card(events, "2026-03", as_of=at(date(2026, 3, 19)))
    assert ("deadline_missed", "innovative") not in lines(early)  # detected on 3-21 and later
    assert lines(early)[("finding", "disciplined")] == -3
    assert early.as_of == at(date(2026, 3, 19))


def test_score_all_covers_every_period_of_a_year_with_facts() -> None:
    cards = score_all(UNIT, facts_of(history(UNIT)), {2026: RUBRIC})
    assert len(cards) == 17
    assert [c.period for c in cards][-5:] == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4", "2026"]
    assert score_all(UNIT, facts_of(history(UNIT)), {2025: RUBRIC}) == []


def test_a_rubric_only_scores_its_own_year() -> None:
    with pytest.raises(ValueError, match="applies to 2026 only"):
        card([], "2025-03")
