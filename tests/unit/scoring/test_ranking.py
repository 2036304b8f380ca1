from decimal import Decimal

from services.scoring.domain.ranking import Ranked, Standing, rank
from services.scoring.domain.rubric_deduction import HonourRoll

ROLL = HonourRoll(red_top=2, black_bottom=2, black_only_below=Decimal(95))


def standings(**totals: float) -> list[Standing]:
    return [Standing(unit, Decimal(str(total))) for unit, total in totals.items()]


def table(ranked: list[Ranked]) -> list[tuple[int, str, bool, str | None]]:
    return [(r.rank, r.unit, r.tied, r.honour) for r in ranked]


def test_competition_ranking_with_ties_listed_by_unit_code() -> None:
    ranked = rank(standings(b=98, a=98, c=97.5, d=90, e=80), ROLL)
    assert table(ranked) == [
        (1, "a", True, "red"),
        (1, "b", True, "red"),
        (3, "c", False, None),
        (4, "d", False, "black"),
        (5, "e", False, "black"),
    ]


def test_a_tie_at_a_boundary_takes_in_every_tied_unit() -> None:
    ranked = rank(standings(a=99, b=97, c=97, d=90, e=85, f=85), ROLL)
    assert [r.unit for r in ranked if r.honour == "red"] == ["a", "b", "c"]
    assert [r.unit for r in ranked if r.honour == "black"] == ["e", "f"]


def test_a_high_score_is_never_on_the_black_list_and_red_wins_in_small_groups() -> None:
    assert table(rank(standings(a=99, b=98, c=96), ROLL)) == [
        (1, "a", False, "red"),
        (2, "b", False, "red"),
        (3, "c", False, None),  # last, but at 96 not below 95
    ]
    assert [r.honour for r in rank(standings(a=90, b=80), ROLL)] == ["red", "red"]
    assert rank([], ROLL) == []
