"""Rankings within a peer group, and the red and black lists (红黑榜).

Earned rubrics (`rank_earned`): only units with a score are ranked; ties on the total are broken
by the rubric's `tie_break` rules in order (fewer deductions, then the on-time rate, …) and units
still equal share a rank; the lists are a share of the scored units (at least one when the share
is above 0, never the whole group), and 优秀 is kept by at most the quota, best ranks first.

Deduction rubrics (`rank`, 2026.1):

Competition ranking ("1224"): units with equal totals share a rank and the next rank skips, as
published league tables in Chinese assessments do; tied units are listed by unit code. A unit is
on the red list when fewer than `red_top` units scored higher, and on the black list when fewer
than `black_bottom` units scored lower, so a tie at a boundary takes in every tied unit. Red wins
over black (a small group cannot put a unit on both), and `black_only_below` keeps a unit with a
high score off the black list even when it is last.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from services.scoring.domain.cards import Scorecard
from services.scoring.domain.rubric import Rubric
from services.scoring.domain.rubric_deduction import HonourRoll
from services.scoring.domain.rubric_earned import EarnedRubric, TieBreak

Honour = Literal["red", "black"]


@dataclass(frozen=True)
class Standing:
    unit: str
    total: Decimal
    deductions: Decimal = Decimal(0)  # the magnitude of the card's deductions
    on_time_rate: Decimal = Decimal(0)
    bonus: Decimal = Decimal(0)
    grade: str | None = None  # the card's 等次 before the quota


@dataclass(frozen=True)
class Ranked:
    rank: int
    unit: str
    total: Decimal
    tied: bool
    honour: Honour | None
    grade: str | None = None


def rank(standings: Sequence[Standing], roll: HonourRoll) -> list[Ranked]:
    ordered = sorted(standings, key=lambda s: (-s.total, s.unit))
    totals = [s.total for s in ordered]
    ranked = []
    for standing in ordered:
        higher = sum(1 for t in totals if t > standing.total)
        lower = sum(1 for t in totals if t < standing.total)
        honour: Honour | None = None
        if higher < roll.red_top:
            honour = "red"
        elif lower < roll.black_bottom and (
            roll.black_only_below is None or standing.total < roll.black_only_below
        ):
            honour = "black"
        ranked.append(
            Ranked(
                rank=higher + 1,
                unit=standing.unit,
                total=standing.total,
                tied=totals.count(standing.total) > 1,
                honour=honour,
            )
        )
    return ranked


def _tie_key(standing: Standing, rules: Sequence[TieBreak]) -> tuple[Decimal, ...]:
    """Smaller is better."""
    values = {
        "fewer_deductions": standing.deductions,
        "on_time_rate": -standing.on_time_rate,
        "more_bonus": -standing.bonus,
    }
    return (-standing.total, *(values[rule] for rule in rules))


def _list_size(percent: Decimal, scored: int) -> int:
    if percent <= 0 or scored < 2:
        return 0
    return min(max(1, math.floor(scored * percent / 100)), scored - 1)


def rank_earned(standings: Sequence[Standing], rubric: EarnedRubric) -> list[Ranked]:
    rules = rubric.tie_break
    ordered = sorted(standings, key=lambda s: (_tie_key(s, rules), s.unit))
    keys = [_tie_key(s, rules) for s in ordered]
    scored = len(ordered)
    roll, grades = rubric.honour_roll, rubric.grades
    red_size = _list_size(roll.red_percent, scored)
    black_size = _list_size(roll.black_percent, scored)
    quota = math.floor(scored * grades.excellent_quota_percent / 100)
    ranked = []
    for standing, key in zip(ordered, keys, strict=True):
        position = sum(1 for k in keys if k < key) + 1
        below = sum(1 for k in keys if k > key)
        honour: Honour | None = None
        if position <= red_size:
            honour = "red"
        elif below < black_size and (
            roll.black_only_below is None or standing.total < roll.black_only_below
        ):
            honour = "black"
        grade = standing.grade
        if grade == "excellent" and position > quota:
            grade = "good"  # beyond the quota on 优秀
        ranked.append(
            Ranked(position, standing.unit, standing.total, keys.count(key) > 1, honour, grade)
        )
    return _never_whole(ranked)


def _never_whole(ranked: list[Ranked]) -> list[Ranked]:
    """Ties at a boundary can sweep a whole group onto one list: then nobody is on it."""
    for honour in ("red", "black"):
        if ranked and all(r.honour == honour for r in ranked):
            ranked = [Ranked(r.rank, r.unit, r.total, r.tied, None, r.grade) for r in ranked]
    return ranked


def rank_cards(cards: Mapping[str, Scorecard], rubric: Rubric) -> tuple[list[Ranked], list[str]]:
    """A peer group's ranking from its units' cards, and the units with no score (unranked)."""
    scored = {unit: card for unit, card in cards.items() if card.total is not None}
    unscored = sorted(set(cards) - set(scored))
    if not isinstance(rubric, EarnedRubric):
        standings = [Standing(u, c.total) for u, c in scored.items() if c.total is not None]
        return rank(standings, rubric.honour_roll), unscored
    standings = [
        Standing(
            unit,
            card.total,
            deductions=-card.deductions,
            on_time_rate=card.on_time_rate or Decimal(0),
            bonus=card.bonus,
            grade=card.grade,
        )
        for unit, card in scored.items()
        if card.total is not None
    ]
    return rank_earned(standings, rubric), unscored
