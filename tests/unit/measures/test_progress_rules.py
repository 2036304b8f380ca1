from datetime import UTC, datetime, timedelta

from contracts.measures import ReportProgress
from contracts.reasons import Reason
from services.measures.domain.catalogue import load_catalogue, load_units
from services.measures.domain.progress import fingerprint, refusal_for, reported_event

CATALOGUE = load_catalogue()
UNITS = load_units()
NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
SKEW = timedelta(minutes=5)


def report(**changes: object) -> ReportProgress:
    fields: dict[str, object] = {
        "report_id": "r-1",
        "unit": "360102",
        "measure_code": "M07",
        "percent_complete": 50,
        "reported_at": NOW - timedelta(hours=1),
        "reporter": "oa",
    }
    return ReportProgress.model_validate(fields | changes)


def test_a_valid_report_is_accepted_and_described_in_chinese() -> None:
    assert refusal_for(report(), CATALOGUE, UNITS, NOW, SKEW) is None
    event = reported_event(report(), CATALOGUE, UNITS)
    assert (event.unit_name, event.measure_title) == ("东湖区", "扎实推动数字政府建设大跨越")


def test_refusals_name_the_reason() -> None:
    cases = {
        Reason.UNKNOWN_UNIT: report(unit="999999"),
        Reason.UNKNOWN_MEASURE: report(measure_code="M19"),
        Reason.REPORTED_IN_FUTURE: report(reported_at=NOW + SKEW + timedelta(seconds=1)),
    }
    for reason, bad in cases.items():
        refusal = refusal_for(bad, CATALOGUE, UNITS, NOW, SKEW)
        assert refusal is not None and refusal.reason is reason


def test_small_clock_skew_is_tolerated() -> None:
    assert refusal_for(report(reported_at=NOW + SKEW), CATALOGUE, UNITS, NOW, SKEW) is None


def test_fingerprint_tells_a_retry_from_a_changed_report() -> None:
    assert fingerprint(report()) == fingerprint(report())
    assert fingerprint(report()) != fingerprint(report(percent_complete=51))
