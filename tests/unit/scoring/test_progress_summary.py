import itertools
from datetime import UTC, datetime

from services.scoring.domain.progress import Fact, summarise


def fact(event_id: str, measure: str, percent: float, day: int) -> Fact:
    return Fact(
        event_id=event_id,
        measure_code=measure,
        report_id=event_id,
        percent_complete=percent,
        reported_at=datetime(2026, 11, day, tzinfo=UTC),
    )


FACTS = [
    fact("a", "M07", 10, 1),
    fact("b", "M07", 40, 5),
    fact("c", "M12", 20, 3),
    fact("d", "M07", 30, 5),
]


def test_latest_report_per_measure_wins_in_any_arrival_order() -> None:
    results = {
        summarise("360102", order).model_dump_json() for order in itertools.permutations(FACTS)
    }
    assert len(results) == 1
    summary = summarise("360102", FACTS)
    assert summary.reports == 4
    assert [(m.measure_code, m.percent_complete) for m in summary.measures] == [
        ("M07", 30),
        ("M12", 20),
    ]  # same reported_at: the larger event id breaks the tie


def test_no_facts_no_measures() -> None:
    assert summarise("360102", []).model_dump() == {"unit": "360102", "reports": 0, "measures": []}
