"""Rubric files are validated as a whole; every problem is named with its location."""

import re

import pytest

from services.scoring.domain.rubric import RubricRefused, parse_rubric
from tests.unit.scoring.events import RUBRIC_2026


def refused(text: str) -> list[str]:
    with pytest.raises(RubricRefused) as caught:
        parse_rubric(text, "test.yaml")
    return caught.value.errors


def edit(old: str, new: str, text: str = RUBRIC_2026) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def test_the_shipped_rubric_is_valid_and_familiar() -> None:
    rubric = parse_rubric(RUBRIC_2026, "2026.yaml")
    assert (rubric.programme_year, rubric.version, rubric.base) == (2026, "2026.1", 100)
    marks = {t: rubric.full_marks(t) for t in rubric.weights}
    assert marks == {
        "loyal": 15,
        "innovative": 20,
        "responsible": 25,
        "service": 25,
        "disciplined": 15,
    }
    assert sum(marks.values()) == rubric.base


def test_weights_that_do_not_sum_as_declared() -> None:
    assert refused(edit("loyal: 15", "loyal: 10")) == [
        "weights: sum to 95, but weights_total declares 100"
    ]


def test_unknown_formula() -> None:
    text = edit("formula: per_event\n    input: report", "formula: percentage\n    input: report")
    assert refused(text) == [
        "indicators[2] (report_late): unknown formula 'percentage'; known: 'per_event', 'rate'"
    ]


def test_formulas_that_reference_missing_inputs_attributes_or_types() -> None:
    text = edit("input: rectification_reopened", "input: rectification_repeated")
    text = edit("{late: true}", "{lateness: true}", text)
    text = edit("where: {item_type: suggestion}", "where: {item_type: petition}", text)
    text = edit("sum: satisfied_ratings", "sum: happy_ratings", text)
    text = edit(
        "fallback_type: disciplined\n    cap: {month: 3",
        "fallback_type: honest\n    cap: {month: 3",
        text,
    )
    errors = refused(text)
    assert errors[0] == (
        "indicators[2] (report_late).where: input 'report' has no attribute 'lateness'; "
        "it has: ['empty', 'late', 'review']"
    )
    assert errors[1].startswith("indicators[5] (finding).fallback_type: unknown type 'honest'")
    assert errors[2].startswith(
        "indicators[8] (rectification_reopened): input 'rectification_repeated' is not a "
        "scoring input; known: ['accountability', "
    )
    assert errors[3].startswith(
        "indicators[9] (suggestion_overdue).where.item_type: ['petition'] not among the values"
    )
    assert errors[4] == (
        "indicators[11] (hotline_satisfaction).numerator: input 'public_service' has no number "
        "'happy_ratings'; it has: ['received', 'repeat_received', 'due', 'closed_on_time', "
        "'closures', 'reopens', 'ratings', 'satisfied_ratings']"
    )
    assert len(errors) == 5


def test_weights_must_cover_exactly_the_five_types() -> None:
    text = edit("disciplined: 15", "clean: 15")
    assert refused(text) == [
        "weights: unknown type(s) ['clean']; the types are ['loyal', 'innovative', "
        "'responsible', 'service', 'disciplined']",
        "weights: no weight for ['disciplined']",
    ]


def test_points_by_must_price_every_value() -> None:
    errors = refused(edit("minor: 0.2, ", ""))
    assert errors == ["indicators[5] (finding).points_by.values: no points for ['minor']"]


def test_structural_errors_name_their_place() -> None:
    text = edit(
        "    points: 0.5\n    cap: {month: 1, quarter: 2, year: 3}", "    points: -1", RUBRIC_2026
    )
    errors = refused(text)
    assert errors == ["indicators[2] (report_late).points: Input should be greater than 0"]
    extra = refused(edit("type_floor: 0", "type_floor: 0\nbonus_ceiling: 9"))
    assert extra == ["bonus_ceiling: Extra inputs are not permitted"]


def test_duplicate_ids_and_a_version_of_another_year() -> None:
    text = edit("id: report_empty", "id: report_late")
    text = edit('version: "2026.1"', 'version: "2025.3"', text)
    assert refused(text) == [
        "version: 2025.3 does not belong to programme year 2026",
        "indicators: duplicate id(s) ['report_late']",
    ]


def test_a_rate_lands_in_one_type_or_per_type() -> None:
    text = edit(
        "    type: service\n    scoring: {mode: target, target: 95",
        "    scoring: {mode: target, target: 95",
    )
    assert refused(text) == [
        "indicators[10] (hotline_on_time): indicator hotline_on_time: a rate "
        "either is per_type or names its `type`, not both"
    ]


def test_yaml_that_does_not_parse() -> None:
    errors = refused("programme_year: 2026\nweights: {loyal: 15\n")
    assert len(errors) == 1 and re.match(r"line \d+ column \d+: not valid YAML", errors[0])
    assert refused("- just\n- a list\n") == ["rubric: expected a mapping at the top level"]


def said_in_chinese(text: str) -> list[str]:
    with pytest.raises(RubricRefused) as caught:
        parse_rubric(text, "test.yaml")
    return [problem.said("zh") for problem in caught.value.problems]


def test_the_office_reads_every_problem_in_chinese() -> None:
    per_type = edit(
        "    type: service\n    scoring: {mode: target, target: 95",
        "    scoring: {mode: target, target: 95",
    )
    assert said_in_chinese(per_type) == [
        "indicators[10] (hotline_on_time): 指标 hotline_on_time：比率要么按类型（“per_type”），"
        "要么指明“type”，二者只能居其一"
    ]
    unpriced = said_in_chinese(edit("minor: 0.2, ", ""))
    assert unpriced == ["indicators[5] (finding).points_by.values: ['minor'] 没有分值"]
    negative = said_in_chinese(edit("points: 1\n", "points: -1\n"))
    assert negative[0].endswith("应大于 0"), negative
