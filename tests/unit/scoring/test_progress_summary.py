import itertools
from datetime import UTC, datetime

from services.scoring.domain.facts import Fact, FactKind, to_facts
from services.scoring.domain.progress import summarise
from tests.unit.scoring.events import progress, returned


def fact(event_id: str, measure: str, percent: float, day: int) -> Fact:
    reported = datetime(2026, 11, day, tzinfo=UTC)
    data = {
        "report_id": event_id,
        "measure_code": measure,
        "percent_complete": percent,
        "reported_at": reported.isoformat(),
    }
    return Fact(event_id, FactKind.PROGRESS, "360102", reported.date(), reported, data)


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


def test_a_returned_report_no_longer_counts() -> None:
    first = progress("360102", "r-1", datetime(2026, 3, 1, tzinfo=UTC), percent=20)
    second = progress("360102", "r-2", datetime(2026, 3, 9, tzinfo=UTC), percent=60)
    facts = [
        f for e in (first, second, returned("360102", "r-2", second.time)) for f in to_facts(e)
    ]
    summary = summarise("360102", [f for f in facts if f is not None])
    assert summary.reports == 1
    assert [m.percent_complete for m in summary.measures] == [20]


def test_no_facts_no_measures() -> None:
    assert summarise("360102", []).model_dump() == {"unit": "360102", "reports": 0, "measures": []}
